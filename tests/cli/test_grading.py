"""grade and score through the real entry point, asserting the lines a person reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .running import ROOT, run

SOLUTION = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)


@pytest.mark.slow
def test_grade_json_reports_every_case_and_exit_code() -> None:
    result = run("grade", "sentiment-label", "--prompt", SOLUTION, "--json")
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["exercise"] == "sentiment-label" and verdict["passed"] is True and verdict["score"] == 100
    assert [c["hidden"] for c in verdict["cases"]] == [False, False, True, True]
    assert [c["output"].strip().lower() for c in verdict["cases"]] == ["negative", "positive", "negative", "positive"]
    for case in verdict["cases"]:
        assert set(case) >= {"index", "hidden", "output", "similarity", "passed", "failed_checks"}
        assert 0 <= case["similarity"] <= 1


@pytest.mark.slow
def test_grade_a_failing_prompt_from_a_file_prints_reasons(tmp_path: Path) -> None:
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("{input}", encoding="utf-8")
    result = run(
        "grade", str(ROOT / "exercises" / "getting-started" / "order-number.yaml"), "--prompt-file", str(prompt)
    )
    assert result.returncode == 1
    assert "Case 2 (hidden): FAILED" in result.stdout
    assert "failed check: Your answer had" in result.stdout
    assert result.stdout.strip().splitlines()[-1].startswith("Not yet: 0 of 3 cases passed")


def test_grade_bad_usage_exits_2() -> None:
    assert run("grade", "sentiment-label").returncode == 2
    missing = run("grade", "no-such-exercise", "--prompt", "x")
    assert missing.returncode == 2
    assert "No exercise 'no-such-exercise'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_grade_an_empty_prompt_is_a_clean_error() -> None:
    result = run("grade", "sentiment-label", "--prompt", "   ")
    assert result.returncode == 2
    assert result.stderr.startswith("Error: Your prompt is empty.")


@pytest.mark.slow
def test_score_judges_an_output_without_the_model() -> None:
    good = run("score", "sentiment-label", "--case", "0", "--output", "Negative.", "--json")
    assert good.returncode == 0, good.stderr
    payload = json.loads(good.stdout)
    assert payload["passed"] is True and payload["index"] == 0 and payload["failed_checks"] == []
    bad = run("score", "sentiment-label", "--case", "0", "--output", "positive")
    assert bad.returncode == 1
    assert "failed check: Your answer says 'positive', but this case should be labelled 'negative'." in bad.stdout
    out_of_range = run("score", "sentiment-label", "--case", "9", "--output", "x")
    assert out_of_range.returncode == 2 and "cases 0 to 3" in out_of_range.stderr
