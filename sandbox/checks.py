"""Rule checks on a model's answer, each failure explained in one plain sentence.

Embedding similarity cannot tell "positive" from "negative" or "3 days" from
"30 days"; these checks can, and their messages tell the learner why an answer
that looks close did not pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .exercises import Checks
from .prompts import PLACEHOLDER

WORD = re.compile(r"\w+(?:['’-]\w+)*")
NUMBER = re.compile(r"(?<![\w.])-?\d+(?:[.,]\d+)*(?![\w])")
FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(.*?)\n?```$", re.DOTALL)


@dataclass(frozen=True)
class CheckOutcome:
    name: str
    passed: bool
    message: str
    """For a failure: one sentence the learner reads. Empty when passed."""


def words(text: str) -> list[str]:
    return WORD.findall(text)


def numbers_in(text: str) -> list[str]:
    return [n.replace(",", "") for n in NUMBER.findall(text)]


def _has(text: str, needle: str, case_sensitive: bool) -> bool:
    if case_sensitive:
        return needle in text
    return needle.casefold() in text.casefold()


def labels_found(text: str, labels: list[str], case_sensitive: bool) -> list[str]:
    flags = 0 if case_sensitive else re.IGNORECASE
    return [label for label in labels if re.search(rf"(?<!\w){re.escape(label)}(?!\w)", text, flags)]


def _fill(value: str, variables: dict[str, str]) -> str:
    def sub(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        return variables.get(match.group(1), token)

    return PLACEHOLDER.sub(sub, value)


def _quote(items: list[str], joiner: str = "or") -> str:
    quoted = [f"'{i}'" for i in items]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + f" {joiner} " + quoted[-1]


def parse_json_object(text: str) -> tuple[dict[str, object] | None, str]:
    """The answer as a JSON object (a ```json fence around it is allowed), or why not."""
    stripped = text.strip()
    fenced = FENCE.match(stripped)
    if fenced:
        stripped = fenced.group(1).strip()
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        return None, f"Your answer is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})."
    if not isinstance(value, dict):
        return None, "Your answer must be a JSON object, in curly braces { }."
    return value, ""


def run_checks(output: str, checks: Checks, variables: dict[str, str], expected: list[str]) -> list[CheckOutcome]:
    """Every check that is set, in a fixed order, with its verdict on ``output``."""
    results: list[CheckOutcome] = []
    cs = checks.case_sensitive
    text = output.strip()

    def add(name: str, ok: bool, message: str) -> None:
        results.append(CheckOutcome(name, ok, "" if ok else message))

    if checks.labels:
        labels = [_fill(label, variables) for label in checks.labels]
        found = labels_found(text, labels, cs)
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
        missing = [n for n in (_fill(c, variables) for c in checks.contains) if not _has(text, n, cs)]
        add("contains", not missing, f"Your answer must mention {_quote(missing, 'and')}." if missing else "")
    if checks.contains_any:
        options = [_fill(c, variables) for c in checks.contains_any]
        ok = any(_has(text, n, cs) for n in options)
        add("contains_any", ok, f"Your answer must mention at least one of {_quote(options)}.")
    if checks.not_contains:
        present = [n for n in (_fill(c, variables) for c in checks.not_contains) if _has(text, n, cs)]
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
            f"Your answer had {count} words; at least {checks.min_words} are needed.",
        )
    if checks.max_words is not None:
        add(
            "max_words",
            count <= checks.max_words,
            f"Your answer had {count} words; at most {checks.max_words} are allowed.",
        )
    if checks.max_lines is not None:
        lines = len([line for line in text.splitlines() if line.strip()])
        add(
            "max_lines",
            lines <= checks.max_lines,
            f"Your answer had {lines} lines; at most {checks.max_lines} are allowed.",
        )
    if checks.json_keys:
        value, problem = parse_json_object(text)
        if value is None:
            add("json_keys", False, problem)
        else:
            missing = [k for k in checks.json_keys if k not in value]
            add(
                "json_keys",
                not missing,
                f"Your JSON must have the key{'s' if len(missing) > 1 else ''} {_quote(missing)}.",
            )
    return results


def numbers_outcome(output: str, reference: str) -> CheckOutcome:
    """The numbers in the closest reference must all appear in the answer ("3 days" is not "30 days")."""
    wanted = numbers_in(reference)
    if not wanted:
        return CheckOutcome("numbers", True, "")
    have = set(numbers_in(output))
    missing = [n for n in wanted if n not in have]
    if not missing:
        return CheckOutcome("numbers", True, "")
    said = numbers_in(output)
    got = f" but your answer says {', '.join(said)}" if said else " but your answer has no number"
    return CheckOutcome("numbers", False, f"The expected answer has the number {', '.join(missing)},{got}.")
