"""Rule checks on a model's answer, each failure explained in one plain sentence.

Embedding similarity cannot tell "positive" from "negative" or "3 days" from
"30 days"; these checks can, and their messages tell the learner why an answer
that looks close did not pass.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from .prompts import fill as _fill
from .schema import Checks

CJK_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
"""Kana, Han (CJK ideographs) and Hangul: scripts written without spaces between words."""
CJK = re.compile(f"[{CJK_CHARS}]")
_NOT_CJK_WORD = f"[^\\W{CJK_CHARS}]"
"""A letter, digit or _ of a script written with spaces: what glues a number into a code ("SKU12")."""
WORD = re.compile(rf"(?:{_NOT_CJK_WORD})+(?:['’-](?:{_NOT_CJK_WORD})+)*|[{CJK_CHARS}]")
"""A word of a spaced script, or one Chinese (Japanese, Korean) character, which counts as one."""
NUMBER = re.compile(rf"(?<!{_NOT_CJK_WORD})(?<!\.)(?<![A-Za-z]-)-?\d+(?:[.,]\d+)*(?![\d])")
"""A number not glued to letters before it ("SKU12" and "BX-2210" are codes) but maybe after ("12kg", "9:30am");
Chinese characters around it do not glue it ("订单号45821", "3天")."""
CODE = re.compile(
    rf"(?<!{_NOT_CJK_WORD})(?<!-)(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z\d]+(?:-[A-Za-z\d]+)*(?!{_NOT_CJK_WORD}|-)"
)
"""An identifier of letters and digits, maybe joined by hyphens: BX-2210, A07, SKU12, E-404 (never a plain number)."""
UNIT = re.compile(r"\d+(?:[.,]\d+)?[A-Za-z]{1,3}|\d{1,2}(?:am|pm)|\d+(?:st|nd|rd|th)", re.IGNORECASE)
"""A number with its unit or ending (12kg, 9am, 3rd), which is a number, not a code."""
GLUED = re.compile(r"[A-Za-z]\d|\d[A-Za-z]")
FENCE = re.compile(r"```[a-zA-Z]*[ \t]*\n?(.*?)\n?```", re.DOTALL)


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    message: str
    """For a failure: one sentence the learner reads. Empty when passed."""


def words(text: str) -> list[str]:
    """The words of an answer; each Chinese, Japanese or Korean character counts as one (字数, as teachers count)."""
    return WORD.findall(text)


def _word_unit(text: str, count: int) -> str:
    """How the length is said: "41 words", or "41 characters (each Chinese character counts as one)"."""
    cjk = len(CJK.findall(text))
    if not cjk:
        return f"{count} word{'s' if count != 1 else ''}"
    if cjk == count:
        return f"{count} Chinese character{'s' if count != 1 else ''}"
    return f"{count} words and Chinese characters (each Chinese character counts as one word)"


def normalised(text: str) -> str:
    """Full-width digits, letters and punctuation as their ordinary forms (４５８２１ is 45821, ＳＫＵ is SKU)."""
    return unicodedata.normalize("NFKC", text)


def numbers_in(text: str) -> list[str]:
    return [n.replace(",", "") for n in NUMBER.findall(text)]


def codes_in(text: str) -> list[str]:
    """Identifiers such as BX-2210 or A07: compared as codes, letter for letter, never as numbers.

    A code has letters and digits, glued together (A07, sku12), with a capital
    letter (E-404), or joined by a hyphen to a short prefix (bx-2210); "45-minute"
    is a number and a word, and "12kg" or "9am" a number with its unit.
    """
    return [c for c in CODE.findall(text) if not UNIT.fullmatch(c) and _looks_like_a_code(c)]


def _looks_like_a_code(token: str) -> bool:
    if GLUED.search(token) or any(ch.isupper() for ch in token):
        return True
    return any(part.isalpha() and len(part) <= 3 for part in token.split("-"))


def _has(text: str, needle: str, case_sensitive: bool, whole_words: bool = True) -> bool:
    """Whether ``needle`` is in ``text``: as whole words in spaced scripts ("AI" is not in "email"), unless
    ``whole_words`` is off; inside the text for Chinese ("负面" in "这条评论是负面的"), which has no spaces."""
    text, needle = normalised(text), normalised(needle)
    if not case_sensitive:
        text, needle = text.casefold(), needle.casefold()
    if not needle or not whole_words or CJK.search(needle):
        return needle in text
    before = r"(?<!\w)" if re.match(r"\w", needle) else ""  # a boundary only where the needle starts or ends
    after = r"(?!\w)" if re.search(r"\w$", needle) else ""  # with a letter or digit: "1." still finds "1. Go"
    return re.search(before + re.escape(needle) + after, text) is not None


def labels_found(text: str, labels: list[str], case_sensitive: bool, whole_words: bool = True) -> list[str]:
    """The labels the answer names (see :func:`_has`)."""
    return [label for label in labels if _has(text, label, case_sensitive, whole_words)]


def _quote(items: list[str], joiner: str = "or") -> str:
    quoted = [f"'{i}'" for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + f" {joiner} " + quoted[-1]


def parse_json_object(text: str, only: bool = False) -> tuple[dict[str, object] | None, str]:
    """The JSON object in the answer, or why there is none.

    As people and models write it: alone, in a Markdown code fence, or with words
    around one object ("Here is the record: {...}"). With ``only`` (a check's
    ``json_only``), words around the object are a failure that quotes them; a code
    fence around the whole answer is still allowed.
    """
    body = text.strip()
    around: list[str] = []
    fenced = FENCE.search(body)
    if fenced:
        around += [body[: fenced.start()], body[fenced.end() :]]
        body = fenced.group(1).strip()
    try:
        value = json.loads(body)
    except json.JSONDecodeError as exc:
        start = body.find("{")
        try:
            value, end = json.JSONDecoder().raw_decode(body, start) if start >= 0 else (None, 0)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, dict):
            return None, f"Your answer is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
        around += [body[:start], body[end:]]
    if not isinstance(value, dict):
        return None, "Your answer must be a JSON object, in curly braces { }."
    extra = " ".join(" ".join(part.split()) for part in around if part.strip())
    if only and extra:
        shown = f"'{extra[:40]}...'" if len(extra) > 40 else f"'{extra}'"
        return None, f"Your answer must be only the JSON object, but it also has the words {shown} around it."
    return value, ""


def run_checks(output: str, checks: Checks, variables: dict[str, str], expected: list[str]) -> list[CheckOutcome]:
    """Every check that is set, in a fixed order, with its verdict on ``output``."""
    results: list[CheckOutcome] = []
    cs, whole = checks.case_sensitive, checks.whole_words
    text = output.strip()

    def add(name: str, ok: bool, message: str) -> None:
        results.append(CheckOutcome(name, ok, "" if ok else message))

    if checks.labels:
        labels = [_fill(label, variables) for label in checks.labels]
        found = labels_found(text, labels, cs, whole)
        wanted = labels_found(expected[0], labels, False) if expected else []
        if not found:
            add("labels", False, f"Your answer must be one of {_quote(labels)}, but it names none of them.")
        elif len(found) > 1:
            add(
                "labels",
                False,
                f"Your answer names more than one label ({', '.join(found)}); it must give exactly one.",
            )
        elif wanted and found[0].casefold() != wanted[0].casefold():
            add("labels", False, f"Your answer says '{found[0]}', but this case should be labelled '{wanted[0]}'.")
        else:
            add("labels", True, "")
    if checks.contains:
        missing = [n for n in (_fill(c, variables) for c in checks.contains) if not _has(text, n, cs, whole)]
        add("contains", not missing, f"Your answer must mention {_quote(missing, 'and')}." if missing else "")
    if checks.contains_any:
        options = [_fill(c, variables) for c in checks.contains_any]
        ok = any(_has(text, n, cs, whole) for n in options)
        add("contains_any", ok, f"Your answer must mention at least one of {_quote(options)}.")
    if checks.not_contains:
        present = [n for n in (_fill(c, variables) for c in checks.not_contains) if _has(text, n, cs, whole)]
        add("not_contains", not present, f"Your answer must not mention {_quote(present, 'and')}." if present else "")
    if checks.exact is not None:
        want = _fill(checks.exact, variables).strip()
        ok = text == want if cs else text.casefold() == want.casefold()
        add("exact", ok, f"Your answer must be exactly '{want}' and nothing else.")
    if checks.regex is not None:
        ok = re.search(_fill(checks.regex, variables), text) is not None
        add("regex", ok, f"Your answer must {checks.explain or 'match the required pattern'}.")
    count = len(words(text))
    if checks.min_words is not None:
        add(
            "min_words",
            count >= checks.min_words,
            f"Your answer had {_word_unit(text, count)}; at least {checks.min_words} are needed.",
        )
    if checks.max_words is not None:
        add(
            "max_words",
            count <= checks.max_words,
            f"Your answer had {_word_unit(text, count)}; at most {checks.max_words} are allowed.",
        )
    if checks.max_lines is not None:
        lines = len([line for line in text.splitlines() if line.strip()])
        add(
            "max_lines",
            lines <= checks.max_lines,
            f"Your answer had {lines} lines; at most {checks.max_lines} are allowed.",
        )
    if checks.json_keys:
        value, problem = parse_json_object(text, only=checks.json_only)
        if value is None:
            add("json_keys", False, problem)
        else:
            missing = [k for k in checks.json_keys if k not in value]
            add(
                "json_keys",
                not missing,
                f"Your JSON must have the key{'s' if len(missing) > 1 else ''} {_quote(missing, 'and')}.",
            )
    if checks.language:
        results.append(language_outcome(text, checks.language))
    return results


LIST_MARKER = re.compile(r"^(\s*)\d+[.)](?=\s)", re.MULTILINE)


def _same_value(number: str) -> str:
    """'18.00' and '18' are the same number; '007' stays an identifier."""
    return number.rstrip("0").rstrip(".") if "." in number else number


def numbers_outcome(output: str, reference: str) -> CheckOutcome:
    """The numbers and codes in the closest reference must all appear in the answer ("3 days" is not "30 days").

    Numbers are compared by value ("18.00" is "18"); the "1." that starts an item of a
    numbered list is a list marker, not a number. Codes (BX-2210, A07) are compared
    as codes, letter for letter but not by case, and never read as numbers.
    """
    output, reference = normalised(output), normalised(reference)
    said = numbers_in(LIST_MARKER.sub(r"\1", output))
    for kind, wanted, found, same in (
        ("number", numbers_in(LIST_MARKER.sub(r"\1", reference)), said, _same_value),
        ("code", codes_in(reference), codes_in(output), str.casefold),
    ):
        have = {same(n) for n in found}
        missing = [n for n in dict.fromkeys(wanted) if same(n) not in have]
        if missing:
            got = (
                f" but your answer says {', '.join(dict.fromkeys(found))}"
                if found
                else f" but your answer has no {kind}"
            )
            plural = "s" if len(missing) > 1 else ""
            return CheckOutcome(
                "numbers", False, f"The expected answer has the {kind}{plural} {', '.join(missing)},{got}."
            )
    return CheckOutcome("numbers", True, "")


# --- language: a script and common-word heuristic, no model needed -------------------------

_LATIN_WORDS = {
    "en": "the and is are of to in it you that for with this be on not have was your we hello yes thanks thank please",
    "es": "el la los las de que y en un una es por con para no su se del al lo como más hola gracias sí usted está",
    "fr": "le la les de des et est un une que en du pour pas vous nous il elle dans sur avec ce bonjour merci oui",
    "de": "der die das und ist nicht ein eine zu den mit von sie ich es auf für dem sich auch hallo danke ja bitte",
    "pt": "o a os as de que e em um uma é do da para não com por se no na seu sua olá obrigado obrigada sim você",
    "it": "il lo la gli le di che e è un una per non con del della sono si in al ciao grazie sì questo",
}
_SCRIPTS = {
    "ru": ("Russian", [(0x0400, 0x04FF)]),
    "uk": ("Ukrainian", [(0x0400, 0x04FF)]),
    "ar": ("Arabic", [(0x0600, 0x06FF), (0x0750, 0x077F)]),
    "hi": ("Hindi", [(0x0900, 0x097F)]),
    "zh": ("Chinese", [(0x4E00, 0x9FFF), (0x3400, 0x4DBF)]),
    "ja": ("Japanese", [(0x3040, 0x30FF), (0x4E00, 0x9FFF)]),
    "ko": ("Korean", [(0xAC00, 0xD7AF), (0x1100, 0x11FF)]),
    "el": ("Greek", [(0x0370, 0x03FF)]),
    "he": ("Hebrew", [(0x0590, 0x05FF)]),
    "th": ("Thai", [(0x0E00, 0x0E7F)]),
}
_LATIN_NAMES = {"en": "English", "es": "Spanish", "fr": "French", "de": "German", "pt": "Portuguese", "it": "Italian"}
SCRIPT_LANGUAGES = frozenset(_SCRIPTS)
"""Languages recognised by their script, which an English-only embedder cannot read at all."""
LANGUAGES: dict[str, str] = {**_LATIN_NAMES, **{code: name for code, (name, _) in _SCRIPTS.items()}}
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
    for code, (_, ranges) in _SCRIPTS.items():
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


def language_outcome(text: str, code: str) -> CheckOutcome:
    name = LANGUAGES.get(code, code)
    found = detect_language(text)
    if found == code or (code == "uk" and found == "ru"):
        return CheckOutcome("language", True, "")
    if found is None:
        return CheckOutcome("language", False, f"Your answer must be in {name}; it could not be recognised as {name}.")
    return CheckOutcome("language", False, f"Your answer must be in {name}, but it looks like {LANGUAGES[found]}.")
