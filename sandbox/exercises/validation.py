"""What pydantic cannot see in an exercise: placeholders, labels, regexes, rule-only cases, techniques.

Each problem names the line and says what to write instead, like the loader's.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

import yaml

from ..i18n import _
from .checks import labels_found
from .languages import LANGUAGES
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
            add(("cases", index, "vars"), _("use either 'input' or 'vars' in a case, not both"))
        if set(case.variables()) != names:
            want = ", ".join(sorted(names)) or _("no variables")
            have = ", ".join(sorted(case.variables())) or _("no variables")
            add(
                ("cases", index),
                _("every case must give the same variables as case 1 ({want}); this one gives {have}").format(
                    want=want, have=have
                ),
            )
        for name in case.variables():
            if not re.fullmatch(r"\w+", name):
                add(
                    ("cases", index, "vars", name),
                    _("variable name '{name}' may only use letters, digits and _").format(name=name),
                )
        checks = exercise.case_checks(index)
        if not case.expect and checks.is_empty():
            add(
                ("cases", index, "expect"),
                _("add reference outputs ('expect: [...]') or rule 'checks' so this case can be graded"),
            )
        if checks.labels:
            found = _labels_in_expect(case.expect, checks.labels)
            if len(found) != 1:
                if found:
                    message = _(
                        "with 'labels' set, the first expected output must name exactly one of {labels}; "
                        "it names {found}"
                    )
                else:
                    message = _(
                        "with 'labels' set, the first expected output must name exactly one of {labels}; it names none"
                    )
                add(("cases", index, "expect"), message.format(labels=checks.labels, found=found))
        for key in ("checks",):
            if case.checks is not None:
                problems.extend(_check_problems(case.checks, ("cases", index, key), node, display))
    if exercise.checks is not None:
        problems.extend(_check_problems(exercise.checks, ("checks",), node, display))
    if exercise.edit in ("system", "prefill") and not exercise.user:
        add(
            ("edit",),
            _(
                "with 'edit: {edit}', add the fixed message the model answers, for example:\n    user: \"{{input}}\""
            ).format(edit=exercise.edit),
        )
    if exercise.edit == "prompt" and exercise.user:
        add(
            ("user",),
            _("'user' is the fixed message for 'edit: system' or 'edit: prefill'; add one of those or remove 'user'"),
        )
    if exercise.edit == "system" and exercise.system:
        add(("system",), _("with 'edit: system' the learner writes the system prompt; remove the fixed 'system'"))
    templates: list[tuple[tuple[str | int, ...], str | None]] = [(("solution",), exercise.solution)]
    templates += [(("variants", number), text) for number, text in enumerate(exercise.variants)]
    templates += [(("user",), exercise.user), (("system",), exercise.system)]
    for place, template in templates:
        if template:
            unknown = placeholders_in(template) - names
            if unknown:
                if names:
                    message = _("uses {unknown}, which the cases do not define (they define {defined})")
                else:
                    message = _("uses {unknown}, which the cases do not define (they define nothing)")
                add(place, message.format(unknown=_braced(unknown), defined=_braced(names)))
    for index in range(len(exercise.cases)):
        checks = exercise.case_checks(index)
        used = set()
        for value in _check_texts(checks):
            used |= {name for name in placeholders_in(value) if not name.isdigit()}  # regex {5} is no variable
        unknown = used - set(exercise.cases[index].variables())
        if unknown:
            add(
                ("cases", index),
                _("the checks use {unknown}, which this case does not define").format(unknown=_braced(unknown)),
            )
        if checks.language is not None and checks.language not in LANGUAGES:
            own = exercise.cases[index].checks
            loc = ("cases", index, "checks", "language") if own and own.language else ("checks", "language")
            add(
                loc,
                _("language '{language}' is not one the check knows; use one of: {languages}").format(
                    language=checks.language, languages=", ".join(sorted(LANGUAGES))
                ),
            )
    if exercise.technique is not None and exercise.technique not in TECHNIQUES:
        close = difflib.get_close_matches(exercise.technique, list(TECHNIQUES), n=1)
        if close:
            message = _(
                "'{technique}' is not a technique the app knows; did you mean '{close}'? use one of: {techniques}"
            )
        else:
            message = _("'{technique}' is not a technique the app knows; use one of: {techniques}")
        add(
            ("technique",),
            message.format(
                technique=exercise.technique, close=close[0] if close else "", techniques=", ".join(TECHNIQUES)
            ),
        )
    if exercise.id and not ID_PATTERN.match(exercise.id):
        add(
            ("id",),
            _("'{id}' is not a valid id; use lower-case letters, digits, '-' and '_'").format(id=exercise.id),
        )
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
            message = _("the pattern does not compile ({error}); fix it or use 'contains'").format(error=exc)
            problems.append(f"{display}:{line}: {where((*loc, 'regex'))}: {message}")
        if not checks.explain:
            line = key_line(node, (*loc, "regex"))
            message = _(
                "add 'explain:' with what the pattern asks for, "
                "in words a learner understands (it is shown instead of the pattern)"
            )
            problems.append(f"{display}:{line}: {where((*loc, 'regex'))}: {message}")
    if checks.min_words and checks.max_words and checks.min_words > checks.max_words:
        line = key_line(node, (*loc, "min_words"))
        message = _("min_words is larger than max_words")
        problems.append(f"{display}:{line}: {where((*loc, 'min_words'))}: {message}")
    return problems


def _labels_in_expect(expect: list[str], labels: list[str]) -> list[str]:
    if not expect:
        return []
    return labels_found(expect[0], labels, case_sensitive=False)
