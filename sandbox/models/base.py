"""The two model roles and what crosses their borders: requests, stream events, one batch row.

:class:`Generator` answers prompts, streaming text; :class:`Embedder` turns texts
into unit vectors. This module imports none of their implementations (the
transformers engine, the batching service, a model server, the embedders):
``factory`` chooses those, and everything else depends on these interfaces only.
"""

from __future__ import annotations

import collections.abc as abc
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol, TypeVar


@dataclass
class GenerationRequest:
    prompt: str
    system: str | None = None
    prefill: str = ""
    """The start of the model's answer, written for it; the model continues from there."""
    max_new_tokens: int = 64
    temperature: float = 0.0
    """0 means greedy decoding (graded runs are always greedy)."""
    top_p: float = 1.0
    seed: int = 0
    stop: threading.Event | None = field(default=None, compare=False)
    """Set it to end the answer early (the learner pressed Cancel)."""


@dataclass
class Waiting:
    """The run is queued behind ``ahead`` other runs."""

    ahead: int


@dataclass
class Piece:
    """More text of the answer to request ``index``."""

    index: int
    text: str


@dataclass
class Done:
    """The answer to request ``index`` is complete."""

    index: int


StreamEvent = Waiting | Piece | Done
Result = TypeVar("Result")


class Generator(ABC):
    """A language model that answers prompts, streaming text pieces."""

    name: str = "generator"
    fingerprint: str = ""

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load weights now (otherwise on first use)."""

    @property
    def loaded(self) -> bool:
        return True

    @abstractmethod
    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the answer in pieces; the pieces joined are the whole answer."""

    def stream_many(
        self, requests: list[GenerationRequest], owner: str | None = None
    ) -> abc.Generator[StreamEvent, None, None]:
        """Answer several requests (one submission); pieces of different requests may interleave.

        ``owner`` names who submitted (a learner): a generator that serves many
        people at once uses it to allow one active submission per person.
        """
        for index, request in enumerate(requests):
            for text in self.stream(request):
                yield Piece(index, text)
            yield Done(index)

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for this model (words, for models without a tokenizer)."""
        return len(text.split())

    def run_beside(self, work: Callable[[], Result]) -> Result:
        """Run ``work`` where this generator does its own computing and return its result; here, right away.

        The batching service runs it on its model thread, between decoding steps
        (``GenerationService.run_beside``); the embedder's work goes there (:class:`BesideGenerator`).
        """
        return work()


class Embedder(ABC):
    """Turns texts into unit-length vectors, so a dot product is the cosine similarity."""

    name: str = "embedder"
    fingerprint: str = ""
    languages: tuple[str, ...] = ("en",)
    """The languages whose texts it places by meaning (its manifest's ``languages``)."""

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load weights now (otherwise on first use)."""

    @abstractmethod
    def embed(self, texts: list[str]) -> list[list[float]]:
        """One normalised vector per text."""

    def for_language(self, language: str) -> Embedder:
        """The embedder that reads ``language`` (this one, unless it is a :class:`ByLanguage`)."""
        return self


class ByLanguage(Embedder):
    """The configured embedder for the languages it reads, and a multilingual one for every other.

    all-MiniLM-L6-v2 reads English only: a Chinese text becomes unknown tokens, so two
    unrelated Chinese sentences score as close. Grading asks for the exercise's
    language (:meth:`for_language`) and gets the embedder that reads it.
    """

    def __init__(self, main: Embedder, other: Embedder) -> None:
        self.main, self.other = main, other
        self.name, self.fingerprint, self.languages = main.name, main.fingerprint, main.languages

    def load(self) -> None:
        self.main.load()  # the other loads when an exercise in another language is first graded

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.main.embed(texts)

    def for_language(self, language: str) -> Embedder:
        if language in self.main.languages or language not in self.other.languages:
            return self.main
        return self.other


class BesideGenerator(Embedder):
    """An embedder that computes where the generator does (:meth:`Generator.run_beside`), never on the caller's thread.

    PyTorch on the CPU keeps a team of OpenMP threads for every thread that runs
    its operations. Once there are more such threads than cores, libgomp lets them
    sleep between parallel regions instead of spinning, and a decoding step, made
    of hundreds of small operations, waits for them to wake each time: measured on
    this 2-core machine, a class's decoding steps took twice as long while the
    learners' grading threads embedded answers (or a thread that had loaded the
    model was still alive). With every model's work on the service's one thread,
    one team does it all.
    """

    def __init__(self, embedder: Embedder, generator: Generator) -> None:
        self.embedder, self.generator = embedder, generator
        self.name, self.fingerprint, self.languages = embedder.name, embedder.fingerprint, embedder.languages

    def load(self) -> None:
        self.generator.run_beside(self.embedder.load)

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.generator.run_beside(lambda: self.embedder.embed(texts))


class BatchJob(Protocol):
    """One row of a batch, as the batching service hands it to ``run_batch`` or ``run_continuous``."""

    ids: list[int]
    request: GenerationRequest
    prefix: int
    """How many leading ids this job shares with the rest of its submission (read once for all of them)."""
    group: int
    """The submission it belongs to: a submission's jobs are admitted and read together."""

    def stopped(self) -> bool: ...

    def emit(self, text: str) -> None: ...

    def finish(self) -> None: ...

    def fail(self, error: BaseException) -> None:
        """End the row with an error that reaches only its own submission."""
