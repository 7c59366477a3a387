"""Typed errors, each written for the person who can fix the problem."""

from __future__ import annotations


class SandboxError(Exception):
    """Base class. ``str(error)`` is a message a person can act on."""


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
