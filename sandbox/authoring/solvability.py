"""Prove an exercise is fair: its solution passes and naive prompts do not.

For every exercise, ``check --solve`` runs the instructor's solution on all cases
and a set of baseline prompts a learner might try without learning anything:
the bare case text, an unrelated request, the task text pasted as the prompt,
and the exercise's own ``counterexamples``. The margin is the solution's weakest
case minus how close the closest baseline came to passing, on a 0..1 scale. A
case is measured by its score (similarity times the share of checks passed, or
the share of checks alone when the case has no references); a baseline passes
only when every case passes, so it is as close to passing as its weakest case.

An exercise's ``variants`` (other good prompts, written as learners write) run
beside the solution: the share of good prompts that pass is the exercise's
robustness, and below :data:`ROBUST_SHARE` it is flagged 'brittle'.

Flags are kept (and saved) as English keys, which code compares; ``health`` keeps the
last results and says them in the reader's language where a page shows them. The command line's tables and summaries (:func:`table`, :func:`by_track`,
:func:`robustness`) stay in English.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..config import Settings
from ..errors import PromptError
from ..exercises.schema import Exercise
from ..grading import Verdict, grade
from ..i18n import _
from ..models.base import Embedder, Generator

MIN_MARGIN = 0.10
"""Below this margin an exercise is flagged 'thin margin': a small change of model could flip it."""

ROBUST_SHARE = 2 / 3
"""With fewer of its good prompts (solution and variants) passing, an exercise is flagged 'brittle'."""

UNRELATED = "Write a short poem about the sea."  # a prompt for the model, not a text for people
SOLUTION = "\0solution"  # keys no baseline name can take
VARIANT = "\0variant "


def baselines(exercise: Exercise) -> dict[str, str]:
    bare = " ".join("{" + name + "}" for name in sorted(exercise.variable_names())) or "Answer."
    prompts = {"bare input": bare, "unrelated request": UNRELATED, "task as prompt": exercise.task.strip()}
    for number, text in enumerate(exercise.counterexamples, start=1):
        prompts[f"counterexample {number}"] = text
    return prompts


def _case_measure(verdict: Verdict) -> list[float]:
    """Each case's similarity (or, without references, its share of checks passed), 0..1."""
    return [c.similarity if c.similarity is not None else c.score / 100 for c in verdict.cases]


def _case_scores(verdict: Verdict) -> list[float]:
    """Each case's score, 0..1: similarity times the share of checks passed."""
    return [c.score / 100 for c in verdict.cases]


@dataclass
class BaselineResult:
    name: str
    prompt: str
    passed: bool
    best: float
    """The highest case similarity (0..1) this baseline reached; calibrate keeps the threshold above it."""
    closest: float = 0.0
    """How close (0..1) this baseline came to passing: its weakest case score."""
    cases_passed: int = 0
    error: str = ""


@dataclass
class VariantResult:
    """One of the exercise's other good prompts, and how it did."""

    prompt: str
    passed: bool
    weakest: float = 0.0
    """Its weakest case (similarity, or share of checks), 0..1."""
    failed_cases: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class SolveReport:
    exercise: str
    solution_passed: bool | None
    """None when the exercise has no solution."""
    solution_weakest: float | None
    baselines: list[BaselineResult] = field(default_factory=list)
    failed_cases: list[str] = field(default_factory=list)
    cases: int = 0
    solution_cases_passed: int = 0
    variants: list[VariantResult] = field(default_factory=list)

    @property
    def good_prompts(self) -> int:
        """The solution and the variants."""
        return (self.solution_passed is not None) + len(self.variants)

    @property
    def good_passed(self) -> int:
        return bool(self.solution_passed) + sum(v.passed for v in self.variants)

    @property
    def brittle(self) -> bool:
        """Variants were written and fewer than two thirds of the good prompts pass."""
        return bool(self.variants) and self.good_passed < ROBUST_SHARE * self.good_prompts

    @property
    def robustness(self) -> str:
        if not self.variants:
            return _("robust: not measured (no variants)")
        if self.solution_passed:
            line = _(
                "robust: {passed} of {good} good prompts pass (the solution passes, "
                "{variants_passed} of {variants} variants)"
            )
        else:
            line = _(
                "robust: {passed} of {good} good prompts pass (the solution fails, "
                "{variants_passed} of {variants} variants)"
            )
        return line.format(
            passed=self.good_passed,
            good=self.good_prompts,
            variants_passed=sum(v.passed for v in self.variants),
            variants=len(self.variants),
        )

    @property
    def best_baseline(self) -> float:
        """The highest similarity any baseline reached on any one case."""
        return max((b.best for b in self.baselines), default=0.0)

    @property
    def closest_baseline(self) -> float:
        """How close the closest baseline came to passing (its weakest case score)."""
        return max((b.closest for b in self.baselines), default=0.0)

    @property
    def margin(self) -> float | None:
        if self.solution_weakest is None:
            return None
        return round(self.solution_weakest - self.closest_baseline, 3)

    @property
    def flags(self) -> list[str]:
        flags = []
        if self.solution_passed is None:
            flags.append("no solution")
        elif not self.solution_passed:
            flags.append("unsolvable")
        if any(b.passed for b in self.baselines):
            flags.append("too easy")
        if self.margin is not None and self.margin < MIN_MARGIN:
            flags.append("thin margin")
        if self.brittle:
            flags.append("brittle")
        return flags

    @property
    def blocking(self) -> bool:
        return any(flag in ("unsolvable", "too easy", "no solution") for flag in self.flags)

    def to_json(self) -> dict[str, object]:
        return {
            "exercise": self.exercise,
            "solution_passed": self.solution_passed,
            "solution_weakest": self.solution_weakest,
            "best_baseline": self.best_baseline,
            "closest_baseline": self.closest_baseline,
            "margin": self.margin,
            "flags": self.flags,
            "failed_cases": self.failed_cases,
            "cases": self.cases,
            "solution_cases_passed": self.solution_cases_passed,
            "good_prompts": self.good_prompts,
            "good_passed": self.good_passed,
            "variants": [
                {
                    "prompt": v.prompt,
                    "passed": v.passed,
                    "weakest": round(v.weakest, 3),
                    "failed_cases": v.failed_cases,
                    "error": v.error,
                }
                for v in self.variants
            ],
            "baselines": [
                {
                    "name": b.name,
                    "prompt": b.prompt,
                    "passed": b.passed,
                    "best": round(b.best, 3),
                    "closest": round(b.closest, 3),
                    "cases_passed": b.cases_passed,
                    "error": b.error,
                }
                for b in self.baselines
            ],
        }


def solve(exercise: Exercise, generator: Generator, embedder: Embedder, settings: Settings) -> SolveReport:
    """Grade the solution, its variants and every baseline; submitted together, so the batching service runs them at once."""
    prompts = dict(baselines(exercise))
    if exercise.solution:
        prompts[SOLUTION] = exercise.solution
    for number, text in enumerate(exercise.variants, start=1):
        prompts[f"{VARIANT}{number}"] = text

    def run(name: str) -> Verdict | PromptError:
        try:
            return grade(exercise, prompts[name], generator, embedder, settings, owner=f"solve:{exercise.id}:{name}")
        except PromptError as exc:  # e.g. the task text has braces the cases do not define
            return exc

    with ThreadPoolExecutor(max_workers=len(prompts)) as pool:
        outcomes = dict(zip(prompts, pool.map(run, prompts), strict=True))
    report = SolveReport(exercise=exercise.id, solution_passed=None, solution_weakest=None, cases=len(exercise.cases))
    solution = outcomes.pop(SOLUTION, None)
    if isinstance(solution, PromptError):
        raise solution
    if solution is not None:
        report.solution_passed = solution.passed
        report.solution_weakest = min(_case_measure(solution))
        report.solution_cases_passed = sum(c.passed for c in solution.cases)
        report.failed_cases = _failed(solution)
    for name in [n for n in outcomes if n.startswith(VARIANT)]:
        outcome = outcomes.pop(name)
        if isinstance(outcome, PromptError):
            report.variants.append(VariantResult(prompts[name], False, error=str(outcome)))
        else:
            report.variants.append(
                VariantResult(prompts[name], outcome.passed, min(_case_measure(outcome)), _failed(outcome))
            )
    for name, outcome in outcomes.items():
        if isinstance(outcome, PromptError):
            report.baselines.append(BaselineResult(name, prompts[name], False, 0.0, error=str(outcome)))
        else:
            report.baselines.append(
                BaselineResult(
                    name,
                    prompts[name],
                    outcome.passed,
                    best=max(_case_measure(outcome)),
                    closest=min(_case_scores(outcome)),
                    cases_passed=sum(c.passed for c in outcome.cases),
                )
            )
    return report


def _failed(verdict: Verdict) -> list[str]:
    """Each failed case: what the grader said and the start of the answer."""
    return [
        f"case {c.index}: {' '.join(c.feedback)} (answer: {c.output.strip()[:80]!r})"
        for c in verdict.cases
        if not c.passed
    ]


def solve_all(
    exercises: list[Exercise],
    generator: Generator,
    embedder: Embedder,
    settings: Settings,
    on_start: Callable[[Exercise], None] | None = None,
    at_once: int = 3,
) -> list[SolveReport]:
    """Solve several exercises, ``at_once`` at a time so their prompts share the model's batches.

    Reports come back in the order given. An exercise whose solution cannot even be
    prepared raises, as :func:`solve` does.
    """

    def one(exercise: Exercise) -> SolveReport:
        if on_start is not None:
            on_start(exercise)
        return solve(exercise, generator, embedder, settings)

    with ThreadPoolExecutor(max_workers=max(1, at_once)) as pool:
        return list(pool.map(one, exercises))


def table(reports: list[SolveReport]) -> list[str]:
    """A table people can read."""
    rows = [("exercise", "solution", "good prompts pass", "baselines passed", "margin", "flags")]
    for r in reports:
        solution = "none" if r.solution_passed is None else ("pass" if r.solution_passed else "FAIL")
        good = f"{r.good_passed} of {r.good_prompts}" if r.variants else "-"
        passed = sum(b.passed for b in r.baselines)
        margin = "-" if r.margin is None else f"{r.margin:+.2f}"
        rows.append((r.exercise, solution, good, f"{passed} of {len(r.baselines)}", margin, ", ".join(r.flags) or "ok"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]


def by_track(reports: list[SolveReport], tracks: dict[str, str]) -> list[str]:
    """One line per track: exercises, solution and baseline pass rates, median margin.

    ``tracks`` maps each exercise id to its track's title, in the order tracks are shown.
    """
    groups: dict[str, list[SolveReport]] = {}
    for title in tracks.values():
        groups.setdefault(title, [])
    for report in reports:
        groups.setdefault(tracks.get(report.exercise, "(no track)"), []).append(report)
    lines = []
    for title, group in groups.items():
        if not group:
            continue
        solved = [r for r in group if r.solution_passed is not None]
        runs = [b for r in group for b in r.baselines]
        margins = sorted(r.margin for r in group if r.margin is not None)
        median = statistics.median(margins) if margins else None
        lines.append(
            f"{title}: {len(group)} exercise{'s' if len(group) != 1 else ''}; "
            f"solutions pass {sum(bool(r.solution_passed) for r in solved)} of {len(solved)} "
            f"({sum(r.solution_cases_passed for r in solved)} of {sum(r.cases for r in solved)} cases); "
            + _variants_passing(group)
            + f"baselines pass {sum(b.passed for b in runs)} of {len(runs)} "
            f"({sum(b.cases_passed for b in runs)} of {sum(r.cases * len(r.baselines) for r in group)} cases); "
            + (f"median margin {median:+.2f}" if median is not None else "no margin")
        )
    return lines


def _variants_passing(group: list[SolveReport]) -> str:
    variants = [v for r in group for v in r.variants]
    if not variants:
        return ""
    brittle = sum(r.brittle for r in group)
    return f"variants pass {sum(v.passed for v in variants)} of {len(variants)}" + (
        f" ({brittle} brittle); " if brittle else "; "
    )


def robustness(reports: list[SolveReport]) -> str:
    """One line for the whole run: how many variants pass, and which exercises are brittle."""
    variants = [v for r in reports for v in r.variants]
    if not variants:
        return "Robustness: not measured (no exercise lists variants)."
    passed = sum(v.passed for v in variants)
    measured = [r for r in reports if r.variants]
    brittle = [r.exercise for r in measured if r.brittle]
    return (
        f"Robustness: {passed} of {len(variants)} variants pass ({passed / len(variants):.0%}) "
        f"in {len(measured)} exercise{'s' if len(measured) != 1 else ''}; "
        + (
            f"brittle (under {ROBUST_SHARE:.0%} of good prompts pass): {', '.join(brittle)}."
            if brittle
            else "none brittle."
        )
    )
