"""What the instructor page shows and exports, computed from the store (no Streamlit here)."""

from __future__ import annotations

import csv
import difflib
import io
import json
import statistics
from dataclasses import dataclass
from typing import Any

from ..exercises.catalog import Catalog
from ..i18n import N_, _
from ..models.base import Embedder
from .store import AttemptRow, Learner, UngradedRun


@dataclass(frozen=True)
class GradebookRow:
    learner: str
    class_code: str
    exercise: str
    passed: bool
    best_score: int
    attempts: int
    first_passed_at: str


def gradebook(
    attempts: list[AttemptRow], learners: list[tuple[str, str]], exercise_ids: list[str]
) -> list[GradebookRow]:
    """One row per learner and exercise (attempts 0 when never tried), in a stable order."""
    by_pair: dict[tuple[str, str], list[AttemptRow]] = {}
    for attempt in attempts:
        by_pair.setdefault((attempt.learner, attempt.exercise_id), []).append(attempt)
    rows = []
    for name, class_code in learners:
        for exercise_id in exercise_ids:
            mine = by_pair.get((name, exercise_id), [])
            passed = [a for a in mine if a.passed]
            rows.append(
                GradebookRow(
                    learner=name,
                    class_code=class_code,
                    exercise=exercise_id,
                    passed=bool(passed),
                    best_score=max((a.score for a in mine), default=0),
                    attempts=len(mine),
                    first_passed_at=passed[0].created_at if passed else "",
                )
            )
    return rows


GRADEBOOK_COLUMNS = [
    N_("learner"),
    N_("class"),
    N_("exercise"),
    N_("passed"),
    N_("best_score"),
    N_("attempts"),
    N_("first_passed_at"),
]
"""The gradebook's header row in English; a spreadsheet shows it in the page's language."""
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""A cell starting with one of these is read as a formula by spreadsheet programs (OWASP's CSV injection rule)."""


def spreadsheet_safe(cell: str) -> str:
    """Text a spreadsheet shows as text: a leading ``'`` before a cell a spreadsheet would run as a formula."""
    return f"'{cell}" if cell.startswith(FORMULA_STARTS) else cell


def gradebook_csv(rows: list[GradebookRow]) -> str:
    """The gradebook for a spreadsheet; learners' names and class codes can never act as formulas."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_(column) for column in GRADEBOOK_COLUMNS])
    yes, no = _("yes"), _("no")
    for r in rows:
        passed = yes if r.passed else no
        text = [spreadsheet_safe(cell) for cell in (r.learner, r.class_code, r.exercise)]
        writer.writerow([*text, passed, r.best_score, r.attempts, r.first_passed_at])
    return out.getvalue()


def learner_data_json(learner: Learner, attempts: list[AttemptRow], ungraded: list[UngradedRun]) -> str:
    """Everything kept about one learner, for them or for a request under personal-information law."""
    data = {
        "learner": learner.name,
        "class": learner.class_code,
        "attempts": [attempt_record(a) for a in attempts],
        "runs_not_graded": [
            {"exercise": u.exercise_id, "prompt": u.prompt, "why": u.reason, "model": u.generator, "at": u.created_at}
            for u in ungraded
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2)


def attempt_record(a: AttemptRow) -> dict[str, Any]:
    """One attempt as the exports write it."""
    return {
        "id": a.id,
        "learner": a.learner,
        "class": a.class_code,
        "exercise": a.exercise_id,
        "created_at": a.created_at,
        "prompt": a.prompt,
        "passed": a.passed,
        "score": a.score,
        "generator": a.verdict.generator,
        "generator_hash": a.verdict.generator_hash,
        "embedder": a.verdict.embedder,
        "embedder_hash": a.verdict.embedder_hash,
        "cases": [c.model_dump() for c in a.verdict.cases],
    }


def attempts_jsonl(attempts: list[AttemptRow]) -> str:
    return "".join(json.dumps(attempt_record(a), ensure_ascii=False) + "\n" for a in attempts)


def grid(rows: list[GradebookRow], exercise_ids: list[str]) -> list[dict[str, str]]:
    """Learners by exercises; a cell reads 'passed 100 (2)', 'tried 45 (3)' or '' (best score, attempts).

    The learner and class columns are named in the page's language; the exercises' columns by their ids.
    """
    learner, klass = _("learner"), _("class")
    passed, tried = _("passed {score} ({attempts})"), _("tried {score} ({attempts})")
    table: dict[str, dict[str, str]] = {}
    for r in rows:
        line = table.setdefault(r.learner, {learner: r.learner, klass: r.class_code})
        if r.attempts:
            line[r.exercise] = (passed if r.passed else tried).format(score=r.best_score, attempts=r.attempts)
        else:
            line[r.exercise] = ""
    return [table[name] for name in table]


@dataclass(frozen=True)
class ExerciseStats:
    exercise: str
    title: str
    learners_tried: int
    learners_passed: int
    median_attempts_to_pass: float | None

    @property
    def pass_rate(self) -> float:
        return self.learners_passed / self.learners_tried if self.learners_tried else 0.0


def exercise_stats(attempts: list[AttemptRow], catalog: Catalog) -> list[ExerciseStats]:
    stats = []
    for exercise_id, exercise in catalog.exercises.items():
        per_learner: dict[str, list[AttemptRow]] = {}
        for a in attempts:
            if a.exercise_id == exercise_id:
                per_learner.setdefault(a.learner, []).append(a)
        to_pass = []
        for mine in per_learner.values():
            for number, attempt in enumerate(mine, start=1):
                if attempt.passed:
                    to_pass.append(number)
                    break
        stats.append(
            ExerciseStats(
                exercise=exercise_id,
                title=exercise.title,
                learners_tried=len(per_learner),
                learners_passed=len(to_pass),
                median_attempts_to_pass=statistics.median(to_pass) if to_pass else None,
            )
        )
    return stats


@dataclass(frozen=True)
class FailureGroup:
    count: int
    example: str
    case_index: int


def common_failures(
    attempts: list[AttemptRow], exercise_id: str, embedder: Embedder, similar: float = 0.8, top: int = 3
) -> list[FailureGroup]:
    """The most common failing answers of one exercise, grouped when their meanings are close."""
    failing = [
        (c.index, c.output.strip())
        for a in attempts
        if a.exercise_id == exercise_id
        for c in a.verdict.cases
        if not c.passed and c.output.strip()
    ]
    if not failing:
        return []
    vectors = embedder.embed([text for _, text in failing])
    groups: list[tuple[list[float], list[int]]] = []
    for i, vector in enumerate(vectors):
        for centre, members in groups:
            if sum(x * y for x, y in zip(centre, vector, strict=True)) >= similar:
                members.append(i)
                break
        else:
            groups.append((vector, [i]))
    groups.sort(key=lambda g: -len(g[1]))
    return [FailureGroup(len(m), failing[m[0]][1], failing[m[0]][0]) for _, m in groups[:top]]


@dataclass(frozen=True)
class TimelineEntry:
    number: int
    created_at: str
    score: int
    passed: bool
    prompt: str
    diff: str
    """What changed since the previous attempt, as a unified diff ('' for the first)."""


def timeline(attempts: list[AttemptRow], learner: str, exercise_id: str) -> list[TimelineEntry]:
    mine = [a for a in attempts if a.learner == learner and a.exercise_id == exercise_id]
    entries = []
    previous = ""
    for number, a in enumerate(mine, start=1):
        diff = ""
        if number > 1:
            diff = "\n".join(
                difflib.unified_diff(
                    previous.splitlines(),
                    a.prompt.splitlines(),
                    _("attempt {number}").format(number=number - 1),
                    _("attempt {number}").format(number=number),
                    lineterm="",
                )
            )
        entries.append(TimelineEntry(number, a.created_at, a.score, a.passed, a.prompt, diff))
        previous = a.prompt
    return entries
