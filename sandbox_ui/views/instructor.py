"""The instructor's page: class grid, exercise statistics, a learner's timeline, health, exports.

Nothing of it is sent to a browser until the instructor passcode is entered.
"""

from __future__ import annotations

import time

import streamlit as st

from sandbox.authoring.health import health_row, load_saved
from sandbox.classroom import reports
from sandbox.errors import SandboxError
from sandbox.grading import exercise_language
from sandbox.i18n import _, shown
from sandbox_ui import class_list, common, sign_in

ALL_CLASSES = ""  # the class filter's first choice (no class code is empty): every class
# (no bare strings at the top of a page: Streamlit's "magic" would draw them on it)

st.title(_("Instructor"))
settings = common.settings()

if not settings.instructor_passcode:
    st.info(
        _(
            "The instructor page is closed. To open it, start the app with the environment variable "
            "PROMPT_SANDBOX_INSTRUCTOR_PASSCODE set to a passcode of your choice."
        ),
        icon=":material/lock:",
    )
    st.stop()

opened = st.session_state.get("instructor")
if isinstance(opened, float) and time.monotonic() - opened > settings.instructor_session_minutes * 60:
    del st.session_state["instructor"]
    st.info(
        _("The instructor page closed after {minutes} minutes. Enter the passcode again.").format(
            minutes=settings.instructor_session_minutes
        ),
        icon=":material/lock:",
    )
    opened = None
if not isinstance(opened, float):
    with st.form("passcode_form", border=False):
        code = st.text_input(_("Instructor passcode"), type="password", key="passcode_input")
        submitted = st.form_submit_button(_("Open the instructor page"), type="primary")
    if submitted:
        try:
            result = common.passcode_guard().try_passcode(common.session_id(), code, settings.instructor_passcode)
        except SandboxError as exc:
            common.show_error(exc)
            st.stop()
        if result.opened:
            st.session_state["instructor"] = time.monotonic()
            st.rerun()
        st.error(result.message)
    st.stop()

healthy, health_line = common.model_health()
if healthy is None:
    st.caption(health_line)
elif healthy:
    st.success(health_line, icon=":material/dns:")
else:
    st.error(health_line, icon=":material/cloud_off:")

store = common.store()
catalog = common.catalog()
exercise_ids = [e.id for e in catalog.in_order()]
codes = store.class_codes()
class_code = st.selectbox(
    _("Class"),
    [ALL_CLASSES, *codes],
    format_func=lambda code: _("All classes") if code == ALL_CLASSES else code,
    key="class_filter",
)
chosen_class = class_code or None
attempts = store.all_attempts(chosen_class)
roster = store.learners(chosen_class)
learners = [(learner.name, learner.class_code) for learner in roster]
rows = reports.gradebook(attempts, learners, exercise_ids)

grid_tab, list_tab, exercises_tab, learner_tab, health_tab, export_tab = st.tabs(
    [_("Class grid"), _("Class list"), _("Exercises"), _("One learner"), _("Exercise health"), _("Export")]
)

with list_tab:
    signing_in = sign_in.roster()
    if signing_in is not None:
        class_list.class_list(signing_in, roster, codes)

with grid_tab:
    if not learners:
        st.info(_("No learners yet."))
    else:
        st.caption(_("Each cell: passed or tried, best score, (attempts)."))
        headers = {"learner": _("learner"), "class": _("class")}
        st.dataframe(
            [{headers.get(key, key): cell for key, cell in line.items()} for line in reports.grid(rows, exercise_ids)],
            hide_index=True,
        )

with exercises_tab:
    stats = reports.exercise_stats(attempts, catalog)
    exercise_column, rate_column = _("exercise"), _("pass rate (%)")
    st.bar_chart(
        {exercise_column: [s.exercise for s in stats], rate_column: [round(100 * s.pass_rate) for s in stats]},
        x=exercise_column,
        y=rate_column,
    )
    st.dataframe(
        [
            {
                exercise_column: shown(s.title),
                _("learners tried"): s.learners_tried,
                _("learners passed"): s.learners_passed,
                _("pass rate"): f"{round(100 * s.pass_rate)}%",
                # None shows as empty; "" broke the column
                _("median attempts to pass"): s.median_attempts_to_pass,
            }
            for s in stats
        ],
        hide_index=True,
    )
    picked = st.selectbox(
        _("Typical mistakes in"), exercise_ids, format_func=lambda i: shown(catalog.exercises[i].title)
    )
    released = picked in store.released_solutions()
    if st.toggle(_("Show the solution to every learner"), value=released, key=f"release::{picked}") != released:
        store.release_solution(picked, not released)
        st.rerun()
    try:
        reader = common.embedder().for_language(exercise_language(catalog.exercises[picked]))  # Chinese: USE
        groups = reports.common_failures(attempts, picked, reader)
    except Exception as exc:  # the embedder may fail to load; the rest of the page stays usable
        common.show_error(exc)
        groups = []
    if not groups:
        st.caption(_("No failing answers yet."))
    for group in groups:
        st.markdown(
            _("**{count}** failing answer(s) like this (case {case}):").format(count=group.count, case=group.case_index)
        )
        st.code(group.example, language=None, wrap_lines=True)

with learner_tab:
    names = [name for name, _class in learners]
    if names:
        who = st.selectbox(_("Learner"), names, key="timeline_learner")
        which = st.selectbox(
            _("Exercise"),
            exercise_ids,
            key="timeline_exercise",
            format_func=lambda i: shown(catalog.exercises[i].title),
        )
        entries = reports.timeline(attempts, who, which)
        if entries:
            attempt_column = _("attempt")
            st.line_chart(
                {attempt_column: [e.number for e in entries], _("score"): [e.score for e in entries]}, x=attempt_column
            )
        for entry in entries:
            outcome = _("passed") if entry.passed else _("not passed")
            label = _("Attempt {number} · score {score} · {result} · {when}").format(
                number=entry.number, score=entry.score, result=outcome, when=entry.created_at
            )
            with st.expander(label):
                st.code(entry.diff or entry.prompt, language="diff" if entry.diff else None, wrap_lines=True)
        if not entries:
            st.caption(_("No attempts at this exercise yet."))
        chosen_learner = next(learner for learner in roster if learner.name == who)
        st.download_button(
            _("Everything kept about this learner (JSON)"),
            reports.learner_data_json(chosen_learner, *store.records_of(chosen_learner)),
            file_name="learner.json",
            mime="application/json",
            key="learner_json",
        )
        with st.expander(_("Delete this learner")):
            st.markdown(
                _(
                    "This deletes **{name}** and every attempt and run of theirs. It cannot be undone: "
                    "download their data above first if it must be kept."
                ).format(name=common.plain(who))
            )
            typed = st.text_input(_("Type the learner's name to confirm"), key="delete_confirm")
            if st.button(_("Delete the learner"), key="delete_learner", disabled=typed.strip() != who):
                store.delete_learner(chosen_learner)
                st.rerun()

with health_tab:
    saved = load_saved(settings)
    if saved is None:
        st.info(_("Run `prompt-sandbox check --solve` to check that every exercise is solvable and not too easy."))
    else:
        st.caption(
            _("Last `check --solve`: {when} on {generator} and {embedder}.").format(
                when=saved["at"], generator=saved["generator"], embedder=saved["embedder"]
            )
        )
        st.dataframe(
            [health_row(r) for r in saved["exercises"]],
            hide_index=True,
        )
    ungraded = store.ungraded_runs(chosen_class)
    st.subheader(_("Runs the model did not answer"))
    if not ungraded:
        st.caption(_("None: every run got an answer."))
    else:
        st.caption(_("Kept, not graded, and not counted as attempts. The newest first."))
        st.dataframe(
            [
                {_("when"): u.created_at, _("learner"): u.learner, _("exercise"): u.exercise_id, _("why"): u.reason}
                for u in reversed(ungraded[-50:])
            ],
            hide_index=True,
        )
    for broken in catalog.broken:
        st.error(_("{path} could not be loaded:").format(path=common.plain(broken.path)))
        st.code("\n".join(broken.problems), language=None, wrap_lines=True)

with export_tab:
    st.download_button(
        _("Gradebook (CSV)"),
        "\ufeff" + reports.gradebook_csv(rows),
        file_name="gradebook.csv",
        mime="text/csv",
        key="csv",
    )
    st.download_button(
        _("All attempts (JSON Lines)"),
        reports.attempts_jsonl(attempts),
        file_name="attempts.jsonl",
        mime="application/jsonl",
        key="jsonl",
    )
