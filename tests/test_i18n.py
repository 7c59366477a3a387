"""The interface's Chinese: every text in the code has a translation that keeps its fields, markup and glossary."""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from markdown_it import MarkdownIt

from sandbox import i18n
from sandbox.config import load_settings
from sandbox.errors import SandboxError

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "exercises" / "README.md"
FIELDS = re.compile(r"\{+\w*\}+")
MARKUP = re.compile(r":material/[a-z_]+:|:[a-z]+\[|\*\*|`")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
LEFT_AS_WRITTEN = {"Top-p"}
"""Texts that are the same in Chinese: a sampling setting's name, as model documentation writes it."""


def texts_in_code() -> dict[str, tuple[str, str]]:
    """Every text the code puts through _(), ngettext() or N_(), with the file and line it is on."""
    found: dict[str, tuple[str, str]] = {}
    method_map = [("**.py", "python")]
    for package in ("sandbox", "sandbox_ui"):
        for filename, line, message, _comments, _context in extract_from_dir(ROOT / package, method_map):
            singular = message[0] if isinstance(message, tuple) else message
            found.setdefault(singular, (f"{package}/{filename}", str(line)))
    return found


def chinese_catalog():
    with i18n.catalog_path("zh").open("rb") as source:
        return read_po(source, locale="zh")


def glossary() -> list[tuple[str, str, list[str]]]:
    """The guide's glossary: (English, 中文, words not to use)."""
    section = GUIDE.read_text(encoding="utf-8").split("## The interface in Chinese", 1)[1]
    rows = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 3 and CHINESE.search(cells[1]):
            rows.append((cells[0], cells[1], [w.strip() for w in cells[2].split(",") if w.strip()]))
    return rows


def test_every_text_of_the_interface_has_a_chinese_translation() -> None:
    in_code = texts_in_code()
    assert len(in_code) > 300, "the extraction found the interface's texts"
    catalog = chinese_catalog()
    missing = []
    for text, (where, line) in sorted(in_code.items()):
        entry = catalog.get(text) or next((m for m in catalog if isinstance(m.id, tuple) and m.id[0] == text), None)
        translated = entry.string if entry is not None else ""
        translated = translated[0] if isinstance(translated, tuple) else translated
        if not translated or (entry is not None and entry.fuzzy):
            missing.append(f"{where}:{line}: {text!r}")
    assert not missing, "no Chinese for these texts (run `make translations`, then translate them):\n" + "\n".join(
        missing
    )


def test_the_catalog_keeps_no_text_the_code_no_longer_has() -> None:
    in_code = texts_in_code()
    stale = [m.id for m in chinese_catalog() if m.id and (m.id[0] if isinstance(m.id, tuple) else m.id) not in in_code]
    assert not stale, f"run `make translations` to drop texts the code no longer has: {stale}"


def _pairs():
    for message in chinese_catalog():
        if not message.id:
            continue
        english = message.id[0] if isinstance(message.id, tuple) else message.id
        chinese = message.string[0] if isinstance(message.string, tuple) else message.string
        if chinese:
            yield english, chinese


def test_translations_keep_the_fields_icons_and_markup_of_the_english() -> None:
    wrong = []
    for english, chinese in _pairs():
        if Counter(FIELDS.findall(english)) != Counter(FIELDS.findall(chinese)):
            wrong.append(f"fields: {english!r} -> {chinese!r}")
        elif Counter(MARKUP.findall(english)) != Counter(MARKUP.findall(chinese)):
            wrong.append(f"markup: {english!r} -> {chinese!r}")
    assert not wrong, "\n".join(wrong)


def _mentions(english: str, term: str) -> bool:
    """Whether the English text speaks of the glossary's term (not the command `prompt-sandbox` or a setting)."""
    return re.search(rf"(?i)(?<![-_])\b{re.escape(term)}s?\b(?![-_])", english) is not None


def test_translations_are_chinese_and_use_the_glossary() -> None:
    terms = glossary()
    assert len(terms) >= 20 and ("prompt", "提示词", ["提示语", "指令词"]) in terms
    wrong = []
    for english, chinese in _pairs():
        words = re.search(r"[A-Za-z]{3}", FIELDS.sub("", english))
        if words and not CHINESE.search(chinese) and english not in LEFT_AS_WRITTEN:
            wrong.append(f"not Chinese: {english!r} -> {chinese!r}")
        for term, _chinese_term, nots in terms:
            if _mentions(english, term.split(" (")[0]):
                wrong += [f"{word!r} for {term!r} (glossary): {chinese!r}" for word in nots if word in chinese]
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("english", "chinese"),
    [("prompt", "提示词"), ("hidden case", "隐藏用例"), ("learner", "学员"), ("instructor", "教师")],
)
def test_a_glossary_word_is_translated_the_same_way_everywhere(english: str, chinese: str) -> None:
    elsewhere = [
        f"{en!r} -> {zh!r}"
        for en, zh in _pairs()
        if _mentions(en, english) and "system prompt" not in en.lower() and chinese not in zh
    ]
    assert not elsewhere, f"{english!r} is {chinese} in the glossary:\n" + "\n".join(elsewhere)


def test_a_page_run_speaks_its_own_language_and_english_is_the_text_as_written() -> None:
    with i18n.speaking("zh-CN"):
        assert i18n.current() == "zh"
        assert CHINESE.search(i18n._("This case passed."))
        with i18n.speaking("en"):
            assert i18n._("This case passed.") == "This case passed."
        assert CHINESE.search(i18n._("Exercises"))
    assert i18n._("Exercises") == "Exercises"


def test_an_uncompiled_catalog_is_compiled_when_first_used(tmp_path: Path, monkeypatch) -> None:
    """A checkout before `make setup` (no .mo file) still shows Chinese, never message ids."""
    copy = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, copy, ignore=shutil.ignore_patterns("*.mo"))
    monkeypatch.setattr(i18n, "LOCALES", copy)
    i18n.translations.cache_clear()
    try:
        assert not list(copy.rglob("*.mo"))
        assert CHINESE.search(i18n.translations("zh").gettext("Exercises"))
    finally:
        i18n.translations.cache_clear()


@pytest.mark.parametrize(("raw", "language"), [("zh", "zh"), ("zh-CN", "zh"), ("zh_Hans", "zh"), ("EN", "en")])
def test_the_class_language_comes_from_the_environment(monkeypatch, raw: str, language: str) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_LANGUAGE", raw)
    assert load_settings().language == language


def test_a_language_the_interface_lacks_is_refused_with_the_ones_it_has(monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_LANGUAGE", "fr")
    with pytest.raises(SandboxError, match=r"PROMPT_SANDBOX_LANGUAGE='fr'.*en, zh"):
        load_settings()


def test_bold_text_in_chinese_is_bold_on_the_page() -> None:
    """Markdown makes no bold of ``**你来写。**这里``: bold that ends in punctuation must be followed by a space or
    punctuation. Streamlit renders CommonMark, as markdown-it does."""
    markdown = MarkdownIt("commonmark")
    literal = [
        f"{english!r} -> {chinese!r}"
        for english, chinese in _pairs()
        if "**" in markdown.renderInline(FIELDS.sub("字", chinese))  # a field filled in, as on the page
    ]
    assert not literal, "\n".join(literal)


def test_an_error_raised_on_the_models_thread_is_read_in_the_language_of_the_page_that_shows_it() -> None:
    """The model's worker thread knows no page's language: its errors are translated where they are read."""
    import threading

    from sandbox.errors import ModelError
    from sandbox.i18n import N_

    raised: list[ModelError] = []

    def worker() -> None:
        raised.append(ModelError(N_("The model server at {url} does not answer: {error}."), url="http://x", error="?"))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    [error] = raised
    english = "The model server at http://x does not answer: ?."
    assert str(error) == english and error.args == (english,)
    with i18n.speaking("zh"):
        assert CHINESE.search(str(error)) and "http://x" in str(error)


def test_sentences_follow_one_another_as_each_language_writes_them() -> None:
    assert i18n.sentences("Could not save.", "", "Try again.") == "Could not save. Try again."
    with i18n.speaking("zh"):
        assert i18n.sentences("没有保存。", "", "请再试一次。") == "没有保存。请再试一次。"
