"""Measure what a classroom feels: how long until the first verdict, how long one verdict takes.

Figures are medians with their range over several runs, measured side by side in
one run of ``prompt-sandbox bench``; nothing here is asserted by a test.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

from .config import Settings, force_offline
from .exercises import Exercise
from .grading import grade
from .models import build_embedder, build_generator

COLD_START_SCRIPT = """
import json, sys, time
started = float(sys.argv[1])
from sandbox.bench import first_verdict_seconds
print(json.dumps({"seconds": first_verdict_seconds(sys.argv[2], started)}))
"""


@dataclass
class Figure:
    label: str
    values: list[float]
    unit: str

    def line(self) -> str:
        median = statistics.median(self.values)
        low, high = min(self.values), max(self.values)
        return f"{self.label}: median {median:.2f} {self.unit} (range {low:.2f} to {high:.2f}, {len(self.values)} runs)"


def first_verdict_seconds(exercise_ref: str, started: float) -> float:
    """In a fresh process: load the models and grade the exercise's solution; seconds since ``started``."""
    from .config import load_settings
    from .exercises import load_catalog

    force_offline()
    settings = load_settings()
    exercise = load_catalog(settings.exercises_dir).find(exercise_ref)
    grade(exercise, exercise.solution or "{input}", build_generator(settings), build_embedder(settings), settings)
    return time.time() - started


def cold_start(exercise: Exercise, runs: int) -> Figure:
    values = []
    for _ in range(runs):
        started = time.time()
        result = subprocess.run(
            [sys.executable, "-c", COLD_START_SCRIPT, str(started), exercise.id],
            capture_output=True,
            text=True,
            env={**os.environ},
            check=True,
        )
        values.append(float(json.loads(result.stdout.strip().splitlines()[-1])["seconds"]))
    return Figure("cold start: process start to first verdict", values, "s")


def one_learner(exercise: Exercise, settings: Settings, runs: int) -> tuple[Figure, Figure]:
    generator, embedder = build_generator(settings), build_embedder(settings)
    generator.load()
    embedder.load()
    prompt = exercise.solution or "{input}"
    grade(exercise, prompt, generator, embedder, settings)  # warm-up
    seconds, rates = [], []
    for _ in range(runs):
        started = time.perf_counter()
        verdict = grade(exercise, prompt, generator, embedder, settings)
        elapsed = time.perf_counter() - started
        tokens = sum(generator.count_tokens(c.output) for c in verdict.cases)
        seconds.append(elapsed)
        rates.append(tokens / elapsed)
    n = len(exercise.cases)
    return (
        Figure(f"one learner: grade the {n}-case exercise '{exercise.id}'", seconds, "s"),
        Figure("one learner: generated tokens per second", rates, "tok/s"),
    )


def run_bench(exercise: Exercise, settings: Settings, runs: int, echo: Callable[[str], None]) -> list[Figure]:
    echo(
        f"prompt-sandbox bench: generator {settings.generator}, embedder {settings.embedder}, {os.cpu_count()} CPU cores"
    )
    figures = [cold_start(exercise, runs)]
    echo(figures[-1].line())
    figures.extend(one_learner(exercise, settings, runs))
    for figure in figures[1:]:
        echo(figure.line())
    return figures
