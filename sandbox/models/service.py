"""One generation service per process: every learner's requests share the model, batched continuously.

A submission (the cases of one graded run, or one playground prompt) is checked
and tokenised when it arrives, then waits in one queue with everybody else's.
When the model is idle, the first request waits a short window for others to
join; then the model decodes greedy requests together, one token per step for
every row (``TransformersGenerator.run_continuous``). Waiting requests join
the running batch at the next step while there is room (``batch_size`` rows),
oldest first, and a row leaves as soon as its answer ends, so a one-word answer
never waits for a long one. Each row's text streams back to its own
submission. In float32 a request's greedy answer is the same in any batch as
alone (``prompt-sandbox bench`` measures it), so who else pressed Run never
changes a verdict. A sampling request (the playground with temperature > 0)
runs alone, in its turn.

All of torch's work in the process runs on the service's one thread: loading,
reading prompts, decoding, and the embedder's vectors (``run_beside``, between
two decoding steps), because on a 2-core machine a second thread doing torch's
work made every decoding step twice as slow (see ``base.BesideGenerator``).

Each person has at most one active submission. A submission that is cancelled,
or whose reader goes away, leaves the queue and stops its rows. When a batch
fails, each unanswered row is run again alone, so the error reaches only the
request that caused it.
"""

from __future__ import annotations

import atexit
import collections.abc as abc
import queue
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..errors import ModelError, PromptError
from ..i18n import N_
from .base import BatchJob, Done, GenerationRequest, Generator, Piece, Result, StreamEvent, Waiting


class Engine(Protocol):
    """What the service needs of a model (``TransformersGenerator`` is one)."""

    name: str
    fingerprint: str

    @property
    def loaded(self) -> bool: ...

    def load(self) -> None: ...

    def encode(self, request: GenerationRequest) -> list[int]: ...

    def run_batch(self, jobs: list[BatchJob]) -> None: ...

    def run_continuous(self, admit: Callable[[int], list[BatchJob]], capacity: int) -> None: ...

    def count_tokens(self, text: str) -> int: ...


def shared_prefix(prompts: list[list[int]]) -> int:
    """How many leading ids all of a submission's prompts share (0 for one prompt); each keeps one id of its own."""
    if len(prompts) < 2:
        return 0
    shortest = min(len(ids) for ids in prompts)
    length = 0
    while length < shortest - 1 and all(ids[length] == prompts[0][length] for ids in prompts):
        length += 1
    return length


class BusyError(PromptError):
    """The person already has a run going."""


@dataclass
class _Failed:
    index: int
    error: BaseException


_END = object()


@dataclass
class _Submission:
    owner: str | None
    size: int
    stops: list[threading.Event] = field(default_factory=list)
    """The requests' own stop events: once one is set, the run is ending and no longer counts as active."""
    events: queue.Queue[Any] = field(default_factory=queue.Queue)
    cancelled: threading.Event = field(default_factory=threading.Event)
    started: bool = False
    remaining: int = 0

    def __post_init__(self) -> None:
        self.remaining = self.size

    def ending(self) -> bool:
        return self.cancelled.is_set() or any(stop.is_set() for stop in self.stops)


class _Job:
    """One request of a submission, as a row of a batch."""

    def __init__(self, submission: _Submission, index: int, request: GenerationRequest, ids: list[int]) -> None:
        self.submission, self.index, self.request, self.ids = submission, index, request, ids
        self.prefix = 0
        self.group = id(submission)
        self.arrived = time.monotonic()
        self.emitted = False
        self.finished = False

    def stopped(self) -> bool:
        return self.submission.cancelled.is_set() or bool(self.request.stop and self.request.stop.is_set())

    def emit(self, text: str) -> None:
        self.emitted = True
        self.submission.events.put(Piece(self.index, text))

    def finish(self) -> None:
        """Mark the row done (once)."""
        if self.finished:
            return
        self.finished = True
        self.submission.events.put(Done(self.index))
        self.submission.remaining -= 1
        if self.submission.remaining == 0:
            self.submission.events.put(_END)

    def fail(self, error: BaseException) -> None:
        self.finished = True
        self.submission.events.put(_Failed(self.index, error))


class GenerationService(Generator):
    """Serves every session of the process from one model, in batches."""

    def __init__(self, engine: Engine, batch_size: int = 32, window_s: float = 0.05) -> None:
        self.engine = engine
        self.name = engine.name
        self.fingerprint = engine.fingerprint
        self.batch_size = max(1, batch_size)
        self.window_s = max(0.0, window_s)
        self._cond = threading.Condition()
        self._pending: list[_Job] = []
        self._running: list[_Job] = []
        self._active: dict[str, _Submission] = {}
        self._calls: list[tuple[Callable[[], Any], Future[Any]]] = []  # work for the model's thread (run_beside)
        self._worker: threading.Thread | None = None
        self._closing = False
        atexit.register(self.close)  # never leave the worker inside the model while the process ends
        self.batches: list[int] = []
        """How many rows joined the model at each admission, the last thousand (for the bench and the tests)."""

    # Generator ---------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self.engine.loaded

    def load(self) -> None:
        if not self.engine.loaded:
            self.run_beside(self.engine.load)

    def count_tokens(self, text: str) -> int:
        self.load()
        return self.engine.count_tokens(text)

    def run_beside(self, work: Callable[[], Result]) -> Result:
        """Run ``work`` on the model's thread, between two decoding steps, and return its result (or raise its error)."""
        if threading.current_thread() is self._worker:
            return work()
        future: Future[Result] = Future()
        with self._cond:
            closing = self._closing
            if not closing:
                self._calls.append((work, future))
                self._start_worker()
                self._cond.notify_all()
        if closing:  # the model's thread is gone or going; nothing else runs the model now
            return work()
        while True:
            try:
                return future.result(timeout=0.5)
            except TimeoutError:
                if self._worker is None or not self._worker.is_alive():
                    raise ModelError(
                        N_(
                            "The language model stopped working. Your earlier work is saved; start the app again, "
                            "and if this keeps happening tell your instructor."
                        )
                    ) from None

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        for event in self.stream_many([request]):
            if isinstance(event, Piece):
                yield event.text

    def stream_many(
        self, requests: list[GenerationRequest], owner: str | None = None
    ) -> abc.Generator[StreamEvent, None, None]:
        submission = self._submit(requests, owner)
        try:
            yield Waiting(self._ahead(submission))
            while True:
                try:
                    event = submission.events.get(timeout=0.2)
                except queue.Empty:
                    if self._worker is None or not self._worker.is_alive():
                        raise ModelError(
                            N_(
                                "The language model stopped working before your answer was ready. Your earlier work "
                                "is saved; press Run again, and if this keeps happening tell your instructor."
                            )
                        ) from None
                    if not submission.started:  # also a heartbeat: a page can stop between events
                        yield Waiting(self._ahead(submission))
                    continue
                if event is _END:
                    return
                if isinstance(event, _Failed):
                    raise ModelError(
                        N_("The language model stopped with an error: {error}"), error=event.error
                    ) from event.error
                yield event
        finally:
            self._close(submission)

    # The queue ---------------------------------------------------------------

    def _submit(self, requests: list[GenerationRequest], owner: str | None) -> _Submission:
        self.load()
        submission = _Submission(owner, len(requests), [r.stop for r in requests if r.stop is not None])
        jobs = [_Job(submission, i, r, self.engine.encode(r)) for i, r in enumerate(requests)]  # may raise PromptError
        shared = shared_prefix([job.ids for job in jobs])
        for job in jobs:
            job.prefix = shared
        with self._cond:
            current = self._active.get(owner) if owner is not None else None
            if current is not None and not current.ending():  # a cancelled run may still be winding down
                raise BusyError(
                    N_(
                        "You already have a run going (perhaps in another tab). Wait for it to finish, or cancel it, "
                        "then press Run again."
                    )
                )
            if self._closing:
                raise ModelError(N_("The language model is shutting down; start the app again."))
            if owner is not None:
                self._active[owner] = submission
            self._pending.extend(jobs)
            self._start_worker()
            self._cond.notify_all()
        if not jobs:
            submission.events.put(_END)
        return submission

    def _start_worker(self) -> None:
        """Start the model's thread if it is not running (the caller holds ``_cond``)."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._work, name=f"batches-{self.name}", daemon=True)
            self._worker.start()

    def _run_calls(self) -> None:
        """Run the work handed over by ``run_beside`` (on the model's thread)."""
        with self._cond:
            calls, self._calls = self._calls, []
        for work, future in calls:
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(work())
                except Exception as exc:
                    future.set_exception(exc)

    def _close(self, submission: _Submission) -> None:
        submission.cancelled.set()  # stops its rows if the reader left early; harmless when it is done
        with self._cond:
            self._pending = [job for job in self._pending if job.submission is not submission]
            if submission.owner is not None and self._active.get(submission.owner) is submission:
                del self._active[submission.owner]

    def _ahead(self, submission: _Submission) -> int:
        """How many other submissions run or wait before this one's first request."""
        with self._cond:
            before: set[int] = {id(job.submission) for job in self._running if not job.finished}
            for job in self._pending:
                if job.submission is submission:
                    break
                before.add(id(job.submission))
            before.discard(id(submission))
            return len(before)

    def close(self, timeout_s: float = 10.0) -> None:
        """Let the worker finish what it runs and stop; called when the process ends."""
        with self._cond:
            self._closing = True
            self._pending.clear()
            self._cond.notify_all()
            worker = self._worker
        if worker is not None and worker is not threading.current_thread():
            worker.join(timeout_s)

    def _wait_for_work(self) -> bool:
        """Block until a request or other work waits; give other requests the window to join; False when closing."""
        with self._cond:
            while not self._pending and not self._calls and not self._closing:
                self._cond.wait()
            if self._closing:
                return False
            if not self._pending:
                return True
            deadline = self._pending[0].arrived + self.window_s
            while len(self._pending) < self.batch_size and (left := deadline - time.monotonic()) > 0:
                self._cond.wait(left)
            return True

    def _take(self, room: int, greedy: bool) -> list[_Job]:
        """Waiting jobs for ``room`` rows, oldest first; a sampling job only alone, and only when it is the oldest."""
        with self._cond:
            for job in self._pending:
                if job.stopped():
                    job.finish()
            self._pending = [job for job in self._pending if not job.finished]
            self._running = [job for job in self._running if not job.finished]
            if not self._pending or room <= 0:
                return []
            oldest_samples = self._pending[0].request.temperature > 0
            if greedy == oldest_samples:
                return []  # a sampling job waits for the running batch to drain, then runs alone
            chosen = self._pending[:1] if oldest_samples else self._whole_submissions(room)
            taken = {id(job) for job in chosen}
            self._pending = [job for job in self._pending if id(job) not in taken]
            for job in chosen:
                job.submission.started = True
            self._running.extend(chosen)
            return chosen

    def _whole_submissions(self, room: int) -> list[_Job]:
        """Greedy submissions, oldest first, whole, while they fit in ``room``.

        A submission larger than the whole batch goes alone when the model is free.
        """
        chosen: list[_Job] = []
        for job in self._pending:
            if job.request.temperature > 0 or any(j.submission is job.submission for j in chosen):
                continue
            fits = len(chosen) + job.submission.size <= room or (not chosen and room >= self.batch_size)
            if not fits:
                break
            chosen.extend(j for j in self._pending if j.submission is job.submission)
        return chosen

    def _work(self) -> None:
        while self._wait_for_work():
            self._run_calls()
            with self._cond:
                if not self._pending:
                    continue
            sampling = self._take(1, greedy=False)
            try:
                if sampling:
                    self.batches.append(1)
                    self.engine.run_batch(sampling)  # type: ignore[arg-type]
                else:
                    self.engine.run_continuous(self._admit, self.batch_size)  # type: ignore[arg-type]
            except Exception as exc:  # isolate: rerun each unanswered row alone, so only the culprit sees an error
                for job in [j for j in self._running if not j.finished]:
                    self._alone(job, exc)
            finally:
                with self._cond:
                    self._running = [job for job in self._running if not job.finished]
        self._run_calls()  # any handed over before closing

    def _admit(self, room: int) -> list[_Job]:
        self._run_calls()
        jobs = self._take(room, greedy=True)
        if jobs:
            self.batches.append(len(jobs))
            del self.batches[:-1000]
        return jobs

    def _alone(self, job: _Job, error: Exception) -> None:
        if job.emitted:
            job.fail(error)
            return
        try:
            self.engine.run_batch([job])  # type: ignore[list-item]
        except Exception as exc:
            job.fail(exc)
