"""Grading: real model, real embedder, and what the verdict tells a learner."""

from __future__ import annotations

import threading

import pytest

from sandbox.errors import ModelError, PromptError
from sandbox.exercises.schema import Exercise
from sandbox.grading import CaseFinished, CaseStarted, Finished, TextPiece, grade, grade_events, score_output

from .conftest import FakeEmbedder, FakeGenerator

SENTIMENT = Exercise.model_validate(
    {
        "id": "sentiment",
        "title": "Sentiment",
        "task": "Label it.",
        "cases": [
            {"input": "The delivery was late and the box arrived crushed.", "expect": ["negative"]},
            {"input": "Great shoes, fast shipping.", "expect": ["positive"]},
            {"input": "Friendly staff and the food was delicious.", "expect": ["positive"], "hidden": True},
        ],
        "checks": {"labels": ["positive", "negative"], "max_words": 3},
        "threshold": 0.8,
        "max_new_tokens": 16,
    }
)
GOOD_PROMPT = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)


@pytest.mark.slow
def test_a_good_prompt_passes_on_the_real_model(real_generator, real_embedder, settings) -> None:
    verdict = grade(SENTIMENT, GOOD_PROMPT, real_generator, real_embedder, settings)
    assert [c.output.strip().lower() for c in verdict.cases] == ["negative", "positive", "positive"]
    assert verdict.passed and verdict.score == 100
    assert verdict.summary() == "Passed! All 3 cases passed. Score 100."
    assert verdict.generator == "smollm2-135m-instruct" and verdict.generator_hash == "b179c9523d0e"
    assert verdict.embedder == "all-minilm-l6-v2" and verdict.embedder_hash == "53aa51172d14"


@pytest.mark.slow
def test_graded_runs_are_reproducible(real_generator, real_embedder, settings) -> None:
    prompt = "Describe this review in a few words: {input}"
    first = grade(SENTIMENT, prompt, real_generator, real_embedder, settings)
    second = grade(SENTIMENT, prompt, real_generator, real_embedder, settings)
    assert [c.output for c in first.cases] == [c.output for c in second.cases]
    assert first.score == second.score


@pytest.mark.slow
def test_a_bare_input_prompt_fails_and_says_why(real_generator, real_embedder, settings) -> None:
    verdict = grade(SENTIMENT, "{input}", real_generator, real_embedder, settings)
    assert not verdict.passed
    assert verdict.summary().startswith("Not yet: 0 of 3 cases passed (hidden cases: 0 of 1 passed).")
    first = verdict.cases[0]
    assert first.feedback and all(line.endswith(".") for line in first.feedback)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("output", "passes", "words"),
    [
        ("negative", True, ""),
        ("Negative.", True, ""),
        ("positive", False, "says 'positive', but this case should be labelled 'negative'"),
        ("The review is negative because the delivery was late and the box was crushed", False, "at most 3"),
        ("", False, "gave no answer"),
    ],
)
def test_antonyms_that_embeddings_confuse_are_caught(real_embedder, settings, output, passes, words) -> None:
    result = score_output(SENTIMENT, 0, output, real_embedder, settings)
    assert result.passed is passes
    assert words in " ".join(result.feedback)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("output", "passes", "words"),
    [
        ("The sentiment is negative.", True, ""),
        ("Sentiment: negative", True, ""),
        ("Sentiment: positive", False, "says 'positive', but this case should be labelled 'negative'"),
        ("It is negative, not positive", False, "names more than one label"),
    ],
)
def test_where_the_labels_decide_a_teacher_s_answer_is_not_failed_by_similarity(
    real_embedder, settings, output, passes, words
) -> None:
    labelled = SENTIMENT.model_copy(update={"checks": SENTIMENT.checks.model_copy(update={"max_words": None})})
    result = score_output(labelled, 0, output, real_embedder, settings)
    assert result.similarity is not None
    assert result.passed is passes
    assert words in " ".join(result.feedback)
    if passes:
        assert result.similarity < labelled.threshold, "similarity alone would have failed it"
        assert result.score == 100 and not any("not close enough" in line for line in result.feedback)


def test_an_exact_answer_decides_and_similarity_only_shows(settings) -> None:
    exercise = Exercise.model_validate(
        {
            "title": "Bay",
            "task": "t",
            "cases": [{"input": "x", "expect": ["It is bay A07"], "checks": {"exact": "A07"}}],
        }
    )
    right = score_output(exercise, 0, "a07", FakeEmbedder(), settings)
    assert right.similarity is not None and right.similarity < settings.threshold, "similarity alone would fail it"
    assert right.passed and right.score == 100
    wrong = score_output(exercise, 0, "A70", FakeEmbedder(), settings)
    assert not wrong.passed and "must be exactly 'A07'" in " ".join(wrong.feedback)


@pytest.mark.slow
def test_numbers_that_look_close_fail_with_a_reason(real_embedder, settings) -> None:
    exercise = Exercise.model_validate(
        {"title": "Delay", "task": "t", "cases": [{"input": "x", "expect": ["The parcel arrives in 3 days."]}]}
    )
    close = score_output(exercise, 0, "The parcel arrives in 30 days.", real_embedder, settings)
    assert close.similarity is not None and close.similarity > 0.8, "embeddings alone would pass this"
    assert not close.passed
    assert "has the number 3, but your answer says 30" in " ".join(close.feedback)
    right = score_output(exercise, 0, "Your parcel will arrive in 3 days.", real_embedder, settings)
    assert right.passed


def test_rule_only_case_scores_share_of_checks(settings) -> None:
    exercise = Exercise.model_validate(
        {"title": "Haiku", "task": "t", "cases": [{"input": "sea", "checks": {"contains": ["sea"], "max_lines": 3}}]}
    )
    result = score_output(exercise, 0, "The sea\nis blue\nand wide\nand deep", FakeEmbedder(), settings)
    assert result.similarity is None
    assert result.score == 50 and not result.passed
    assert result.failed_checks == ["Your answer had 4 lines; at most 3 are allowed."]


def test_events_stream_per_case_and_end_with_the_verdict(settings) -> None:
    generator = FakeGenerator(["Negative", "Positive", "Positive"])
    events = list(grade_events(SENTIMENT, GOOD_PROMPT, generator, FakeEmbedder(), settings))
    kinds = [type(e).__name__ for e in events]
    assert kinds == ["CaseStarted", "TextPiece", "CaseFinished"] * 3 + ["Finished"]
    assert isinstance(events[0], CaseStarted) and isinstance(events[1], TextPiece) and events[1].text == "Negative"
    assert isinstance(events[2], CaseFinished) and events[2].result.passed
    assert isinstance(events[-1], Finished) and events[-1].verdict.passed
    assert all(r.max_new_tokens == 16 and r.temperature == 0 for r in generator.requests)


def test_hidden_cases_are_stripped_for_the_learner(settings) -> None:
    generator = FakeGenerator(["Negative", "Positive", "Negative"])
    verdict = grade(SENTIMENT, GOOD_PROMPT, generator, FakeEmbedder(), settings)
    learner_view = verdict.for_learner()
    hidden = learner_view.cases[2]
    assert hidden.hidden and hidden.output == "" and hidden.closest_reference is None and hidden.input == {}
    assert hidden.passed is False and hidden.feedback == []
    assert verdict.cases[2].output == "Negative", "the full verdict (for instructors) keeps it"


def test_a_bad_prompt_fails_before_the_model_runs(settings) -> None:
    generator = FakeGenerator()
    with pytest.raises(PromptError, match=r"uses \{review\}"):
        list(grade_events(SENTIMENT, "Label {review}", generator, FakeEmbedder(), settings))
    assert generator.requests == []


def test_a_model_error_reaches_the_caller(settings) -> None:
    generator = FakeGenerator(fail_with=ModelError("The language model stopped with an error: boom"))
    with pytest.raises(ModelError, match="boom"):
        grade(SENTIMENT, GOOD_PROMPT, generator, FakeEmbedder(), settings)


def test_a_cancelled_run_is_not_graded(settings) -> None:
    stop = threading.Event()
    stop.set()
    events = list(grade_events(SENTIMENT, GOOD_PROMPT, FakeGenerator(), FakeEmbedder(), settings, stop=stop))
    verdict = events[-1].verdict  # type: ignore[union-attr]
    assert verdict.cancelled and not verdict.passed
    assert verdict.summary().startswith("Cancelled")


def test_missing_placeholder_is_noted_in_the_verdict(settings) -> None:
    generator = FakeGenerator(["Negative", "Positive", "Positive"])
    verdict = grade(SENTIMENT, "Is this review positive or negative? One word.", generator, FakeEmbedder(), settings)
    assert verdict.note == "Your prompt had no {input}, so the case text was added at the end of it."
    assert generator.requests[0].prompt.endswith("\n\nThe delivery was late and the box arrived crushed.")


def test_a_system_prompt_exercise_sends_the_learner_text_as_system(settings) -> None:
    exercise = Exercise.model_validate(
        {
            "title": "Short",
            "task": "t",
            "edit": "system",
            "user": "Question: {input}",
            "cases": [{"input": "How do I clean the belt?"}],
            "checks": {"max_words": 30},
        }
    )
    generator = FakeGenerator(["Wipe it with a damp cloth."])
    verdict = grade(exercise, "Answer in one short sentence.", generator, FakeEmbedder(), settings)
    request = generator.requests[0]
    assert request.system == "Answer in one short sentence."
    assert request.prompt == "Question: How do I clean the belt?"
    assert verdict.passed and verdict.note == "", "nothing is appended to a system prompt"


def test_a_prefill_is_part_of_the_graded_answer(settings) -> None:
    exercise = Exercise.model_validate(
        {
            "title": "JSON",
            "task": "t",
            "edit": "prefill",
            "system": "You extract data.",
            "user": "Name and city as JSON: {input}",
            "cases": [{"input": "Tom Becker flew home to Hamburg.", "checks": {"contains": ["Hamburg"]}}],
            "checks": {"json_keys": ["name", "city"]},
        }
    )
    generator = FakeGenerator(['Tom Becker", "city": "Hamburg"}'])
    events = list(grade_events(exercise, '{"name": "', generator, FakeEmbedder(), settings))
    assert isinstance(events[1], TextPiece) and events[1].text == '{"name": "', "the learner's start is shown first"
    verdict = events[-1].verdict  # type: ignore[union-attr]
    assert verdict.cases[0].output == '{"name": "Tom Becker", "city": "Hamburg"}'
    assert verdict.passed
    request = generator.requests[0]
    assert request.prefill == '{"name": "' and request.system == "You extract data."


@pytest.mark.slow
def test_prefill_steers_the_real_model(real_generator) -> None:
    from sandbox.models.base import GenerationRequest

    plain = GenerationRequest(prompt="Name a fruit.", max_new_tokens=12)
    steered = GenerationRequest(prompt="Name a fruit.", prefill="My favourite fruit is the", max_new_tokens=12)
    assert real_generator.generate(plain) != real_generator.generate(steered)
    continuation = real_generator.generate(steered)
    assert continuation and not continuation.startswith("My favourite fruit is the")


@pytest.mark.slow
def test_two_learners_submitting_at_once_get_their_own_verdicts(real_generator, real_embedder, settings) -> None:
    prompts = {"good": GOOD_PROMPT, "lazy": "{input}"}
    alone = {name: grade(SENTIMENT, p, real_generator, real_embedder, settings) for name, p in prompts.items()}
    together: dict[str, object] = {}

    def learner(name: str) -> None:
        together[name] = grade(SENTIMENT, prompts[name], real_generator, real_embedder, settings)

    threads = [threading.Thread(target=learner, args=(name,)) for name in prompts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for name in prompts:
        verdict = together[name]
        assert [c.output for c in verdict.cases] == [c.output for c in alone[name].cases]  # type: ignore[attr-defined]
        assert verdict.passed == alone[name].passed  # type: ignore[attr-defined]
    assert alone["good"].passed and not alone["lazy"].passed


def test_reference_answers_are_embedded_once_and_scores_stay_the_same(settings) -> None:
    """Thirty learners on one exercise: each answer is embedded, the references only the first time."""

    class Counting(FakeEmbedder):
        def __init__(self) -> None:
            self.texts: list[str] = []

        def embed(self, texts: list[str]) -> list[list[float]]:
            self.texts += texts
            return super().embed(texts)

    embedder = Counting()
    first = grade(SENTIMENT, "{input}", FakeGenerator(), embedder, settings)
    again = grade(SENTIMENT, "{input}", FakeGenerator(), embedder, settings)
    references = [text for case in SENTIMENT.cases for text in case.expect]
    assert sorted(set(embedder.texts) & set(references)) == sorted(set(references))
    assert embedder.texts.count("positive") == 1 and embedder.texts.count("negative") == 1
    assert [c.similarity for c in first.cases] == [c.similarity for c in again.cases]
    fresh = grade(SENTIMENT, "{input}", FakeGenerator(), Counting(), settings)  # another embedder keeps its own
    assert [c.similarity for c in fresh.cases] == [c.similarity for c in first.cases]


def test_a_per_model_threshold_grades_each_model_by_its_own_entry(settings) -> None:
    exercise = Exercise.model_validate(
        {
            "title": "Fox",
            "task": "t",
            "cases": [{"input": "x", "expect": ["the red fox jumps"]}],
            "threshold": {"default": 0.9, "bigger-model": 0.7},
        }
    )
    answer = "the red fox runs"  # 3 of 4 words: similarity 0.75 with the bag-of-words embedder
    assert not score_output(exercise, 0, answer, FakeEmbedder(), settings).passed
    bigger = settings.with_overrides(generator="bigger-model")
    assert score_output(exercise, 0, answer, FakeEmbedder(), bigger).passed
    assert exercise.threshold_or(0.75, "any-other-model") == 0.9
