"""Turn a learner's prompt into a verdict: run every case, score each output, explain.

A case's similarity is the cosine similarity (0..1, shown as 0..100) between the
model's answer and the closest of the case's reference outputs. A case passes
when that similarity reaches the exercise's threshold and every rule check
passes. A case's score is its similarity times the share of checks passed (for a
rule-only case, just the share of checks passed); the exercise's score is the
mean over its cases, and the exercise passes when every case passes.
"""

from __future__ import annotations

import collections.abc as abc
import threading
import weakref
from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from pydantic import BaseModel, Field

from .config import Settings
from .exercises.advice import case_advice, run_advice
from .exercises.checks import CheckOutcome, codes_in, numbers_in, numbers_outcome, run_checks
from .exercises.languages import SCRIPT_LANGUAGES, detect_language
from .exercises.prompts import check_prompt, fill, render
from .exercises.schema import Checks, Exercise
from .i18n import _
from .models.base import Embedder, GenerationRequest, Generator, Piece, Waiting


class CheckResult(BaseModel):
    name: str
    passed: bool
    message: str = ""


class CaseResult(BaseModel):
    index: int
    hidden: bool
    input: dict[str, str] = Field(default_factory=dict)
    output: str
    similarity: float | None
    """0..1; None for a rule-only case."""
    closest_reference: str | None = None
    passed: bool
    score: int
    """0..100, what the learner sees."""
    failed_checks: list[str] = Field(default_factory=list)
    checks: list[CheckResult] = Field(default_factory=list)
    feedback: list[str] = Field(default_factory=list)
    """Plain sentences: why the case failed, or that it passed."""
    advice: str = ""
    """The change to the prompt most likely to make the case pass (no case data in it); empty when it passed."""


class Verdict(BaseModel):
    exercise: str
    passed: bool
    score: int
    cases: list[CaseResult]
    threshold: float
    note: str = ""
    generator: str = ""
    generator_hash: str = ""
    embedder: str = ""
    embedder_hash: str = ""
    cancelled: bool = False

    @property
    def hidden_counts(self) -> tuple[int, int]:
        hidden = [c for c in self.cases if c.hidden]
        return sum(c.passed for c in hidden), len(hidden)

    def summary(self) -> str:
        """The verdict in a sentence or three, in the language of the page (or command) that shows it."""
        if self.cancelled:
            return _("Cancelled: the run was stopped before every case was answered, so it was not graded.")
        passed = sum(c.passed for c in self.cases)
        total = len(self.cases)
        if self.passed:
            return _("Passed! All {total} cases passed. Score {score}.").format(total=total, score=self.score)
        hidden_ok, hidden_total = self.hidden_counts
        if hidden_total:
            message = _(
                "Not yet: {passed} of {total} cases passed (hidden cases: {hidden_passed} of {hidden_total} passed). "
                "Score {score}. Read the feedback on each case, change your prompt and run it again."
            )
        else:
            message = _(
                "Not yet: {passed} of {total} cases passed. Score {score}. "
                "Read the feedback on each case, change your prompt and run it again."
            )
        return message.format(
            passed=passed, total=total, hidden_passed=hidden_ok, hidden_total=hidden_total, score=self.score
        )

    @property
    def advice(self) -> str:
        """The one change for the whole run: what most of its failed cases call for."""
        return run_advice([c.advice for c in self.cases if not c.passed])

    def for_learner(self) -> Verdict:
        """The verdict without anything a learner must not see of hidden cases (their advice quotes none of it)."""
        cases = [
            c
            if not c.hidden
            else CaseResult(
                index=c.index, hidden=True, output="", similarity=None, passed=c.passed, score=c.score, advice=c.advice
            )
            for c in self.cases
        ]
        return self.model_copy(update={"cases": cases})

    def to_json(self) -> dict[str, object]:
        return {
            "exercise": self.exercise,
            "passed": self.passed,
            "score": self.score,
            "advice": self.advice,
            "cases": [case_json(c) for c in self.cases],
        }


def case_json(case: CaseResult) -> dict[str, object]:
    return {
        "index": case.index,
        "hidden": case.hidden,
        "output": case.output,
        "similarity": case.similarity if case.similarity is not None else 1.0,
        "passed": case.passed,
        "failed_checks": case.failed_checks,
        "score": case.score,
        "closest_reference": case.closest_reference,
        "advice": case.advice,
    }


# Events a page renders while a run goes on ------------------------------------------


@dataclass
class Queued:
    """The run waits for the model: ``ahead`` other runs go first."""

    ahead: int


@dataclass
class CaseStarted:
    index: int
    hidden: bool


@dataclass
class TextPiece:
    index: int
    text: str


@dataclass
class CaseFinished:
    result: CaseResult


@dataclass
class Finished:
    verdict: Verdict


Event = Queued | CaseStarted | TextPiece | CaseFinished | Finished


def _dot(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True))


KEPT_REFERENCES = 2048
"""Reference answers whose vectors each embedder keeps (about 3 KB each)."""
_references: weakref.WeakKeyDictionary[Embedder, dict[str, array[float]]] = weakref.WeakKeyDictionary()
_references_lock = threading.Lock()


def reference_vectors(embedder: Embedder, texts: list[str]) -> list[list[float]]:
    """The vectors of reference answers, each embedded once per embedder and kept: they are the same for every learner.

    In a class, embedding the references again with every answer was two thirds of
    grading's work, on the CPU the model decodes on.
    """
    with _references_lock:
        kept = _references.setdefault(embedder, {})
        found = {text: kept[text] for text in texts if text in kept}
    missing = [text for text in dict.fromkeys(texts) if text not in found]
    if missing:  # embedded outside the lock: the embedder may hand the work to another thread
        fresh = {text: array("d", v) for text, v in zip(missing, embedder.embed(missing), strict=True)}
        found.update(fresh)
        with _references_lock:
            kept.update(fresh)
            while len(kept) > KEPT_REFERENCES:
                del kept[next(iter(kept))]  # the oldest first
    return [list(found[text]) for text in texts]


def checks_decide(checks: Checks, expect: list[str]) -> bool:
    """Whether a case's checks settle its answer alone, as a teacher would: then similarity cannot fail it.

    That is a ``labels`` check with the expected label (exactly one label, the right
    one: "Sentiment: negative" is as right as "negative") or an ``exact`` answer.
    """
    return checks.exact is not None or bool(checks.labels and expect)


def exercise_language(exercise: Exercise) -> str:
    """The language answers are scored in: the exercise's ``language``, else its references' script, else en."""
    if exercise.language:
        return exercise.language
    found = detect_language(" ".join(text for case in exercise.cases for text in case.expect))
    return found if found in SCRIPT_LANGUAGES else "en"


def score_output(exercise: Exercise, index: int, output: str, embedder: Embedder, settings: Settings) -> CaseResult:
    """Judge one output for case ``index`` without running the model (scored by the embedder that reads its language)."""
    embedder = embedder.for_language(exercise_language(exercise))
    case = exercise.cases[index]
    threshold = exercise.threshold_or(settings.threshold, settings.generator)
    text = output.strip()
    similarity: float | None = None
    closest: str | None = None
    if case.expect:
        answer = embedder.embed([text or " "])[0]
        sims = [_dot(answer, ref) for ref in reference_vectors(embedder, case.expect)]
        best = max(range(len(sims)), key=sims.__getitem__)
        similarity = max(0.0, min(1.0, sims[best])) if text else 0.0
        closest = case.expect[best]
    checks = exercise.case_checks(index)
    outcomes: list[CheckOutcome] = run_checks(text, checks, case.variables(), case.expect)
    if exercise.match_numbers and closest is not None and (numbers_in(closest) or codes_in(closest)):
        outcomes.append(numbers_outcome(text, closest))
    failed = [o.message for o in outcomes if not o.passed]
    share = (sum(o.passed for o in outcomes) / len(outcomes)) if outcomes else 1.0
    decided = checks_decide(checks, case.expect)
    close_enough = similarity is None or similarity >= threshold or decided
    passed = close_enough and not failed and bool(text)
    # where the checks decide, they give the score too; similarity is only shown
    score = round(100 * (similarity if similarity is not None and not decided else 1.0) * share)
    feedback: list[str] = []
    if not text:
        feedback.append(_("The model gave no answer for this case. Ask it clearly for what you want."))
    elif not close_enough and similarity is not None:
        message = _("The answer is not close enough to what was expected: similarity {similarity}, needs {needed}.")
        feedback.append(message.format(similarity=round(similarity * 100), needed=round(threshold * 100)))
    feedback.extend(failed)
    if passed:
        feedback.append(_("This case passed."))  # the page tells it by this msgid: keep the two the same
    advice = "" if passed else case_advice(text, outcomes, checks, close_enough, closest)
    return CaseResult(
        index=index,
        hidden=case.hidden,
        input=case.variables(),
        output=output,
        similarity=similarity,
        closest_reference=closest,
        passed=passed,
        score=score,
        failed_checks=failed,
        checks=[CheckResult(name=o.name, passed=o.passed, message=o.message) for o in outcomes],
        feedback=feedback,
        advice=advice,
    )


@dataclass
class Conversation:
    """What the model reads for one case: the learner's part filled in, the fixed parts beside it."""

    user: str
    system: str | None = None
    prefill: str = ""
    note: str = ""


def prepare_prompts(exercise: Exercise, text: str, settings: Settings) -> list[Conversation]:
    """Check the learner's text once and build every case's conversation; raises PromptError."""
    check_prompt(text, exercise.variable_names(), settings.max_prompt_chars)
    conversations = []
    for case in exercise.cases:
        variables = case.variables()
        fixed_system = fill(exercise.system, variables) if exercise.system else None
        if exercise.edit == "prompt":
            rendered = render(text, variables, settings.max_prompt_chars)
            conversations.append(Conversation(user=rendered.text, system=fixed_system, note=rendered.note()))
            continue
        mine = render(text, variables, settings.max_prompt_chars, append_missing=False).text
        user = fill(exercise.user or "", variables)
        if exercise.edit == "system":
            conversations.append(Conversation(user=user, system=mine))
        else:
            conversations.append(Conversation(user=user, system=fixed_system, prefill=mine))
    return conversations


def case_requests(
    exercise: Exercise, conversations: list[Conversation], settings: Settings, stop: threading.Event | None = None
) -> list[GenerationRequest]:
    """What the model is asked for each case: its conversation, greedy, within the exercise's answer length."""
    max_new = exercise.max_new_tokens or settings.max_new_tokens
    return [
        GenerationRequest(prompt=c.user, system=c.system, prefill=c.prefill, max_new_tokens=max_new, stop=stop)
        for c in conversations
    ]


def grade_events(
    exercise: Exercise,
    prompt: str,
    generator: Generator,
    embedder: Embedder,
    settings: Settings,
    stop: threading.Event | None = None,
    owner: str | None = None,
) -> abc.Generator[Event, None, None]:
    """Run the prompt on every case (greedy), yielding events; the last is :class:`Finished`.

    All cases go to the generator as one submission (one batch on the batching
    service); events still come case by case, in order: a later case's text is
    held back until the cases before it are finished.
    """
    conversations = prepare_prompts(exercise, prompt, settings)
    requests = case_requests(exercise, conversations, settings, stop)
    scorer = embedder.for_language(exercise_language(exercise))  # the embedder that reads the answers' language
    texts = [[c.prefill] if c.prefill else [] for c in conversations]  # the learner's start counts as answer
    done: set[int] = set()
    results: list[CaseResult] = []
    current = 0

    def start(index: int) -> Iterator[Event]:
        yield CaseStarted(index, exercise.cases[index].hidden)
        for text in texts[index]:
            yield TextPiece(index, text)

    started = False
    for event in generator.stream_many(requests, owner):
        if isinstance(event, Waiting):
            if not started:
                yield Queued(event.ahead)
            continue
        if not started:
            started = True
            yield from start(0)
        if isinstance(event, Piece):
            texts[event.index].append(event.text)
            if event.index == current:
                yield TextPiece(event.index, event.text)
            continue
        done.add(event.index)
        while current in done and not (stop is not None and stop.is_set()):
            result = score_output(exercise, current, "".join(texts[current]), scorer, settings)
            results.append(result)
            yield CaseFinished(result)
            current += 1
            if current < len(requests):
                yield from start(current)
    cancelled = len(results) < len(requests)
    score = round(sum(r.score for r in results) / len(results)) if results else 0
    verdict = Verdict(
        exercise=exercise.id,
        passed=not cancelled and all(r.passed for r in results),
        score=score,
        cases=results,
        threshold=exercise.threshold_or(settings.threshold, settings.generator),
        note=conversations[0].note if conversations else "",
        generator=generator.name,
        generator_hash=generator.fingerprint,
        embedder=scorer.name,
        embedder_hash=scorer.fingerprint,
        cancelled=cancelled,
    )
    yield Finished(verdict)


def grade(
    exercise: Exercise,
    prompt: str,
    generator: Generator,
    embedder: Embedder,
    settings: Settings,
    owner: str | None = None,
) -> Verdict:
    for event in grade_events(exercise, prompt, generator, embedder, settings, owner=owner):
        if isinstance(event, Finished):
            return event.verdict
    raise AssertionError("grade_events always ends with Finished")
