"""Learners' names and class codes: how they are cleaned, compared, and told apart from look-alikes.

Two names are the same learner when they differ only in what a reader cannot
see or would not count: case, full-width forms (NFKC), spaces at the ends or
doubled, zero-width characters. A name that would *look* like someone already
on the roster while being different text (a Cyrillic "А" for a Latin "A", a
Greek "ο" for an "o") is refused, as is a word that mixes Latin, Cyrillic and
Greek letters, which is how such look-alikes are made.
"""

from __future__ import annotations

import unicodedata

from ..errors import StoreError
from ..exercises.prompts import clean_text, visible
from ..i18n import N_, _

MAX_NAME = 40
MAX_CLASS_CODE = 20

_LOOKALIKE = str.maketrans(
    {
        # Cyrillic letters drawn like Latin ones (lower case: keys are case-folded first)
        "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
        "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "һ": "h", "ӏ": "l", "ɡ": "g",
        # Greek
        "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t",
        "υ": "u", "χ": "x", "ω": "w", "ς": "c", "σ": "o",
        # digits and Latin letters readers confuse
        "0": "o", "1": "l", "|": "l", "ı": "i",
    }
)  # fmt: skip
_CONFUSABLE_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK")
_ALPHABET_NAMES = {"Latin": N_("Latin"), "Cyrillic": N_("Cyrillic"), "Greek": N_("Greek")}
"""The alphabets' names as a message says them (keys: what :func:`_scripts` finds)."""


def _without_invisible(text: str) -> str:
    """Drop format characters (zero-width spaces and joiners, BOM, direction marks); spaces stay."""
    return "".join(ch for ch in text if visible(ch) or ch.isspace())


def normalise_name(raw: str) -> str:
    """A learner's name as it is kept and shown: NFKC, no invisible characters, single spaces, trimmed.

    Raises StoreError with advice when it cannot be used.
    """
    name = _tidy(raw)
    if not name:
        raise StoreError(_("Please type a name (or a nickname) so the learner's progress can be saved."))
    if len(name) > MAX_NAME:
        raise StoreError(
            _("That name is {length} characters long; please use at most {most}.").format(
                length=len(name), most=MAX_NAME
            )
        )
    mixed = next((word for word in name.split() if len(_scripts(word)) > 1), None)
    if mixed is not None:
        raise StoreError(
            _(
                "The word {word} mixes letters of different alphabets ({alphabets}), "
                "so it could look like another name. Type it again in one alphabet."
            ).format(word=repr(mixed), alphabets=_alphabets(sorted(_scripts(mixed))))
        )
    return name


def _alphabets(names: list[str]) -> str:
    """Two or three alphabets' names (as :func:`_scripts` finds them), joined as a sentence says them."""
    said = [_(_ALPHABET_NAMES.get(name, name)) for name in names]
    if len(said) == 2:
        return _("{first} and {second}").format(first=said[0], second=said[1])
    first, second, third = said  # a word mixes two of the three confusable alphabets, or all three
    return _("{first} and {second} and {third}").format(first=first, second=second, third=third)


def normalise_class_code(raw: str) -> str:
    code = _tidy(raw).upper()
    if len(code) > MAX_CLASS_CODE:
        raise StoreError(
            _("That class code is {length} characters long; class codes have at most {most}.").format(
                length=len(code), most=MAX_CLASS_CODE
            )
        )
    return code


def _tidy(text: str) -> str:
    return " ".join(_without_invisible(unicodedata.normalize("NFKC", clean_text(text))).split())


def name_key(name: str) -> str:
    """What two names must share to be the same learner (never refuses: names kept before these rules too)."""
    return unicodedata.normalize("NFKC", _tidy(name).casefold())


def looks_key(name: str) -> str:
    """What two names share when they look alike on screen, though their letters differ."""
    stripped = unicodedata.normalize("NFKD", name_key(name))
    letters = "".join(ch for ch in stripped if not unicodedata.combining(ch))
    return letters.translate(_LOOKALIKE).replace("rn", "m").replace(" ", "")


def _scripts(word: str) -> set[str]:
    """The confusable alphabets (Latin, Cyrillic, Greek) a word's letters come from."""
    found = set()
    for ch in word:
        if ch.isalpha():
            script = unicodedata.name(ch, "").split(" ")[0]
            if script in _CONFUSABLE_SCRIPTS:
                found.add(script.title())
    return found
