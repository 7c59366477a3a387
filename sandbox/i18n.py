"""The languages of the interface: English (the texts in the code) and Chinese (a gettext catalog).

Every sentence a learner or instructor reads is written in English inside
``_("...")`` (or ``ngettext`` where English needs a plural), with ``{name}``
fields filled in by ``.format`` after translating. Babel extracts them
(``make translations``, configured in ``babel.cfg``) into
``sandbox/locales/messages.pot``; the Chinese texts live in
``sandbox/locales/zh/LC_MESSAGES/messages.po``, compiled to ``.mo`` by
``make setup``. A catalog that was not compiled (a checkout before set-up) is
compiled in memory when first used, so the app never shows message ids.

The language is chosen per script run (a page run, a command) with
:func:`use`: it is kept in a context variable, so two learners' pages in two
threads each get their own. Where a thread has not chosen (a web page's button
callback runs before the page chooses), :func:`fall_back_to` names who knows
(the web app: the browser session's language).
"""

from __future__ import annotations

import functools
import gettext
import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

LOCALES = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"
LANGUAGES = {"en": "English", "zh": "中文"}
"""The interface's languages, each named in itself (as the language switch shows them)."""
DEFAULT = "en"

_current: ContextVar[str | None] = ContextVar("interface_language", default=None)
_fallback: list[Callable[[], str | None]] = []
_ALIASES = re.compile(r"(?i)^(zh|en)(?:[-_].*)?$")


def normalise(code: str | None) -> str | None:
    """``zh``, ``zh-CN``, ``zh_Hans`` ... -> ``zh``; ``en-GB`` -> ``en``; anything else -> None."""
    found = _ALIASES.match((code or "").strip())
    return found.group(1).lower() if found else None


def current() -> str:
    """This thread's language: the one it chose, else the fallback's, else English."""
    chosen = _current.get()
    if chosen is None and _fallback:
        chosen = normalise(_fallback[0]())
    return chosen or DEFAULT


def fall_back_to(where: Callable[[], str | None]) -> None:
    """Where a thread that has not chosen a language asks for one (it may return None: English)."""
    _fallback[:] = [where]


def use(code: str | None) -> str:
    """Make ``code`` the language of this thread's texts from now on (unknown codes: English); returns it."""
    language = normalise(code) or DEFAULT
    _current.set(language)
    return language


@contextmanager
def speaking(code: str | None) -> Iterator[str]:
    """The block's texts in ``code``; the language before it afterwards."""
    token = _current.set(normalise(code) or DEFAULT)
    try:
        yield current()
    finally:
        _current.reset(token)


def catalog_path(language: str) -> Path:
    return LOCALES / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@functools.cache
def translations(language: str) -> gettext.NullTranslations:
    """The compiled catalog of ``language`` (English: the texts as written)."""
    if language == DEFAULT:
        return gettext.NullTranslations()
    po = catalog_path(language)
    mo = po.with_suffix(".mo")
    if mo.is_file() and (not po.is_file() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    if not po.is_file():
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy entries are left out, as `pybabel compile` does
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _(message: str) -> str:
    """``message`` in the current language."""
    return translations(current()).gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The form of a sentence for ``count`` in the current language (Chinese has one form)."""
    return translations(current()).ngettext(singular, plural, count)


def sentences(*texts: str) -> str:
    """Whole sentences one after another, the empty ones left out: a space between them, none in Chinese."""
    return ("" if current() == "zh" else " ").join(text for text in texts if text)


def N_(message: str) -> str:
    """Marks a text to translate where it is defined (a table of labels); ``_()`` translates it where it is shown."""
    return message


class Localized(str):
    """An instructor's text written in several languages (``{en: ..., zh: ...}`` in an exercise file).

    It is the text in its first language wherever a plain string is used (ids, logs,
    prompts built from it); :func:`shown` picks the reader's language.
    """

    texts: dict[str, str]

    def __new__(cls, texts: dict[str, str]) -> Localized:
        first = texts.get(DEFAULT) or next(iter(texts.values()))
        made = super().__new__(cls, first)
        made.texts = dict(texts)
        return made

    def __reduce__(self) -> tuple[type[Localized], tuple[dict[str, str]]]:
        return (Localized, (self.texts,))

    def missing(self) -> list[str]:
        """The interface's languages this text is not written in (each falls back to one it is)."""
        return [code for code in LANGUAGES if code not in self.texts]


def shown(text: str, language: str | None = None) -> str:
    """``text`` as the reader of ``language`` (default: this thread's) sees it: their language if written, else as is."""
    if isinstance(text, Localized):
        return text.texts.get(language or current()) or str(text)
    return text
