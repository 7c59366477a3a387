"""One exercise: the task, the cases, the prompt editor, a streamed run and its verdict."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from sandbox.classroom import ladder
from sandbox.errors import SandboxError
from sandbox.exercises.schema import TECHNIQUES
from sandbox.grading import prepare_prompts
from sandbox.i18n import _, shown
from sandbox_ui import common, components, sign_in

settings = common.settings()
catalog = common.catalog()
store = common.store()  # says so on the page if the progress database cannot be used
learner = sign_in.current_learner()

if not catalog.exercises:
    st.warning(_("There are no exercises yet. Ask your instructor to add exercise files."))
    st.stop()

ids = [e.id for e in catalog.in_order()]
wanted = st.query_params.get(common.EXERCISE_PARAM)
missing = wanted is not None and wanted not in catalog.exercises
if missing:
    # what is wrong with the file (hidden cases' values included) is for the instructor page and the CLI only
    if any(Path(b.path).stem == wanted for b in catalog.broken):
        st.warning(
            _("This exercise is being fixed by your instructor, so it cannot be used right now. Pick another one.")
        )
    else:
        st.warning(
            _("There is no exercise '{exercise_id}'. Pick one below.").format(exercise_id=common.plain(str(wanted)))
        )
    wanted = None
chosen = st.selectbox(
    _("Exercise"),
    ids,
    index=ids.index(wanted) if wanted in ids else (None if missing else 0),
    placeholder=_("Pick an exercise"),
    format_func=lambda i: shown(catalog.exercises[i].title),
)
if chosen is None:
    st.stop()  # the exercise asked for is gone: never grade a Run on another one the learner did not pick
if chosen != wanted:
    st.query_params[common.EXERCISE_PARAM] = chosen
    if wanted is not None:
        st.rerun()
exercise = catalog.exercises[chosen]
threshold = exercise.threshold_or(settings.threshold, settings.generator)

st.title(shown(exercise.title))
track = catalog.track(exercise.track)
about = [shown(track.title)] if track else []
if exercise.technique:
    about.append(_("Technique: {technique}").format(technique=_(TECHNIQUES[exercise.technique])))
about += [
    _("Level {level} of 5").format(level=exercise.difficulty),
    _("a case passes at similarity {needed} or more").format(needed=round(threshold * 100)),
]
st.caption(" · ".join(about))
if track and track.intro:
    with st.expander(_("About this track: {track}").format(track=shown(track.title))):
        st.markdown(shown(track.intro))
left, right = st.columns([2, 3], gap="large")

with left:
    st.markdown(shown(exercise.task))
    st.subheader(_("Cases"))
    components.case_inputs(exercise)
    components.fixed_parts(exercise)

attempts = store.attempts(learner, exercise.id) if learner else []
failed_before = sum(not a.passed for a in attempts)
prompt_key = f"prompt::{exercise.id}"
if prompt_key not in st.session_state and attempts:
    st.session_state[prompt_key] = attempts[0].prompt
with right:
    label, placeholder = components.EDIT_LABELS[exercise.edit]
    write_in = common.prompt_language(exercise)
    if write_in:
        st.info(write_in, icon=":material/translate:")
    prompt = st.text_area(_(label), key=prompt_key, height=180, placeholder=_(placeholder))
    gap = common.language_gap(exercise)
    run = st.button(_("Run"), type="primary", disabled=learner is None or bool(gap), key="run")
    if gap:
        st.warning(gap, icon=":material/translate:")
    elif learner is None:
        st.info(
            _("Sign in on the left first (your name and your PIN), so your attempts are saved."),
            icon=":material/person:",
        )

with right:
    last_key = f"last_verdict::{exercise.id}"
    if run and learner is not None:
        try:
            prepare_prompts(exercise, prompt or "", settings)
        except SandboxError as exc:
            common.show_error(exc)
        else:
            if common.ensure_models_loaded():
                verdict = components.graded_run(
                    store, learner, exercise, prompt or "", settings, compare=failed_before >= 1
                )  # compare: this failing run would be the second
                if verdict is not None:
                    st.session_state[last_key] = verdict.for_learner()
                before = ladder.hints_unlocked(exercise, failed_before)
                attempts = store.attempts(learner, exercise.id)
                failed_now = sum(not a.passed for a in attempts)
                if verdict is not None and not verdict.passed and exercise.hints:
                    if ladder.hints_unlocked(exercise, failed_now) > before:
                        st.info(
                            _("Hint {number} is now open, under the cases.").format(number=before + 1),
                            icon=":material/lightbulb:",
                        )
                    elif line := ladder.next_hint_line(exercise, failed_now):
                        st.caption(line)
    else:
        if st.session_state.get("cancel"):
            st.info(
                _("You cancelled the run. It was not graded and does not count as an attempt."),
                icon=":material/info:",
            )
        if last_key in st.session_state:
            components.finished_verdict(exercise, st.session_state[last_key], compare=failed_before >= 2)

failed = sum(not a.passed for a in attempts)
passed = any(a.passed for a in attempts)
released = exercise.id in store.released_solutions()
with left:
    if exercise.hints:
        st.subheader(_("Hints"))
        for hint in exercise.hints[: ladder.hints_unlocked(exercise, failed)]:
            st.markdown(f":material/lightbulb: {shown(hint)}")
        next_line = ladder.next_hint_line(exercise, failed)
        if next_line:
            st.caption(next_line)

    if ladder.solution_visible(exercise, passed, released):
        if passed:
            solution_title = _("The instructor's solution (you passed, so you can compare)")
        else:
            solution_title = _("The instructor's solution (your instructor has shared it)")
        with st.expander(solution_title):
            st.code(exercise.solution or "", language=None, wrap_lines=True)

if learner is not None:
    with right:
        st.subheader(_("Your attempts"))
        components.history(attempts)
