"""What pydantic cannot see in an exercise: placeholders, labels, regexes, rule-only cases, techniques.

Each problem names the line and says what to write instead, like the loader's.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml

from .checks import LANGUAGES, labels_found
from .locations import key_line, where
from .prompts import placeholders_in
from .schema import TECHNIQUES, Checks, Exercise

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


def semantic_problems(exercise: Exercise, node: yaml.Node | None, display: str) -> list[str]:
    """Problems pydantic cannot see: placeholders, labels, regexes, rule-only cases."""
    problems: list[str] = []

    def add(loc: tuple[Any, ...], message: str) -> None:
        problems.append(f"{display}:{key_line(node, loc)}: {where(loc)}: {message}")

    names = exercise.variable_names()
    for index, case in enumerate(exercise.cases):
        if case.input is not None and case.vars:
            add(("cases", index, "vars"), "use either 'input' or 'vars' in a case, not both")
        if set(case.variables()) != names:
            want = ", ".join(sorted(names)) or "no variables"
            have = ", ".join(sorted(case.variables())) or "no variables"
            add(("cases", index), f"every case must give the same variables as case 1 ({want}); this one gives {have}")
        for name in case.variables():
            if not re.fullmatch(r"\w+", name):
                add(("cases", index, "vars", name), f"variable name '{name}' may only use letters, digits and _")
        checks = exercise.case_checks(index)
        if not case.expect and checks.is_empty():
            add(
                ("cases", index, "expect"),
                "add reference outputs ('expect: [...]') or rule 'checks' so this case can be graded",
            )
        if checks.labels:
            found = _labels_in_expect(case.expect, checks.labels)
            if len(found) != 1:
                add(
                    ("cases", index, "expect"),
                    f"with 'labels' set, the first expected output must name exactly one of {checks.labels}; "
                    f"it names {found or 'none'}",
                )
        for key in ("checks",):
            if case.checks is not None:
                problems.extend(_check_problems(case.checks, ("cases", index, key), node, display))
    if exercise.checks is not None:
        problems.extend(_check_problems(exercise.checks, ("checks",), node, display))
    if exercise.edit in ("system", "prefill") and not exercise.user:
        add(
            ("edit",),
            f"with 'edit: {exercise.edit}', add the fixed message the model answers, for example:\n    user: \"{{input}}\"",
        )
    if exercise.edit == "prompt" and exercise.user:
        add(
            ("user",),
            "'user' is the fixed message for 'edit: system' or 'edit: prefill'; add one of those or remove 'user'",
        )
    if exercise.edit == "system" and exercise.system:
        add(("system",), "with 'edit: system' the learner writes the system prompt; remove the fixed 'system'")
    templates: list[tuple[tuple[str | int, ...], str | None]] = [(("solution",), exercise.solution)]
    templates += [(("variants", number), text) for number, text in enumerate(exercise.variants)]
    templates += [(("user",), exercise.user), (("system",), exercise.system)]
    for place, template in templates:
        if template:
            unknown = placeholders_in(template) - names
            if unknown:
                add(
                    place,
                    f"uses {_braced(unknown)}, which the cases do not define (they define {_braced(names) or 'nothing'})",
                )
    for index in range(len(exercise.cases)):
        checks = exercise.case_checks(index)
        used = set()
        for value in _check_texts(checks):
            used |= {name for name in placeholders_in(value) if not name.isdigit()}  # regex {5} is no variable
        unknown = used - set(exercise.cases[index].variables())
        if unknown:
            add(("cases", index), f"the checks use {_braced(unknown)}, which this case does not define")
        if checks.language is not None and checks.language not in LANGUAGES:
            own = exercise.cases[index].checks
            loc = ("cases", index, "checks", "language") if own and own.language else ("checks", "language")
            add(
                loc,
                f"language '{checks.language}' is not one the check knows; use one of: {', '.join(sorted(LANGUAGES))}",
            )
    if exercise.technique is not None and exercise.technique not in TECHNIQUES:
        close = difflib.get_close_matches(exercise.technique, list(TECHNIQUES), n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        add(
            ("technique",),
            f"'{exercise.technique}' is not a technique the app knows; {hint}use one of: {', '.join(TECHNIQUES)}",
        )
    if exercise.id and not ID_PATTERN.match(exercise.id):
        add(("id",), f"'{exercise.id}' is not a valid id; use lower-case letters, digits, '-' and '_'")
    return problems


def _braced(names: set[str]) -> str:
    return ", ".join("{" + n + "}" for n in sorted(names))


def _check_texts(checks: Checks) -> list[str]:
    texts: list[str] = []
    for key in ("contains", "contains_any", "not_contains", "labels"):
        texts.extend(getattr(checks, key) or [])
    for key in ("exact", "regex"):
        if getattr(checks, key):
            texts.append(getattr(checks, key))
    return texts


def _check_problems(checks: Checks, loc: tuple[Any, ...], node: yaml.Node | None, display: str) -> list[str]:
    problems = []
    if checks.regex is not None:
        try:
            re.compile(checks.regex)
        except re.error as exc:
            line = key_line(node, (*loc, "regex"))
            problems.append(
                f"{display}:{line}: {where((*loc, 'regex'))}: the pattern does not compile ({exc}); fix it or use 'contains'"
            )
        if not checks.explain:
            line = key_line(node, (*loc, "regex"))
            problems.append(
                f"{display}:{line}: {where((*loc, 'regex'))}: add 'explain:' with what the pattern asks for, "
                "in words a learner understands (it is shown instead of the pattern)"
            )
    if checks.min_words and checks.max_words and checks.min_words > checks.max_words:
        line = key_line(node, (*loc, "min_words"))
        problems.append(f"{display}:{line}: {where((*loc, 'min_words'))}: min_words is larger than max_words")
    return problems


def _labels_in_expect(expect: list[str], labels: list[str]) -> list[str]:
    if not expect:
        return []
    return labels_found(expect[0], labels, case_sensitive=False)
