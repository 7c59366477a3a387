"""Notes on an instructor's texts written in several languages: which language a text lacks.

A text may be a mapping by language (``task: {en: ..., zh: ...}``); one that lacks
a language of the interface is shown in the language it has, and the instructor
gets a note (not a problem: the file loads) naming the line and what to add.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..i18n import LANGUAGES, Localized, _
from .locations import key_line, where
from .schema import Exercise, Track


def _texts(model: Exercise | Track) -> list[tuple[tuple[Any, ...], str]]:
    found: list[tuple[tuple[Any, ...], str]] = [(("title",), model.title)]
    if isinstance(model, Track):
        return [*found, (("intro",), model.intro)]
    found += [(("task",), model.task), *((("hints", i), hint) for i, hint in enumerate(model.hints))]
    if model.checks is not None and model.checks.explain:
        found.append((("checks", "explain"), model.checks.explain))
    for index, case in enumerate(model.cases):
        if case.checks is not None and case.checks.explain:
            found.append((("cases", index, "checks", "explain"), case.checks.explain))
    return found


def language_notes(model: Exercise | Track, node: yaml.Node | None, display: str) -> list[str]:
    """One note per text written by language that lacks one of the interface's languages."""
    notes = []
    for loc, text in _texts(model):
        if not isinstance(text, Localized):
            continue
        for missing in text.missing():
            has = next(iter(text.texts))
            message = _(
                "no {missing} text ({language}); readers in that language see the {has} one. "
                "Add a '{missing}:' line to it."
            ).format(missing=missing, language=LANGUAGES[missing], has=has)
            notes.append(f"{display}:{key_line(node, loc)}: {where(loc)}: {message}")
    return notes
