"""Every shipped exercise is valid, solvable on the default model, and not passed by a lazy prompt."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.exercises import load_catalog
from sandbox.grading import grade

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "exercises")
IDS = sorted(CATALOG.exercises)
BASELINES = {"bare input": "{input}", "unrelated request": "Write a short poem about the sea."}


def test_no_shipped_file_is_broken() -> None:
    assert CATALOG.broken == [], "\n".join(p for b in CATALOG.broken for p in b.problems)
    assert len(IDS) >= 3


@pytest.mark.parametrize("exercise_id", IDS)
def test_shipped_exercise_is_complete(exercise_id: str) -> None:
    exercise = CATALOG.exercises[exercise_id]
    assert exercise.solution, "every shipped exercise has a solution"
    assert any(c.hidden for c in exercise.cases), "every shipped exercise has a hidden case"
    assert any(not c.hidden for c in exercise.cases), "and a visible one"
    assert exercise.hints


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_passes_on_the_default_model(exercise_id, real_generator, real_embedder, settings) -> None:
    exercise = CATALOG.exercises[exercise_id]
    verdict = grade(exercise, exercise.solution or "", real_generator, real_embedder, settings)
    assert verdict.passed, [(c.output, c.feedback) for c in verdict.cases]


@pytest.mark.slow
@pytest.mark.parametrize("baseline", sorted(BASELINES))
@pytest.mark.parametrize("exercise_id", IDS)
def test_lazy_prompts_fail(exercise_id, baseline, real_generator, real_embedder, settings) -> None:
    exercise = CATALOG.exercises[exercise_id]
    verdict = grade(exercise, BASELINES[baseline], real_generator, real_embedder, settings)
    assert not verdict.passed, [(c.output, c.score) for c in verdict.cases]
