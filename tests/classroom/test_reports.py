"""The instructor's reports and exports, from a real SQLite store."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from sandbox.classroom.reports import (
    attempts_jsonl,
    common_failures,
    exercise_stats,
    gradebook,
    gradebook_csv,
    grid,
    learner_data_json,
    timeline,
)
from sandbox.classroom.store import Store
from sandbox.exercises.catalog import load_catalog
from sandbox.exercises.schema import Exercise
from sandbox.grading import grade

from ..conftest import FakeEmbedder, FakeGenerator

ROOT = Path(__file__).resolve().parents[2]
ECHO = Exercise.model_validate(
    {"id": "echo", "title": "Echo", "task": "t", "cases": [{"input": "hello world", "expect": ["hello world"]}]}
)


@pytest.fixture
def classroom(settings):
    """Ana passes on her 2nd attempt, Ben fails twice, Chen never tries."""
    store = Store(settings.database_path)

    def attempt(name: str, code: str, prompt: str, reply: str) -> None:
        verdict = grade(ECHO, prompt, FakeGenerator([reply]), FakeEmbedder(), settings)
        store.record_attempt(store.learner(name, code), prompt, verdict)

    attempt("Ana", "B-12", "Say {input}", "goodbye moon")
    attempt("Ana", "B-12", "Repeat exactly: {input}", "hello world")
    attempt("Ben", "B-12", "{input}", "goodbye moon")
    attempt("Ben", "B-12", "Echo {input}", "goodbye moon again")
    store.learner("Chen", "A-1")
    return store


def _rows(store: Store, code: str | None = None):
    learners = [(x.name, x.class_code) for x in store.learners(code)]
    return gradebook(store.all_attempts(code), learners, ["echo"])


def test_gradebook_csv_has_one_row_per_learner_and_exercise(classroom) -> None:
    text = gradebook_csv(_rows(classroom))
    table = list(csv.DictReader(io.StringIO(text)))
    assert list(table[0]) == ["learner", "class", "exercise", "passed", "best_score", "attempts", "first_passed_at"]
    by_name = {row["learner"]: row for row in table}
    assert (
        by_name["Ana"]["passed"] == "yes"
        and by_name["Ana"]["attempts"] == "2"
        and by_name["Ana"]["best_score"] == "100"
    )
    assert by_name["Ana"]["first_passed_at"].startswith("20")
    assert by_name["Ben"]["passed"] == "no" and by_name["Ben"]["attempts"] == "2"
    assert by_name["Chen"]["attempts"] == "0" and by_name["Chen"]["class"] == "A-1"


@pytest.mark.parametrize(
    ("name", "exported"),
    [
        ('=HYPERLINK("http://x.example","c")', '\'=HYPERLINK("http://x.example","c")'),
        ("+31 Ana", "'+31 Ana"),
        ("-Ana", "'-Ana"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Ana=Ben", "Ana=Ben"),
    ],
)
def test_a_name_that_looks_like_a_formula_is_exported_as_text(settings, name: str, exported: str) -> None:
    store = Store(settings.database_path)
    store.learner(name, "=CLASS")
    learners = [(x.name, x.class_code) for x in store.learners()]
    [row] = list(csv.DictReader(io.StringIO(gradebook_csv(gradebook([], learners, ["echo"])))))
    assert row["learner"] == exported
    assert row["class"] == "'=CLASS"


def test_one_learners_data_holds_their_attempts_and_runs_and_nobody_elses(classroom) -> None:
    ana = classroom.learner("Ana")
    classroom.record_ungraded(ana, "echo", "Say {input}", "the server did not answer", "class-server")
    data = json.loads(learner_data_json(ana, *classroom.records_of(ana)))
    assert data["learner"] == "Ana" and data["class"] == "B-12"
    assert [a["prompt"] for a in data["attempts"]] == ["Say {input}", "Repeat exactly: {input}"]
    assert {a["learner"] for a in data["attempts"]} == {"Ana"}
    assert data["runs_not_graded"] == [
        {
            "exercise": "echo",
            "prompt": "Say {input}",
            "why": "the server did not answer",
            "model": "class-server",
            "at": data["runs_not_graded"][0]["at"],
        }
    ]


def test_class_filter_and_grid(classroom) -> None:
    rows = _rows(classroom, "B-12")
    assert {r.learner for r in rows} == {"Ana", "Ben"}
    cells = {line["learner"]: line["echo"] for line in grid(rows, ["echo"])}
    assert cells["Ana"] == "passed 100 (2)"
    assert cells["Ben"].startswith("tried ") and cells["Ben"].endswith("(2)")


def test_stats_pass_rate_and_median_attempts(classroom) -> None:
    catalog = load_catalog(ROOT / "exercises")
    catalog.exercises = {"echo": ECHO}
    [stats] = exercise_stats(classroom.all_attempts(), catalog)
    assert (stats.learners_tried, stats.learners_passed, stats.pass_rate) == (2, 1, 0.5)
    assert stats.median_attempts_to_pass == 2


def test_timeline_shows_prompt_diffs(classroom) -> None:
    entries = timeline(classroom.all_attempts(), "Ana", "echo")
    assert [(e.number, e.passed) for e in entries] == [(1, False), (2, True)]
    assert entries[0].diff == ""
    assert "-Say {input}" in entries[1].diff and "+Repeat exactly: {input}" in entries[1].diff


def test_attempts_jsonl_is_one_object_per_line(classroom) -> None:
    lines = attempts_jsonl(classroom.all_attempts()).splitlines()
    assert len(lines) == 4
    first = json.loads(lines[0])
    assert first["learner"] == "Ana" and first["class"] == "B-12" and first["prompt"] == "Say {input}"
    assert first["cases"][0]["output"] == "goodbye moon" and first["generator"] == "fake-generator"


@pytest.mark.slow
def test_common_failures_group_answers_by_meaning(settings, real_embedder) -> None:
    store = Store(settings.database_path)
    replies = [
        "The parcel is late.",
        "Your parcel is delayed.",
        "The package is late.",
        "I like turtles.",
    ]
    for number, reply in enumerate(replies):
        verdict = grade(ECHO, "x {input}", FakeGenerator([reply]), FakeEmbedder(), settings)
        store.record_attempt(store.learner(f"L{number}"), "x {input}", verdict)
    groups = common_failures(store.all_attempts(), "echo", real_embedder, similar=0.6)
    assert (groups[0].count == 3 and "late" in groups[0].example) or "delayed" in groups[0].example
    assert [g.count for g in groups] == [3, 1]
