"""The generation service: batches that never change an answer, queue places, cancel, one run per learner, errors kept apart."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence

import pytest

from sandbox.errors import ModelError, PromptError
from sandbox.exercises.catalog import load_catalog
from sandbox.grading import (
    CaseStarted,
    Finished,
    Queued,
    TextPiece,
    case_requests,
    grade,
    grade_events,
    prepare_prompts,
)
from sandbox.models.base import BatchJob, BesideGenerator, Done, GenerationRequest, Piece, Waiting
from sandbox.models.factory import build_engine
from sandbox.models.service import BusyError, GenerationService

from ..conftest import EXERCISES


class GateEngine:
    """A stand-in model for the queue's error paths: answers 'echo: <prompt>' once the gate opens."""

    name = "gate-engine"
    fingerprint = "gate00000000"
    loaded = True

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.gate.set()
        self.batches: list[list[str]] = []

    def load(self) -> None:
        pass

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def encode(self, request: GenerationRequest) -> list[int]:
        if len(request.prompt) > 1000:
            raise PromptError("Your prompt is too long for the model. Make it shorter.")
        return [ord(c) for c in request.prompt]

    def run_batch(self, jobs: Sequence[BatchJob]) -> None:
        self.batches.append([job.request.prompt for job in jobs])
        self.gate.wait(10)
        if any("boom" in job.request.prompt for job in jobs):
            raise RuntimeError("the model broke on this prompt")
        for job in jobs:
            for word in f"echo: {job.request.prompt}".split():
                if job.stopped():
                    break
                job.emit(word + " ")
            job.finish()

    def run_continuous(self, admit, capacity: int) -> None:
        while jobs := list(admit(capacity)):
            self.run_batch(jobs)


def answer(service: GenerationService, prompt: str, owner: str | None = None) -> str:
    return "".join(
        e.text for e in service.stream_many([GenerationRequest(prompt=prompt)], owner) if isinstance(e, Piece)
    )


def shipped_requests(settings) -> list[GenerationRequest]:
    """Every shipped exercise's solution on every case: realistic prompts of mixed length."""
    requests = []
    for exercise in load_catalog(EXERCISES).exercises.values():
        conversations = prepare_prompts(exercise, exercise.solution or "{input}", settings)
        requests.extend(case_requests(exercise, conversations, settings))
    return requests


@pytest.mark.slow
def test_a_graded_run_is_one_batch_and_streams_case_by_case(real_generator, real_embedder, settings) -> None:
    engine = real_generator.engine
    exercise = load_catalog(EXERCISES).find("order-number")
    service = GenerationService(engine, batch_size=32, window_s=0.05)
    events = list(grade_events(exercise, exercise.solution or "", service, real_embedder, settings, owner="ana"))
    assert service.batches == [len(exercise.cases)]
    assert isinstance(events[0], Queued) and events[0].ahead == 0
    started = [e.index for e in events if isinstance(e, CaseStarted)]
    assert started == list(range(len(exercise.cases)))
    # each case's text arrives after its own start and before the next case starts
    current = -1
    for event in events:
        if isinstance(event, CaseStarted):
            current = event.index
        elif isinstance(event, TextPiece):
            assert event.index == current
    verdict = events[-1]
    assert isinstance(verdict, Finished) and verdict.verdict.passed
    alone = grade(exercise, exercise.solution or "", real_generator, real_embedder, settings)
    assert [c.output for c in verdict.verdict.cases] == [c.output for c in alone.cases]


@pytest.mark.slow
def test_cancel_stops_the_answer_and_frees_the_learner(real_generator) -> None:
    service = GenerationService(real_generator.engine, window_s=0.0)
    stop = threading.Event()
    request = GenerationRequest(prompt="Count from one to fifty in words.", max_new_tokens=96, stop=stop)
    full = real_generator.engine.generate(GenerationRequest(prompt=request.prompt, max_new_tokens=96))
    pieces = []
    for event in service.stream_many([request], owner="ana"):
        if isinstance(event, Piece):
            pieces.append(event.text)
            if len(pieces) == 3:
                stop.set()
    assert 3 <= len(pieces) < 10
    assert len("".join(pieces)) < len(full)
    assert answer(service, "Say hello.", owner="ana")  # the learner may run again at once


def test_one_learner_has_one_run_at_a_time() -> None:
    engine = GateEngine()
    engine.gate.clear()
    service = GenerationService(engine, window_s=0.0)
    first = service.stream_many([GenerationRequest(prompt="first")], owner="ana")
    assert isinstance(next(first), Waiting)
    with pytest.raises(BusyError, match="already have a run going"):
        answer(service, "second", owner="ana")
    other = service.stream_many([GenerationRequest(prompt="from ben")], owner="ben")
    assert isinstance(next(other), Waiting)  # another learner is not blocked by ana's run
    engine.gate.set()
    assert "".join(e.text for e in first if isinstance(e, Piece)).strip() == "echo: first"
    assert "".join(e.text for e in other if isinstance(e, Piece)).strip() == "echo: from ben"
    assert answer(service, "again", owner="ana").strip() == "echo: again"


def test_a_waiting_learner_sees_their_place_and_can_leave_the_queue() -> None:
    engine = GateEngine()
    engine.gate.clear()
    service = GenerationService(engine, batch_size=1, window_s=0.0)
    running = service.stream_many([GenerationRequest(prompt="ana's")], owner="ana")
    next(running)
    deadline = time.monotonic() + 5
    while not engine.batches and time.monotonic() < deadline:  # ana's run has reached the model
        time.sleep(0.01)
    ben = service.stream_many([GenerationRequest(prompt="ben's")], owner="ben")
    cem = service.stream_many([GenerationRequest(prompt="cem's")], owner="cem")
    ben_wait, cem_wait = next(ben), next(cem)
    assert isinstance(ben_wait, Waiting) and ben_wait.ahead == 1
    assert isinstance(cem_wait, Waiting) and cem_wait.ahead == 2
    ben.close()  # ben cancels while waiting
    assert isinstance(wait := next(cem), Waiting) and wait.ahead == 1
    engine.gate.set()
    assert "".join(e.text for e in running if isinstance(e, Piece)).strip() == "echo: ana's"
    assert "".join(e.text for e in cem if isinstance(e, Piece)).strip() == "echo: cem's"
    assert all("ben's" not in batch for batch in engine.batches)


def test_an_error_reaches_only_the_learner_who_caused_it() -> None:
    engine = GateEngine()
    engine.gate.clear()
    service = GenerationService(engine, batch_size=8, window_s=0.2)
    results: dict[str, object] = {}

    def learner(name: str, prompt: str) -> None:
        try:
            results[name] = answer(service, prompt, owner=name)
        except ModelError as exc:
            results[name] = exc

    threads = [
        threading.Thread(target=learner, args=(n, p)) for n, p in [("ana", "hello"), ("ben", "boom"), ("cem", "hi")]
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.3)
    engine.gate.set()
    for thread in threads:
        thread.join()
    assert len(engine.batches[0]) == 3  # they were batched together first
    assert str(results["ana"]).strip() == "echo: hello"
    assert str(results["cem"]).strip() == "echo: hi"
    assert isinstance(results["ben"], ModelError)
    assert "the model broke on this prompt" in str(results["ben"])
    with pytest.raises(PromptError, match="too long"):
        answer(service, "x" * 2000, owner="dan")
    assert answer(service, "still here", owner="dan").strip() == "echo: still here"


def test_a_submission_s_done_events_cover_every_request() -> None:
    service = GenerationService(GateEngine(), window_s=0.0)
    requests = [GenerationRequest(prompt=p) for p in ("a", "b", "c")]
    events = list(service.stream_many(requests, owner="ana"))
    assert sorted(e.index for e in events if isinstance(e, Done)) == [0, 1, 2]


def test_an_unknown_number_type_is_refused_naming_the_setting(settings) -> None:
    with pytest.raises(ModelError, match="PROMPT_SANDBOX_DTYPE='float16'"):
        build_engine(settings.with_overrides(dtype="float16"))


@pytest.mark.slow
def test_graded_runs_inside_a_class_equal_the_same_runs_alone(real_generator, real_embedder, settings) -> None:
    """Whole submissions, shared prompt starts read once: still the same verdict in any company."""
    exercises = [e for e in load_catalog(EXERCISES).exercises.values() if e.solution]
    service = GenerationService(real_generator.engine, batch_size=8, window_s=0.3)
    alone = {e.id: grade(e, e.solution or "", service, real_embedder, settings) for e in exercises}
    together: dict[str, object] = {}

    def learner(exercise) -> None:
        together[exercise.id] = grade(
            exercise, exercise.solution or "", service, real_embedder, settings, owner=exercise.id
        )

    service.batches.clear()
    threads = [threading.Thread(target=learner, args=(e,)) for e in exercises]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(service.batches) < len(exercises), "some runs should have shared the model's batch"
    for exercise in exercises:
        verdict = together[exercise.id]
        assert [c.output for c in verdict.cases] == [c.output for c in alone[exercise.id].cases]  # type: ignore[attr-defined]
        assert verdict.score == alone[exercise.id].score  # type: ignore[attr-defined]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")  # the thread's death is the point
def test_a_model_that_dies_gives_a_clear_message_not_an_endless_wait() -> None:
    class DyingEngine(GateEngine):
        def run_continuous(self, admit, capacity: int) -> None:
            admit(capacity)
            raise SystemExit  # not an Exception: the worker thread itself ends

    service = GenerationService(DyingEngine(), window_s=0.0)
    with pytest.raises(ModelError, match="stopped working before your answer was ready"):
        answer(service, "hello", owner="ana")
    with pytest.raises(ModelError, match="stopped working"):  # ana is not locked out, and is not left waiting
        answer(service, "again", owner="ana")


def test_run_right_after_cancel_is_accepted_while_the_old_run_winds_down() -> None:
    engine = GateEngine()
    engine.gate.clear()
    service = GenerationService(engine, window_s=0.0)
    stop = threading.Event()
    old = service.stream_many([GenerationRequest(prompt="old", stop=stop)], owner="ana")
    next(old)  # the old page has not closed its run yet (it winds down at its next step)
    with pytest.raises(BusyError):
        answer(service, "too soon", owner="ana")
    stop.set()  # the learner pressed Cancel: the page stops the run
    engine.gate.set()
    assert answer(service, "new", owner="ana").strip() == "echo: new"
    old.close()


def test_closing_lets_the_running_answer_finish_stops_the_worker_and_refuses_new_runs() -> None:
    engine = GateEngine()
    engine.gate.clear()
    service = GenerationService(engine, window_s=0.0)
    running = service.stream_many([GenerationRequest(prompt="last one")], owner="ana")
    assert isinstance(next(running), Waiting)
    time.sleep(0.2)  # the worker takes it and waits inside the model
    closer = threading.Thread(target=service.close)
    closer.start()
    engine.gate.set()
    assert "".join(e.text for e in running if isinstance(e, Piece)).strip() == "echo: last one"
    closer.join(5)
    assert not closer.is_alive() and not service._worker.is_alive()
    with pytest.raises(ModelError, match="shutting down"):
        answer(service, "too late", owner="ben")


def test_work_handed_to_the_service_runs_on_its_model_thread_and_its_errors_come_back() -> None:
    """Loading, answering and embedding all run on one thread: a second thread doing torch's work halved decoding speed."""
    engine = GateEngine()
    service = GenerationService(engine, window_s=0.0)
    loaded_on: list[str] = []
    engine.load = lambda: loaded_on.append(threading.current_thread().name)  # type: ignore[method-assign]
    engine.loaded = False
    service.load()
    assert loaded_on == ["batches-gate-engine"]
    assert service.run_beside(lambda: threading.current_thread().name) == "batches-gate-engine"
    with pytest.raises(ZeroDivisionError):
        service.run_beside(lambda: 1 / 0)
    assert answer(service, "still here").strip() == "echo: still here"  # the error did not take the worker down

    class Recording:
        name, fingerprint, languages = "recording", "rec000000000", ("en",)

        def __init__(self) -> None:
            self.threads: list[str] = []

        def load(self) -> None:
            self.threads.append(threading.current_thread().name)

        def embed(self, texts: list[str]) -> list[list[float]]:
            self.threads.append(threading.current_thread().name)
            return [[1.0] for _ in texts]

    inner = Recording()
    beside = BesideGenerator(inner, service)  # type: ignore[arg-type]
    beside.load()
    assert beside.embed(["a", "b"]) == [[1.0], [1.0]]
    assert inner.threads == ["batches-gate-engine"] * 2 and beside.name == "recording"
    service.close()
    assert service.run_beside(lambda: 42) == 42  # after closing, on the caller's thread


@pytest.mark.slow
def test_work_handed_over_during_a_long_answer_runs_between_its_steps(real_generator) -> None:
    """A learner's verdict is not held back until everybody else's answers end."""
    stream = real_generator.stream_many([GenerationRequest(prompt="Count from 1 to 200, one number per line.")])
    pieces = 0
    for event in stream:
        pieces += isinstance(event, Piece)
        if pieces == 3:
            break
    # on the model's thread, between two steps: the answer is still being written
    assert real_generator.run_beside(lambda: [job.finished for job in real_generator._running]) == [False]
    assert sum(isinstance(event, Piece) for event in stream) > 3
