"""Pieces of page that render what the package returns."""

from __future__ import annotations

import streamlit as st

from sandbox.exercises import Exercise
from sandbox.grading import CaseResult, Verdict
from sandbox.store import Attempt, Progress

STATUS_BADGE = {
    "passed": ":green[:material/check_circle: Passed]",
    "tried": ":orange[:material/pending: Tried]",
    "not started": ":gray[:material/radio_button_unchecked: Not started]",
}


def case_label(exercise: Exercise, index: int) -> str:
    case = exercise.cases[index]
    if case.hidden:
        hidden_number = [i for i, c in enumerate(exercise.cases) if c.hidden].index(index) + 1
        return f"Hidden case {hidden_number}"
    visible_number = [i for i, c in enumerate(exercise.cases) if not c.hidden].index(index) + 1
    return f"Case {visible_number}"


def case_inputs(exercise: Exercise) -> None:
    """The visible cases' texts, and how many hidden ones are also checked."""
    for index, case in exercise.visible_cases():
        variables = case.variables()
        with st.container(border=True):
            st.markdown(f"**{case_label(exercise, index)}**")
            for name, value in variables.items():
                st.markdown(f"`{{{name}}}`")
                st.text(value)
    hidden = len(exercise.cases) - len(exercise.visible_cases())
    if hidden:
        st.caption(
            f"{hidden} hidden case{'s are' if hidden > 1 else ' is'} also checked, so your prompt must work "
            "for texts you cannot see."
        )


def case_result(
    exercise: Exercise, result: CaseResult, threshold: float, box: st.delta_generator.DeltaGenerator
) -> None:
    """The verdict on one case; hidden cases say only passed or not."""
    if result.hidden:
        box.markdown(
            ":green[:material/check_circle: Passed]" if result.passed else ":red[:material/cancel: Not passed]"
        )
        return
    mark = ":green[:material/check_circle: Passed]" if result.passed else ":red[:material/cancel: Not passed]"
    box.markdown(f"**{mark}** · score **{result.score}** / 100")
    if result.similarity is not None:
        box.caption(
            f"Similarity to the expected answer: {round(result.similarity * 100)} (needs {round(threshold * 100)}). "
            f"Closest expected answer: “{result.closest_reference}”"
        )
    for line in result.feedback:
        if line == "This case passed.":
            continue
        box.markdown(f"- {line}")


def verdict_summary(verdict: Verdict) -> None:
    if verdict.passed:
        st.success(verdict.summary(), icon=":material/celebration:")
    else:
        st.warning(verdict.summary(), icon=":material/edit:")
    if verdict.note:
        st.info(verdict.note, icon=":material/info:")


def finished_verdict(exercise: Exercise, verdict: Verdict) -> None:
    """A verdict from an earlier run (after a rerun of the page)."""
    st.subheader("Your last run")
    verdict_summary(verdict)
    for result in verdict.cases:
        with st.container(border=True):
            st.markdown(f"**{case_label(exercise, result.index)}**")
            if not result.hidden:
                st.code(result.output or "(no answer)", language=None, wrap_lines=True)
            case_result(exercise, result, verdict.threshold, st.container())


def status_badge(progress: Progress | None) -> str:
    return STATUS_BADGE[progress.status if progress else "not started"]


def history(attempts: list[Attempt]) -> None:
    if not attempts:
        st.caption("No attempts yet.")
        return
    for number, attempt in zip(range(len(attempts), 0, -1), attempts, strict=True):
        icon = ":material/check_circle:" if attempt.passed else ":material/cancel:"
        result = "passed" if attempt.passed else "not passed"
        when = attempt.created_at.replace("T", " ")[:16]
        with st.expander(f"Attempt {number} · score {attempt.score} · {result} · {when} UTC", icon=icon):
            st.code(attempt.prompt, language=None, wrap_lines=True)
