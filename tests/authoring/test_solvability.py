"""What `check --solve` concludes from its runs: margins, robustness, the per-track summary (no model needed)."""

from __future__ import annotations

from sandbox.authoring.solvability import BaselineResult, SolveReport, VariantResult, by_track, robustness, table


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


def with_variants(r: SolveReport, passing: int, failing: int) -> SolveReport:
    r.variants = [VariantResult(f"good {i}", True, 0.9) for i in range(passing)]
    r.variants += [
        VariantResult(f"other {i}", False, 0.4, ["case 1: too long (answer: 'Well...')"]) for i in range(failing)
    ]
    return r


def test_an_exercise_where_under_two_thirds_of_the_good_prompts_pass_is_brittle() -> None:
    steady = with_variants(report("a", True, 0.9, [0.2]), passing=3, failing=1)
    assert steady.good_prompts == 5 and steady.good_passed == 4 and not steady.brittle
    assert steady.robustness == "robust: 4 of 5 good prompts pass (the solution passes, 3 of 4 variants)"
    assert steady.flags == [] and steady.to_json()["good_passed"] == 4

    shaky = with_variants(report("b", True, 0.9, [0.2]), passing=2, failing=2)  # 3 of 5: under two thirds
    assert shaky.brittle and shaky.flags == ["brittle"] and not shaky.blocking
    assert shaky.to_json()["variants"][-1]["failed_cases"] == ["case 1: too long (answer: 'Well...')"]
    assert not with_variants(report("c", True, 0.9, [0.2]), passing=1, failing=1).brittle  # 2 of 3 is two thirds
    assert report("d", True, 0.9, [0.2]).robustness == "robust: not measured (no variants)"


def test_the_run_says_how_many_variants_pass_and_which_exercises_are_brittle() -> None:
    reports = [
        with_variants(report("a", True, 0.9, [0.2]), passing=4, failing=0),
        with_variants(report("b", True, 0.8, [0.1]), passing=1, failing=3),
        report("c", True, 0.8, [0.1]),
    ]
    assert robustness(reports) == (
        "Robustness: 5 of 8 variants pass (62%) in 2 exercises; brittle (under 67% of good prompts pass): b."
    )
    assert robustness(reports[2:]) == "Robustness: not measured (no exercise lists variants)."
    rows = table(reports)
    assert rows[0].split()[:6] == ["exercise", "solution", "good", "prompts", "pass", "baselines"]
    assert rows[2].split()[:4] == ["b", "pass", "2", "of"] and rows[2].endswith("brittle")
    assert by_track(reports, {"a": "Office work", "b": "Office work", "c": "Office work"})[0] == (
        "Office work: 3 exercises; solutions pass 3 of 3 (9 of 9 cases); variants pass 5 of 8 (1 brittle); "
        "baselines pass 0 of 3 (3 of 9 cases); median margin +0.70"
    )
