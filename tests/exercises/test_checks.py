"""Rule checks: what an instructor expects them to catch, and the sentence a learner reads."""

from __future__ import annotations

import pytest

from sandbox.exercises.checks import numbers_outcome, run_checks
from sandbox.exercises.schema import Checks

CASES = [
    # (checks, output, expected first reference, variables, passes?, words in the message)
    ({"labels": ["positive", "negative"]}, "Negative", ["negative"], {}, True, ""),
    (
        {"labels": ["positive", "negative"]},
        "Positive.",
        ["negative"],
        {},
        False,
        "says 'positive', but this case should be labelled 'negative'",
    ),
    ({"labels": ["positive", "negative"]}, "positive or negative", ["negative"], {}, False, "more than one label"),
    ({"labels": ["positive", "negative"]}, "Neutral", ["negative"], {}, False, "names none of them"),
    ({"labels": ["yes", "no"]}, "Nobody knows", ["no"], {}, False, "names none"),  # whole words only
    ({"contains": ["haiku"]}, "Here is a HAIKU", [], {}, True, ""),
    ({"contains": ["haiku"], "case_sensitive": True}, "Here is a HAIKU", [], {}, False, "must mention 'haiku'"),
    ({"contains": ["{topic}"]}, "All about tides", [], {"topic": "tides"}, True, ""),
    ({"contains": ["{topic}"]}, "All about waves", [], {"topic": "tides"}, False, "must mention 'tides'"),
    # whole words in spaced scripts: "AI" is not in "email", "4." is not in "14."; a stem needs whole_words: false
    ({"not_contains": ["AI"]}, "Please email us today.", [], {}, True, ""),
    ({"not_contains": ["AI"]}, "As an AI, I cannot say.", [], {}, False, "must not mention 'AI'"),
    ({"not_contains": ["4."]}, "1. Lift\n2. Turn\n3. Press 14. times", [], {}, True, ""),
    ({"not_contains": ["4."]}, "1. Lift\n2. Turn\n3. Press\n4. Stop", [], {}, False, "must not mention '4.'"),
    ({"contains": ["1.", "2."]}, "1. Lift\n2. Turn", [], {}, True, ""),
    ({"contains": ["YES"]}, "See you YESTERDAY", [], {}, False, "must mention 'YES'"),
    ({"contains": ["Nimbus 3"]}, "It is the Nimbus 3.", [], {}, True, ""),
    ({"contains": ["Nimbus 3"]}, "It is the Nimbus 30.", [], {}, False, "must mention 'Nimbus 3'"),
    ({"contains_any": ["sorry", "apolog"]}, "We apologise for the wait", [], {}, False, "'sorry' or 'apolog'"),
    ({"contains_any": ["sorry", "apolog"], "whole_words": False}, "We apologise for the wait", [], {}, True, ""),
    (
        {"contains_any": ["sorry", "apolog"], "whole_words": False},
        "Your parcel is late",
        [],
        {},
        False,
        "at least one of 'sorry' or 'apolog'",
    ),
    ({"not_contains": ["diagnos"]}, "This may be a diagnosis of flu", [], {}, True, ""),
    (
        {"not_contains": ["diagnos"], "whole_words": False},
        "This may be a diagnosis of flu",
        [],
        {},
        False,
        "must not mention 'diagnos'",
    ),
    ({"labels": ["pos", "neg"], "whole_words": False}, "negative", ["neg"], {}, True, ""),
    ({"exact": "Paris"}, "  paris \n", [], {}, True, ""),
    ({"exact": "Paris"}, "Paris, France", [], {}, False, "exactly 'Paris'"),
    ({"regex": r"^\d{5}$", "explain": "be a five-digit number"}, "48213", [], {}, True, ""),
    (
        {"regex": r"^\d{5}$", "explain": "be a five-digit number"},
        "Order 48213",
        [],
        {},
        False,
        "must be a five-digit number",
    ),
    ({"max_words": 3}, "one two three four five", [], {}, False, "had 5 words; at most 3 are allowed"),
    ({"min_words": 3}, "one two", [], {}, False, "had 2 words; at least 3 are needed"),
    ({"max_lines": 2}, "a\nb\n\nc", [], {}, False, "had 3 lines; at most 2"),
    ({"json_keys": ["name", "city"]}, '{"name": "Ana", "city": "Lima"}', [], {}, True, ""),
    ({"json_keys": ["name", "city"]}, '```json\n{"name": "Ana", "city": "Lima"}\n```', [], {}, True, ""),
    ({"json_keys": ["name", "city"]}, '{"name": "Ana"}', [], {}, False, "must have the key 'city'"),
    ({"json_keys": ["name"]}, "name: Ana", [], {}, False, "not valid JSON"),
    ({"json_keys": ["name"]}, '["Ana"]', [], {}, False, "must be a JSON object"),
    # JSON as people and models write it: in a fence with words around, or words around one object
    ({"json_keys": ["name"]}, 'Here is the record:\n```json\n{"name": "Ana"}\n```\nDone!', [], {}, True, ""),
    ({"json_keys": ["name"]}, 'Sure! {"name": "Ana"} Hope this helps.', [], {}, True, ""),
    ({"json_keys": ["name"], "json_only": True}, '```json\n{"name": "Ana"}\n```', [], {}, True, ""),
    (
        {"json_keys": ["name"], "json_only": True},
        'Sure! {"name": "Ana"} Hope this helps.',
        [],
        {},
        False,
        "must be only the JSON object, but it also has the words 'Sure! Hope this helps.' around it",
    ),
    (
        {"json_keys": ["name"], "json_only": True},
        'Here is the record:\n```json\n{"name": "Ana"}\n```',
        [],
        {},
        False,
        "also has the words 'Here is the record:' around it",
    ),
    ({"json_keys": ["name"]}, "Sure! {name: Ana}", [], {}, False, "not valid JSON"),
    ({"max_words": 3}, "", [], {}, True, ""),
    ({"contains": ["café"]}, "Le CAFÉ est prêt ☕", [], {}, True, ""),
    ({"language": "es"}, "Puede cambiar la dirección de su paquete en la web.", [], {}, True, ""),
    (
        {"language": "es"},
        "You can change the address of your parcel online.",
        [],
        {},
        False,
        "must be in Spanish, but it looks like English",
    ),
    ({"language": "es"}, "12345 !!!", [], {}, False, "could not be recognised as Spanish"),
    ({"language": "fr"}, "Merci pour votre commande, elle est en route.", [], {}, True, ""),
    ({"language": "de"}, "Die Lieferung kommt morgen, danke für die Geduld.", [], {}, True, ""),
    ({"language": "ru"}, "Ваш заказ будет доставлен завтра.", [], {}, True, ""),
    ({"language": "ja"}, "ご注文は明日届きます。", [], {}, True, ""),
    ({"language": "zh"}, "您的订单明天送到。", [], {}, True, ""),
    ({"language": "zh"}, "ご注文は明日届きます。", [], {}, False, "looks like Japanese"),
    ({"language": "ar"}, "سيصل طلبك غدا", [], {}, True, ""),
    ({"language": "en"}, "Ваш заказ будет доставлен завтра.", [], {}, False, "looks like Russian"),
]


@pytest.mark.parametrize(("checks", "output", "expected", "variables", "passes", "words"), CASES)
def test_check_verdicts_and_messages(checks, output, expected, variables, passes, words) -> None:
    outcomes = run_checks(output, Checks.model_validate(checks), variables, expected)
    assert outcomes, "a set check always reports"
    assert all(o.passed for o in outcomes) is passes
    message = " ".join(o.message for o in outcomes)
    assert words in message
    if not passes:
        assert message.startswith("Your ")


@pytest.mark.parametrize(
    ("output", "reference", "passes", "words"),
    [
        ("It will arrive in 3 days.", "Delivery in 3 days", True, ""),
        ("It will arrive in 30 days.", "Delivery in 3 days", False, "has the number 3, but your answer says 30"),
        ("It will arrive soon.", "Delivery in 3 days", False, "your answer has no number"),
        ("Total: 1,250 units", "1250 units", True, ""),
        ("No numbers here", "No numbers either", True, ""),
        ('{"price": 18}', '{"price": 18.00}', True, ""),
        ("Come at 9:30am with 2kg of files.", "Arrive at 9:30 and bring 2 kg.", True, ""),
        ("Come at 9:45am.", "Arrive at 9:30.", False, "has the number 30, but your answer says 9, 45"),
        ("Order 0071", "Order 71", False, "has the number 71, but your answer says 0071"),
        ("1. Load the van\n2. Drive to the depot", "1. Load 12 boxes\n2. Drive to the depot", False, "number 12"),
        ("1. Load 12 boxes\n2. Drive", "1. Load 12 boxes\n2. Drive to the depot", True, ""),
        # codes are compared as codes, never read as numbers
        (
            '{"sku": "BX-2210", "quantity": 45, "bay": "A07"}',
            '{"sku": "BX-2210", "quantity": 45, "bay": "A07"}',
            True,
            "",
        ),
        (
            '{"sku": "bx-2210", "quantity": 45, "bay": "a07"}',
            '{"sku": "BX-2210", "quantity": 45, "bay": "A07"}',
            True,
            "",
        ),
        (
            '{"sku": "BX-2201", "quantity": 45, "bay": "A07"}',
            '{"sku": "BX-2210", "quantity": 45, "bay": "A07"}',
            False,
            "The expected answer has the code BX-2210, but your answer says BX-2201, A07.",
        ),
        (
            '{"sku": "BX-2210", "quantity": 54, "bay": "A07"}',
            '{"sku": "BX-2210", "quantity": 45, "bay": "A07"}',
            False,
            "The expected answer has the number 45, but your answer says 54.",
        ),
        ("Error E-404 after 12 minutes.", "E-404, 12 minutes", True, ""),
        ("Each session lasts 45 minutes.", "Sessions last 45-minute slots", True, ""),
        ("It weighs 12kg and arrives at 9am on the 3rd.", "12 kg, 9 am, the 3rd", True, ""),
    ],
)
def test_numbers_in_the_closest_reference_must_match(output, reference, passes, words) -> None:
    outcome = numbers_outcome(output, reference)
    assert outcome.passed is passes
    assert words in outcome.message


def test_exercise_and_case_checks_add_up() -> None:
    merged = Checks(contains=["a"], max_words=5).merged(Checks(contains=["b"], max_words=2))
    assert merged.contains == ["a", "b"]
    assert merged.max_words == 2
