"""The app entry: only routes pages. Started by `prompt-sandbox serve`."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parent
if str(ROOT.parent) not in sys.path:  # `streamlit run sandbox_ui/app.py` from a checkout
    sys.path.insert(0, str(ROOT.parent))

from sandbox.i18n import _  # noqa: E402
from sandbox_ui import common, language, sign_in  # noqa: E402

# the tab's icon is a file of the app's own: a :material/...: page icon makes the browser fetch it from a font server
st.set_page_config(page_title="prompt-sandbox", page_icon=str(ROOT / "icon.png"), layout="wide")
common.settings()  # makes the process offline before any model code runs
# the language first, so every text of this run is in it: the learner's choice, else the class's
shown = language.settle(sign_in.current_learner())

pages = [
    st.Page(
        ROOT / "views" / "exercises.py",
        title=_("Exercises"),
        icon=":material/menu_book:",
        url_path="exercises",
        default=True,
    ),
    st.Page(ROOT / "views" / "practice.py", title=_("Practice"), icon=":material/edit_note:", url_path="practice"),
    st.Page(ROOT / "views" / "playground.py", title=_("Playground"), icon=":material/science:", url_path="playground"),
    st.Page(ROOT / "views" / "instructor.py", title=_("Instructor"), icon=":material/lock:", url_path="instructor"),
]
page = st.navigation(pages)
with st.sidebar:
    st.markdown("### prompt-sandbox")
    st.caption(common.answering())
language.switch(shown)
language.reword_streamlit(shown)
common.stop_previous_run()  # a new script run means the page's earlier run was interrupted
learner = sign_in.learner_box()
if learner is not None:
    common.lost_runs_notice(learner, common.catalog())
if learner is not None or page.url_path == "playground":
    # load the models in the background once someone can use them; signing in is not slowed by it,
    # pages render at once, and Run waits with a message until the models are ready
    common.start_loading()
page.run()
