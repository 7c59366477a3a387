"""Who is at this browser: the sign-in box, and the session it opens.

A learner chooses their name from the class list and types their PIN; the
server opens a session (``sandbox.classroom.roster``) whose random token the
browser keeps in a cookie, so a reload or a restart of the app keeps them signed
in. Nothing in the address says who anyone is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import streamlit as st

from sandbox.classroom.access import PasscodeGuard
from sandbox.classroom.roster import Roster, pin_guard
from sandbox.classroom.store import Learner
from sandbox.errors import SandboxError
from sandbox.i18n import _
from sandbox_ui import common

COOKIE = "prompt_sandbox_session"
TOKEN = "session_token"


@st.cache_resource(show_spinner=False)
def _pin_guard() -> PasscodeGuard:
    """One per app process: wrong PINs for a learner are counted across every browser."""
    return pin_guard()


def roster() -> Roster | None:
    """The class list; None when the progress database cannot be opened (the page itself says why)."""
    try:
        store = common.open_store()
    except SandboxError:
        return None
    return Roster(store, _pin_guard(), common.settings().learner_session_hours)


def _token() -> str:
    token = st.session_state.get(TOKEN)
    if isinstance(token, str):
        return token
    return str(st.context.cookies.get(COOKIE) or "") if not st.session_state.get("signed_out") else ""


def current_learner() -> Learner | None:
    """The learner this browser's session belongs to, checked against the server's sessions on every run."""
    token = _token()
    if not token:
        return None
    found = roster()
    try:
        learner = found.learner_for(token) if found else None
    except SandboxError:
        return None  # the database cannot be read just now: the page says why when it reads progress
    if learner is None:
        st.session_state.pop(TOKEN, None)  # expired, signed out elsewhere, or the learner was deleted
        st.session_state["signed_out"] = True
        return None
    st.session_state[TOKEN] = token
    return learner


def _keep(token: str, seconds: int) -> None:
    """Ask the browser to keep (or, with 0 seconds, forget) the session's token until the session expires.

    The script is drawn on every run of this browser session from now on: a page left at once
    (a link clicked before the browser ran it) gets it again on the next page.
    """
    until = (datetime.now(UTC) + timedelta(seconds=seconds)).strftime("%a, %d %b %Y %H:%M:%S GMT")
    st.session_state["cookie_js"] = f"document.cookie = '{COOKIE}={token}; path=/; expires={until}; samesite=strict';"


def _signed_in(token: str) -> None:
    st.session_state[TOKEN] = token
    st.session_state.pop("signed_out", None)
    st.session_state.pop("sign_in_error", None)
    st.session_state["sign_in_pin"] = ""
    _keep(token, common.settings().learner_session_hours * 3600)


def _sign_in() -> None:
    found = roster()
    chosen = st.session_state.get("sign_in_who")
    learner = next((one for one in found.store.learners() if one.id == chosen), None) if found else None
    if found is None or learner is None:
        st.session_state["sign_in_error"] = _("Choose your name in the list first.")
        return
    try:
        token = found.sign_in(learner, str(st.session_state.get("sign_in_pin", "")), common.session_id())
    except SandboxError as exc:
        st.session_state["sign_in_error"] = str(exc)
        return
    _signed_in(token)


def _enrol() -> None:
    found = roster()
    if found is None:
        return
    pin, again = st.session_state.get("enrol_pin", ""), st.session_state.get("enrol_pin_again", "")
    if pin != again:
        st.session_state["enrol_error"] = _("The two PINs are not the same; type them again.")
        return
    try:
        token = found.enrol_self(st.session_state.get("enrol_name", ""), pin)
    except SandboxError as exc:
        st.session_state["enrol_error"] = str(exc)
        return
    st.session_state.pop("enrol_error", None)
    _signed_in(token)


def _sign_out() -> None:
    token = st.session_state.pop(TOKEN, None)
    found = roster()
    if isinstance(token, str) and found is not None:
        found.sign_out(token)
    st.session_state["signed_out"] = True
    _keep("", 0)


def learner_box(where: st.delta_generator.DeltaGenerator | None = None) -> Learner | None:
    """The sidebar's sign-in: the name from the class list and a PIN, or who is signed in and a way out."""
    box = where or st.sidebar
    if "learner" in st.query_params:
        del st.query_params["learner"]  # an old bookmark: a name in the address signs nobody in
    script = st.session_state.get("cookie_js")
    if script:
        with box:
            st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)
    learner = current_learner()
    if learner is not None:
        box.markdown(_("Signed in as **{name}**").format(name=common.plain(learner.name)))
        if learner.class_code:
            box.caption(_("Class {class_code}").format(class_code=common.plain(learner.class_code)))
        box.button(_("Sign out"), on_click=_sign_out, key="sign_out")
        return learner
    found = roster()
    if found is None:
        box.caption(_("Signing in is not possible until the progress database can be used (see the page)."))
        return None
    _sign_in_form(box, found)
    if not common.settings().instructor_passcode:
        _enrol_form(box)
    return None


def _sign_in_form(box: st.delta_generator.DeltaGenerator, found: Roster) -> None:
    learners = {one.id: one for one in found.store.learners()}
    if not learners:
        box.info(_("Nobody is on the class list yet. Your instructor adds the learners."), icon=":material/group:")
        return
    with box:
        chosen = st.selectbox(
            _("Your name"),
            list(learners),
            index=None,
            placeholder=_("Choose your name"),
            format_func=lambda i: learners[i].name + (f" ({learners[i].class_code})" if learners[i].class_code else ""),
            key="sign_in_who",
        )
        if chosen is not None and not found.passwordless(learners[chosen].class_code):
            st.text_input(_("Your PIN"), type="password", max_chars=8, key="sign_in_pin")
        st.button(_("Sign in"), on_click=_sign_in, type="primary", key="sign_in", disabled=chosen is None)
    if "sign_in_error" in st.session_state:
        box.error(st.session_state["sign_in_error"])


def _enrol_form(box: st.delta_generator.DeltaGenerator) -> None:
    """Only where no instructor runs a class list (no passcode set): a learner adds themselves with a PIN."""
    with box.expander(_("New here? Add your name"), expanded="enrol_error" in st.session_state), st.form("enrol"):
        st.text_input(_("Your name"), key="enrol_name", max_chars=60, placeholder=_("for example: Amina K."))
        st.text_input(_("Choose a PIN (4 to 8 digits)"), type="password", max_chars=8, key="enrol_pin")
        st.text_input(_("The same PIN again"), type="password", max_chars=8, key="enrol_pin_again")
        st.form_submit_button(_("Add me"), on_click=_enrol)
        if "enrol_error" in st.session_state:
            st.error(st.session_state["enrol_error"])
