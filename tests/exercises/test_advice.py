"""The one change to suggest, from what failed: the answer an instructor would give a learner."""

from __future__ import annotations

import pytest

from sandbox.exercises.advice import CLOSER, NO_ANSWER, ONLY_THE_ANSWER, case_advice, run_advice
from sandbox.exercises.checks import run_checks
from sandbox.exercises.schema import Checks

LABELS = {"labels": ["positive", "negative"]}


@pytest.mark.parametrize(
    ("checks", "output", "expected", "close_enough", "advice"),
    [
        (LABELS, "negative", ["negative"], True, ""),
        (LABELS, "It is positive and negative", ["negative"], True, "Ask for exactly one of 'positive' or 'negative'"),
        (LABELS, "I cannot tell.", ["negative"], True, "Tell the model it must answer with one of 'positive' or"),
        (LABELS, "positive", ["negative"], True, "Say what each label means, or show one example of each"),
        ({"max_words": 30}, "word " * 41, ["short"], True, "Say how long the answer may be: at most 30 words."),
        ({"max_lines": 3}, "a\nb\nc\nd", [], True, "Say how many lines the answer may have: at most 3."),
        (
            {"json_keys": ["name", "city"]},
            "Ana lives in Lima",
            [],
            True,
            "Ask for a JSON object with the keys name, city",
        ),
        ({"json_keys": ["name", "city"]}, '{"name": "Ana"}', [], True, "Name every key the JSON object must have"),
        (
            {"json_keys": ["name"], "json_only": True},
            'Sure! {"name": "Ana"}',
            [],
            True,
            "Ask for only the JSON object, with no words before or after it.",
        ),
        ({"exact": "A07"}, "The bay is A07.", [], True, "Ask for only the answer itself"),
        (
            {"not_contains": ["diagnosis"]},
            "The diagnosis is flu.",
            [],
            True,
            "Tell the model plainly what it must leave out",
        ),
        ({"language": "es"}, "Your parcel is late.", [], True, "Say in which language the answer must be written."),
        # two checks fail: the form is fixed first
        (
            {"labels": ["yes", "no"], "max_words": 2},
            "Well, I think yes and no",
            ["yes"],
            True,
            "Ask for exactly one of",
        ),
    ],
)
def test_the_advice_names_the_change_for_what_failed(checks, output, expected, close_enough, advice) -> None:
    rules = Checks.model_validate(checks)
    outcomes = run_checks(output, rules, {}, expected)
    got = case_advice(output, outcomes, rules, close_enough, expected[0] if expected else None)
    assert (got == "") if not advice else got.startswith(advice), got


def test_only_similarity_failed_a_chatty_answer_or_a_vague_one() -> None:
    chatty = "Sure! Here is the order number you asked for, taken from the message: it is 48213. Anything else?"
    assert case_advice(chatty, [], Checks(), False, "48213") == ONLY_THE_ANSWER
    assert case_advice("The parcel is somewhere.", [], Checks(), False, "The parcel arrives on Friday.") == CLOSER
    assert case_advice("  ", [], Checks(), False, "x") == NO_ANSWER


def test_the_run_gets_the_advice_most_failed_cases_share() -> None:
    assert run_advice(["", "b", "a", "b"]) == "b"
    assert run_advice(["a", "b"]) == "a", "on a tie, the first case's"
    assert run_advice(["", ""]) == ""
