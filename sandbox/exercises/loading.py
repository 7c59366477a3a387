"""Exercise and track files read into the schema, with a line number on every problem.

YAML syntax errors, pydantic's validation errors and the semantic problems of
``validation`` all become ``file:line: where: what to write instead``, written
for an instructor, not a programmer; every problem in a file is reported at once
in one :class:`~sandbox.errors.ExerciseFileError`.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ExerciseFileError
from .locations import key_line, where
from .schema import Calibration, Case, Checks, Exercise, Track
from .validation import semantic_problems

FIELD_HELP = {
    "title": "title: A short name learners will see",
    "task": "task: |\n    What the learner must make the model do",
    "cases": 'cases:\n  - input: "..."\n    expect: ["..."]',
}


def _explain(error: dict[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    name = str(loc[-1]) if loc else ""
    field = f"'{name}'"
    if len(loc) > 1 and isinstance(loc[-1], int):  # an item of a list is named by its list, never by its number
        field = f"each item of '{loc[-2]}'"
    if kind == "missing":
        example = FIELD_HELP.get(name, f"{name}: ...")
        return f"'{name}' is missing; add it, for example:\n    {example}"
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            return f"unknown field '{name}'; did you mean '{close[0]}'?"
        return f"unknown field '{name}'; the fields allowed here are: {', '.join(allowed)}"
    got = error.get("input")
    written = repr(got) if isinstance(got, str) else str(got)  # a YAML date reads 2024-06-01, not datetime.date(...)
    shown = f" (you wrote {written})" if got is not None and not isinstance(got, (dict, list)) else ""
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{field} must be a whole number{shown}"
    if kind in ("float_parsing", "float_type"):
        return f"{field} must be a number such as 0.8{shown}"
    if kind in ("bool_parsing", "bool_type"):
        return f"{field} must be true or false{shown}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"ge": "at least", "le": "at most", "gt": "more than", "lt": "less than"}
        limits = error.get("ctx", {})
        bound = " and ".join(f"{words.get(k, k)} {v}" for k, v in limits.items())
        return f"{field} is out of range{shown}: it must be {bound}"
    if kind in ("too_short", "string_too_short"):
        return f"{field} must not be empty"
    if kind in ("string_type",):
        return f"{field} must be text; put it in quotes{shown}"
    if kind in ("list_type",):
        return f'{field} must be a list, for example: {name}: ["first", "second"]'
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"{field} must be a set of 'name: value' lines indented under it"
    return f"{error['msg']}{shown}"


def _allowed_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        info = current.model_fields.get(part) if hasattr(current, "model_fields") else None
        if info is None:
            break
        annotation = info.annotation
        for candidate in (Case, Checks, Calibration):
            if candidate in _type_args(annotation):
                current = candidate
                break
    if hasattr(current, "model_fields"):
        return [n for n, f in current.model_fields.items() if not f.exclude]
    return []


def _type_args(annotation: Any) -> set[Any]:
    found = {annotation}
    for arg in getattr(annotation, "__args__", ()) or ():
        found |= _type_args(arg)
    return found


def _yaml_error(path: str, exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = getattr(exc, "problem", None) or str(exc)
    advice = "check the indentation, and put text that contains ': ' or starts with a symbol in quotes"
    if "\\t" in problem or "\t" in problem:
        advice = "use spaces, not tabs, to indent"
    elif "escape" in problem:
        advice = "inside double quotes a backslash starts an escape: write \\\\ for one backslash, or use single quotes"
    return f"{path}:{line}: YAML syntax error: {problem}; {advice}"


FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(path: Path, display: str) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ExerciseFileError(display, [f"{display}:1: the file is not UTF-8 text; save it as UTF-8"]) from None
    except OSError as exc:
        raise ExerciseFileError(display, [f"{display}:1: cannot read the file ({exc.strerror})"]) from None
    try:  # parsed once, by libyaml where PyYAML has it (a start reads every file: 5x faster)
        node = yaml.compose(text, Loader=FAST_LOADER)
        data = yaml.SafeLoader("").construct_document(node) if node is not None else None
    except yaml.YAMLError:
        try:  # the pure-Python parser's messages, which the advice above is written for
            node = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ExerciseFileError(display, [_yaml_error(display, exc)]) from None
    return data, node


def _validate(model: type[BaseModel], data: Any, node: yaml.Node | None, display: str) -> Any:
    if data is None:
        raise ExerciseFileError(
            display, [f"{display}:1: the file is empty; start from the example in exercises/README.md"]
        )
    if not isinstance(data, dict):
        raise ExerciseFileError(
            display, [f"{display}:1: the file must be a set of 'field: value' lines, starting with 'title:'"]
        )
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            line = key_line(node, loc)
            problems.append(f"{display}:{line}: {where(loc)}: {_explain(dict(error), model)}")
        raise ExerciseFileError(display, problems) from None


def load_exercise_file(path: Path, root: Path | None = None, track: str = "") -> Exercise:
    """Load one exercise file, raising :class:`ExerciseFileError` with every problem in it."""
    display = display_path(path, root)
    data, node = _parse(path, display)
    exercise: Exercise = _validate(Exercise, data, node, display)
    problems = semantic_problems(exercise, node, display)
    if problems:
        raise ExerciseFileError(display, problems)
    return exercise.model_copy(update={"id": exercise.id or path.stem, "track": track, "path": str(path)})


def load_track_file(path: Path, root: Path | None = None) -> Track:
    display = display_path(path, root)
    data, node = _parse(path, display)
    track: Track = _validate(Track, data, node, display)
    return track.model_copy(update={"id": path.parent.name})


def display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(Path(root.name) / path.relative_to(root))
        except ValueError:
            pass
    return str(path)
