"""Pieces of page that render what the package returns."""

from __future__ import annotations

import threading
from contextlib import closing, suppress

import streamlit as st

from sandbox.classroom.store import AttemptRow, Learner, Progress, Store
from sandbox.config import Settings
from sandbox.errors import ModelError, SandboxError
from sandbox.exercises.schema import Exercise
from sandbox.grading import (
    CaseFinished,
    CaseResult,
    CaseStarted,
    Finished,
    Queued,
    TextPiece,
    Verdict,
    grade_events,
)
from sandbox.i18n import N_, _, ngettext
from sandbox.models.base import Embedder, Generator
from sandbox_ui import common
from sandbox_ui.common import plain, show_error

EDIT_LABELS = {
    "prompt": (N_("Your prompt"), N_("For example: ... {input}")),
    "system": (N_("Your system prompt"), N_("For example: You are a ... Always answer ...")),
    "prefill": (N_("The start of the model's answer"), N_("For example: 1.")),
}
"""The editor's label and placeholder for each part a learner writes; translate both with ``_()`` where shown."""

STATUS_BADGE = {
    "passed": ("green", "check_circle", N_("Passed")),
    "tried": ("orange", "pending", N_("Tried")),
    "not started": ("gray", "radio_button_unchecked", N_("Not started")),
}
"""Colour, icon and label (translated where shown) of each status; :func:`status_badge` makes the markup."""


def passed_mark(passed: bool) -> str:
    """The coloured passed / not passed mark of a case."""
    # _() outside the f-string: on Python 3.11 Babel cannot see a call inside one
    if passed:
        label = _("Passed")
        return f":green[:material/check_circle: {label}]"
    label = _("Not passed")
    return f":red[:material/cancel: {label}]"


def case_label(exercise: Exercise, index: int) -> str:
    case = exercise.cases[index]
    if case.hidden:
        hidden_number = [i for i, c in enumerate(exercise.cases) if c.hidden].index(index) + 1
        return _("Hidden case {number}").format(number=hidden_number)
    visible_number = [i for i, c in enumerate(exercise.cases) if not c.hidden].index(index) + 1
    return _("Case {number}").format(number=visible_number)


def case_inputs(exercise: Exercise) -> None:
    """The visible cases' texts, and how many hidden ones are also checked."""
    for index, case in exercise.visible_cases():
        variables = case.variables()
        with st.container(border=True):
            if list(variables) == ["input"]:
                st.markdown(f"**{case_label(exercise, index)}** · `{{input}}`")
                st.text(variables["input"])
            else:
                st.markdown(f"**{case_label(exercise, index)}**")
                for name, value in variables.items():
                    st.markdown(f"`{{{name}}}`")
                    st.text(value)
    hidden = len(exercise.cases) - len(exercise.visible_cases())
    if hidden:
        st.caption(
            ngettext(
                "{count} hidden case is also checked, so your prompt must work for texts you cannot see.",
                "{count} hidden cases are also checked, so your prompt must work for texts you cannot see.",
                hidden,
            ).format(count=hidden)
        )


def fixed_parts(exercise: Exercise) -> None:
    """Which part of the conversation is the learner's, and the fixed parts beside it."""
    names = sorted(exercise.variable_names())
    placeholders = ", ".join(f"`{{{n}}}`" for n in names)
    if exercise.edit == "prompt":
        if exercise.system:
            st.markdown(_("**System prompt** (fixed, written by your instructor):"))
            st.code(exercise.system, language=None, wrap_lines=True)
        if names:
            st.markdown(
                _(
                    "**You write the prompt.** Put {placeholders} where the case text should go. "
                    "If you leave it out, the case text is added at the end of your prompt."
                ).format(placeholders=placeholders)
            )
        return
    if exercise.system:
        st.markdown(_("**System prompt** (fixed, written by your instructor):"))
        st.code(exercise.system, language=None, wrap_lines=True)
    elif exercise.edit == "system":
        st.markdown(
            _("**You write the system prompt**: the instructions the model follows for the whole conversation.")
        )
    st.markdown(_("**User message** (fixed; each case's text is filled in):"))
    st.code(exercise.user or "", language=None, wrap_lines=True)
    if exercise.edit == "prefill":
        st.markdown(
            _(
                "**You write the start of the model's answer.** The model goes on from your words, "
                "and your words count as part of its answer."
            )
        )


def case_result(
    exercise: Exercise,
    result: CaseResult,
    threshold: float,
    box: st.delta_generator.DeltaGenerator,
    compare: bool = False,
) -> None:
    """The verdict on one case; hidden cases say only passed or not.

    ``compare`` (after two failed attempts) puts a failed answer beside the closest expected one.
    """
    if result.hidden:
        box.markdown(passed_mark(result.passed))
        return
    box.markdown(_("**{mark}** · score **{score}** / 100").format(mark=passed_mark(result.passed), score=result.score))
    if result.similarity is not None:
        box.caption(
            _(
                "Similarity to the expected answer: {similarity} (needs {needed}). Closest expected answer: “{closest}”"
            ).format(
                similarity=round(result.similarity * 100),
                needed=round(threshold * 100),
                closest=plain(result.closest_reference or ""),
            )
        )
    passed_line = _("This case passed.")  # the feedback line grading writes (in the page's language) on a pass
    for line in result.feedback:
        if line in (passed_line, "This case passed."):
            continue
        box.markdown(f"- {plain(line)}")  # it quotes the model's answer, which the learner's prompt steered
    if compare and not result.passed and result.closest_reference is not None:
        mine, expected = box.columns(2)
        mine.caption(_("The model's answer"))
        mine.code(result.output.strip() or _("(no answer)"), language=None, wrap_lines=True)
        expected.caption(_("The closest expected answer"))
        expected.code(result.closest_reference, language=None, wrap_lines=True)


def verdict_summary(verdict: Verdict) -> None:
    if verdict.passed:
        st.success(verdict.summary(), icon=":material/celebration:")
    else:
        st.warning(verdict.summary(), icon=":material/edit:")
        if verdict.advice:
            st.info(_("**What to change:** {advice}").format(advice=plain(verdict.advice)), icon=":material/lightbulb:")
    if verdict.note:
        st.info(verdict.note, icon=":material/info:")


def finished_verdict(exercise: Exercise, verdict: Verdict, compare: bool = False) -> None:
    """A verdict from an earlier run (after a rerun of the page)."""
    st.subheader(_("Your last run"))
    verdict_summary(verdict)
    for result in verdict.cases:
        with st.container(border=True):
            st.markdown(f"**{case_label(exercise, result.index)}**")
            if not result.hidden:
                st.code(result.output or _("(no answer)"), language=None, wrap_lines=True)
            case_result(exercise, result, verdict.threshold, st.container(), compare)


def status_badge(progress: Progress | None) -> str:
    colour, icon, label = STATUS_BADGE[progress.status if progress else "not started"]
    shown = _(label)
    return f":{colour}[:material/{icon}: {shown}]"


def history(attempts: list[AttemptRow]) -> None:
    if not attempts:
        st.caption(_("No attempts yet."))
        return
    for number, attempt in zip(range(len(attempts), 0, -1), attempts, strict=True):
        icon = ":material/check_circle:" if attempt.passed else ":material/cancel:"
        when = attempt.created_at.replace("T", " ")[:16]
        if attempt.passed:
            title = _("Attempt {number} · score {score} · passed · {when} UTC")
        else:
            title = _("Attempt {number} · score {score} · not passed · {when} UTC")
        with st.expander(title.format(number=number, score=attempt.score, when=when), icon=icon):
            st.code(attempt.prompt, language=None, wrap_lines=True)


def queue_line(ahead: int) -> str:
    if ahead == 0:
        return _("Your run is next; the model starts in a moment...")
    return ngettext(
        "Waiting for the model: {count} other run is ahead of yours. You can cancel.",
        "Waiting for the model: {count} other runs are ahead of yours. You can cancel.",
        ahead,
    ).format(count=ahead)


def live_run(
    exercise: Exercise,
    prompt: str,
    generator: Generator,
    embedder: Embedder,
    settings: Settings,
    owner: str | None = None,
    stop: threading.Event | None = None,
    compare: bool = False,
) -> Verdict | ModelError | None:
    """Grade the prompt while showing each case's answer as it is written.

    Returns the verdict; or the model's error when the model could not answer (the
    run is then kept as not graded); or None when the run was refused.

    Pressing any button (Cancel) stops this script run; closing the events then
    takes the run out of the queue and stops its answers.
    """
    threshold = exercise.threshold_or(settings.threshold, settings.generator)
    st.subheader(_("Running your prompt"))
    progress = st.progress(0.0, text=_("Starting..."))
    summary = st.empty()
    boxes: dict[int, tuple[st.delta_generator.DeltaGenerator, st.delta_generator.DeltaGenerator]] = {}
    texts: dict[int, str] = {}
    total = len(exercise.cases)
    try:
        with closing(grade_events(exercise, prompt, generator, embedder, settings, stop, owner)) as events:
            for event in events:
                if isinstance(event, Queued):
                    progress.progress(0.0, text=queue_line(event.ahead))
                elif isinstance(event, CaseStarted):
                    label = case_label(exercise, event.index)
                    progress.progress(
                        event.index / total,
                        text=_("{case}: the model is answering... ({number} of {total})").format(
                            case=label, number=event.index + 1, total=total
                        ),
                    )
                    container = st.container(border=True)
                    container.markdown(f"**{label}**")
                    output_box = container.empty()
                    if event.hidden:
                        output_box.caption(_("Answer hidden. Only passed or not is shown."))
                    boxes[event.index] = (output_box, container.container())
                    texts[event.index] = ""
                elif isinstance(event, TextPiece):
                    texts[event.index] += event.text
                    if not exercise.cases[event.index].hidden:
                        boxes[event.index][0].code(texts[event.index], language=None, wrap_lines=True)
                elif isinstance(event, CaseFinished):
                    case_result(exercise, event.result, threshold, boxes[event.result.index][1], compare)
                elif isinstance(event, Finished):
                    progress.progress(1.0, text=_("Done."))
                    with summary.container():
                        verdict_summary(event.verdict)
                    return event.verdict
    except ModelError as exc:
        show_error(exc, summary)
        return exc
    except SandboxError as exc:
        show_error(exc, summary)
    return None


def graded_run(
    store: Store, learner: Learner, exercise: Exercise, prompt: str, settings: Settings, compare: bool
) -> Verdict | None:
    """Run and grade the learner's prompt live, and keep the result: the verdict saved, or None.

    A run the model could not answer is kept as not graded; a cancelled one is not kept;
    while it runs, the progress database knows it is in progress, so a run cut off by a
    dropped connection or a stopped app is reported to the learner as lost.
    """
    cancel = st.empty()
    cancel.button(_("Cancel"), key="cancel", icon=":material/stop_circle:")
    try:
        with common.run_in_progress(store, learner, exercise.id) as run_id:
            verdict = live_run(
                exercise,
                prompt,
                common.generator(),
                common.embedder(),
                settings,
                owner=learner.name,
                stop=common.new_run_stop(),
                compare=compare,
            )
            cancel.empty()
            if isinstance(verdict, ModelError):
                with suppress(SandboxError):  # not kept or kept, such a run counts for nothing
                    store.record_ungraded(learner, exercise.id, prompt, str(verdict), common.generator().name)
                st.caption(_("This run is kept as not graded: it does not count against you."))
                return None
            if verdict is None or verdict.cancelled:
                return None
            store.record_attempt(learner, prompt, verdict, run=run_id)
            return verdict
    except SandboxError as exc:  # the progress database could not note the run, or save it
        common.show_error(exc)
        return None
