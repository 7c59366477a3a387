"""The fastest fair way to run the language model on this computer, measured once and remembered.

A setup is a number type the engine computes in. Which is fastest depends on
the processor: bfloat16 halves the memory the weights take and is fastest
where the CPU has bfloat16 instructions (AVX-512 BF16, AMX), but without them
it is emulated and several times slower than float32. So on first start (and
on ``models pull``) each candidate runs the same short class of requests in
one batch, and each request again alone; the fastest candidate whose answers
are the same both ways is chosen. The figures are kept in ``setups.json`` in
the models cache, keyed by the machine (processor, CPU code path, threads,
the oneDNN instruction-set cap) and the model, so a later start reads them.
``PROMPT_SANDBOX_DTYPE`` (float32 or bfloat16) skips the choice.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ModelError
from ..i18n import N_
from .base import GenerationRequest, Piece
from .manifests import ModelManifest
from .memo import read_memo, write_memo

AUTO = "auto"
GENERATOR_FORMATS = ("gguf", "transformers")
"""Manifests the engine runs here (and so measures)."""
CANDIDATES = ("float32", "bfloat16")
"""The number types the engine can run in, in the order they are measured."""

PROBE_TOKENS = 24
PROBE = (
    "Find the order number in this message and reply with the number only: 'Hi, order 48213 has not arrived.'",
    "Is this review positive or negative? One word. Review: 'The shoes fell apart after two days.'",
    "Rewrite politely in one sentence: 'Send me the report now.'",
    "List three safety rules for a warehouse, numbered.",
    "Write the JSON object with keys name and city for: Tom Becker lives in Hamburg.",
    "Summarise in ten words: the delivery van broke down, so parcels arrive on Wednesday.",
    "Which language is this written in? 'Hola, ¿dónde está mi pedido?'",
    "How many minutes is 2 hours and 15 minutes? Answer with a number.",
    "Write a short, friendly reminder for a dentist appointment on Monday at 9am.",
    "Explain in one sentence what 'out for delivery' means.",
    "Give the fault code in this log line: 'Line 3 stopped, code E-404, motor overheated.'",
    "Say sorry to a customer whose parcel is late, in one sentence.",
)
"""A short class of requests like the curriculum's: several answers in one batch, then each alone."""


@dataclass(frozen=True)
class SetupFigure:
    dtype: str
    tokens_per_second: float
    """All the probe's answers written together in one batch."""
    differ: int
    """Answers that came out differently alone than inside the batch (0 is fair)."""
    answers: int

    @property
    def fair(self) -> bool:
        return self.differ == 0

    def line(self) -> str:
        fairness = "fair" if self.fair else f"NOT fair: {self.differ} of {self.answers} answers differ alone"
        return f"{self.dtype}: {self.tokens_per_second:.1f} tok/s in one batch of {self.answers}, {fairness}"


@dataclass(frozen=True)
class Choice:
    dtype: str
    figures: tuple[SetupFigure, ...]
    why: str

    def lines(self) -> list[str]:
        return [f"setup: {self.dtype} ({self.why})", *(f"  {figure.line()}" for figure in self.figures)]


def machine_key(manifest: ModelManifest, settings: Settings) -> str:
    from .decoding import machine

    return f"{machine()}; {manifest.name} {manifest.fingerprint}; batches of {settings.batch_size}"


def chosen(manifest: ModelManifest, settings: Settings, progress: Any = None) -> Choice:
    """The setup to run ``manifest`` in: ``settings.dtype`` if it names one, else the fastest fair one here."""
    if settings.dtype != AUTO:
        return Choice(settings.dtype, (), "set by PROMPT_SANDBOX_DTYPE")
    path, known = _remembered(settings)
    key = machine_key(manifest, settings)
    entry = known.get(key)
    if isinstance(entry, list):
        with contextlib.suppress(TypeError, ValueError):
            figures = tuple(SetupFigure(**figure) for figure in entry)
            if sorted(figure.dtype for figure in figures) == sorted(CANDIDATES):  # else another version's: measure
                return decide(figures, "measured on this computer earlier")
    say = progress or (lambda message: None)
    say("Measuring which way of running the model is fastest on this computer (once; about a minute)...")
    figures = measure_apart(manifest, settings)
    known[key] = [asdict(figure) for figure in figures]
    write_memo(path, known)
    return decide(figures, "measured on this computer now")


def forget(manifest: ModelManifest, settings: Settings) -> None:
    """Drop this computer's figures for ``manifest``, so the next start measures again."""
    path, known = _remembered(settings)
    if known.pop(machine_key(manifest, settings), None) is not None:
        write_memo(path, known)


def _remembered(settings: Settings) -> tuple[Path, dict[str, Any]]:
    path = settings.model_cache_dir / "setups.json"
    return path, read_memo(path)


def decide(figures: tuple[SetupFigure, ...], when: str) -> Choice:
    """The fastest fair figure; float32 when none is fair (its answers are the plain reference)."""
    fair = [figure for figure in figures if figure.fair]
    if not fair:
        return Choice("float32", figures, f"no setup was fair; {when}")
    best = max(fair, key=lambda figure: figure.tokens_per_second)
    return Choice(best.dtype, figures, f"the fastest fair one, {when}")


CHILD = """
import json, sys
from sandbox.errors import SandboxError
from sandbox.models.setups import measure_here
try:
    print(json.dumps({"figures": measure_here(sys.stdin.read())}))
except SandboxError as error:  # the parent raises it again, translated for whoever reads it
    print(json.dumps({"message": error.message, "fields": {k: str(v) for k, v in error.fields.items()}}))
"""


def measure_apart(manifest: ModelManifest, settings: Settings) -> tuple[SetupFigure, ...]:
    """Every candidate measured by :func:`measure` in a process of its own, then gone.

    Each candidate loads the model once more; in the app's own process those
    copies would raise its peak memory for good (the allocator keeps what it
    grew to), so the serving process only ever holds the model it runs. The
    child inherits the environment, so ``bench --isa``'s caps hold there too.
    """
    fields = {field.name: str(getattr(settings, field.name)) for field in dataclasses.fields(settings)}
    order = json.dumps({"manifest": manifest.name, "settings": fields})
    result = subprocess.run(
        [sys.executable, "-c", CHILD], input=order, capture_output=True, text=True, env={**os.environ}, check=False
    )
    try:
        reply = json.loads(result.stdout.strip().splitlines()[-1])
        if "message" in reply:  # the model could not be loaded, for instance: the same error as in this process
            raise ModelError(reply["message"], **reply["fields"])
        figures = tuple(SetupFigure(**figure) for figure in reply["figures"])
    except (IndexError, KeyError, TypeError, ValueError):
        raise ModelError(
            N_(
                "Measuring which way of running '{model}' is fastest here failed: {error}. Set "
                "PROMPT_SANDBOX_DTYPE=float32 to run without measuring, or run `prompt-sandbox models setup --again`."
            ),
            model=manifest.name,
            error=(result.stderr.strip().splitlines() or [f"exit status {result.returncode}"])[-1],
        ) from None
    return figures


def measure_here(order: str) -> list[dict[str, Any]]:
    """The child's side of :func:`measure_apart`: the settings and manifest it was given, every candidate measured."""
    from .manifests import local_manifest

    given = json.loads(order)
    read: dict[Any, Any] = {"Path": Path, "int": int, "float": float}
    kinds = {field.name: read.get(field.type, str) for field in dataclasses.fields(Settings)}
    settings = Settings(**{name: kinds[name](text) for name, text in given["settings"].items()})
    manifest = local_manifest(settings, given["manifest"], "generator")
    return [asdict(measure(manifest, settings, dtype)) for dtype in CANDIDATES]


def measure(manifest: ModelManifest, settings: Settings, dtype: str) -> SetupFigure:
    """Run the probe in ``dtype``: all requests in one batch (timed), then each alone, and compare."""
    from .engine import TransformersGenerator
    from .service import GenerationService

    engine = TransformersGenerator(manifest, settings.with_overrides(dtype=dtype))
    service = GenerationService(engine, settings.batch_size, 0.2)
    try:
        service.load()
        requests = [GenerationRequest(prompt=text, max_new_tokens=PROBE_TOKENS) for text in PROBE]
        service.generate(requests[0])  # the first run pays for allocations; not timed
        together: list[str] = [""] * len(requests)

        def one(index: int) -> None:  # each its own submission, as learners' runs are
            for event in service.stream_many([requests[index]]):
                if isinstance(event, Piece):
                    together[index] += event.text

        threads = [threading.Thread(target=one, args=(i,)) for i in range(len(requests))]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        tokens = sum(engine.count_tokens(text) for text in together)
        alone = [service.generate(request) for request in requests]
    finally:
        service.close()
    differ = sum(a != b for a, b in zip(together, alone, strict=True))
    return SetupFigure(dtype, round(tokens / seconds, 1), differ, len(requests))
