"""Turn a learner's prompt and a case's variables into the text the model reads.

Policy (documented in exercises/README.md): a placeholder such as ``{input}`` is
replaced by the case's text. A prompt that has *no* placeholder for a variable
still runs: the case text is added at the end, and the learner is told so. A
placeholder the case does not define is an error that names it. ``{{`` and ``}}``
stand for literal braces.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ..errors import PromptError

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\w+)\}")

# Control characters other than tab and newline confuse tokenizers and terminals.
_CONTROL = {c for c in map(chr, range(32)) if c not in "\t\n"} | {"\x7f"}


def placeholders_in(template: str) -> set[str]:
    return {m.group(1) for m in PLACEHOLDER.finditer(template) if m.group(1)}


def clean_text(text: str) -> str:
    """Normalise what came from a browser or a file: NFC, no control characters, ``\\n`` line ends."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text)
    return "".join(ch for ch in text if ch not in _CONTROL)


@dataclass
class RenderedPrompt:
    text: str
    appended: list[str] = field(default_factory=list)
    """Variables that had no placeholder and were added at the end."""

    def note(self) -> str:
        if not self.appended:
            return ""
        names = ", ".join("{" + n + "}" for n in self.appended)
        return f"Your prompt had no {names}, so the case text was added at the end of it."


def visible(ch: str) -> bool:
    """Whether a character shows on screen: not a space, a control or format character (U+200B, U+2060, ...)."""
    return not unicodedata.category(ch).startswith(("Z", "C"))


def check_prompt(template: str, variables: set[str], max_chars: int) -> str:
    """Clean a prompt and raise :class:`PromptError` if it cannot run; returns the cleaned prompt."""
    text = clean_text(template).strip()
    if not any(visible(ch) for ch in text):  # empty, or only spaces and invisible marks (zero-width spaces)
        hint = " Put {input} where the case text should go." if "input" in variables else ""
        raise PromptError(f"Your prompt is empty. Write an instruction for the model.{hint}")
    unknown = placeholders_in(text) - variables
    if unknown:
        used = ", ".join("{" + u + "}" for u in sorted(unknown))
        known = ", ".join("{" + v + "}" for v in sorted(variables))
        offer = f" This exercise gives you {known}." if known else " This exercise has no case text to fill in."
        raise PromptError(
            f"Your prompt uses {used}, which this exercise does not have.{offer} "
            "To show braces literally, write them twice: {{ and }}."
        )
    if len(text) > max_chars:
        raise PromptError(f"Your prompt is {len(text):,} characters long; the limit is {max_chars:,}. Make it shorter.")
    return text


def fill(template: str, variables: dict[str, str]) -> str:
    """Replace known placeholders; ``{{``/``}}`` become braces, unknown names stay as written."""

    def substitute(match: re.Match[str]) -> str:
        token = match.group(0)
        if token in ("{{", "}}"):
            return token[0]
        name = match.group(1)
        return clean_text(variables[name]) if name in variables else token

    return PLACEHOLDER.sub(substitute, template)


def render(template: str, variables: dict[str, str], max_chars: int, append_missing: bool = True) -> RenderedPrompt:
    """Fill a (checked) prompt with one case's variables; missing ones are appended unless told not to."""
    text = check_prompt(template, set(variables), max_chars)
    used = placeholders_in(text)
    rendered = fill(text, variables)
    missing = [name for name in variables if name not in used] if append_missing else []
    if missing:
        if missing == ["input"]:
            tail = clean_text(variables["input"])
        else:
            tail = "\n".join(f"{name}: {clean_text(variables[name])}" for name in missing)
        rendered = f"{rendered}\n\n{tail}"
    if len(rendered) > max_chars:
        raise PromptError(
            f"With the case text filled in, your prompt is {len(rendered):,} characters long; "
            f"the limit is {max_chars:,}. Make it shorter."
        )
    return RenderedPrompt(text=rendered, appended=missing)
