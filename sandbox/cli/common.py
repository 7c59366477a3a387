"""What every command shares: clean error messages, the settings with a command's overrides, finding an exercise."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from ..config import Settings, load_settings
from ..errors import ExerciseFileError, SandboxError

if TYPE_CHECKING:
    from ..exercises.schema import Exercise

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SandboxError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def settings_for(exercises: Path | None = None, data: Path | None = None) -> Settings:
    return load_settings().with_overrides(exercises_dir=exercises, data_dir=data)


def find_exercise(ref: str, settings: Settings) -> Exercise:
    """An exercise by id or by the path of its file; a broken file is an error that lists its problems."""
    from ..exercises.catalog import load_catalog
    from ..exercises.loading import load_exercise_file

    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        try:
            return load_exercise_file(path)
        except ExerciseFileError as exc:
            raise SandboxError(f"The exercise file is broken:\n{exc}") from None
    catalog = load_catalog(settings.exercises_dir)
    for broken in catalog.broken:
        if Path(broken.path).stem == ref:
            raise SandboxError("The exercise file is broken:\n" + "\n".join(broken.problems))
    return catalog.find(ref)
