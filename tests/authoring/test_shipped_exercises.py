"""The shipped curriculum: its shape (tracks, intros, cases, hidden cases, techniques) and
that every exercise passes `check --solve` on the default models: its solution passes,
no naive baseline (bare input, unrelated request, task text, the exercise's
counterexamples) passes, and its margin is at least the documented minimum."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.authoring.solvability import MIN_MARGIN, SolveReport, solve_all
from sandbox.config import load_settings
from sandbox.exercises.catalog import load_catalog
from sandbox.grading import exercise_language
from sandbox.models.factory import DTYPES, build_embedder, build_generator
from sandbox.models.status import language_gap, speaks

ROOT = Path(__file__).resolve().parents[2]
CATALOG = load_catalog(ROOT / "exercises")
IDS = [e.id for e in CATALOG.in_order()]
SPOKEN = [i for i in IDS if speaks(load_settings(), exercise_language(CATALOG.exercises[i]))]
"""The exercises the default model can do (the Chinese track needs a model that speaks Chinese)."""
# The techniques the curriculum must teach, each in several exercises.
CORE_TECHNIQUES = (
    "instructions",
    "role",
    "grounding",
    "few-shot",
    "structured",
    "classification",
    "extraction",
    "rewriting",
    "steps",
)


def test_no_shipped_file_is_broken() -> None:
    assert CATALOG.broken == [], "\n".join(p for b in CATALOG.broken for p in b.problems)


def test_the_curriculum_has_at_least_36_exercises_in_six_tracks_each_with_an_intro() -> None:
    assert len(IDS) >= 36
    tracks = [t for t in CATALOG.tracks if CATALOG.in_track(t.id)]
    assert len(tracks) >= 6
    for track in tracks:
        assert track.id and track.title != track.id, f"{track.id} needs a track.yaml with a title"
        assert len(track.intro.split()) >= 15, f"the track {track.title} needs an intro"
        levels = [e.difficulty for e in CATALOG.in_track(track.id)]
        assert len(set(levels)) >= 2, f"the track {track.title} should rise in difficulty"
    assert len({t.order for t in tracks}) == len(tracks), "tracks need distinct 'order' numbers to read as a course"


# Few-shot is the one technique the default 135M model rarely follows: it copies the
# examples' values instead of their form. One exercise passes with it (a record
# layout whose keys the instruction names); more wait for a stronger default model.
AT_LEAST = {technique: 2 for technique in CORE_TECHNIQUES} | {"few-shot": 1}


def test_every_core_technique_is_taught_in_several_exercises() -> None:
    counts = Counter(CATALOG.exercises[i].technique for i in IDS)
    for technique, wanted in AT_LEAST.items():
        assert counts[technique] >= wanted, f"only {counts[technique]} exercise(s) teach '{technique}'"


@pytest.mark.parametrize("exercise_id", IDS)
def test_shipped_exercise_is_complete(exercise_id: str) -> None:
    exercise = CATALOG.exercises[exercise_id]
    assert exercise.solution, "every shipped exercise has a solution"
    assert len(exercise.cases) >= 3
    assert any(c.hidden for c in exercise.cases), "every shipped exercise has a hidden case"
    assert any(not c.hidden for c in exercise.cases), "and a visible one"
    assert exercise.hints
    for hint in exercise.hints:
        assert exercise.solution.strip() not in hint, "a hint must not give the solution away"
    assert exercise.technique, "every shipped exercise names the technique it teaches"
    assert exercise.counterexamples, "and the naive prompt that the technique fixes"


@pytest.fixture(scope="module", params=DTYPES)
def reports(request, tmp_path_factory) -> Iterator[dict[str, SolveReport]]:
    """The whole curriculum solved once per number type the app may choose (sandbox/models/setups.py),
    several exercises at a time (as `check --solve --dtype` does): a computer that runs either grades fairly."""
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PROMPT_SANDBOX_DATA", str(tmp_path_factory.mktemp("data")))
        for name in ("EXERCISES", "THRESHOLD", "MAX_NEW_TOKENS", "MAX_PROMPT_CHARS"):
            env.delenv(f"PROMPT_SANDBOX_{name}", raising=False)
        settings = load_settings().with_overrides(dtype=request.param)
    generator = build_generator(settings)
    embedder = build_embedder(settings, beside=generator)
    try:
        # the variants are measured by `check --solve` and not yet required (issue 17): not run here, to keep CI short
        exercises = [CATALOG.exercises[i].model_copy(update={"variants": []}) for i in SPOKEN]
        yield {r.exercise: r for r in solve_all(exercises, generator, embedder, settings)}
    finally:
        generator.close()  # type: ignore[attr-defined]


def test_only_the_chinese_track_is_out_of_the_default_models_reach() -> None:
    assert sorted(set(IDS) - set(SPOKEN)) == sorted(e.id for e in CATALOG.in_track("chinese"))
    gap = language_gap(load_settings(), "zh", "Chinese")
    assert gap.startswith("This exercise is in Chinese, and the model this class uses (SmolLM2 135M Instruct)")


@pytest.mark.slow
@pytest.mark.parametrize("exercise_id", SPOKEN)
def test_check_solve_passes_on_the_default_models(exercise_id, reports) -> None:
    report = reports[exercise_id]
    assert report.solution_passed, report.failed_cases
    passing = [(b.name, b.prompt[:40]) for b in report.baselines if b.passed]
    assert passing == [], f"these naive prompts pass: {passing}"
    assert len(report.baselines) >= 4, "bare input, unrelated request, task text and a counterexample"
    assert report.margin is not None and report.margin >= MIN_MARGIN, f"thin margin {report.margin}"
    assert not report.flags


@pytest.mark.parametrize("exercise_id", SPOKEN)  # the Chinese track's variants wait for a Chinese-speaking model
def test_every_shipped_exercise_has_four_learner_written_variants(exercise_id: str) -> None:
    exercise = CATALOG.exercises[exercise_id]
    assert len(exercise.variants) >= 4
    prompts = {v.strip() for v in exercise.variants} | {(exercise.solution or "").strip()}
    assert len(prompts) == len(exercise.variants) + 1, "each variant differs from the others and the solution"
