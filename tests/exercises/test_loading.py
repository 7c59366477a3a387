"""Loading and validating exercise files: what an instructor sees when a file is wrong."""

from __future__ import annotations

import os

import pytest

from sandbox.exercises.catalog import load_catalog
from sandbox.exercises.loading import load_exercise_file

GOOD = """\
title: Label review sentiment
difficulty: 2
task: |
  Label the review.
cases:
  - input: "Late and crushed."
    expect: ["negative"]
  - input: "Great shoes."
    expect: positive
    hidden: true
checks:
  labels: [positive, negative]
  max_words: 3
threshold: 0.8
hints: "Name the two words."
solution: "Label this review as positive or negative: {input}"
"""


def test_a_good_file_loads_with_defaults(write_exercise) -> None:
    path = write_exercise("basics/sentiment.yaml", GOOD)
    exercise = load_exercise_file(path, write_exercise.root, "basics")
    assert exercise.id == "sentiment"
    assert exercise.track == "basics"
    assert exercise.cases[1].expect == ["positive"]  # a single string becomes a list
    assert exercise.hints == ["Name the two words."]
    assert exercise.cases[1].hidden is True
    assert exercise.max_new_tokens is None
    assert exercise.variable_names() == {"input"}


BROKEN = [
    # (file text, expected line, words the message must contain)
    (GOOD.replace("title: Label review sentiment\n", ""), 1, ["'title' is missing", "title: "]),
    (GOOD.replace("threshold: 0.8", "treshold: 0.8"), 14, ["unknown field 'treshold'", "did you mean 'threshold'"]),
    (GOOD.replace("difficulty: 2", "difficulty: hard"), 2, ["difficulty", "whole number", "'hard'"]),
    (GOOD.replace("difficulty: 2", "difficulty: 9"), 2, ["difficulty", "out of range", "at most 5", "(you wrote 9)"]),
    (GOOD.replace("threshold: 0.8", "threshold: 80"), 14, ["threshold", "out of range"]),
    (GOOD.replace('    expect: ["negative"]\n', ""), 6, ["case 1", "first expected output must name exactly one"]),
    (
        GOOD.replace('    expect: ["negative"]\n', "").split("checks:")[0] + "threshold: 0.8\n",
        6,
        ["case 1", "add reference outputs ('expect: [...]') or rule 'checks'"],
    ),
    (GOOD.replace("  max_words: 3", "  max_wrds: 3"), 13, ["unknown field 'max_wrds'", "did you mean 'max_words'"]),
    (GOOD.replace('expect: ["negative"]', 'expect: ["bad"]'), 7, ["case 1", "labels", "names none"]),
    (GOOD.replace("{input}", "{review}"), 16, ["solution", "{review}", "do not define"]),
    (GOOD.replace('  - input: "Great shoes."', '  - vars: {review: "Great shoes."}'), 8, ["case 2", "same variables"]),
    (GOOD.replace("  max_words: 3", '  regex: "([a-z"\n  explain: a word'), 13, ["regex", "does not compile"]),
    (GOOD.replace("  max_words: 3", '  regex: "^[a-z]+$"'), 13, ["regex", "add 'explain:'"]),
    (GOOD.replace("cases:\n", "cases:\n\t- input: x\n"), 6, ["YAML syntax error", "spaces, not tabs"]),
    (GOOD.replace('  - input: "Late and crushed."', '  - input: "Late and crushed.\n'), 8, ["YAML syntax error"]),
    ("", 1, ["the file is empty"]),
    (GOOD + "edit: system\n", 17, ["edit", "add the fixed message", 'user: "{input}"']),
    (GOOD + "user: '{input}'\n", 17, ["user", "'edit: system' or 'edit: prefill'"]),
    (GOOD + "edit: prefill\nuser: 'Review: {text}'\n", 18, ["user", "uses {text}"]),
    (GOOD + "edit: system\nuser: '{input}'\nsystem: Be nice.\n", 19, ["system", "remove the fixed 'system'"]),
    (GOOD + "edit: prompts\n", 17, ["edit", "'prompt', 'system' or 'prefill'"]),
    (
        GOOD.replace("  max_words: 3", "  max_words: 3\n  contains: ['{product}']"),
        6,
        ["case 1", "the checks use {product}"],
    ),
    (GOOD.replace("  max_words: 3", "  language: xx"), 13, ["language 'xx' is not one the check knows", "es"]),
    (GOOD.replace("  max_words: 3", "  language: Spanish"), 13, ["language", "should match pattern"]),
    (GOOD.replace("  max_words: 3", "  langauge: es"), 13, ["unknown field 'langauge'", "did you mean 'language'"]),
    ("- just\n- a list\n", 1, ["'field: value' lines"]),
    (GOOD.replace("  max_words: 3", '  regex: "^\\d\\.$"'), 13, ["YAML syntax error", "write \\\\ for one backslash"]),
    (GOOD + "technique: few-shots\n", 17, ["technique", "'few-shots' is not a technique", "did you mean 'few-shot'"]),
]


@pytest.mark.parametrize(("text", "line", "words"), BROKEN)
def test_every_problem_names_file_line_and_fix(write_exercise, text: str, line: int, words: list[str]) -> None:
    write_exercise("basics/broken.yaml", text)
    write_exercise("basics/good.yaml", GOOD)
    catalog = load_catalog(write_exercise.root)
    assert list(catalog.exercises) == ["good"], "a broken file must not stop the others loading"
    [broken] = catalog.broken
    assert broken.path == os.path.join("exercises", "basics", "broken.yaml")
    message = "\n".join(broken.problems)
    assert f"exercises/basics/broken.yaml:{line}:" in message, message
    for word in words:
        assert word in message, message


def test_a_wrong_item_in_a_list_is_named_by_its_list_and_a_date_as_written(write_exercise) -> None:
    write_exercise(
        "t/x.yaml", GOOD.replace('expect: ["negative"]', "expect: [90]").replace('"Late and crushed."', "2024-06-01")
    )
    [broken] = load_catalog(write_exercise.root).broken
    assert broken.problems == [
        "exercises/t/x.yaml:6: case 1 > input: 'input' must be text; put it in quotes (you wrote 2024-06-01)",
        "exercises/t/x.yaml:7: case 1 > expect > item 1: each item of 'expect' must be text; put it in quotes "
        "(you wrote 90)",
    ]


def test_all_problems_in_a_file_are_reported_at_once(write_exercise) -> None:
    text = GOOD.replace("difficulty: 2", "difficulty: hard").replace("threshold: 0.8", "treshold: 0.8")
    write_exercise("b.yaml", text)
    [broken] = load_catalog(write_exercise.root).broken
    assert len(broken.problems) == 2
    assert any(":2:" in p for p in broken.problems) and any(":14:" in p for p in broken.problems)


def test_odd_unicode_in_a_file_loads(write_exercise) -> None:
    text = GOOD.replace("Late and crushed.", "Llegó tarde 📦 — «aplastado» 日本").replace("Label review", "Étiquette ✓")
    write_exercise("u/uni.yaml", text)
    catalog = load_catalog(write_exercise.root)
    assert catalog.exercises["uni"].cases[0].input == "Llegó tarde 📦 — «aplastado» 日本"


def test_a_file_that_is_not_utf8_is_reported(write_exercise) -> None:
    path = write_exercise("t/latin.yaml", "x")
    path.write_bytes(GOOD.replace("Late", "Lat\xe9").encode("latin-1"))
    [broken] = load_catalog(write_exercise.root).broken
    assert "not UTF-8" in broken.problems[0]


def test_a_regex_repeat_is_not_mistaken_for_a_variable(write_exercise) -> None:
    text = GOOD.replace(
        "  max_words: 3", "  regex: '^\\w{3,9}$'\n  explain: be one word\n  not_contains: ['{input}x{2}']"
    )
    write_exercise("t/re.yaml", text)
    catalog = load_catalog(write_exercise.root)
    assert catalog.broken == [] and "re" in catalog.exercises


def test_system_and_prefill_exercises_load(write_exercise) -> None:
    system = GOOD + "edit: system\nuser: 'Review: {input}'\n"
    prefill = (
        GOOD + "edit: prefill\nuser: 'Review: {input}'\nsystem: You label reviews.\ncounterexamples: ['{input}']\n"
    )
    write_exercise("t/sys.yaml", system)
    write_exercise("t/pre.yaml", prefill)
    catalog = load_catalog(write_exercise.root)
    assert catalog.exercises["sys"].edit == "system" and catalog.exercises["sys"].user == "Review: {input}"
    assert catalog.exercises["pre"].edit == "prefill" and catalog.exercises["pre"].counterexamples == ["{input}"]
