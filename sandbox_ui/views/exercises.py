"""Tracks and exercises, with the learner's status on each."""

from __future__ import annotations

import streamlit as st

from sandbox.i18n import _, ngettext, shown
from sandbox_ui import common, components, sign_in

st.title(_("Practise writing prompts"))
st.markdown(
    _(
        "Pick an exercise, write a prompt (an instruction for the AI model), run it, and see how well "
        "the model's answers match what was asked. {answering}"
    ).format(answering=common.answering())
)

learner = sign_in.current_learner()
if learner is None:
    st.info(
        _("Choose your name in the box on the left, type your PIN and press **Sign in**, so your progress is saved."),
        icon=":material/person:",
    )

catalog = common.catalog()
store = common.store()  # says so on the page if the progress database cannot be used
progress = store.progress(learner) if learner else {}
practice = "views/practice.py"

for track in catalog.tracks:
    exercises = catalog.in_track(track.id)
    if not exercises:
        continue
    st.header(shown(track.title))
    if track.intro:
        st.markdown(shown(track.intro))
    for exercise in exercises:
        done = progress.get(exercise.id)
        cols = st.columns([5, 2, 2, 2])
        cols[0].page_link(
            practice,
            label=shown(exercise.title),
            icon=":material/edit_note:",
            query_params={common.EXERCISE_PARAM: exercise.id},
        )
        cols[1].markdown(_("Level {level}").format(level=exercise.difficulty))
        if common.language_gap(exercise):
            cols[0].caption(_("Needs a model that speaks its language; this class's model does not."))
        cols[2].markdown(components.status_badge(done))
        cols[3].markdown(_("Best score {score}").format(score=done.best_score) if done else "")

if not catalog.exercises:
    st.warning(
        _("No exercises found in {folder}. Ask your instructor to add exercise files.").format(folder=catalog.root)
    )

if catalog.broken:
    # which file and what is wrong with it (hidden cases' values included) is for the instructor page and the CLI
    count = len(catalog.broken)
    st.caption(
        ngettext(
            "{count} exercise is being fixed by your instructor and not shown yet. "
            "Instructors: the Instructor page (Exercise health) and `prompt-sandbox check` say what to fix.",
            "{count} exercises are being fixed by your instructor and not shown yet. "
            "Instructors: the Instructor page (Exercise health) and `prompt-sandbox check` say what to fix.",
            count,
        ).format(count=count)
    )
