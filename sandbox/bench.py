"""Measure what a classroom feels: time to a ready app, one learner's verdict, a whole class pressing Run.

Figures are medians with their range over several runs, measured side by side in
one run of ``prompt-sandbox bench``; nothing here is asserted by a test.

- cold start: a fresh process, from start to the first graded answer;
- one learner: one 3-case exercise graded through the batching service;
- a class: N simulated learners pressing Run within one second on a mix of the
  shipped exercises (half with the solution, half with the task pasted as the
  prompt), each graded through the service; latency is from a learner's press to
  their verdict;
- fairness: every distinct submission of the class, run again with the model to
  itself, compared with its answers inside the class's batches (and, for
  information, with one plain ``generate`` call per case);
- the naive path (one request at a time through transformers, no batching),
  measured on those same requests, and with ``--anchors`` llama.cpp
  (llama-cpp-python, the same GGUF, one request at a time); ratios against each.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import Settings, force_offline
from .errors import ModelError, PromptError
from .exercises.schema import Exercise
from .grading import Verdict, case_requests, grade, prepare_prompts
from .models.base import GenerationRequest
from .models.decoding import code_path
from .models.factory import build_embedder, build_engine, build_generator
from .models.manifests import ModelManifest, ServerManifest, get_manifest
from .models.service import GenerationService
from .models.setups import chosen
from .yardsticks import llama_cpp_answers, naive_answers

COLD_START_SCRIPT = """
import json, sys, time
started = float(sys.argv[1])
from sandbox.bench import first_verdict_seconds
ready, verdict = first_verdict_seconds(sys.argv[2], started)
print(json.dumps({"ready": ready, "verdict": verdict}))
"""


@dataclass
class Figure:
    label: str
    values: list[float]
    unit: str

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def line(self) -> str:
        low, high = min(self.values), max(self.values)
        runs = f"{len(self.values)} run{'s' if len(self.values) > 1 else ''}"
        return f"{self.label}: median {self.median:.2f} {self.unit} (range {low:.2f} to {high:.2f}, {runs})"


@dataclass
class Press:
    """One simulated learner: an exercise, a prompt, and when they press Run (seconds after the first)."""

    learner: str
    exercise: Exercise
    prompt: str
    at: float
    latency: float = 0.0
    verdict: Verdict | None = None


@dataclass
class ClassRun:
    wall: float
    latencies: list[float]
    tokens: int
    outputs: dict[tuple[str, str], list[str]] = field(default_factory=dict)


def first_verdict_seconds(exercise_ref: str, started: float) -> tuple[float, float]:
    """In a fresh process: load both models, then grade the exercise's solution.

    Returns the seconds since ``started`` until the models were ready and until the verdict.
    """
    from .config import load_settings
    from .exercises.catalog import load_catalog

    force_offline()
    settings = load_settings()
    exercise = load_catalog(settings.exercises_dir).find(exercise_ref)
    generator = build_generator(settings)
    embedder = build_embedder(settings, beside=generator)
    generator.load()
    embedder.load()
    ready = time.time() - started
    grade(exercise, exercise.solution or "{input}", generator, embedder, settings)
    return ready, time.time() - started


def cold_start(exercise: Exercise, runs: int) -> tuple[Figure, Figure]:
    ready, verdict = [], []
    for _ in range(runs):
        started = time.time()
        result = subprocess.run(
            [sys.executable, "-c", COLD_START_SCRIPT, str(started), exercise.id],
            capture_output=True,
            text=True,
            env={**os.environ},
            check=True,
        )
        figures = json.loads(result.stdout.strip().splitlines()[-1])
        ready.append(float(figures["ready"]))
        verdict.append(float(figures["verdict"]))
    return (
        Figure("cold start: process start to both models ready", ready, "s"),
        Figure("cold start: process start to first verdict", verdict, "s"),
    )


def requests_for(exercise: Exercise, prompt: str, settings: Settings) -> list[GenerationRequest]:
    return case_requests(exercise, prepare_prompts(exercise, prompt, settings), settings)


def generated_tokens(engine: Any, verdict: Verdict, exercise: Exercise, prompt: str) -> int:
    prefill = len(prompt) if exercise.edit == "prefill" else 0  # the learner's start is not generated
    return sum(engine.count_tokens(c.output[prefill:]) for c in verdict.cases)


def one_learner(
    exercise: Exercise,
    service: GenerationService,
    embedder: object,
    settings: Settings,
    runs: int,
    counter: Any = None,
    label: str = "one learner",
) -> tuple[Figure, Figure]:
    """``counter`` counts tokens (the local model's tokenizer; a model server's engine has none)."""
    counter = counter or service.engine
    prompt = exercise.solution or "{input}"
    grade(exercise, prompt, service, embedder, settings)  # type: ignore[arg-type]  # warm-up
    seconds, rates = [], []
    for _ in range(runs):
        started = time.perf_counter()
        verdict = grade(exercise, prompt, service, embedder, settings)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        seconds.append(elapsed)
        rates.append(generated_tokens(counter, verdict, exercise, prompt) / elapsed)
    n = len(exercise.cases)
    return (
        Figure(f"{label}: grade the {n}-case exercise '{exercise.id}'", seconds, "s"),
        Figure(f"{label}: generated tokens per second", rates, "tok/s"),
    )


def class_mix(exercises: list[Exercise], learners: int, settings: Settings, seed: int = 0) -> list[Press]:
    """Learners spread over the exercises; half run the solution, half paste the task; all press within 1 s."""
    rng = random.Random(seed)
    presses = []
    for i in range(learners):
        exercise = exercises[i % len(exercises)]
        solution = exercise.solution or "{input}"
        prompt = solution if i % 2 == 0 else exercise.task.strip()
        try:
            prepare_prompts(exercise, prompt, settings)
        except PromptError:  # a task text with braces the cases do not define
            prompt = solution
        presses.append(Press(f"learner-{i + 1}", exercise, prompt, at=rng.uniform(0.0, 1.0)))
    return presses


def run_class(
    presses: list[Press], service: GenerationService, embedder: object, settings: Settings, counter: Any = None
) -> ClassRun:
    start = time.perf_counter() + 0.05

    def learner(press: Press) -> None:
        time.sleep(max(0.0, start + press.at - time.perf_counter()))
        pressed = time.perf_counter()
        press.verdict = grade(press.exercise, press.prompt, service, embedder, settings, owner=press.learner)  # type: ignore[arg-type]
        press.latency = time.perf_counter() - pressed

    threads = [threading.Thread(target=learner, args=(p,)) for p in presses]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    engine = counter or service.engine
    tokens = 0
    outputs: dict[tuple[str, str], list[str]] = {}
    for press in presses:
        assert press.verdict is not None
        tokens += generated_tokens(engine, press.verdict, press.exercise, press.prompt)
        outputs[(press.exercise.id, press.prompt)] = [c.output for c in press.verdict.cases]
    return ClassRun(wall, [p.latency for p in presses], tokens, outputs)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def through_server(
    server: str,
    exercise: Exercise,
    presses: list[Press],
    local: ClassRun,
    local_rate: float,
    counter: Any,
    embedder: object,
    settings: Settings,
    runs: int,
    echo: Callable[[str], None],
) -> list[Figure]:
    """The same learner and class through a model server, beside the local service's figures.

    ``local`` is a class run of the local service (its answers are compared), ``local_rate``
    the median of its class throughput over the runs, as the server's figure is.
    """
    manifest = get_manifest(settings, server, "generator")
    if not isinstance(manifest, ServerManifest):
        raise ModelError(f"--server {server}: that manifest is not a model server (format: openai).")
    service = build_generator(settings.with_overrides(generator=server))
    label = f"model server '{server}'"
    figures = list(one_learner(exercise, service, embedder, settings, runs, counter, label))  # type: ignore[arg-type]
    classes = [run_class(presses, service, embedder, settings, counter) for _ in range(runs)]  # type: ignore[arg-type]
    figures += [
        Figure(f"{label}: the class's last verdict after", [c.wall for c in classes], "s"),
        Figure(f"{label}: verdict latency p95", [percentile(c.latencies, 0.95) for c in classes], "s"),
        Figure(
            f"{label}: generated tokens per second, all learners together",
            [c.tokens / c.wall for c in classes],
            "tok/s",
        ),
    ]
    for figure in figures:
        echo(figure.line())
    echo(
        f"ratio: class tokens per second, model server / this app's own service = "
        f"{figures[-1].median / local_rate:.2f}x"
    )
    differ = sum(
        a != b for key, answers in classes[0].outputs.items() for a, b in zip(answers, local.outputs[key], strict=True)
    )
    total = sum(len(answers) for answers in local.outputs.values())
    echo(f"{label}: {differ} of {total} class answers differ from this app's own model's")
    return figures


def run_bench(
    exercise: Exercise,
    exercises: list[Exercise],
    settings: Settings,
    runs: int,
    learners: int,
    anchors: bool,
    echo: Callable[[str], None],
    server: str | None = None,
    naive_requests: int | None = None,
) -> list[Figure]:
    force_offline()
    echo(
        f"prompt-sandbox bench: generator {settings.generator}, embedder {settings.embedder}, "
        f"{os.cpu_count()} CPU cores (torch {code_path()}), batches of up to {settings.batch_size}, "
        f"window {settings.batch_window_ms} ms"
    )
    manifest = get_manifest(settings, settings.generator, "generator")
    if isinstance(manifest, ModelManifest):
        choice = chosen(manifest, settings, echo)
        for line in choice.lines():  # before the cold starts, so none of them measures
            echo(line)
        settings = settings.with_overrides(dtype=choice.dtype)
    figures = list(cold_start(exercise, runs))
    for figure in figures:
        echo(figure.line())

    engine = build_engine(settings)
    service = GenerationService(engine, settings.batch_size, settings.batch_window_ms / 1000)
    embedder = build_embedder(settings, beside=service)  # all torch work on the service's thread, as in the app
    service.load()
    embedder.load()
    for figure in one_learner(exercise, service, embedder, settings, runs):
        figures.append(figure)
        echo(figure.line())

    presses = class_mix(exercises, learners, settings)
    cases = sum(len(p.exercise.cases) for p in presses)
    classes = [run_class(presses, service, embedder, settings) for _ in range(runs)]
    peak_mb = peak_memory_mb()
    class_rate = [c.tokens / c.wall for c in classes]
    for figure in (
        Figure(
            f"a class: {learners} learners ({cases} cases) press Run within 1 s; last verdict after",
            [c.wall for c in classes],
            "s",
        ),
        Figure("a class: verdict latency p50", [percentile(c.latencies, 0.5) for c in classes], "s"),
        Figure("a class: verdict latency p95", [percentile(c.latencies, 0.95) for c in classes], "s"),
        Figure("a class: generated tokens per second, all learners together", class_rate, "tok/s"),
    ):
        figures.append(figure)
        echo(figure.line())
    echo(f"a class: peak memory of the serving process {peak_mb:.0f} MB (max RSS, models included)")
    if server:
        local_rate = statistics.median(class_rate)
        figures += through_server(
            server, exercise, presses, classes[0], local_rate, engine, embedder, settings, runs, echo
        )

    distinct = {(p.exercise.id, p.prompt): p for p in presses}
    requests: list[GenerationRequest] = []
    batched: list[str] = []
    by_itself: list[str] = []
    for key, press in distinct.items():  # the same submission with the model to itself
        requests.extend(requests_for(press.exercise, press.prompt, settings))
        batched.extend(classes[0].outputs[key])
        verdict = grade(press.exercise, press.prompt, service, embedder, settings)  # type: ignore[arg-type]
        by_itself.extend(c.output for c in verdict.cases)
    differ = sum(b != a for b, a in zip(batched, by_itself, strict=True))
    echo(f"fairness: {differ} of {len(requests)} answers differ between running alone and inside the class's batches")
    measured = requests[:naive_requests] if naive_requests else requests  # both one-at-a-time paths are slow
    alone, _, _ = naive_answers(engine, measured)
    plain = sum(b != r.prefill + a for b, a, r in zip(batched[: len(measured)], alone, measured, strict=True))
    echo(
        f"plain path: {plain} of {len(measured)} answers differ from one plain `generate` call per case "
        "(the app reads a run's shared start once and decodes in its own, batch-proof arithmetic)"
    )
    # the naive path is plain transformers: float32, its own linear layers, one request at a time
    naive = build_engine(settings.with_overrides(dtype="float32"), packed=False)
    _, naive_seconds, naive_tokens = naive_answers(naive, measured)
    naive_rate = naive_tokens / naive_seconds
    echo(
        f"naive path (transformers, float32, one request at a time): {naive_rate:.1f} tok/s over {len(measured)} requests"
    )
    echo(f"ratio: class tokens per second / naive path = {statistics.median(class_rate) / naive_rate:.1f}x")
    if anchors:
        try:
            llama_seconds, llama_tokens = llama_cpp_answers(settings, requests)
        except ImportError:
            echo("llama.cpp: not installed; run `pip install -e '.[bench]'` (it compiles for a few minutes)")
        else:
            llama_rate = llama_tokens / llama_seconds
            echo(f"llama.cpp (llama-cpp-python, same GGUF, one request at a time): {llama_rate:.1f} tok/s")
            echo(
                f"ratio: class tokens per second / llama.cpp one at a time = {statistics.median(class_rate) / llama_rate:.1f}x"
            )
            three = requests_for(exercise, exercise.solution or "{input}", settings)
            three_seconds, _ = llama_cpp_answers(settings, three)
            ours = figures[2].median
            echo(
                f"one learner: llama.cpp answers the {len(three)} cases one after another in {three_seconds:.2f} s; "
                f"our verdict takes {ours / three_seconds:.2f}x that"
            )
            echo("llama.cpp with parallel sequences: not measured (llama-cpp-python's API serves one sequence)")
    return figures


def peak_memory_mb() -> float:
    """The most memory this process has held (max RSS); Windows has no ``resource`` module, psutil tells it there."""
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        return float(psutil.Process().memory_info().peak_wset) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
