"""Calibrating a threshold: the suggestion, the file written without losing the author's layout."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.authoring.calibrate import calibration_for, mismatch, suggest, write
from sandbox.authoring.solvability import BaselineResult, SolveReport
from sandbox.exercises.loading import load_exercise_file

from ..exercises.test_loading import GOOD


def report(weakest: float | None, best: float) -> SolveReport:
    return SolveReport("x", True, weakest, [BaselineResult("bare input", "{input}", False, best)])


@pytest.mark.parametrize(
    ("weakest", "best", "threshold", "words"),
    [
        (
            1.0,
            0.4,
            0.7,
            "midway between the best case any baseline reached (0.40) and the solution's weakest case (1.00)",
        ),
        (0.62, 0.5, 0.56, "0.56"),
        (0.9, 0.0, 0.45, "0.45"),
        (0.35, 0.1, 0.3, "kept between 0.3 and 0.95 and below the solution: 0.30"),
        (0.31, 0.1, 0.3, "0.30"),
        (0.5, 0.5, None, "no threshold separates them"),
        (None, 0.2, None, "has no solution"),
    ],
)
def test_suggestion(write_exercise, weakest, best, threshold, words) -> None:
    exercise = load_exercise_file(write_exercise("t/x.yaml", GOOD))
    got = suggest(exercise, report(weakest, best))
    assert got.threshold == threshold
    assert words in got.reason


def test_rule_only_exercises_have_nothing_to_calibrate(write_exercise) -> None:
    text = "title: R\ntask: t\ncases:\n  - input: a\nchecks:\n  max_words: 3\n"
    exercise = load_exercise_file(write_exercise("t/r.yaml", text))
    assert "checks alone" in suggest(exercise, report(1.0, 0.2)).reason


def test_write_keeps_comments_and_layout(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    original = GOOD.replace("threshold: 0.8", "threshold: 0.8     # tuned by hand\n# a note the author keeps")
    path.write_text(original, encoding="utf-8")
    calibration = calibration_for("smollm2-135m-instruct", "b179c9523d0e", "all-minilm-l6-v2", "53aa51172d14")
    write(path, 0.66, calibration)
    text = path.read_text(encoding="utf-8")
    assert "threshold: 0.66     # tuned by hand\n# a note the author keeps\n" in text
    assert text.replace("threshold: 0.66", "threshold: 0.8").startswith(original)
    exercise = load_exercise_file(path)
    assert exercise.threshold == 0.66
    assert exercise.calibrated is not None and exercise.calibrated.generator_hash == "b179c9523d0e"
    # a second calibration replaces the block instead of adding another
    write(path, 0.7, calibration_for("other-model", "123456789abc", "all-minilm-l6-v2", "53aa51172d14"))
    again = path.read_text(encoding="utf-8")
    assert again.count("calibrated:") == 1 and "generator: other-model" in again
    assert "# a note the author keeps" in again
    assert load_exercise_file(path).threshold == 0.7


def test_mismatch_warns_with_what_to_run(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD, encoding="utf-8")
    write(path, 0.7, calibration_for("smollm2-135m-instruct", "b179c9523d0e", "all-minilm-l6-v2", "53aa51172d14"))
    exercise = load_exercise_file(path)
    assert mismatch(exercise, "smollm2-135m-instruct", "b179c9523d0e", "all-minilm-l6-v2", "53aa51172d14") == ""
    warning = mismatch(exercise, "bigger-model", "ffffffffffff", "all-minilm-l6-v2", "53aa51172d14")
    assert "calibrated on generator smollm2-135m-instruct (b179c9523d0e), now bigger-model (ffffffffffff)" in warning
    assert "prompt-sandbox calibrate x --write" in warning


def test_calibrating_on_another_model_writes_that_model_s_own_threshold(tmp_path: Path) -> None:
    path = tmp_path / "x.yaml"
    path.write_text(GOOD.replace("threshold: 0.8", "threshold: 0.8   # by hand"), encoding="utf-8")
    small = calibration_for("smollm2-135m-instruct", "b179c9523d0e", "all-minilm-l6-v2", "53aa51172d14")
    big = calibration_for("qwen2.5-0.5b-instruct", "fdf756fa7fcb", "all-minilm-l6-v2", "53aa51172d14")
    write(path, 0.66, small, load_exercise_file(path))
    assert load_exercise_file(path).threshold == 0.66, "the same model keeps one number"
    write(path, 0.72, big, load_exercise_file(path))
    text = path.read_text(encoding="utf-8")
    assert "threshold: {default: 0.66, qwen2.5-0.5b-instruct: 0.72}   # by hand\n" in text
    exercise = load_exercise_file(path)
    assert exercise.threshold_or(0.75, "qwen2.5-0.5b-instruct") == 0.72
    assert exercise.threshold_or(0.75, "smollm2-135m-instruct") == 0.66
    assert [c.generator for c in exercise.calibrations()] == ["smollm2-135m-instruct", "qwen2.5-0.5b-instruct"]
    assert mismatch(exercise, "qwen2.5-0.5b-instruct", "fdf756fa7fcb", "all-minilm-l6-v2", "53aa51172d14") == ""
    assert mismatch(exercise, "smollm2-135m-instruct", "b179c9523d0e", "all-minilm-l6-v2", "53aa51172d14") == ""
    write(path, 0.7, big, exercise)  # calibrating the big model again changes its entry only
    again = load_exercise_file(path)
    assert again.threshold == {"default": 0.66, "qwen2.5-0.5b-instruct": 0.7}
    assert len(again.calibrations()) == 2 and path.read_text(encoding="utf-8").count("calibrated:") == 1
