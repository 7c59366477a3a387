"""The one change most likely to help, in plain words, read from what failed in a case.

A failure sentence says what is wrong with the answer ("Your answer had 41
words; at most 30 are allowed."); the advice says what to change in the
prompt ("Say how long the answer may be: at most 30 words."). The sentences
never quote a case's input or references, so the advice of a hidden case can
be shown too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from .checks import CheckOutcome, words
from .schema import Checks

NO_ANSWER = "Ask clearly for what you want: the model wrote nothing for this case."
ONLY_THE_ANSWER = "Ask for only the answer, with nothing before or after it: the model wrote far more than was wanted."
CLOSER = (
    "Say more exactly what the answer must say and in what form, and compare the model's answer with the expected one."
)
CHATTY = 3
"""An answer this many times longer than the expected one is taken to be wrapped in chat."""


def case_advice(
    output: str, outcomes: Sequence[CheckOutcome], checks: Checks, close_enough: bool, closest: str | None
) -> str:
    """The change to the prompt most likely to make this case pass; empty when it passed."""
    failed = {o.name: o for o in outcomes if not o.passed}
    if not output.strip():
        return NO_ANSWER
    if not failed and close_enough:
        return ""
    for name in ADVICE_ORDER:
        if name in failed:
            return ADVICE[name](failed[name], checks)
    if closest is not None and len(words(output)) >= CHATTY * max(1, len(words(closest))):
        return ONLY_THE_ANSWER
    return CLOSER


def _labels(outcome: CheckOutcome, checks: Checks) -> str:
    labels = " or ".join(f"'{label}'" for label in checks.labels or [])
    if "more than one label" in outcome.message:
        return f"Ask for exactly one of {labels}, and nothing else."
    if "names none of them" in outcome.message:
        return f"Tell the model it must answer with one of {labels}."
    return "Say what each label means, or show one example of each, so the model picks the right one."


def _json(outcome: CheckOutcome, checks: Checks) -> str:
    keys = ", ".join(checks.json_keys or [])
    if "must be only the JSON object" in outcome.message:
        return "Ask for only the JSON object, with no words before or after it."
    if "must have the key" in outcome.message:
        return f"Name every key the JSON object must have: {keys}."
    return (
        f'Ask for a JSON object with the keys {keys}, and show its shape, for example {{"{keys.split(", ")[0]}": ...}}.'
    )


def _length(outcome: CheckOutcome, checks: Checks) -> str:
    if outcome.name == "max_lines":
        return f"Say how many lines the answer may have: at most {checks.max_lines}."
    if outcome.name == "min_words":
        return f"Ask for a fuller answer: at least {checks.min_words} words."
    return f"Say how long the answer may be: at most {checks.max_words} words."


ADVICE = {
    "labels": _labels,
    "json_keys": _json,
    "exact": lambda outcome, checks: "Ask for only the answer itself, with nothing before or after it.",
    "max_words": _length,
    "max_lines": _length,
    "min_words": _length,
    "numbers": lambda outcome, checks: "Ask the model to copy the numbers and codes from the text exactly as written.",
    "language": lambda outcome, checks: "Say in which language the answer must be written.",
    "not_contains": lambda outcome, checks: "Tell the model plainly what it must leave out.",
    "contains": lambda outcome, checks: "Say what the answer must include; the task names it.",
    "contains_any": lambda outcome, checks: "Say what the answer must include; the task names it.",
    "regex": lambda outcome, checks: (
        f"Describe the form exactly: the answer must {checks.explain or 'match the form asked'}."
    ),
}
ADVICE_ORDER = [
    "labels",
    "json_keys",
    "exact",
    "max_words",
    "max_lines",
    "min_words",
    "numbers",
    "language",
    "not_contains",
    "contains",
    "contains_any",
    "regex",
]
"""When several checks fail, the first one here is fixed first: form before content."""


def run_advice(case_advices: Sequence[str]) -> str:
    """The one change for the whole run: the advice most of the failed cases share (the first, on a tie)."""
    given = [advice for advice in case_advices if advice]
    if not given:
        return ""
    return Counter(given).most_common(1)[0][0]
