"""The interface's language for this browser: the learner's choice, kept for them, else the class's.

The page's language is settled before anything is drawn (so every text of the
run is in it) and kept in the browser session's state, where a button's
callback, which runs before the page, finds it too.
"""

from __future__ import annotations

from contextlib import suppress

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from sandbox import i18n
from sandbox.classroom.preferences import LanguageChoice
from sandbox.classroom.store import Learner
from sandbox.errors import SandboxError
from sandbox_ui import common, sign_in

SWITCH = "language_switch"
CHOSEN = "language_chosen"
"""Set when this browser's person chose with the switch: their choice wins over what is kept."""
SHOWN = "interface_language"


def _from_session() -> str | None:
    if get_script_run_ctx(suppress_warning=True) is None:
        return None  # a thread of the app's own (loading the models): no page reads its texts
    value = st.session_state.get(SHOWN)
    return value if isinstance(value, str) else None


i18n.fall_back_to(_from_session)


def _kept(learner: Learner | None) -> str | None:
    if learner is None:
        return None
    try:
        return LanguageChoice(common.open_store()).of(learner)
    except SandboxError:
        return None


def _keep(learner: Learner | None, language: str) -> None:
    if learner is None:
        return
    with suppress(SandboxError):  # a database that cannot be written: the choice holds for this browser session
        LanguageChoice(common.open_store()).choose(learner, language)


def settle(learner: Learner | None) -> str:
    """Choose this run's language (and make it the thread's): chosen here, else kept for the learner, else the class's.

    A choice made with the switch before signing in is kept for the learner once they are signed in.
    """
    chosen = st.session_state.get(CHOSEN)
    kept = _kept(learner)
    if isinstance(chosen, str):
        if learner is not None and kept != chosen:
            _keep(learner, chosen)
        language = chosen
    else:
        language = kept or common.settings().language
    language = i18n.use(language)
    st.session_state[SHOWN] = language
    return language


def _switched() -> None:
    chosen = i18n.normalise(str(st.session_state.get(SWITCH)))
    if chosen is None:
        return
    st.session_state[CHOSEN] = st.session_state[SHOWN] = chosen
    _keep(sign_in.current_learner(), chosen)


def switch(language: str) -> None:
    """The side bar's language switch, named in both languages so anyone finds it."""
    st.session_state[SWITCH] = language
    st.sidebar.selectbox(
        "Language / 语言",
        list(i18n.LANGUAGES),
        format_func=i18n.LANGUAGES.__getitem__,
        key=SWITCH,
        on_change=_switched,
    )


_REWORDED = """
[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p,
[data-testid='stFileUploaderDropzoneInstructions'] span {{ visibility: hidden; position: relative; }}
[data-testid='stFileUploaderDropzone'] button [data-testid='stMarkdownContainer'] p::after {{
  content: "{upload}"; visibility: visible; position: absolute; left: 0; right: 0; text-align: center; }}
[data-testid='stFileUploaderDropzoneInstructions'] span::after {{
  content: "{limit}"; visibility: visible; position: absolute; left: 0; white-space: nowrap; }}
"""


def reword_streamlit(language: str) -> None:
    """Streamlit's own words on its widgets (the file box's "Upload", "200MB per file") in the page's language.

    Streamlit has no translations of its own, so the page covers them with ours.
    """
    if language == i18n.DEFAULT:
        return
    megabytes = int(st.get_option("server.maxUploadSize"))
    css = _REWORDED.format(
        upload=_css_text(i18n._("Upload")),
        limit=_css_text(i18n._("At most {megabytes} MB per file · CSV").format(megabytes=megabytes)),
    )
    st.html(f"<style>{css}</style>")


def _css_text(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")
