"""The instructor's page: class grid, exercise statistics, a learner's timeline, health, exports.

Nothing of it is sent to a browser until the instructor passcode is entered.
"""

from __future__ import annotations

import time

import streamlit as st

from sandbox.authoring.solvability import load_saved
from sandbox.classroom import reports
from sandbox.errors import SandboxError
from sandbox.grading import exercise_language
from sandbox_ui import class_list, common, sign_in

st.title("Instructor")
settings = common.settings()

if not settings.instructor_passcode:
    st.info(
        "The instructor page is closed. To open it, start the app with the environment variable "
        "PROMPT_SANDBOX_INSTRUCTOR_PASSCODE set to a passcode of your choice.",
        icon=":material/lock:",
    )
    st.stop()

opened = st.session_state.get("instructor")
if isinstance(opened, float) and time.monotonic() - opened > settings.instructor_session_minutes * 60:
    del st.session_state["instructor"]
    st.info(
        f"The instructor page closed after {settings.instructor_session_minutes} minutes. Enter the passcode again.",
        icon=":material/lock:",
    )
    opened = None
if not isinstance(opened, float):
    with st.form("passcode_form", border=False):
        code = st.text_input("Instructor passcode", type="password", key="passcode_input")
        submitted = st.form_submit_button("Open the instructor page", type="primary")
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
class_code = st.selectbox("Class", ["All classes", *codes], key="class_filter")
chosen_class = None if class_code == "All classes" else class_code
attempts = store.all_attempts(chosen_class)
roster = store.learners(chosen_class)
learners = [(learner.name, learner.class_code) for learner in roster]
rows = reports.gradebook(attempts, learners, exercise_ids)

grid_tab, list_tab, exercises_tab, learner_tab, health_tab, export_tab = st.tabs(
    ["Class grid", "Class list", "Exercises", "One learner", "Exercise health", "Export"]
)

with list_tab:
    signing_in = sign_in.roster()
    if signing_in is not None:
        class_list.class_list(signing_in, roster, codes)

with grid_tab:
    if not learners:
        st.info("No learners yet.")
    else:
        st.caption("Each cell: passed or tried, best score, (attempts).")
        st.dataframe(reports.grid(rows, exercise_ids), hide_index=True)

with exercises_tab:
    stats = reports.exercise_stats(attempts, catalog)
    st.bar_chart(
        {"exercise": [s.exercise for s in stats], "pass rate (%)": [round(100 * s.pass_rate) for s in stats]},
        x="exercise",
        y="pass rate (%)",
    )
    st.dataframe(
        [
            {
                "exercise": s.title,
                "learners tried": s.learners_tried,
                "learners passed": s.learners_passed,
                "pass rate": f"{round(100 * s.pass_rate)}%",
                "median attempts to pass": s.median_attempts_to_pass,  # None shows as empty; "" broke the column
            }
            for s in stats
        ],
        hide_index=True,
    )
    picked = st.selectbox("Typical mistakes in", exercise_ids, format_func=lambda i: catalog.exercises[i].title)
    released = picked in store.released_solutions()
    if st.toggle("Show the solution to every learner", value=released, key=f"release::{picked}") != released:
        store.release_solution(picked, not released)
        st.rerun()
    try:
        reader = common.embedder().for_language(exercise_language(catalog.exercises[picked]))  # Chinese: USE
        groups = reports.common_failures(attempts, picked, reader)
    except Exception as exc:  # the embedder may fail to load; the rest of the page stays usable
        common.show_error(exc)
        groups = []
    if not groups:
        st.caption("No failing answers yet.")
    for group in groups:
        st.markdown(f"**{group.count}** failing answer(s) like this (case {group.case_index}):")
        st.code(group.example, language=None, wrap_lines=True)

with learner_tab:
    names = [name for name, _ in learners]
    if names:
        who = st.selectbox("Learner", names, key="timeline_learner")
        which = st.selectbox(
            "Exercise", exercise_ids, key="timeline_exercise", format_func=lambda i: catalog.exercises[i].title
        )
        entries = reports.timeline(attempts, who, which)
        if entries:
            st.line_chart({"attempt": [e.number for e in entries], "score": [e.score for e in entries]}, x="attempt")
        for entry in entries:
            result = "passed" if entry.passed else "not passed"
            with st.expander(f"Attempt {entry.number} · score {entry.score} · {result} · {entry.created_at}"):
                st.code(entry.diff or entry.prompt, language="diff" if entry.diff else None, wrap_lines=True)
        if not entries:
            st.caption("No attempts at this exercise yet.")
        chosen_learner = next(learner for learner in roster if learner.name == who)
        st.download_button(
            "Everything kept about this learner (JSON)",
            reports.learner_data_json(chosen_learner, *store.records_of(chosen_learner)),
            file_name="learner.json",
            mime="application/json",
            key="learner_json",
        )
        with st.expander("Delete this learner"):
            st.markdown(
                f"This deletes **{common.plain(who)}** and every attempt and run of theirs. It cannot be undone: "
                "download their data above first if it must be kept."
            )
            typed = st.text_input("Type the learner's name to confirm", key="delete_confirm")
            if st.button("Delete the learner", key="delete_learner", disabled=typed.strip() != who):
                store.delete_learner(chosen_learner)
                st.rerun()

with health_tab:
    saved = load_saved(settings)
    if saved is None:
        st.info("Run `prompt-sandbox check --solve` to check that every exercise is solvable and not too easy.")
    else:
        st.caption(f"Last `check --solve`: {saved['at']} on {saved['generator']} and {saved['embedder']}.")
        st.dataframe(
            [
                {
                    "exercise": r["exercise"],
                    "solution": {True: "passes", False: "FAILS", None: "none"}[r["solution_passed"]],
                    "margin": r["margin"],
                    "good prompts pass": f"{r['good_passed']} of {r['good_prompts']}" if r.get("variants") else "-",
                    "flags": ", ".join(r["flags"]) or "ok",
                }
                for r in saved["exercises"]
            ],
            hide_index=True,
        )
    ungraded = store.ungraded_runs(chosen_class)
    st.subheader("Runs the model did not answer")
    if not ungraded:
        st.caption("None: every run got an answer.")
    else:
        st.caption("Kept, not graded, and not counted as attempts. The newest first.")
        st.dataframe(
            [
                {"when": u.created_at, "learner": u.learner, "exercise": u.exercise_id, "why": u.reason}
                for u in reversed(ungraded[-50:])
            ],
            hide_index=True,
        )
    for broken in catalog.broken:
        st.error(f"{common.plain(broken.path)} could not be loaded:")
        st.code("\n".join(broken.problems), language=None, wrap_lines=True)

with export_tab:
    st.download_button(
        "Gradebook (CSV)", reports.gradebook_csv(rows), file_name="gradebook.csv", mime="text/csv", key="csv"
    )
    st.download_button(
        "All attempts (JSON Lines)",
        reports.attempts_jsonl(attempts),
        file_name="attempts.jsonl",
        mime="application/jsonl",
        key="jsonl",
    )
