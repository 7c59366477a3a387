"""Learner-facing texts written in two languages: each reader gets theirs, a missing one is a note with its line."""

from __future__ import annotations

import re
from pathlib import Path

from sandbox import i18n
from sandbox.exercises.advice import case_advice
from sandbox.exercises.catalog import load_catalog
from sandbox.exercises.checks import run_checks
from sandbox.i18n import Localized, shown

ROOT = Path(__file__).resolve().parents[2]
CHINESE = re.compile(r"[\u4e00-\u9fff]")

BILINGUAL = """\
title:
  en: Find the order number
  zh: 找出订单号
task:
  en: Write a prompt that finds the order number in {input}.
  zh: 写一个提示词，从 {input} 中找出订单号。
checks:
  regex: "\\\\d{5}"
  explain:
    en: be a five-digit number
    zh: 是一个五位数
hints:
  - en: Say what to find.
    zh: 说清楚要找什么。
  - en: Ask for the number alone.
cases:
  - input: "my order 48213 is late"
    expect: ["48213"]
"""


def test_each_reader_gets_their_language_and_english_is_the_text_everywhere_else(write_exercise) -> None:
    write_exercise("t/order.yaml", BILINGUAL)
    catalog = load_catalog(write_exercise.root)
    assert not catalog.broken
    exercise = catalog.exercises["order"]
    assert exercise.title == "Find the order number" and isinstance(exercise.title, Localized)
    assert shown(exercise.title, "zh") == "找出订单号" and shown(exercise.title, "en") == "Find the order number"
    with i18n.speaking("zh"):
        assert shown(exercise.task) == "写一个提示词，从 {input} 中找出订单号。"
        assert [shown(h) for h in exercise.hints] == ["说清楚要找什么。", "Ask for the number alone."]
        failed = [c for c in run_checks("no number here", exercise.case_checks(0), {}, ["48213"]) if not c.passed]
        assert any("是一个五位数" in c.message for c in failed), [c.message for c in failed]
        advice = case_advice("no number here", failed, exercise.case_checks(0), True, "48213")
        assert "是一个五位数" in advice, advice


def test_a_text_missing_a_language_is_a_note_naming_the_line_and_the_file_still_loads(write_exercise) -> None:
    write_exercise("t/order.yaml", BILINGUAL)
    catalog = load_catalog(write_exercise.root)
    assert "order" in catalog.exercises
    assert catalog.notes == [
        "exercises/t/order.yaml:15: hints > item 2: no zh text (中文); readers in that language see the en one. "
        "Add a 'zh:' line to it."
    ]


def test_a_language_the_interface_lacks_is_a_problem_with_the_fix(write_exercise) -> None:
    write_exercise("t/order.yaml", BILINGUAL.replace("  zh: 找出订单号", "  fr: Trouver le numéro"))
    [broken] = load_catalog(write_exercise.root).broken
    assert broken.problems == [
        "exercises/t/order.yaml:1: title: 'fr' is not a language of the interface; use en or zh"
    ], broken.problems


def test_the_shipped_english_tracks_are_written_in_chinese_too() -> None:
    catalog = load_catalog(ROOT / "exercises")
    assert not catalog.broken and not catalog.notes, catalog.notes
    english = [e for e in catalog.exercises.values() if e.track != "chinese"]
    assert len(english) >= 30
    untranslated = [
        f"{e.id}: {field}"
        for e in english
        for field, text in [("title", e.title), ("task", e.task), *(("hint", h) for h in e.hints)]
        if not isinstance(text, Localized) or not CHINESE.search(text.texts.get("zh", ""))
    ]
    assert not untranslated, untranslated
    for track in catalog.tracks:
        if track.id != "chinese":
            assert CHINESE.search(shown(track.title, "zh")), track.id


def test_the_shipped_chinese_texts_show_their_bold_as_bold() -> None:
    """``**订单号。**后面`` stays literal in Markdown (bold ending in punctuation needs a space or punctuation after)."""
    from markdown_it import MarkdownIt

    markdown = MarkdownIt("commonmark")
    catalog = load_catalog(ROOT / "exercises")
    texts = [(t.id, t.intro) for t in catalog.tracks] + [
        (e.id, text) for e in catalog.exercises.values() for text in [e.task, *e.hints]
    ]
    literal = [f"{where}: {shown(text, 'zh')!r}" for where, text in texts if "**" in markdown.render(shown(text, "zh"))]
    assert not literal, "\n".join(literal)
