"""The exercise format as typed models: what an instructor may write in an exercise or track file.

Every model forbids unknown fields, so a misspelled one is an error naming it
(``loading`` turns it into ``file:line: where: what to write instead``).
Fields filled in by the loader (an exercise's ``track`` and ``path``) are never
read from the file.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidatorFunctionWrapHandler, WrapValidator, field_validator

from ..i18n import LANGUAGES, N_, Localized, _, normalise

Text = Annotated[str, Field(min_length=1)]


def _in_languages(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """A text for learners, or a mapping by language (``{en: ..., zh: ...}``): each language's text checked alone."""
    if isinstance(value, Localized):  # copied from a model already read (a case's checks merged into the exercise's)
        handler(str(value))
        return value
    if not isinstance(value, dict):
        return handler(value)
    if not value:
        raise ValueError(
            _("write the text, or one text per language ({languages})").format(languages=", ".join(LANGUAGES))
        )
    texts: dict[str, str] = {}
    for key, text in value.items():
        code = normalise(str(key))
        if code is None:
            raise ValueError(_("'{key}' is not a language of the interface; use en or zh").format(key=key))
        texts[code] = handler(text)
    return Localized(texts)


LearnerText = Annotated[str, WrapValidator(_in_languages)]
"""A text learners read (title, task, hints, intro, explain): one text, or one per language of the interface."""

TECHNIQUES = {
    "instructions": N_("Clear instructions and output format"),
    "role": N_("Role and audience"),
    "grounding": N_("Grounding the answer in given text"),
    "few-shot": N_("Few-shot examples"),
    "structured": N_("Structured output"),
    "classification": N_("Labelling and classification"),
    "extraction": N_("Extraction"),
    "rewriting": N_("Summarising and rewriting"),
    "steps": N_("Breaking a task into steps"),
    "system-prompt": N_("The system prompt"),
    "prefill": N_("Starting the model's answer"),
}
"""The prompting techniques an exercise can teach (``technique:``), with the name learners see (``_()`` where shown)."""


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
    whole_words: bool = True
    """Whether contains / contains_any / not_contains / labels match whole words only ('AI' not in 'email');
    false also matches inside words ('apolog' in 'apologise'). Chinese is always matched inside the text."""
    exact: str | None = None
    """The whole answer, after trimming spaces, must be exactly this."""
    regex: str | None = None
    """The answer must match this regular expression (searched anywhere)."""
    explain: Annotated[LearnerText, Field(min_length=1)] | None = None
    """What the regex asks for, in words; shown to the learner instead of the pattern."""
    min_words: Annotated[int, Field(ge=1)] | None = None
    max_words: Annotated[int, Field(ge=1)] | None = None
    max_lines: Annotated[int, Field(ge=1)] | None = None
    labels: list[Text] | None = None
    """Exactly one of these labels must appear, and it must be the case's expected one."""
    json_keys: list[Text] | None = None
    """The answer must hold a JSON object with (at least) these keys (alone, in a code fence, or with words around)."""
    json_only: bool = False
    """With json_keys: the answer must be the JSON object alone, with no words around it (a code fence is allowed)."""
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
            value is not None
            for key, value in self.model_dump().items()
            if key not in ("case_sensitive", "whole_words", "explain", "json_only")
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
    title: Annotated[LearnerText, Field(min_length=1)]
    difficulty: Annotated[int, Field(ge=1, le=5)] = 1
    task: Annotated[LearnerText, Field(min_length=1)]
    cases: Annotated[list[Case], Field(min_length=1)]
    checks: Checks | None = None
    threshold: Annotated[float, Field(ge=0.0, le=1.0)] | dict[str, Annotated[float, Field(ge=0.0, le=1.0)]] | None = (
        None
    )
    """The similarity a case needs; or one per model, ``{default: 0.6, qwen2.5-0.5b-instruct: 0.7}``."""
    hints: list[Annotated[LearnerText, Field(min_length=1)]] = Field(default_factory=list)
    hints_after: Annotated[int, Field(ge=1, le=20)] = 1
    """Failed attempts that unlock each next hint."""
    solution: str | None = None
    variants: list[str] = Field(default_factory=list)
    """Other good prompts, written as learners write (other order, the input first or last, plain words):
    `check --solve` runs them beside the solution to show that more than one phrasing passes. Never shown."""
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
    calibrated: Calibration | list[Calibration] | None = None
    """The models the threshold was calibrated on: one, or one per model of a per-model threshold."""
    technique: str | None = None
    """The prompting technique the exercise teaches; one of TECHNIQUES."""
    language: str | None = Field(default=None, pattern=r"^[a-z]{2}$")
    """The language of the cases and answers (zh, en, ...): answers are scored by an embedder that reads it.
    Left out, it is read from the references' script (Chinese characters: zh); Latin-script ones count as en."""

    # Filled in by the loader, never by the file.
    track: str = Field(default="", exclude=True)
    path: str = Field(default="", exclude=True)
    notes: list[str] = Field(default_factory=list, exclude=True)
    """Not problems (the file loads): texts that lack a language of the interface (``translations``)."""

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

    def threshold_or(self, default: float, model: str = "") -> float:
        """The threshold for ``model``: its own entry, else the file's default entry, else ``default``."""
        if isinstance(self.threshold, dict):
            return self.threshold.get(model, self.threshold.get("default", default))
        return self.threshold if self.threshold is not None else default

    def calibrations(self) -> list[Calibration]:
        if self.calibrated is None:
            return []
        return self.calibrated if isinstance(self.calibrated, list) else [self.calibrated]


class Track(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = ""
    title: Annotated[LearnerText, Field(min_length=1)]
    order: int = 100
    intro: LearnerText = ""
    """A short introduction shown above the track's exercises (Markdown)."""
    notes: list[str] = Field(default_factory=list, exclude=True)
    """Filled in by the loader: texts that lack a language of the interface."""
