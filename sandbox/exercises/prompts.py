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
from ..i18n import _

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
        return _("Your prompt had no {names}, so the case text was added at the end of it.").format(names=names)


def visible(ch: str) -> bool:
    """Whether a character shows on screen: not a space, a control or format character (U+200B, U+2060, ...)."""
    return not unicodedata.category(ch).startswith(("Z", "C"))


def check_prompt(template: str, variables: set[str], max_chars: int) -> str:
    """Clean a prompt and raise :class:`PromptError` if it cannot run; returns the cleaned prompt."""
    text = clean_text(template).strip()
    if not any(visible(ch) for ch in text):  # empty, or only spaces and invisible marks (zero-width spaces)
        if "input" in variables:  # not formatted: the braces of {input} are written once
            raise PromptError(
                _(
                    "Your prompt is empty. Write an instruction for the model. Put {input} where the case text should go."
                )
            )
        raise PromptError(_("Your prompt is empty. Write an instruction for the model."))
    unknown = placeholders_in(text) - variables
    if unknown:
        used = ", ".join("{" + u + "}" for u in sorted(unknown))
        known = ", ".join("{" + v + "}" for v in sorted(variables))
        if known:
            message = _(
                "Your prompt uses {used}, which this exercise does not have. This exercise gives you {known}. "
                "To show braces literally, write them twice: {{{{ and }}}}."
            )
        else:
            message = _(
                "Your prompt uses {used}, which this exercise does not have. "
                "This exercise has no case text to fill in. "
                "To show braces literally, write them twice: {{{{ and }}}}."
            )
        raise PromptError(message.format(used=used, known=known))
    if len(text) > max_chars:
        raise PromptError(
            _("Your prompt is {length:,} characters long; the limit is {limit:,}. Make it shorter.").format(
                length=len(text), limit=max_chars
            )
        )
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
            _(
                "With the case text filled in, your prompt is {length:,} characters long; "
                "the limit is {limit:,}. Make it shorter."
            ).format(length=len(rendered), limit=max_chars)
        )
    return RenderedPrompt(text=rendered, appended=missing)
