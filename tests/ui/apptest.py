"""Opening the app in Streamlit's AppTest, and reading what a page shows."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from sandbox.classroom.roster import Roster
from sandbox.classroom.store import Store
from sandbox.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "sandbox_ui" / "app.py")
SOLUTION = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)


def app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def as_learner(name: str, **params: str) -> AppTest:
    """The app for a learner on the class list who has signed in (a real session in the real database)."""
    at = app(**params)
    store = Store(load_settings().database)
    at.session_state["session_token"] = Roster(store).open_session(store.learner(name))
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.code] + [h.value for h in at.title]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
    parts += [i.value for i in at.info] + [c.value for c in at.caption] + [h.value for h in at.header]
    return "\n".join(str(p) for p in parts)
