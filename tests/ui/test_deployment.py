"""The core of a shared deployment on loopback: two app processes, one PostgreSQL, one model server.

Learners use both processes; progress and the instructor's view are the same
whichever serves them; killing one process mid-run loses nothing that was saved.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.classroom.store import Store

from ..browsing import Server, needs_chromium, open_exercise, sign_in
from ..servers import models_folder_with

pytestmark = [pytest.mark.browser, pytest.mark.slow, needs_chromium]

SOLUTION = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)


def new_tab(browser):
    tab = browser.new_context(viewport={"width": 1280, "height": 1000}).new_page()
    tab.set_default_timeout(60_000)
    return tab


def run_prompt(tab, prompt: str) -> None:
    tab.get_by_role("textbox", name="Your prompt").fill(prompt)
    tab.get_by_role("button", name="Run", exact=True).click()


def test_two_app_processes_share_progress_through_postgresql_and_one_model_server(
    tmp_path: Path, browser, model_server, postgres
) -> None:
    database = postgres.new_database()
    env = {
        "PROMPT_SANDBOX_DATABASE_URL": database,
        "PROMPT_SANDBOX_MODELS": str(models_folder_with(tmp_path, model_server.manifest())),
        "PROMPT_SANDBOX_GENERATOR": "class-server",
    }
    first, second = Server(tmp_path / "a" / "data", env), Server(tmp_path / "b" / "data", env)
    first.start()
    second.start()
    try:
        ana, ben = new_tab(browser), new_tab(browser)
        sign_in(ana, first.url, "Ana", first.enrol("Ana"))
        sign_in(ben, second.url, "Ben", second.enrol("Ben"))
        ana.get_by_text("Answers come from SmolLM2 on the class server").first.wait_for()
        open_exercise(ana, "Label review sentiment")
        open_exercise(ben, "Label review sentiment")
        run_prompt(ana, SOLUTION)
        run_prompt(ben, "{input}")
        ana.get_by_text("Passed! All 4 cases passed. Score 100.").wait_for(timeout=180_000)
        ben.get_by_text("Attempt 1 · score").first.wait_for(timeout=180_000)

        # Ana's progress is the same on the other process
        ana.goto(second.url)  # the session is kept in the shared database, so the other process knows it
        row = ana.locator("[data-testid='stHorizontalBlock']", has_text="Label review sentiment")
        row.get_by_text("Passed").wait_for()

        # the first process dies while Ben's next run is being answered
        ben.goto(f"{first.url}/practice?exercise=apology-note")
        ben.get_by_role("heading", name="Turn a driver's note into a polite apology").wait_for()
        run_prompt(ben, "Write a very long story, many paragraphs, about: {input}")
        ben.locator("[data-testid='stCode']").first.wait_for(timeout=180_000)
        first.kill()

        # nothing saved is lost; the other process carries on, and the killed run was never counted
        ben.goto(f"{second.url}/practice?exercise=sentiment-label")
        ben.get_by_text("Attempt 1 · score").first.wait_for()
        store = Store(database)
        attempts = store.all_attempts()
        assert sorted((a.learner, a.exercise_id, a.passed) for a in attempts) == [
            ("Ana", "sentiment-label", True),
            ("Ben", "sentiment-label", False),
        ]
        assert {a.verdict.generator for a in attempts} == {"class-server"}

        # the instructor, on the surviving process, sees every learner's attempts
        teacher = new_tab(browser)
        teacher.goto(f"{second.url}/instructor")
        teacher.get_by_label("Instructor passcode").fill("teach-42")
        teacher.get_by_role("button", name="Open the instructor page").click()
        teacher.get_by_text(f"The model server at {model_server.base_url} answers").wait_for()
        teacher.get_by_role("tab", name="Export").click()
        with teacher.expect_download() as download:
            teacher.get_by_role("button", name="Gradebook (CSV)").click()
        gradebook = Path(download.value.path()).read_text(encoding="utf-8")
        assert "Ana,,sentiment-label,yes,100,1," in gradebook
        assert "Ben,,sentiment-label,no," in gradebook
    finally:
        first.stop()
        second.stop()
