"""Typed errors, each written for the person who can fix the problem."""

from __future__ import annotations

from .i18n import _


class SandboxError(Exception):
    """Base class. ``str(error)`` is a message a person can act on, in the language of whoever reads it.

    An error raised where no page's language is known (the model's own thread) is best given as
    the English text marked with ``N_`` and its fields: ``ModelError(N_("... {url} ..."), url=url)``.
    It is then translated when it is read (``str(error)`` on the page), not when it is raised.
    """

    def __init__(self, message: object = "", /, **fields: object) -> None:
        self.message = str(message)
        self.fields = fields
        super().__init__(self.message.format(**fields) if fields else self.message)

    def __str__(self) -> str:
        text = _(self.message)
        return text.format(**self.fields) if self.fields else text


class ExerciseFileError(SandboxError):
    """An exercise file (or track file) is broken. Carries one line per problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(problems))


class ExerciseNotFound(SandboxError):
    """No exercise has the id or path that was asked for."""


class PromptError(SandboxError):
    """The learner's prompt cannot be run (empty, too long, unknown placeholder)."""


class ModelError(SandboxError):
    """A model manifest is wrong, its weights are missing or do not match, or it failed to load."""


class StoreError(SandboxError):
    """The progress database cannot be used."""
