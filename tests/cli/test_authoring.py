"""check and calibrate through the real entry point, asserting the lines an instructor reads."""

from __future__ import annotations

import json

import pytest
import yaml

from .running import ROOT, run


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


def test_a_variant_with_a_variable_the_cases_lack_is_named_with_its_line(write_exercise) -> None:
    write_exercise(
        "t/v.yaml",
        "title: V\ntask: t\ncases:\n  - input: a\n    expect: [b]\nsolution: 'Say {input}'\n"
        "variants:\n  - 'Repeat {input}'\n  - 'Repeat {inptu}'\n",
    )
    result = run("check", str(write_exercise.root))
    assert result.returncode == 1
    assert (
        "exercises/t/v.yaml:9: variants > item 2: uses {inptu}, which the cases do not define (they define {input})"
        in result.stdout.splitlines()
    )


@pytest.mark.slow
def test_check_solve_flags_unsolvable_and_too_easy_exercises(write_exercise) -> None:
    shipped = yaml.safe_load((ROOT / "exercises/getting-started/sentiment-label.yaml").read_text())
    write_exercise("t/sentiment-label.yaml", yaml.safe_dump({**shipped, "variants": []}))  # robustness: the next test
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
    assert lines[-2] == "1 of 3 exercises solvable and not too easy (margin minimum 0.10)."
    assert lines[-1].startswith("Needs re-tuning for smollm2-135m-instruct: anything-goes, wrong-solution. ")
    assert "`prompt-sandbox calibrate ID --write` on this model" in lines[-1]


@pytest.mark.slow
def test_check_solve_runs_the_variants_and_shows_why_a_brittle_exercise_fails_them(write_exercise) -> None:
    shipped = yaml.safe_load((ROOT / "exercises/getting-started/sentiment-label.yaml").read_text())
    shipped["variants"] = [
        shipped["variants"][0],  # one a learner wrote that passes
        "Write a short poem about the sea.",  # two that deserve to fail, to make it brittle
        "{input}\n\nTell me a joke about it.",
    ]
    write_exercise("t/sentiment-label.yaml", yaml.safe_dump(shipped))
    result = run("check", "--solve", str(write_exercise.root), "--json")
    [report] = json.loads(result.stdout)["exercises"]
    assert [v["passed"] for v in report["variants"]] == [True, False, False], report["variants"]
    assert report["good_prompts"] == 4 and report["good_passed"] == 2 and report["flags"] == ["brittle"]
    assert result.returncode == 0, "brittle is a warning: the exercise is still solvable and not too easy"

    lines = run("check", "--solve", str(write_exercise.root)).stdout.splitlines()
    row = next(line for line in lines if line.startswith("sentiment-label "))
    assert row.split()[1:5] == ["pass", "2", "of", "4"] and row.endswith("brittle")
    at = lines.index(
        "sentiment-label: brittle, robust: 2 of 4 good prompts pass (the solution passes, 1 of 3 variants); "
        "the variants that fail:"
    )
    assert lines[at + 1] == "  'Write a short poem about the sea.'"
    assert lines[at + 2].startswith("    case 0: ") and "(answer: '" in lines[at + 2]
    assert (
        "Robustness: 1 of 3 variants pass (33%) in 1 exercise; brittle (under 67% of good prompts pass): "
        "sentiment-label." in lines
    )


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
    assert text.startswith("# Written by the instructor team.\ntitle:\n  en: Label review sentiment\n  zh: "), (
        "the file is kept as written (its comment, its texts by language)"
    )
    assert run("check", str(write_exercise.root)).stdout.count("warning") == 0
