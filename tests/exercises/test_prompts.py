"""Filling a learner's prompt with a case: placeholders, missing input, bad and odd input."""

from __future__ import annotations

import pytest

from sandbox.errors import PromptError
from sandbox.exercises.prompts import check_prompt, render


def test_placeholder_is_replaced() -> None:
    result = render("Label this: {input}", {"input": "Great shoes"}, 4000)
    assert result.text == "Label this: Great shoes"
    assert result.appended == [] and result.note() == ""


def test_missing_placeholder_appends_the_case_text_and_says_so() -> None:
    result = render("Label the review as positive or negative.", {"input": "Great shoes"}, 4000)
    assert result.text == "Label the review as positive or negative.\n\nGreat shoes"
    assert result.note() == "Your prompt had no {input}, so the case text was added at the end of it."


def test_named_variables_and_partial_use() -> None:
    result = render("Review of {product}:", {"review": "Too small", "product": "Boots"}, 4000)
    assert result.text == "Review of Boots:\n\nreview: Too small"
    assert result.appended == ["review"]


def test_double_braces_are_literal() -> None:
    result = render('Answer as JSON like {{"label": "x"}} for {input}', {"input": "hi"}, 4000)
    assert result.text == 'Answer as JSON like {"label": "x"} for hi'


@pytest.mark.parametrize(
    ("prompt", "words"),
    [
        ("", "Your prompt is empty"),
        ("   \n\t ", "Your prompt is empty"),
        ("\x00\x01", "Your prompt is empty"),
        ("Label {review}", "uses {review}, which this exercise does not have. This exercise gives you {input}"),
        ("x" * 5000, "5,000 characters long; the limit is 4,000"),
    ],
)
def test_prompts_that_cannot_run_get_a_clear_message(prompt: str, words: str) -> None:
    with pytest.raises(PromptError) as caught:
        render(prompt, {"input": "text"}, 4000)
    assert words in str(caught.value)


def test_case_text_that_makes_the_prompt_too_long_is_reported() -> None:
    with pytest.raises(PromptError, match="With the case text filled in"):
        render("Summarise: {input}", {"input": "y" * 4000}, 4000)


def test_odd_unicode_is_kept_and_control_characters_dropped() -> None:
    prompt = "Traduis\u0000 en 日本語 👍: {input}\r\nرد بالعربية"
    result = render(prompt, {"input": "e\u0301te"}, 4000)  # decomposed é
    assert result.text == "Traduis en 日本語 👍: \u00e9te\nرد بالعربية"


@pytest.mark.parametrize("prompt", ["\u200b\u200b", " \u2060 \ufeff\n\u200c", "\u00a0\u3000"])
def test_a_prompt_of_only_invisible_characters_is_empty(prompt: str) -> None:
    with pytest.raises(PromptError, match="Your prompt is empty"):
        check_prompt(prompt, {"input"}, 4000)


def test_a_prompt_with_one_visible_character_among_invisible_ones_runs() -> None:
    assert check_prompt("\u200bx\u200b", {"input"}, 4000) == "\u200bx\u200b"
