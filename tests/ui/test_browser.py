"""The real app, the real models, a real SQLite file, driven in headless Chromium."""

from __future__ import annotations

import itertools
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from sandbox.classroom.store import Store

from ..browsing import Server, needs_chromium, open_exercise, sign_in

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data")
    running.start()
    yield running
    running.stop()


@pytest.mark.slow
def test_a_learner_runs_an_exercise_and_keeps_progress_across_reload_and_restart(server, page) -> None:
    sign_in(page, server.url, "Amina K.", server.enrol("Amina K."))
    open_exercise(page, "Label review sentiment")
    page.get_by_role("heading", name="Label review sentiment").wait_for()
    page.get_by_role("textbox", name="Your prompt").fill(SOLUTION)
    page.get_by_role("button", name="Run", exact=True).click()

    page.get_by_text("Passed! All 4 cases passed. Score 100.").wait_for(timeout=180_000)
    outputs = page.locator("[data-testid='stCode']").all_inner_texts()
    assert "Negative" in outputs and "Positive" in outputs
    assert page.get_by_text("score 100 / 100").count() == 2
    html = page.content()
    assert "The jacket fell apart" not in html and "Friendly staff" not in html, "hidden cases never reach the browser"

    page.reload()  # the browser keeps the session's token, the server the session and the attempts
    page.get_by_text("Signed in as Amina K.").wait_for()
    page.get_by_text("Attempt 1 · score 100").first.wait_for()

    server.stop()
    server.start()  # same data folder
    page.goto(server.url)
    page.get_by_text("Signed in as Amina K.").wait_for()
    page.get_by_text("Best score 100").wait_for()
    row = page.locator("[data-testid='stHorizontalBlock']", has_text="Label review sentiment")
    assert "Passed" in row.inner_text()
    other = page.locator("[data-testid='stHorizontalBlock']", has_text="Find the order number")
    assert "Not started" in other.inner_text()


@pytest.mark.slow
def test_the_playground_streams_the_answer(server, page) -> None:
    page.goto(f"{server.url}/playground")
    page.get_by_role("textbox", name="Your prompt").fill("Write a short poem about the sea.")
    page.get_by_role("button", name="Run", exact=True).click()
    code = page.locator("[data-testid='stCode']").first
    seen: list[str] = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if code.count():
            text = code.inner_text()
            if text and (not seen or text != seen[-1]):
                seen.append(text)
        if not page.get_by_role("button", name="Run", exact=True).is_disabled() and len(seen) > 1:
            # keep sampling until the text stops growing
            time.sleep(1.0)
            if code.inner_text() == seen[-1]:
                break
        time.sleep(0.1)
    assert len(seen) >= 3, f"the answer should arrive in pieces, saw {seen}"
    assert all(later.startswith(earlier.rstrip()[:10]) for earlier, later in itertools.pairwise(seen))
    assert len(seen[-1]) > len(seen[0])


@pytest.mark.slow
def test_a_broken_exercise_file_is_shown_and_the_rest_still_work(tmp_path: Path, page) -> None:
    exercises = tmp_path / "exercises"
    shutil.copytree(ROOT / "exercises", exercises)
    (exercises / "getting-started" / "broken.yaml").write_text("title: Broken\ntask: t\ndifficulty: hard\ncases: []\n")
    data = tmp_path / "data"
    running = Server(data)
    os.environ["PROMPT_SANDBOX_EXERCISES"] = str(exercises)
    try:
        running.start()
        page.goto(running.url)
        page.get_by_text("1 exercise is being fixed by your instructor and not shown yet.").wait_for()
        # the page may still be drawing its first run: wait for the link to be there, once
        expect(page.get_by_role("link", name="Label review sentiment")).to_have_count(1)
        assert "broken.yaml" not in page.content(), "which file and what is wrong is for the instructor"
        page.goto(f"{running.url}/instructor")
        page.get_by_label("Instructor passcode").fill("teach-42")
        page.get_by_role("button", name="Open the instructor page").click()
        page.get_by_role("tab", name="Exercise health").click()
        page.get_by_text("exercises/getting-started/broken.yaml:3: difficulty").wait_for()
        page.goto(running.url)
        # an instructor fixes nothing and adds a new exercise: it appears without a restart
        (exercises / "getting-started" / "new-one.yaml").write_text(
            "title: A brand new exercise\ntask: t\ncases:\n  - input: a\n    expect: [b]\n"
        )
        page.reload()
        page.get_by_role("link", name="A brand new exercise").wait_for()
    finally:
        del os.environ["PROMPT_SANDBOX_EXERCISES"]
        running.stop()


@pytest.mark.slow
def test_before_a_pass_the_page_holds_no_hidden_case_no_solution_no_locked_hint(server, page) -> None:
    sign_in(page, server.url, "Ben", server.enrol("Ben"))
    open_exercise(page, "Label review sentiment")
    page.get_by_role("heading", name="Label review sentiment").wait_for()
    page.get_by_role("textbox", name="Your prompt").fill("{input}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Not yet: 0 of 4 cases passed").wait_for(timeout=180_000)
    page.get_by_text("Tell the model which two words it may answer with.").wait_for()  # opened by the failure
    page.get_by_text("Hint 2 of 2 unlocks after 1 more failed attempt.").wait_for()
    html = page.content()
    for secret in ("The jacket fell apart", "Friendly staff", "Classify the sentiment", "Ask for one word only"):
        assert secret not in html


@pytest.mark.slow
def test_the_instructor_page_opens_only_with_the_passcode(server, page) -> None:
    server.enrol("Dana Classmate")
    sign_in(page, server.url, "Chen Wei", server.enrol("Chen Wei"))
    page.goto(f"{server.url}/instructor")
    page.get_by_label("Instructor passcode").wait_for()
    page.get_by_text("Signed in as Chen Wei").wait_for()  # kept by the session, also on this page
    assert "Dana Classmate" not in page.content(), "nothing of the class reaches a browser without the passcode"
    page.get_by_label("Instructor passcode").fill("guess")
    page.get_by_role("button", name="Open the instructor page").click()
    page.get_by_text("That passcode is not right.").wait_for()
    page.get_by_label("Instructor passcode").fill("teach-42")
    page.get_by_role("button", name="Open the instructor page").click()
    page.get_by_role("tab", name="Class grid").wait_for()
    page.get_by_role("tab", name="Export").click()
    with page.expect_download() as download:
        page.get_by_role("button", name="Gradebook (CSV)").click()
    raw = Path(download.value.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "a byte-order mark, so Excel reads Chinese names and headers as UTF-8"
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "learner,class,exercise,passed,best_score,attempts,first_passed_at"
    assert "Chen Wei,,sentiment-label,no,0,0," in text


@pytest.mark.slow
def test_a_learner_can_cancel_a_run_and_it_is_not_counted(server, page) -> None:
    sign_in(page, server.url, "Dana", server.enrol("Dana"))
    open_exercise(page, "Turn a driver's note into a polite apology")
    page.get_by_role("heading", name="Turn a driver's note into a polite apology").wait_for()
    page.get_by_role("textbox", name="Your prompt").fill("Write a very long story, many paragraphs, about: {input}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator("[data-testid='stCode']").first.wait_for(timeout=180_000)  # the model has started answering
    page.get_by_role("button", name="Cancel").click()
    page.get_by_text("You cancelled the run. It was not graded and does not count as an attempt.").wait_for()
    # the Cancel button of the stopped run goes once the page has redrawn (Streamlit keeps it until then)
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    page.get_by_text("No attempts yet.").wait_for()
    # the learner's place in the queue is free again: the next run goes through
    page.get_by_role("textbox", name="Your prompt").fill("{input}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Attempt 1 · score").first.wait_for(timeout=180_000)


@pytest.mark.slow
def test_the_browser_asks_nothing_of_any_other_computer_and_shows_names_as_typed(server, page) -> None:
    """Offline means offline: every request of a learner's loop and the instructor page goes to this app only."""
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.on("websocket", lambda socket: asked.append(socket.url))
    name = "![t](//127.0.0.1:9/n.png) **b**"
    sign_in(page, server.url, name, server.enrol(name))
    assert page.locator("img[src*='n.png']").count() == 0
    assert page.locator("strong", has_text=name).count() == 1, "the name is shown as typed, in bold"
    open_exercise(page, "Label review sentiment")
    page.get_by_role("textbox", name="Your prompt").fill(SOLUTION)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Passed! All 4 cases passed. Score 100.").wait_for(timeout=180_000)
    page.goto(f"{server.url}/?exercise=[x](http://example.com)")
    page.goto(f"{server.url}/practice?exercise=[x](http://example.com)")
    page.get_by_text("There is no exercise '[x](").wait_for()
    assert page.locator("a[href^='http://example.com']").count() == 0, "no live link from the address bar"
    page.goto(f"{server.url}/instructor")
    page.get_by_label("Instructor passcode").fill("teach-42")
    page.get_by_role("button", name="Open the instructor page").click()
    page.get_by_role("tab", name="Class grid").wait_for()
    page.wait_for_timeout(1000)  # icons and fonts load after the page draws
    elsewhere = sorted(
        {url for url in asked if not url.startswith((server.url, server.url.replace("http", "ws"), "data:", "blob:"))}
    )
    assert elsewhere == [], "the browser asked other computers for these"
    assert not any(url.startswith("http://127.0.0.1:9/") for url in asked), "a name's Markdown image was fetched"


@pytest.mark.slow
def test_a_run_cut_off_by_a_killed_app_is_reported_lost_after_a_restart(server, page) -> None:
    sign_in(page, server.url, "Eli", server.enrol("Eli"))
    open_exercise(page, "Turn a driver's note into a polite apology")
    page.get_by_role("textbox", name="Your prompt").fill("Write a very long story, many paragraphs, about: {input}")
    page.get_by_role("button", name="Run", exact=True).click()
    page.locator("[data-testid='stCode']").first.wait_for(timeout=180_000)  # the model is answering
    server.kill()  # kill -9: the machine was switched off, or the app crashed
    server.start()
    page.goto(f"{server.url}/practice?exercise=apology-note")
    page.get_by_text("Signed in as Eli").wait_for()
    page.get_by_text("Your run of “Turn a driver's note into a polite apology” (started at").wait_for()
    page.get_by_text("It was not saved and does not count as an attempt.").wait_for()
    page.get_by_text("No attempts yet.").wait_for()
    page.reload()
    page.get_by_text("No attempts yet.").wait_for()
    assert page.get_by_text("was lost").count() == 0, "told once"


@pytest.mark.slow
def test_an_address_with_a_name_signs_nobody_in(server, page) -> None:
    server.enrol("Ana")
    for name in ("Ana", "ana", "\uff21na"):
        page.goto(f"{server.url}/practice?exercise=sentiment-label&learner={name}")
        page.get_by_role("heading", name="Label review sentiment").wait_for()
        page.get_by_text("Sign in on the left first (your name and your PIN)").wait_for()
        assert page.get_by_text("Signed in as").count() == 0
        expect(page.get_by_role("button", name="Run", exact=True)).to_be_disabled()
        assert "learner=" not in page.url, "the name is taken out of the address"
    assert [one.name for one in Store(server.database).learners()] == ["Ana"], "no learner made from an address"
