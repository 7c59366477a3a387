"""Exercise and track files read into the schema, with a line number on every problem.

YAML syntax errors, pydantic's validation errors and the semantic problems of
``validation`` all become ``file:line: where: what to write instead``, written
for an instructor, not a programmer; every problem in a file is reported at once
in one :class:`~sandbox.errors.ExerciseFileError`.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import ExerciseFileError
from ..i18n import N_, _
from .locations import key_line, where
from .schema import Calibration, Case, Checks, Exercise, Track
from .translations import language_notes
from .validation import semantic_problems

FIELD_HELP = {
    "title": N_("title: A short name learners will see"),
    "task": N_("task: |\n    What the learner must make the model do"),
    "cases": 'cases:\n  - input: "..."\n    expect: ["..."]',  # no words to translate
}
"""An example of each required field, shown when it is missing (translated where shown)."""

BOUNDS = {
    "ge": N_("at least {limit}"),
    "le": N_("at most {limit}"),
    "gt": N_("more than {limit}"),
    "lt": N_("less than {limit}"),
}
"""How pydantic's limits are said ("at most 5"), translated where shown."""


def _explain(error: dict[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    name = str(loc[-1]) if loc else ""
    field = f"'{name}'"
    if len(loc) > 1 and isinstance(loc[-1], int):  # an item of a list is named by its list, never by its number
        field = _("each item of '{list_name}'").format(list_name=loc[-2])
    if kind == "missing":
        example = _(FIELD_HELP[name]) if name in FIELD_HELP else f"{name}: ..."
        return _("'{name}' is missing; add it, for example:\n    {example}").format(name=name, example=example)
    if kind == "extra_forbidden":
        allowed = _allowed_fields(model, loc[:-1])
        close = difflib.get_close_matches(name, allowed, n=1)
        if close:
            return _("unknown field '{name}'; did you mean '{close}'?").format(name=name, close=close[0])
        return _("unknown field '{name}'; the fields allowed here are: {allowed}").format(
            name=name, allowed=", ".join(allowed)
        )
    got = error.get("input")
    written = repr(got) if isinstance(got, str) else str(got)  # a YAML date reads 2024-06-01, not datetime.date(...)
    # what was written, in brackets after the problem (a clause of its own in any language)
    shown = (
        _(" (you wrote {written})").format(written=written)
        if got is not None and not isinstance(got, (dict, list))
        else ""
    )
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("{field} must be a whole number{shown}").format(field=field, shown=shown)
    if kind in ("float_parsing", "float_type"):
        return _("{field} must be a number such as 0.8{shown}").format(field=field, shown=shown)
    if kind in ("bool_parsing", "bool_type"):
        return _("{field} must be true or false{shown}").format(field=field, shown=shown)
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        limits = [_(BOUNDS[k]).format(limit=v) if k in BOUNDS else f"{k} {v}" for k, v in error.get("ctx", {}).items()]
        bound = limits[0] if limits else ""
        for more in limits[1:]:
            bound = _("{first} and {second}").format(first=bound, second=more)
        return _("{field} is out of range{shown}: it must be {bound}").format(field=field, shown=shown, bound=bound)
    if kind in ("too_short", "string_too_short"):
        return _("{field} must not be empty").format(field=field)
    if kind in ("string_type",):
        return _("{field} must be text; put it in quotes{shown}").format(field=field, shown=shown)
    if kind in ("list_type",):
        return _('{field} must be a list, for example: {name}: ["first", "second"]').format(field=field, name=name)
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return _("{field} must be a set of 'name: value' lines indented under it").format(field=field)
    ctx = error.get("ctx") or {}
    if kind == "literal_error" and "expected" in ctx:  # pydantic's words, said again so that they translate
        return _("Input should be {expected}{shown}").format(expected=_choices(str(ctx["expected"])), shown=shown)
    if kind == "value_error" and "error" in ctx:  # the format's own sentence (sandbox/exercises/schema.py)
        return f"{ctx['error']}{shown}"
    if kind == "string_pattern_mismatch" and "pattern" in ctx:
        return _("String should match pattern '{pattern}'{shown}").format(pattern=ctx["pattern"], shown=shown)
    return f"{error['msg']}{shown}"


def _choices(expected: str) -> str:
    """Pydantic's "'a', 'b' or 'c'" with the "or" in the reader's language (as written when it is not that shape)."""
    options = re.findall(r"'[^']*'", expected)
    if len(options) < 2 or f"{', '.join(options[:-1])} or {options[-1]}" != expected:
        return expected
    return _("{choices} or {last}").format(choices=", ".join(options[:-1]), last=options[-1])


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
    problem = getattr(exc, "problem", None) or str(exc)  # PyYAML's own words, in English
    advice = _("check the indentation, and put text that contains ': ' or starts with a symbol in quotes")
    if "\\t" in problem or "\t" in problem:
        advice = _("use spaces, not tabs, to indent")
    elif "escape" in problem:
        advice = _(
            "inside double quotes a backslash starts an escape: write \\\\ for one backslash, or use single quotes"
        )
    message = _("YAML syntax error: {problem}; {advice}").format(problem=problem, advice=advice)
    return f"{path}:{line}: {message}"


FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _parse(path: Path, display: str) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        message = _("the file is not UTF-8 text; save it as UTF-8")
        raise ExerciseFileError(display, [f"{display}:1: {message}"]) from None
    except OSError as exc:
        message = _("cannot read the file ({reason})").format(reason=exc.strerror)
        raise ExerciseFileError(display, [f"{display}:1: {message}"]) from None
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
        message = _("the file is empty; start from the example in exercises/README.md")
        raise ExerciseFileError(display, [f"{display}:1: {message}"])
    if not isinstance(data, dict):
        message = _("the file must be a set of 'field: value' lines, starting with 'title:'")
        raise ExerciseFileError(display, [f"{display}:1: {message}"])
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
    notes = language_notes(exercise, node, display)
    return exercise.model_copy(
        update={"id": exercise.id or path.stem, "track": track, "path": str(path), "notes": notes}
    )


def load_track_file(path: Path, root: Path | None = None) -> Track:
    display = display_path(path, root)
    data, node = _parse(path, display)
    track: Track = _validate(Track, data, node, display)
    return track.model_copy(update={"id": path.parent.name, "notes": language_notes(track, node, display)})


def display_path(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(Path(root.name) / path.relative_to(root))
        except ValueError:
            pass
    return str(path)
