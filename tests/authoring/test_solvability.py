"""The per-track summary `check --solve` prints, from reports (no model needed)."""

from __future__ import annotations

from sandbox.authoring.solvability import BaselineResult, SolveReport, by_track


def report(exercise: str, passed: bool, weakest: float, closest: list[float], cases: int = 3) -> SolveReport:
    baselines = [
        BaselineResult(f"b{i}", "prompt", passed=False, best=0.9, closest=c, cases_passed=1)
        for i, c in enumerate(closest)
    ]
    return SolveReport(
        exercise=exercise,
        solution_passed=passed,
        solution_weakest=weakest,
        baselines=baselines,
        cases=cases,
        solution_cases_passed=cases if passed else cases - 1,
    )


def test_margin_is_the_solution_weakest_case_minus_the_closest_baseline() -> None:
    r = report("a", True, 0.9, [0.2, 0.55, 0.1])
    assert r.margin == 0.35
    assert r.best_baseline == 0.9  # one case of a baseline can be close without the baseline being close to passing
    assert r.flags == []
    assert report("b", True, 0.6, [0.55]).flags == ["thin margin"]


def test_one_line_per_track_with_pass_rates_and_median_margin() -> None:
    reports = [
        report("a", True, 0.9, [0.2, 0.3]),
        report("b", True, 0.8, [0.1, 0.4]),
        report("c", False, 0.5, [0.6, 0.0], cases=4),
    ]
    lines = by_track(reports, {"a": "Office work", "b": "Office work", "c": "Logistics"})
    assert lines == [
        "Office work: 2 exercises; solutions pass 2 of 2 (6 of 6 cases); baselines pass 0 of 4 "
        "(4 of 12 cases); median margin +0.50",
        "Logistics: 1 exercise; solutions pass 0 of 1 (3 of 4 cases); baselines pass 0 of 2 "
        "(2 of 8 cases); median margin -0.10",
    ]
