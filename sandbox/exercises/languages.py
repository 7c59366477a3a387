"""Which language a text is in, and what counts as a word, by script and common words: no model needed.

Chinese, Japanese and Korean are written without spaces, so each of their
characters counts as one word; Latin-script languages are told apart by their
most common words, the others by their script.
"""

from __future__ import annotations

import re

from ..i18n import N_, _

CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
"""Kana, Han (CJK ideographs) and Hangul: scripts written without spaces between words."""
CJK = re.compile(f"[{CJK_CHARS}]")
NOT_CJK_WORD = f"[^\\W{CJK_CHARS}]"
"""A letter, digit or _ of a script written with spaces: what glues a number into a code ("SKU12")."""
WORD = re.compile(rf"(?:{NOT_CJK_WORD})+(?:['’-](?:{NOT_CJK_WORD})+)*|[{CJK_CHARS}]")
"""A word of a spaced script, or one Chinese (Japanese, Korean) character, which counts as one."""


def words(text: str) -> list[str]:
    """The words of an answer; each Chinese, Japanese or Korean character counts as one (字数, as teachers count)."""
    return WORD.findall(text)


_LATIN_WORDS = {
    "en": "the and is are of to in it you that for with this be on not have was your we hello yes thanks thank please",
    "es": "el la los las de que y en un una es por con para no su se del al lo como más hola gracias sí usted está",
    "fr": "le la les de des et est un une que en du pour pas vous nous il elle dans sur avec ce bonjour merci oui",
    "de": "der die das und ist nicht ein eine zu den mit von sie ich es auf für dem sich auch hallo danke ja bitte",
    "pt": "o a os as de que e em um uma é do da para não com por se no na seu sua olá obrigado obrigada sim você",
    "it": "il lo la gli le di che e è un una per non con del della sono si in al ciao grazie sì questo",
}
_SCRIPTS = {
    "ru": (N_("Russian"), [(0x0400, 0x04FF)]),
    "uk": (N_("Ukrainian"), [(0x0400, 0x04FF)]),
    "ar": (N_("Arabic"), [(0x0600, 0x06FF), (0x0750, 0x077F)]),
    "hi": (N_("Hindi"), [(0x0900, 0x097F)]),
    "zh": (N_("Chinese"), [(0x4E00, 0x9FFF), (0x3400, 0x4DBF)]),
    "ja": (N_("Japanese"), [(0x3040, 0x30FF), (0x4E00, 0x9FFF)]),
    "ko": (N_("Korean"), [(0xAC00, 0xD7AF), (0x1100, 0x11FF)]),
    "el": (N_("Greek"), [(0x0370, 0x03FF)]),
    "he": (N_("Hebrew"), [(0x0590, 0x05FF)]),
    "th": (N_("Thai"), [(0x0E00, 0x0E7F)]),
}
_LATIN_NAMES = {
    "en": N_("English"),
    "es": N_("Spanish"),
    "fr": N_("French"),
    "de": N_("German"),
    "pt": N_("Portuguese"),
    "it": N_("Italian"),
}
SCRIPT_LANGUAGES = frozenset(_SCRIPTS)
"""Languages recognised by their script, which an English-only embedder cannot read at all."""
LANGUAGES: dict[str, str] = {**_LATIN_NAMES, **{code: name for code, (name, _ranges) in _SCRIPTS.items()}}
"""Each language code the check knows, with its English name (marked to translate: show it with :func:`language_name`)."""
_WORD_SETS = {code: set(words.split()) for code, words in _LATIN_WORDS.items()}


def _in_ranges(ch: str, ranges: list[tuple[int, int]]) -> bool:
    return any(low <= ord(ch) <= high for low, high in ranges)


def detect_language(text: str) -> str | None:
    """Best guess among LANGUAGES: by script for non-Latin ones, by common words for Latin ones."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    # Chinese and Japanese by weight of words: each character against each word of a spaced script, so a
    # Chinese answer naming "iPhone 15 Pro" stays Chinese and an English one with a few characters stays English
    han = sum(_in_ranges(ch, _SCRIPTS["zh"][1]) for ch in letters)
    kana = sum(_in_ranges(ch, [(0x3040, 0x30FF)]) for ch in letters)
    if han + kana:
        spaced = len([w for w in words(text) if not CJK.fullmatch(w) and any(ch.isalpha() for ch in w)])
        if han + kana >= spaced:
            return "ja" if kana else "zh"
        letters = [ch for ch in letters if not CJK.match(ch)]
    for code, (_name, ranges) in _SCRIPTS.items():
        if code in ("uk", "ja"):
            continue
        if sum(_in_ranges(ch, ranges) for ch in letters) / len(letters) >= 0.5:
            if code == "zh" and any(_in_ranges(ch, [(0x3040, 0x30FF)]) for ch in letters):
                return "ja"
            return code
    if any(_in_ranges(ch, [(0x3040, 0x30FF)]) for ch in letters):
        return "ja"
    tokens = [w.casefold() for w in words(text)]
    hits = {code: sum(t in vocabulary for t in tokens) for code, vocabulary in _WORD_SETS.items()}
    best = max(hits.values())
    winners = [code for code, count in hits.items() if count == best]
    return winners[0] if best > 0 and len(winners) == 1 else None


def language_name(code: str) -> str:
    """The name of a language the check knows, in the interface's language ("Spanish", "西班牙语"); else the code."""
    return _(LANGUAGES[code]) if code in LANGUAGES else code
