"""``prompt-sandbox bench``: how many learners this computer serves (medians and ranges, one run)."""

from __future__ import annotations

from pathlib import Path

import click

from .common import find_exercise, friendly_errors, settings_for


@click.command()
@click.option(
    "--exercise", "exercise_ref", default="order-number", show_default=True, help="A 3-case exercise to grade."
)
@click.option("--runs", type=click.IntRange(1, 50), default=3, show_default=True, help="Runs per figure.")
@click.option(
    "--learners", type=click.IntRange(1, 200), default=30, show_default=True, help="Learners in the simulated class."
)
@click.option("--anchors", is_flag=True, help="Also measure llama.cpp on the same prompts (the `bench` extra).")
@click.option(
    "--server", default=None, help="Also run the learner and the class through this model server (a manifest name)."
)
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@friendly_errors
def bench(
    exercise_ref: str, runs: int, learners: int, anchors: bool, server: str | None, exercises: Path | None
) -> None:
    """Measure cold start, one learner's verdict and a whole class (medians and ranges)."""
    from ..bench import run_bench
    from ..exercises.catalog import load_catalog

    settings = settings_for(exercises)
    catalog = load_catalog(settings.exercises_dir)
    mix = [e for e in catalog.exercises.values() if e.solution]
    run_bench(find_exercise(exercise_ref, settings), mix, settings, runs, learners, anchors, click.echo, server)
