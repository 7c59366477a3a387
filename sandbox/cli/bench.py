"""``prompt-sandbox bench``: how many learners this computer serves (medians and ranges, one run)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ..config import Settings
from .common import find_exercise, friendly_errors, settings_for

ISAS = {
    "avx2": {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx512-no-bf16": {"ATEN_CPU_CAPABILITY": "avx512", "ONEDNN_MAX_CPU_ISA": "AVX512_CORE_VNNI"},
}
"""The instruction sets torch and oneDNN are held to, so this computer computes as an older one does."""


def act_as(isa: str) -> None:
    """Run this command again with torch and oneDNN held to ``isa`` (they read it when they start)."""
    wanted = ISAS[isa]
    if all(os.environ.get(k) == v for k, v in wanted.items()):
        return
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], {**os.environ, **wanted})  # as it was started


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
@click.option("--model", default=None, help="Measure this generator (a manifest name) instead of the one in use.")
@click.option(
    "--random-weights",
    is_flag=True,
    help="Measure the model's real shape with random weights (speed does not depend on them), before downloading it.",
)
@click.option(
    "--naive",
    "naive_requests",
    type=click.IntRange(1, 10_000),
    default=None,
    help="Time the naive path on this many of the class's requests (default all; it is slow on big models).",
)
@click.option(
    "--isa",
    type=click.Choice(["native", *ISAS]),
    default="native",
    show_default=True,
    help="Act as another CPU: avx2 (most classroom PCs), avx512-no-bf16 (AVX-512 without bfloat16, an Intel Xeon).",
)
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@friendly_errors
def bench(
    exercise_ref: str,
    runs: int,
    learners: int,
    anchors: bool,
    server: str | None,
    model: str | None,
    random_weights: bool,
    naive_requests: int | None,
    isa: str,
    exercises: Path | None,
) -> None:
    """Measure cold start, one learner's verdict and a whole class (medians and ranges)."""
    if isa != "native":
        act_as(isa)
    from ..bench import run_bench
    from ..exercises.catalog import load_catalog

    settings = settings_for(exercises)
    if model or random_weights:
        settings = with_model(settings, model or settings.generator, random_weights)
    catalog = load_catalog(settings.exercises_dir)
    mix = [e for e in catalog.exercises.values() if e.solution]
    run_bench(
        find_exercise(exercise_ref, settings),
        mix,
        settings,
        runs,
        learners,
        anchors,
        click.echo,
        server,
        naive_requests,
    )


def with_model(settings: Settings, name: str, random_weights: bool) -> Settings:
    """The settings (and environment, for the bench's fresh cold-start processes) with ``name`` as the generator."""
    from ..models.manifests import local_manifest
    from ..models.random_weights import SUFFIX, with_random_weights

    manifest = local_manifest(settings, name, "generator")
    if random_weights:
        models_dir = with_random_weights(manifest, settings, click.echo)
        settings = settings.with_overrides(models_dir=models_dir)
        os.environ["PROMPT_SANDBOX_MODELS"] = str(models_dir)
        name += SUFFIX
    os.environ["PROMPT_SANDBOX_GENERATOR"] = name
    return settings.with_overrides(generator=name)
