"""Load and validate exercise files (the instructors' contract, see exercises/README.md).

Every problem is reported as ``file:line: where: what to write instead``; a broken
file is kept aside as :class:`BrokenFile` and never stops the other files loading.
Files are re-read when they change (their size or modification time), so an
instructor who drops a new file into ``exercises/`` sees it without a restart.
"""

from __future__ import annotations

import difflib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .errors import ExerciseFileError, ExerciseNotFound
from .prompts import placeholders_in

TRACK_FILE = "track.yaml"
EXERCISE_SUFFIXES = (".yaml", ".yml")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

Text = Annotated[str, Field(min_length=1)]

TECHNIQUES = {
    "instructions": "Clear instructions and output format",
    "role": "Role and audience",
    "grounding": "Grounding the answer in given text",
    "few-shot": "Few-shot examples",
    "structured": "Structured output",
    "classification": "Labelling and classification",
    "extraction": "Extraction",
    "rewriting": "Summarising and rewriting",
    "steps": "Breaking a task into steps",
    "system-prompt": "The system prompt",
    "prefill": "Starting the model's answer",
}
"""The prompting techniques an exercise can teach (``technique:``), with the name learners see."""


def _as_list(value: Any) -> Any:
    """Let an instructor write a single string where a list is expected."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return [str(value)]
    return value


class Checks(BaseModel):
    """Rule checks run on a case's output, in plain words for the learner when they fail."""

    model_config = ConfigDict(extra="forbid")

    contains: list[Text] | None = None
    """Every one of these must appear in the answer."""
    contains_any: list[Text] | None = None
    """At least one of these must appear."""
    not_contains: list[Text] | None = None
    """None of these may appear."""
    case_sensitive: bool = False
    """Whether contains / contains_any / not_contains / exact compare letter case."""
    exact: str | None = None
    """The whole answer, after trimming spaces, must be exactly this."""
    regex: str | None = None
    """The answer must match this regular expression (searched anywhere)."""
    explain: str | None = None
    """What the regex asks for, in words; shown to the learner instead of the pattern."""
    min_words: Annotated[int, Field(ge=1)] | None = None
    max_words: Annotated[int, Field(ge=1)] | None = None
    max_lines: Annotated[int, Field(ge=1)] | None = None
    labels: list[Text] | None = None
    """Exactly one of these labels must appear, and it must be the case's expected one."""
    json_keys: list[Text] | None = None
    """The answer must be a JSON object with (at least) these keys."""
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    """The answer must be mainly in this language (a two-letter code such as es; see checks.LANGUAGES)."""

    @field_validator("contains", "contains_any", "not_contains", "labels", "json_keys", mode="before")
    @classmethod
    def _lists(cls, value: Any) -> Any:
        return _as_list(value)

    def merged(self, other: Checks | None) -> Checks:
        """This exercise-level set with a case's own checks added (the case wins on single values)."""
        if other is None:
            return self
        data = self.model_dump()
        for key, value in other.model_dump(exclude_unset=True).items():
            if isinstance(value, list) and isinstance(data.get(key), list):
                data[key] = [*data[key], *value]
            else:
                data[key] = value
        return Checks.model_validate(data)

    def is_empty(self) -> bool:
        return not any(
            value is not None for key, value in self.model_dump().items() if key not in ("case_sensitive", "explain")
        )


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: str | None = None
    """Replaces ``{input}`` in the learner's prompt."""
    vars: dict[str, str] | None = None
    """Named variables instead of ``input``: ``{review}``, ``{product}``..."""
    expect: list[Text] = Field(default_factory=list)
    """One or more reference outputs; the closest one counts."""
    hidden: bool = False
    """Graded, but never shown to the learner."""
    checks: Checks | None = None
    """Checks for this case only, added to the exercise's checks."""

    @field_validator("expect", mode="before")
    @classmethod
    def _expect_list(cls, value: Any) -> Any:
        return _as_list(value)

    @field_validator("vars", mode="before")
    @classmethod
    def _vars_as_text(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: (str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v) for k, v in value.items()
            }
        return value

    def variables(self) -> dict[str, str]:
        if self.vars:
            return dict(self.vars)
        if self.input is not None:
            return {"input": self.input}
        return {}


class Calibration(BaseModel):
    """Which models an exercise's threshold was calibrated on (written by `prompt-sandbox calibrate --write`)."""

    model_config = ConfigDict(extra="forbid")

    generator: str
    generator_hash: str
    embedder: str
    embedder_hash: str
    date: str = ""
    """When the calibration was made (YYYY-MM-DD)."""


class Exercise(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ""
    """Defaults to the file name without ``.yaml``."""
    title: Text
    difficulty: Annotated[int, Field(ge=1, le=5)] = 1
    task: Text
    cases: Annotated[list[Case], Field(min_length=1)]
    checks: Checks | None = None
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    hints: list[Text] = Field(default_factory=list)
    hints_after: Annotated[int, Field(ge=1, le=20)] = 1
    """Failed attempts that unlock each next hint."""
    solution: str | None = None
    counterexamples: list[Text] = Field(default_factory=list)
    """Prompts the author expects to fail (the naive approach the exercise teaches against)."""
    edit: Literal["prompt", "system", "prefill"] = "prompt"
    """What the learner writes: the prompt (default), the system prompt, or the start of the answer."""
    user: str | None = None
    """The fixed user message when the learner edits the system prompt or the prefill."""
    system: str | None = None
    """A fixed system prompt, for exercises where the learner edits the prompt or the prefill."""
    max_new_tokens: Annotated[int, Field(ge=1, le=1024)] | None = None
    match_numbers: bool = True
    """When the closest reference has numbers, the answer must have the same numbers."""
    calibrated: Calibration | None = None
    technique: str | None = None
    """The prompting technique the exercise teaches; one of TECHNIQUES."""

    # Filled in by the loader, never by the file.
    track: str = Field(default="", exclude=True)
    path: str = Field(default="", exclude=True)

    @field_validator("hints", mode="before")
    @classmethod
    def _hints_list(cls, value: Any) -> Any:
        return _as_list(value)

    def case_checks(self, index: int) -> Checks:
        base = self.checks or Checks()
        return base.merged(self.cases[index].checks)

    def variable_names(self) -> set[str]:
        return set(self.cases[0].variables())

    def visible_cases(self) -> list[tuple[int, Case]]:
        return [(i, c) for i, c in enumerate(self.cases) if not c.hidden]

    def threshold_or(self, default: float) -> float:
        return self.threshold if self.threshold is not None else default


class Track(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ""
    title: Text
    order: int = 100
    intro: str = ""
    """A short introduction shown above the track's exercises (Markdown)."""


@dataclass
class BrokenFile:
    path: str
    problems: list[str]


@dataclass
class Catalog:
    """Everything loaded from one exercises folder."""

    root: Path
    tracks: list[Track] = field(default_factory=list)
    exercises: dict[str, Exercise] = field(default_factory=dict)
    broken: list[BrokenFile] = field(default_factory=list)

    def track(self, track_id: str) -> Track | None:
        return next((t for t in self.tracks if t.id == track_id), None)

    def in_order(self) -> list[Exercise]:
        """Every exercise in the order the app lists them: by track, then by difficulty."""
        return [e for track in self.tracks for e in self.in_track(track.id)]

    def in_track(self, track_id: str) -> list[Exercise]:
        items = [e for e in self.exercises.values() if e.track == track_id]
        return sorted(items, key=lambda e: (e.difficulty, e.title.casefold()))

    def find(self, ref: str) -> Exercise:
        """An exercise by id, or by the path of its file."""
        if ref in self.exercises:
            return self.exercises[ref]
        candidate = Path(ref)
        if candidate.suffix in EXERCISE_SUFFIXES:
            wanted = candidate.resolve()
            for exercise in self.exercises.values():
                if Path(exercise.path).resolve() == wanted:
                    return exercise
        close = difflib.get_close_matches(ref, list(self.exercises), n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise ExerciseNotFound(
            f"No exercise '{ref}' in {self.root}.{hint} `prompt-sandbox check` lists problems with the files."
        )


# ---------------------------------------------------------------------------
# Turning YAML into models, with line numbers on every problem


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> tuple[yaml.Node | None, bool]:
    """The deepest node along ``loc``; the flag says whether the whole path was found."""
    current = node
    for part in loc:
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if key_node.value == part:
                    current = value_node
                    break
            else:
                return current, False
        elif isinstance(current, yaml.SequenceNode) and isinstance(part, int):
            if part < len(current.value):
                current = current.value[part]
            else:
                return current, False
        else:
            return current, False
    return current, True


def _key_line(node: yaml.Node | None, loc: tuple[Any, ...]) -> int:
    """1-based line of the key named by ``loc`` (or of its nearest parent)."""
    if not loc:
        return (node.start_mark.line + 1) if node is not None else 1
    parent, found = _node_at(node, loc[:-1])
    if found and isinstance(parent, yaml.MappingNode):
        for key_node, _ in parent.value:
            if key_node.value == loc[-1]:
                return key_node.start_mark.line + 1
    target, _ = _node_at(node, loc)
    return (target.start_mark.line + 1) if target is not None else 1


def _where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for i, part in enumerate(loc):
        if isinstance(part, int) and i > 0 and loc[i - 1] == "cases":
            parts[-1] = f"case {part + 1}"
        elif isinstance(part, int):
            parts.append(f"item {part + 1}")
        else:
            parts.append(str(part))
    return " > ".join(parts) if parts else "file"


FIELD_HELP = {
    "title": "title: A short name learners will see",
    "task": "task: |\n    What the learner must make the model do",
    "cases": 'cases:\n  - input: "..."\n    expect: ["..."]',
}


def _explain(error: dict[str, Any], model: type[BaseModel]) -> str:
    kind = error["type"]
    loc = tuple(error["loc"])
    name = str(loc[-1]) if loc else ""
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
    shown = f" (you wrote {got!r})" if got is not None and not isinstance(got, (dict, list)) else ""
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"'{name}' must be a whole number{shown}"
    if kind in ("float_parsing", "float_type"):
        return f"'{name}' must be a number such as 0.8{shown}"
    if kind in ("bool_parsing", "bool_type"):
        return f"'{name}' must be true or false{shown}"
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        words = {"ge": "at least", "le": "at most", "gt": "more than", "lt": "less than"}
        limits = error.get("ctx", {})
        bound = " and ".join(f"{words.get(k, k)} {v}" for k, v in limits.items())
        return f"'{name}' is out of range{shown}: it must be {bound}"
    if kind in ("too_short", "string_too_short"):
        return f"'{name}' must not be empty"
    if kind in ("string_type",):
        return f"'{name}' must be text; put it in quotes{shown}"
    if kind in ("list_type",):
        return f'\'{name}\' must be a list, for example: {name}: ["first", "second"]'
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"'{name}' must be a set of 'name: value' lines indented under it"
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


def _parse(path: Path, display: str) -> tuple[Any, yaml.Node | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ExerciseFileError(display, [f"{display}:1: the file is not UTF-8 text; save it as UTF-8"]) from None
    except OSError as exc:
        raise ExerciseFileError(display, [f"{display}:1: cannot read the file ({exc.strerror})"]) from None
    try:
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
            line = _key_line(node, loc)
            problems.append(f"{display}:{line}: {_where(loc)}: {_explain(dict(error), model)}")
        raise ExerciseFileError(display, problems) from None


def _semantic_problems(exercise: Exercise, node: yaml.Node | None, display: str) -> list[str]:
    """Problems pydantic cannot see: placeholders, labels, regexes, rule-only cases."""
    problems: list[str] = []

    def add(loc: tuple[Any, ...], message: str) -> None:
        problems.append(f"{display}:{_key_line(node, loc)}: {_where(loc)}: {message}")

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
    for field_name in ("solution", "user", "system"):
        template = getattr(exercise, field_name)
        if template:
            unknown = placeholders_in(template) - names
            if unknown:
                add(
                    (field_name,),
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
        if checks.language is not None:
            from .checks import LANGUAGES

            if checks.language not in LANGUAGES:
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
            line = _key_line(node, (*loc, "regex"))
            problems.append(
                f"{display}:{line}: {_where((*loc, 'regex'))}: the pattern does not compile ({exc}); fix it or use 'contains'"
            )
        if not checks.explain:
            line = _key_line(node, (*loc, "regex"))
            problems.append(
                f"{display}:{line}: {_where((*loc, 'regex'))}: add 'explain:' with what the pattern asks for, "
                "in words a learner understands (it is shown instead of the pattern)"
            )
    if checks.min_words and checks.max_words and checks.min_words > checks.max_words:
        line = _key_line(node, (*loc, "min_words"))
        problems.append(f"{display}:{line}: {_where((*loc, 'min_words'))}: min_words is larger than max_words")
    return problems


def _labels_in_expect(expect: list[str], labels: list[str]) -> list[str]:
    if not expect:
        return []
    from .checks import labels_found

    return labels_found(expect[0], labels, case_sensitive=False)


def load_exercise_file(path: Path, root: Path | None = None, track: str = "") -> Exercise:
    """Load one exercise file, raising :class:`ExerciseFileError` with every problem in it."""
    display = _display(path, root)
    data, node = _parse(path, display)
    exercise: Exercise = _validate(Exercise, data, node, display)
    problems = _semantic_problems(exercise, node, display)
    if problems:
        raise ExerciseFileError(display, problems)
    return exercise.model_copy(update={"id": exercise.id or path.stem, "track": track, "path": str(path)})


def load_track_file(path: Path, root: Path | None = None) -> Track:
    display = _display(path, root)
    data, node = _parse(path, display)
    track: Track = _validate(Track, data, node, display)
    return track.model_copy(update={"id": path.parent.name})


def _display(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return str(Path(root.name) / path.relative_to(root))
        except ValueError:
            pass
    return str(path)


_cache_lock = threading.Lock()
_file_cache: dict[Path, tuple[tuple[int, int], Any]] = {}


def _cached(path: Path, loader: Any) -> Any:
    """Parse a file once per (size, mtime); returns the object or the error it raised."""
    stat = path.stat()
    signature = (stat.st_size, stat.st_mtime_ns)
    with _cache_lock:
        hit = _file_cache.get(path)
        if hit is not None and hit[0] == signature:
            return hit[1]
    try:
        result: Any = loader()
    except ExerciseFileError as exc:
        result = exc
    with _cache_lock:
        _file_cache[path] = (signature, result)
    return result


def load_catalog(root: Path) -> Catalog:
    """Load every exercise and track under ``root``. Never raises for a broken file."""
    root = Path(root)
    catalog = Catalog(root=root)
    if not root.is_dir():
        catalog.broken.append(
            BrokenFile(
                str(root), [f"{root}: the exercises folder does not exist; create it or set PROMPT_SANDBOX_EXERCISES"]
            )
        )
        return catalog
    tracks: dict[str, Track] = {}
    files = sorted(p for p in root.rglob("*") if p.suffix in EXERCISE_SUFFIXES and p.is_file())
    for path in files:
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        track_id = relative.parts[0] if len(relative.parts) > 1 else ""
        if path.name == TRACK_FILE:
            loaded = _cached(path, lambda p=path: load_track_file(p, root))
            if isinstance(loaded, ExerciseFileError):
                catalog.broken.append(BrokenFile(loaded.path, loaded.problems))
            else:
                tracks[track_id] = loaded.model_copy(update={"id": track_id})  # a track file at the root too
            continue
        loaded = _cached(path, lambda p=path, t=track_id: load_exercise_file(p, root, t))
        if isinstance(loaded, ExerciseFileError):
            catalog.broken.append(BrokenFile(loaded.path, loaded.problems))
            continue
        if loaded.id in catalog.exercises:
            other = catalog.exercises[loaded.id]
            display = _display(path, root)
            catalog.broken.append(
                BrokenFile(
                    display,
                    [
                        f"{display}:1: the id '{loaded.id}' is already used by {_display(Path(other.path), root)}; "
                        "rename this file or add a different 'id:'"
                    ],
                )
            )
            continue
        catalog.exercises[loaded.id] = loaded
    for track_id in sorted({e.track for e in catalog.exercises.values()}):
        if track_id not in tracks:
            title = track_id.replace("-", " ").replace("_", " ").capitalize() if track_id else "Exercises"
            tracks[track_id] = Track(id=track_id, title=title)
    catalog.tracks = sorted(tracks.values(), key=lambda t: (t.order, t.title.casefold()))
    return catalog
