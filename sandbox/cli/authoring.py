"""For instructors: ``check`` (files valid; with --solve, solvable and not too easy) and ``calibrate`` (a threshold)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..config import Settings
from .common import find_exercise, friendly_errors, settings_for

if TYPE_CHECKING:
    from ..exercises.schema import Exercise


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option(
    "--solve", is_flag=True, help="Also run each solution, its variants and naive baseline prompts on the model."
)
@click.option("--json", "as_json", is_flag=True, help="With --solve: print one JSON object.")
@click.option(
    "--dtype",
    type=click.Choice(["float32", "bfloat16"]),
    default=None,
    help="With --solve: run the model in this number type, not the one chosen for this computer.",
)
@friendly_errors
def check(directory: Path | None, solve: bool, as_json: bool, dtype: str | None) -> None:
    """Validate exercise files (every problem as file:line); with --solve, prove each is solvable and not too easy.

    Exit 1 if any file is broken, or (with --solve) any exercise is unsolvable or too easy.
    An exercise where fewer than two thirds of its good prompts (solution and variants) pass is flagged brittle.
    """
    from ..exercises.catalog import load_catalog

    settings = settings_for(directory).with_overrides(dtype=dtype)
    catalog = load_catalog(settings.exercises_dir)
    ok = len(catalog.exercises)
    bad = len(catalog.broken)
    if not as_json:
        for broken in catalog.broken:
            for problem in broken.problems:
                click.echo(problem)
        for warning in calibration_warnings(catalog, settings):
            click.echo(f"warning: {warning}")
        for note in catalog.notes:
            click.echo(f"note: {note}")
        click.echo(f"{ok} exercise{'s' if ok != 1 else ''} valid, {bad} file{'s' if bad != 1 else ''} with problems.")
    if not solve:
        sys.exit(1 if bad or not ok else 0)

    from ..authoring.health import save_reports
    from ..authoring.solvability import MIN_MARGIN, by_track, robustness, solve_all, table
    from ..models.factory import build_embedder, build_generator

    generator = build_generator(settings)
    embedder = build_embedder(settings, beside=generator)

    def started(exercise: Exercise) -> None:
        if not as_json:
            click.echo(f"solving {exercise.id}...", err=True)

    from ..exercises.languages import language_name
    from ..grading import exercise_language
    from ..models.status import language_gap

    runnable: list[tuple[Exercise, str]] = []
    skipped: list[tuple[Exercise, str]] = []
    for exercise in catalog.in_order():
        language = exercise_language(exercise)
        gap = language_gap(settings, language, language_name(language))
        (skipped if gap else runnable).append((exercise, gap))
    for exercise, gap in skipped:
        click.echo(f"skipped {exercise.id}: {gap}", err=True)
    reports = solve_all([e for e, _ in runnable], generator, embedder, settings, on_start=started)
    blocking = [r for r in reports if r.blocking]
    save_reports(settings, generator.name, embedder.name, reports)
    if as_json:
        payload = {
            "generator": generator.name,
            "generator_hash": generator.fingerprint,
            "embedder": embedder.name,
            "embedder_hash": embedder.fingerprint,
            "min_margin": MIN_MARGIN,
            "exercises": [r.to_json() for r in reports],
            "broken": [{"path": b.path, "problems": b.problems} for b in catalog.broken],
            "skipped": [{"exercise": e.id, "why": gap} for e, gap in skipped],
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        click.echo(f"On {generator.name} ({generator.fingerprint}) and {embedder.name} ({embedder.fingerprint}):")
        for line in table(reports):
            click.echo(line)
        for report in reports:
            for line in report.failed_cases:
                click.echo(f"{report.exercise}: solution failed {line}")
            for baseline in report.baselines:
                if baseline.passed:
                    click.echo(f"{report.exercise}: the baseline '{baseline.name}' passes: {baseline.prompt[:60]!r}")
            if report.brittle:
                click.echo(f"{report.exercise}: brittle, {report.robustness}; the variants that fail:")
                for variant in (v for v in report.variants if not v.passed):
                    click.echo(f"  {variant.prompt[:70]!r}")
                    for line in variant.failed_cases or [variant.error]:
                        click.echo(f"    {line}")
        if len(catalog.tracks) > 1:
            click.echo("By track:")
            titles = {e.id: t.title for t in catalog.tracks for e in catalog.in_track(t.id)}
            for line in by_track(reports, titles):
                click.echo(f"  {line}")
        click.echo(robustness(reports))
        click.echo(
            f"{len(reports) - len(blocking)} of {len(reports)} exercises solvable and not too easy "
            f"(margin minimum {MIN_MARGIN:.2f})."
            + (f" {len(skipped)} skipped: this model does not speak their language." if skipped else "")
        )
        if blocking:
            click.echo(
                f"Needs re-tuning for {generator.name}: {', '.join(r.exercise for r in blocking)}. For each, run "
                f"`prompt-sandbox calibrate ID --write` on this model (it writes this model's own threshold) "
                "or change the exercise, then `check --solve` again."
            )
    sys.exit(1 if bad or blocking or not ok else 0)


def calibration_warnings(catalog: Any, settings: Settings) -> list[str]:
    from ..authoring.calibrate import mismatch
    from ..models.manifests import load_manifests

    manifests = load_manifests(settings.models_dir)
    gen, emb = manifests.get(settings.generator), manifests.get(settings.embedder)
    if gen is None or emb is None:
        return []
    found = [mismatch(e, gen.name, gen.fingerprint, emb.name, emb.fingerprint) for e in catalog.exercises.values()]
    return [w for w in found if w]


@click.command()
@click.argument("exercise")
@click.option("--write", "write_file", is_flag=True, help="Store the threshold and the models used in the file.")
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@friendly_errors
def calibrate(exercise: str, write_file: bool, exercises: Path | None) -> None:
    """Suggest a threshold for EXERCISE from its solution and the naive baselines; --write stores it."""
    from ..authoring import calibrate as cal
    from ..authoring.solvability import solve as solve_one
    from ..models.factory import build_embedder, build_generator

    settings = settings_for(exercises)
    found = find_exercise(exercise, settings)
    generator = build_generator(settings)
    embedder = build_embedder(settings, beside=generator)
    report = solve_one(found, generator, embedder, settings)
    click.echo(
        f"Exercise {found.id} on {generator.name} ({generator.fingerprint}) and {embedder.name} ({embedder.fingerprint}):"
    )
    click.echo(f"  solution: {'passes' if report.solution_passed else 'fails'}, weakest case {report.solution_weakest}")
    for baseline in report.baselines:
        click.echo(
            f"  baseline {baseline.name}: best case {baseline.best:.2f}, weakest case score {baseline.closest:.2f}"
            f"{' (passes!)' if baseline.passed else ''}"
        )
    suggestion = cal.suggest(found, report)
    if suggestion.threshold is None:
        click.echo(suggestion.reason)
        sys.exit(1)
    current = found.threshold_or(settings.threshold, settings.generator)
    click.echo(f"Suggested threshold {suggestion.threshold:.2f} (now {current:.2f}): {suggestion.reason}.")
    if write_file:
        calibration = cal.calibration_for(generator.name, generator.fingerprint, embedder.name, embedder.fingerprint)
        cal.write(Path(found.path), suggestion.threshold, calibration, found)
        click.echo(f"Written to {found.path}.")
