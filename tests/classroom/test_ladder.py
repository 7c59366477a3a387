"""Hints unlock with failed attempts; the solution opens after a pass or a release."""

from __future__ import annotations

import pytest

from sandbox.classroom.ladder import hints_unlocked, next_hint_line, solution_visible
from sandbox.exercises.schema import Exercise


def exercise(hints_after: int = 1, hints: int = 3, solution: str | None = "S: {input}") -> Exercise:
    return Exercise.model_validate(
        {
            "title": "t",
            "task": "t",
            "cases": [{"input": "x", "expect": ["y"]}],
            "hints": [f"hint {i}" for i in range(1, hints + 1)],
            "hints_after": hints_after,
            "solution": solution,
        }
    )


@pytest.mark.parametrize(
    ("hints_after", "failed", "unlocked", "line"),
    [
        (1, 0, 0, "Hint 1 of 3 unlocks after 1 more failed attempt."),
        (1, 1, 1, "Hint 2 of 3 unlocks after 1 more failed attempt."),
        (1, 3, 3, ""),
        (1, 9, 3, ""),
        (2, 0, 0, "Hint 1 of 3 unlocks after 2 more failed attempts."),
        (2, 3, 1, "Hint 2 of 3 unlocks after 1 more failed attempt."),
        (2, 4, 2, "Hint 3 of 3 unlocks after 2 more failed attempts."),
    ],
)
def test_hint_ladder(hints_after: int, failed: int, unlocked: int, line: str) -> None:
    ex = exercise(hints_after)
    assert hints_unlocked(ex, failed) == unlocked
    assert next_hint_line(ex, failed) == line


def test_no_hints_no_line() -> None:
    assert next_hint_line(exercise(hints=0), 5) == ""


@pytest.mark.parametrize(
    ("passed", "released", "has_solution", "visible"),
    [(False, False, True, False), (True, False, True, True), (False, True, True, True), (True, True, False, False)],
)
def test_solution_visibility(passed: bool, released: bool, has_solution: bool, visible: bool) -> None:
    ex = exercise(solution="S: {input}" if has_solution else None)
    assert solution_visible(ex, passed, released) is visible
