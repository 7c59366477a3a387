"""The command line through its real entry point, asserting the lines a person reads."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SOLUTION = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)


def run(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sandbox.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "check", "grade", "score", "models"):
        assert command in result.stdout


def test_check_passes_on_the_shipped_exercises() -> None:
    result = run("check")
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip().endswith("0 files with problems.")


def test_check_prints_file_line_and_exits_1(write_exercise) -> None:
    write_exercise("t/good.yaml", "title: G\ntask: t\ncases:\n  - input: a\n    expect: [b]\n")
    write_exercise("t/bad.yaml", "title: B\ntask: t\ndifficulty: 7\ncases:\n  - input: a\n    expct: [b]\n")
    result = run("check", str(write_exercise.root))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert (
        "exercises/t/bad.yaml:3: difficulty: 'difficulty' is out of range (you wrote 7): it must be at most 5" in lines
    )
    assert "exercises/t/bad.yaml:6: case 1 > expct: unknown field 'expct'; did you mean 'expect'?" in lines
    assert lines[-1] == "1 exercise valid, 1 file with problems."


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


def test_models_list_and_verify() -> None:
    listed = run("models", "list")
    assert listed.returncode == 0
    assert "* smollm2-135m-instruct" in listed.stdout and "ready" in listed.stdout
    verified = run("models", "verify")
    assert verified.returncode == 0, verified.stdout
    assert "smollm2-135m-instruct: OK" in verified.stdout and "all-minilm-l6-v2: OK" in verified.stdout


@pytest.mark.slow
def test_bench_prints_medians_ranges_the_class_and_fairness() -> None:
    result = run("bench", "--runs", "1", "--learners", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "prompt-sandbox bench: generator smollm2-135m-instruct (bfloat16), embedder all-minilm-l6-v2"
    )
    assert lines[1].startswith("cold start: process start to both models ready: median ")
    assert lines[2].startswith("cold start: process start to first verdict: median ")
    assert lines[3].startswith("one learner: grade the 3-case exercise 'order-number': median ")
    assert lines[4].startswith("one learner: generated tokens per second: median ")
    assert lines[5].startswith("a class: 3 learners (")
    assert lines[6].startswith("a class: verdict latency p50: median ")
    assert lines[7].startswith("a class: verdict latency p95: median ")
    assert all("(range " in line for line in lines[1:9])
    assert lines[9].startswith("a class: peak memory of the serving process ")
    assert re.fullmatch(
        r"fairness: 0 of \d+ answers differ between running alone and inside the class's batches", lines[10]
    )
    assert re.match(r"plain path: \d+ of \d+ answers differ from one plain `generate` call per case", lines[11])
    assert lines[12].startswith("naive path (transformers, float32, one request at a time): ")
    assert re.fullmatch(r"ratio: class tokens per second / naive path = [\d.]+x", lines[13])


@pytest.mark.slow
def test_check_solve_flags_unsolvable_and_too_easy_exercises(write_exercise) -> None:
    write_exercise("t/sentiment-label.yaml", (ROOT / "exercises/getting-started/sentiment-label.yaml").read_text())
    write_exercise(
        "t/anything-goes.yaml",
        "title: Anything goes\ntask: Say something.\ncases:\n  - input: hi\n  - input: yo\n    hidden: true\n"
        "checks:\n  max_words: 1000\nsolution: '{input}'\nmax_new_tokens: 8\n",
    )
    write_exercise(
        "t/wrong-solution.yaml",
        "title: Wrong\ntask: Label it.\ncases:\n  - input: Great shoes.\n    expect: [positive]\n"
        "checks:\n  labels: [positive, negative]\nsolution: 'Write a short poem about the sea.'\nmax_new_tokens: 8\n"
        "counterexamples: ['Is this positive? {input}']\n",
    )
    result = run("check", "--solve", str(write_exercise.root), "--json")
    assert result.returncode == 1, result.stderr
    payload = json.loads(result.stdout)
    assert payload["generator"] == "smollm2-135m-instruct" and payload["min_margin"] == 0.1
    reports = {r["exercise"]: r for r in payload["exercises"]}
    assert reports["sentiment-label"]["flags"] == [] and reports["sentiment-label"]["solution_passed"] is True
    assert reports["sentiment-label"]["margin"] > 0.1
    assert [b["name"] for b in reports["sentiment-label"]["baselines"]] == [
        "bare input",
        "unrelated request",
        "task as prompt",
        "counterexample 1",
    ]
    assert "too easy" in reports["anything-goes"]["flags"]
    assert "unsolvable" in reports["wrong-solution"]["flags"]
    assert reports["wrong-solution"]["baselines"][-1]["name"] == "counterexample 1"

    readable = run("check", "--solve", str(write_exercise.root))
    lines = readable.stdout.splitlines()
    assert any(line.startswith("sentiment-label") and line.endswith("ok") for line in lines)
    assert any(line.startswith("anything-goes") and "too easy" in line for line in lines)
    assert lines[-1] == "1 of 3 exercises solvable and not too easy (margin minimum 0.10)."


def test_check_warns_when_an_exercise_was_calibrated_on_other_models(write_exercise) -> None:
    write_exercise(
        "t/old.yaml",
        "title: Old\ntask: t\ncases:\n  - input: a\n    expect: [b]\nthreshold: 0.7\n"
        "calibrated:\n  generator: tiny-llm\n  generator_hash: '0123456789ab'\n"
        "  embedder: all-minilm-l6-v2\n  embedder_hash: '53aa51172d14'\n  date: '2026-01-01'\n",
    )
    result = run("check", str(write_exercise.root))
    assert result.returncode == 0
    assert (
        "warning: " in result.stdout
        and "calibrated on generator tiny-llm (0123456789ab), now smollm2-135m-instruct (b179c9523d0e)" in result.stdout
    )
    assert "prompt-sandbox calibrate old --write" in result.stdout


@pytest.mark.slow
def test_calibrate_suggests_and_writes_a_threshold(write_exercise) -> None:
    source = (
        "# Written by the instructor team.\n" + (ROOT / "exercises/getting-started/sentiment-label.yaml").read_text()
    )
    path = write_exercise("t/sentiment-label.yaml", source)
    result = run("calibrate", str(path))
    assert result.returncode == 0, result.stderr
    assert (
        "Suggested threshold " in result.stdout and "midway between the best case any baseline reached" in result.stdout
    )
    assert path.read_text() == source, "without --write nothing changes"
    written = run("calibrate", str(path), "--write")
    assert written.returncode == 0 and f"Written to {path}." in written.stdout
    text = path.read_text()
    assert "calibrated:" in text and "generator_hash: 'b179c9523d0e'" in text
    assert text.startswith("# Written by the instructor team.\ntitle: Label review sentiment\n")
    assert run("check", str(write_exercise.root)).stdout.count("warning") == 0
