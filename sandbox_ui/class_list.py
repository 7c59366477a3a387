"""The instructor's class list: add learners (typed or from a CSV file), make PINs and slips, classes, sign-in."""

from __future__ import annotations

import streamlit as st

from sandbox.classroom.roster import NewPin, Roster, sign_in_sheet
from sandbox.classroom.store import Learner
from sandbox.i18n import N_, _, ngettext
from sandbox_ui import common

NO_CLASS = N_("(no class)")


def _report(added: list[Learner], problems: list[str]) -> None:
    st.session_state["roster_report"] = (len(added), problems)


def _show_report() -> None:
    report = st.session_state.get("roster_report")
    if report:
        count, problems = report
        if count:
            st.success(
                ngettext(
                    "{count} learner added to the class list.", "{count} learners added to the class list.", count
                ).format(count=count)
            )
        for problem in problems:
            st.warning(common.plain(problem))


def _pins_made(pins: list[NewPin]) -> None:
    st.session_state["new_pins"] = pins


def class_list(roster: Roster, learners: list[Learner], class_codes: list[str]) -> None:
    """The tab: who is on the list, adding to it, PINs, moving a learner, and how each class signs in."""
    _show_report()
    if learners:
        st.dataframe(
            [
                {
                    _("learner"): one.name,
                    _("class"): one.class_code,
                    _("PIN"): _("set") if one.has_pin else _("not yet"),
                }
                for one in learners
            ],
            hide_index=True,
        )
    else:
        st.info(_("Nobody is on the class list yet: add the learners below."))

    with st.form("add_learners"):
        st.markdown(_("**Add learners**"))
        names = st.text_area(_("Names, one per line"), key="add_names")
        code = st.text_input(_("Class code (optional)"), max_chars=20, key="add_class")
        if st.form_submit_button(_("Add to the class list")):
            _report(*roster.add(names.splitlines(), code))
            st.rerun()
    upload = st.file_uploader(_("Or a CSV file: a column `name` and, if you like, `class`"), type=["csv"])
    if upload is not None and st.button(_("Add the names in the file"), key="add_csv"):
        _report(*roster.add_from_csv(upload.getvalue().decode("utf-8-sig", errors="replace")))
        st.rerun()

    st.markdown(_("**PINs**"))
    st.caption(
        _(
            "A PIN is shown only when it is made (the app keeps no copy it could show again): print the slips then. "
            "A new PIN replaces the old one and signs that learner out everywhere."
        )
    )
    without = [one for one in learners if not one.has_pin]
    make_pins = _("Make PINs for the {count} learners without one").format(count=len(without))
    if st.button(make_pins, disabled=not without, key="pins_missing"):
        _pins_made([roster.new_pin(one) for one in without])
    by_name = {one.name: one for one in learners}
    who = st.selectbox(_("A new PIN for"), list(by_name), index=None, key="pin_for")
    if st.button(_("Make a new PIN"), disabled=who is None, key="pin_one") and who is not None:
        _pins_made([roster.new_pin(by_name[who])])
    made: list[NewPin] = st.session_state.get("new_pins", [])
    if made:
        st.dataframe([{_("learner"): p.learner.name, _("class"): p.learner.class_code, _("PIN"): p.pin} for p in made])
        st.download_button(
            _("Sign-in slips to print (HTML)"), sign_in_sheet(made), file_name="sign-in-slips.html", mime="text/html"
        )

    st.markdown(_("**Move a learner to another class**"))
    mover = st.selectbox(_("Learner"), list(by_name), index=None, key="move_who")
    target = st.text_input(_("New class code (empty: no class)"), max_chars=20, key="move_to")
    if st.button(_("Move"), disabled=mover is None, key="move") and mover is not None:
        roster.move(by_name[mover], target)
        st.rerun()

    st.markdown(_("**How each class signs in**"))
    for code in ["", *class_codes]:
        label = _("{class_code}: learners sign in by name alone, without a PIN (only for a room you trust)").format(
            class_code=common.plain(code) or _(NO_CLASS)
        )
        on = roster.passwordless(code)
        if st.toggle(label, value=on, key=f"passwordless::{code}") != on:
            roster.set_passwordless(code, not on)
            st.rerun()
