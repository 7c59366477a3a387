"""Every shipped exercise is valid and passes `check --solve` on the default models:
its solution passes, no naive baseline (bare input, unrelated request, task text,
the exercise's counterexamples) passes."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.exercises import load_catalog
from sandbox.solvability import solve

ROOT = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(ROOT / "exercises")
IDS = sorted(CATALOG.exercises)


def test_no_shipped_file_is_broken() -> None:
    assert CATALOG.broken == [], "\n".join(p for b in CATALOG.broken for p in b.problems)
    assert len(IDS) >= 6


@pytest.mark.parametrize("exercise_id", IDS)
def test_shipped_exercise_is_complete(exercise_id: str) -> None:
    exercise = CATALOG.exercises[exercise_id]
    assert exercise.solution, "every shipped exercise has a solution"
    assert any(c.hidden for c in exercise.cases), "every shipped exercise has a hidden case"
    assert any(not c.hidden for c in exercise.cases), "and a visible one"
    assert exercise.hints


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", IDS)
def test_check_solve_passes_on_the_default_models(exercise_id, real_generator, real_embedder, settings) -> None:
    report = solve(CATALOG.exercises[exercise_id], real_generator, real_embedder, settings)
    assert report.solution_passed, report.failed_cases
    passing = [(b.name, b.prompt[:40]) for b in report.baselines if b.passed]
    assert passing == [], f"these naive prompts pass: {passing}"
    assert len(report.baselines) >= 3
    assert not report.blocking
