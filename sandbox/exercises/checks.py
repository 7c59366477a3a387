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

from ..i18n import _, ngettext, shown
from .languages import CJK, NOT_CJK_WORD, detect_language, language_name, words
from .prompts import fill as _fill
from .schema import Checks

NUMBER = re.compile(rf"(?<!{NOT_CJK_WORD})(?<!\.)(?<![A-Za-z]-)-?\d+(?:[.,]\d+)*(?![\d])")
"""A number not glued to letters before it ("SKU12" and "BX-2210" are codes) but maybe after ("12kg", "9:30am");
Chinese characters around it do not glue it ("订单号45821", "3天")."""
CODE = re.compile(
    rf"(?<!{NOT_CJK_WORD})(?<!-)(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[A-Za-z\d]+(?:-[A-Za-z\d]+)*(?!{NOT_CJK_WORD}|-)"
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
    """For a failure: one sentence the learner reads (in the interface's language). Empty when passed."""
    reason: str = ""
    """For a failure, which way it failed, for code to read (the message is translated): a labels check's
    "none", "several" or "wrong"; a JSON check's "not_json", "not_object", "words_around" or "missing_keys"."""


def _length_message(text: str, count: int, limit: int, at_most: bool) -> str:
    """The length sentence, in words, in Chinese characters, or in both (each Chinese character counts as a word)."""
    cjk = len(CJK.findall(text))
    if not cjk:
        if at_most:
            message = ngettext(
                "Your answer had {count} word; at most {limit} are allowed.",
                "Your answer had {count} words; at most {limit} are allowed.",
                count,
            )
        else:
            message = ngettext(
                "Your answer had {count} word; at least {limit} are needed.",
                "Your answer had {count} words; at least {limit} are needed.",
                count,
            )
    elif cjk == count:
        if at_most:
            message = ngettext(
                "Your answer had {count} Chinese character; at most {limit} are allowed.",
                "Your answer had {count} Chinese characters; at most {limit} are allowed.",
                count,
            )
        else:
            message = ngettext(
                "Your answer had {count} Chinese character; at least {limit} are needed.",
                "Your answer had {count} Chinese characters; at least {limit} are needed.",
                count,
            )
    elif at_most:
        message = _(
            "Your answer had {count} words and Chinese characters (each Chinese character counts as one word); "
            "at most {limit} are allowed."
        )
    else:
        message = _(
            "Your answer had {count} words and Chinese characters (each Chinese character counts as one word); "
            "at least {limit} are needed."
        )
    return message.format(count=count, limit=limit)


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


def listed(items: list[str]) -> str:
    """Items one after another, as a list is written in the interface's language ("a, b"; Chinese "a、b")."""
    return _(", ").join(items)


def quoted(items: list[str]) -> list[str]:
    """Each item in quotation marks, as the interface's language writes them ('a'; Chinese “a”)."""
    return [_("'{text}'").format(text=item) for item in items]


def one_or_list(items: list[str], one: str, several: str) -> str:
    """``one`` (a sentence with {item}) for one item; else ``several``, with {items} and {last}; all quoted.

    Both sentences come translated, so "and"/"or" are the sentence's words, not the code's.
    """
    marked = quoted(items)
    if len(marked) == 1:
        return one.format(item=marked[0])
    return several.format(items=listed(marked[:-1]), last=marked[-1])


def parse_json_object(text: str, only: bool = False) -> tuple[dict[str, object] | None, str]:
    """The JSON object in the answer, or why there is none.

    As people and models write it: alone, in a Markdown code fence, or with words
    around one object ("Here is the record: {...}"). With ``only`` (a check's
    ``json_only``), words around the object are a failure that quotes them; a code
    fence around the whole answer is still allowed.
    """
    value, _reason, problem = _read_json(text, only)
    return value, problem


def _read_json(text: str, only: bool) -> tuple[dict[str, object] | None, str, str]:
    """:func:`parse_json_object`, with which way it failed (a :attr:`CheckOutcome.reason`) before the sentence."""
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
            message = _("Your answer is not valid JSON ({error} at line {line}, column {column}).")
            return None, "not_json", message.format(error=exc.msg, line=exc.lineno, column=exc.colno)
        around += [body[:start], body[end:]]
    if not isinstance(value, dict):
        return None, "not_object", _("Your answer must be a JSON object, in curly braces { }.")
    extra = " ".join(" ".join(part.split()) for part in around if part.strip())
    if only and extra:
        shown = f"{extra[:40]}..." if len(extra) > 40 else extra
        message = _("Your answer must be only the JSON object, but it also has the words '{words}' around it.")
        return None, "words_around", message.format(words=shown)
    return value, "", ""


def run_checks(output: str, checks: Checks, variables: dict[str, str], expected: list[str]) -> list[CheckOutcome]:
    """Every check that is set, in a fixed order, with its verdict on ``output``."""
    results: list[CheckOutcome] = []
    cs, whole = checks.case_sensitive, checks.whole_words
    text = output.strip()

    def add(name: str, ok: bool, message: str = "", reason: str = "") -> None:
        results.append(CheckOutcome(name, ok, "" if ok else message, "" if ok else reason))

    if checks.labels:
        labels = [_fill(label, variables) for label in checks.labels]
        found = labels_found(text, labels, cs, whole)
        wanted = labels_found(expected[0], labels, False) if expected else []
        if not found:
            message = one_or_list(
                labels,
                _("Your answer must be one of {item}, but it names none of them."),
                _("Your answer must be one of {items} or {last}, but it names none of them."),
            )
            add("labels", False, message, "none")
        elif len(found) > 1:
            message = _("Your answer names more than one label ({labels}); it must give exactly one.")
            add("labels", False, message.format(labels=listed(found)), "several")
        elif wanted and found[0].casefold() != wanted[0].casefold():
            message = _("Your answer says '{found}', but this case should be labelled '{wanted}'.")
            add("labels", False, message.format(found=found[0], wanted=wanted[0]), "wrong")
        else:
            add("labels", True)
    if checks.contains:
        missing = [n for n in (_fill(c, variables) for c in checks.contains) if not _has(text, n, cs, whole)]
        if missing:
            message = one_or_list(
                missing, _("Your answer must mention {item}."), _("Your answer must mention {items} and {last}.")
            )
            add("contains", False, message)
        else:
            add("contains", True)
    if checks.contains_any:
        options = [_fill(c, variables) for c in checks.contains_any]
        if any(_has(text, n, cs, whole) for n in options):
            add("contains_any", True)
        else:
            message = one_or_list(
                options,
                _("Your answer must mention at least one of {item}."),
                _("Your answer must mention at least one of {items} or {last}."),
            )
            add("contains_any", False, message)
    if checks.not_contains:
        present = [n for n in (_fill(c, variables) for c in checks.not_contains) if _has(text, n, cs, whole)]
        if present:
            message = one_or_list(
                present,
                _("Your answer must not mention {item}."),
                _("Your answer must not mention {items} and {last}."),
            )
            add("not_contains", False, message)
        else:
            add("not_contains", True)
    if checks.exact is not None:
        want = _fill(checks.exact, variables).strip()
        ok = text == want if cs else text.casefold() == want.casefold()
        add("exact", ok, _("Your answer must be exactly '{answer}' and nothing else.").format(answer=want))
    if checks.regex is not None:
        ok = re.search(_fill(checks.regex, variables), text) is not None
        if checks.explain:  # the exercise's words, which finish the sentence ("be a five-digit number")
            message = _("Your answer must {requirement}.").format(requirement=shown(checks.explain))
        else:
            message = _("Your answer must match the required pattern.")
        add("regex", ok, message)
    count = len(words(text))
    if checks.min_words is not None:
        ok = count >= checks.min_words
        add("min_words", ok, "" if ok else _length_message(text, count, checks.min_words, at_most=False))
    if checks.max_words is not None:
        ok = count <= checks.max_words
        add("max_words", ok, "" if ok else _length_message(text, count, checks.max_words, at_most=True))
    if checks.max_lines is not None:
        lines = len([line for line in text.splitlines() if line.strip()])
        message = ngettext(
            "Your answer had {count} line; at most {limit} are allowed.",
            "Your answer had {count} lines; at most {limit} are allowed.",
            lines,
        )
        add("max_lines", lines <= checks.max_lines, message.format(count=lines, limit=checks.max_lines))
    if checks.json_keys:
        value, reason, problem = _read_json(text, only=checks.json_only)
        if value is None:
            add("json_keys", False, problem, reason)
        else:
            missing = [k for k in checks.json_keys if k not in value]
            if missing:
                message = one_or_list(
                    missing,
                    _("Your JSON must have the key {item}."),
                    _("Your JSON must have the keys {items} and {last}."),
                )
                add("json_keys", False, message, "missing_keys")
            else:
                add("json_keys", True)
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
            return CheckOutcome("numbers", False, _missing_message(kind, missing, list(dict.fromkeys(found))))
    return CheckOutcome("numbers", True, "")


def _missing_message(kind: str, missing: list[str], found: list[str]) -> str:
    """The sentence when the reference's numbers (or codes) are not all in the answer: by kind, and what it says."""
    count = len(missing)
    if kind == "number" and found:
        message = ngettext(
            "The expected answer has the number {missing}, but your answer says {found}.",
            "The expected answer has the numbers {missing}, but your answer says {found}.",
            count,
        )
    elif kind == "number":
        message = ngettext(
            "The expected answer has the number {missing}, but your answer has no number.",
            "The expected answer has the numbers {missing}, but your answer has no number.",
            count,
        )
    elif found:
        message = ngettext(
            "The expected answer has the code {missing}, but your answer says {found}.",
            "The expected answer has the codes {missing}, but your answer says {found}.",
            count,
        )
    else:
        message = ngettext(
            "The expected answer has the code {missing}, but your answer has no code.",
            "The expected answer has the codes {missing}, but your answer has no code.",
            count,
        )
    return message.format(missing=listed(missing), found=listed(found))


def language_outcome(text: str, code: str) -> CheckOutcome:
    name = language_name(code)
    found = detect_language(text)
    if found == code or (code == "uk" and found == "ru"):
        return CheckOutcome("language", True, "")
    if found is None:
        message = _("Your answer must be in {language}; it could not be recognised as {language}.")
        return CheckOutcome("language", False, message.format(language=name))
    message = _("Your answer must be in {language}, but it looks like {found}.")
    return CheckOutcome("language", False, message.format(language=name, found=language_name(found)))
