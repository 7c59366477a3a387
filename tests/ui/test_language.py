"""The interface in Chinese: the class's language, a learner's switch kept for them, and no English left in a real browser."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import i18n
from sandbox.classroom.roster import Roster
from sandbox.classroom.store import Store
from sandbox.config import load_settings
from sandbox.exercises.catalog import load_catalog

from ..browsing import Server, kept_by_browser, needs_chromium
from .apptest import SOLUTION, app, as_learner

CHINESE = re.compile(r"[\u4e00-\u9fff]")
ROOT = Path(__file__).resolve().parents[2]


def zh(text: str) -> str:
    return i18n.translations("zh").gettext(text)


def _title(at) -> str:
    return str(at.title[0].value)


def test_the_class_language_is_chinese_when_the_environment_says_so(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_LANGUAGE", "zh")
    at = app().run()
    assert not at.exception
    assert _title(at) == zh("Practise writing prompts") and CHINESE.search(_title(at))
    assert at.sidebar.selectbox(key="language_switch").value == "zh"


def test_a_learners_switch_is_kept_for_them_on_another_browser(fakes) -> None:
    Store(load_settings().database).learner("Ana", new=True)
    Store(load_settings().database).learner("Ben", new=True)
    at = as_learner("Ana").run()
    assert _title(at) == "Practise writing prompts", "English until somebody chooses"
    at = at.sidebar.selectbox(key="language_switch").select("zh").run()
    assert not at.exception
    assert _title(at) == zh("Practise writing prompts")
    assert as_learner("Ana").run().sidebar.selectbox(key="language_switch").value == "zh", "kept for Ana"
    assert _title(as_learner("Ben").run()) == "Practise writing prompts", "Ben's page is not Ana's choice"


def test_a_choice_made_before_signing_in_is_kept_once_signed_in(fakes) -> None:
    store = Store(load_settings().database)
    ana = store.learner("Ana", new=True)
    at = app().run().sidebar.selectbox(key="language_switch").select("zh").run()
    at.session_state["session_token"] = Roster(store).open_session(ana)
    at = at.run()
    assert _title(at) == zh("Practise writing prompts")
    assert _title(as_learner("Ana").run()) == zh("Practise writing prompts")


# --- a real browser ------------------------------------------------------------------------------------------------

ALLOWED = {
    "prompt",
    "sandbox",
    "SmolLM",
    "Instruct",
    "PIN",
    "CSV",
    "JSON",
    "Lines",
    "SQLite",
    "Language",
    "English",
    "UTC",
    "HTML",
}
"""Latin words that are the interface's in Chinese too: the app's and the model's names, file formats (JSON Lines),
codes, the switch's name."""


@pytest.fixture
def chinese_class(tmp_path: Path) -> Iterator[Server]:
    running = Server(tmp_path / "data", {"PROMPT_SANDBOX_LANGUAGE": "zh"})
    running.start()
    yield running
    running.stop()


def _written(text: object) -> list[str]:
    """An instructor's text, each line of it, in every language it is written in."""
    texts = [str(text), *getattr(text, "texts", {}).values()]
    return [line for one in texts for line in one.splitlines()]


def _content() -> list[str]:
    """Everything the instructors wrote (exercise and track files): it stays in the language it was written in."""
    catalog = load_catalog(ROOT / "exercises")
    pieces: list[str] = []
    for track in catalog.tracks:
        pieces += [track.id, *_written(track.title), *_written(track.intro)]
    for exercise in catalog.exercises.values():
        pieces += [exercise.id, *_written(exercise.title), *_written(exercise.task)]
        pieces += [line for hint in exercise.hints for line in _written(hint)]
        pieces += [str(exercise.system or ""), str(exercise.user or "")]
        for case in exercise.cases:
            pieces += [*case.variables().values(), *case.expect]
    return pieces


def _english_left(page, content: list[str]) -> set[str]:
    """Latin words on the page that are neither the instructors' content, the model's answers, nor allowed."""
    shown = page.evaluate(
        """() => {
            const hide = document.createElement("style");
            // icon names (marked translate=no), the model's answers, what was typed; and Streamlit's own
            // "Skip to main content" link and its lists' announcements to screen readers ("1 option available."),
            // off the screen (Streamlit has no Chinese for them)
            // and `code` in a sentence (a field name, a command), which is typed as written
            hide.textContent = "[translate='no'], [data-testid='stCode'], textarea, [data-testid='stSkipToContent'],"
                + " p code, li code,"
                + " [aria-live],"
                + " [data-testid='stToolbar'], [data-testid='stDecoration'] { display: none !important; }";
            document.head.appendChild(hide);
            const text = document.body.innerText;
            hide.remove();
            return text;
        }"""
    )
    outputs = page.locator("[data-testid='stCode']").all_inner_texts()
    strip = sorted({p.strip() for p in [*content, *outputs, SOLUTION, *SOLUTION.splitlines()] if p.strip()}, key=len)
    left = set()
    for line in shown.splitlines():
        for piece in reversed(strip):
            line = line.replace(piece, " ")
        # a chart shortens long exercise ids ("polite-email-rewr…")
        line = re.sub(r"[\w-]+…", lambda cut: " " if any(p.startswith(cut[0][:-1]) for p in strip) else cut[0], line)
        left |= {f"{w} (in {line.strip()!r})" for w in re.findall(r"[A-Za-z]{3,}", line) if w not in ALLOWED}
    return left


@needs_chromium
@pytest.mark.browser
@pytest.mark.slow
def test_a_chinese_class_walks_the_learner_loop_and_the_instructor_page_without_english(chinese_class, page) -> None:
    name, pin = "Amina K.", chinese_class.enrol("Amina K.")
    content = [*_content(), name]
    # the first page a fresh app serves is the instructor's: it is the app's page too (side bar, language)
    page.goto(f"{chinese_class.url}/instructor")
    page.get_by_label(zh("Instructor passcode")).wait_for()
    page.get_by_label("Language / 语言").wait_for()
    page.goto(chinese_class.url)
    page.get_by_role("heading", name=zh("Practise writing prompts")).wait_for()
    assert not (left := _english_left(page, content)), left

    page.get_by_label(zh("Your name")).click()
    page.keyboard.type(name)
    page.get_by_role("option", name=name, exact=False).first.click()
    page.get_by_label(zh("Your PIN")).fill(pin)
    page.get_by_role("button", name=zh("Sign in")).click()
    page.get_by_role("button", name=zh("Sign out")).wait_for(timeout=30_000)
    kept_by_browser(page)
    assert not (left := _english_left(page, content)), left

    title = i18n.shown(load_catalog(ROOT / "exercises").exercises["sentiment-label"].title, "zh")
    assert CHINESE.search(title), "the exercise's own title is written in Chinese too"
    page.get_by_role("link", name=title).first.click()
    page.get_by_role("heading", name=title).wait_for()
    for prompt in ("Answer: {input}", SOLUTION):  # a prompt that fails (feedback, advice), then one that passes
        page.get_by_role("textbox", name=zh("Your prompt")).fill(prompt)
        page.get_by_role("button", name=zh("Run"), exact=True).click()
        page.get_by_role("button", name=zh("Cancel")).wait_for()
        page.get_by_role("button", name=zh("Cancel")).wait_for(state="detached", timeout=180_000)
        page.get_by_text(zh("Done.")).wait_for()
        page.locator("[data-testid='stAlert']", has_text=CHINESE).last.wait_for()
        assert not (left := _english_left(page, content)), left
    page.screenshot(path=str(chinese_class.data.parent / "practice-in-chinese.png"), full_page=True)

    page.goto(f"{chinese_class.url}/instructor")
    page.get_by_label(zh("Instructor passcode")).fill("teach-42")
    page.get_by_role("button", name=zh("Open the instructor page")).click()
    tabs = page.get_by_role("tab")
    tabs.first.wait_for()
    for index in range(tabs.count()):
        tabs.nth(index).click()
        page.wait_for_timeout(500)
        left = _english_left(page, content)
        assert not left, f"tab {tabs.nth(index).inner_text()}: {left}"


def test_a_chinese_page_asks_for_the_prompt_in_english_when_the_model_reads_only_english(fakes, monkeypatch) -> None:
    Store(load_settings().database).learner("Ana", new=True)
    english = as_learner("Ana", exercise="sentiment-label")
    english.switch_page("views/practice.py").run()
    assert not [i for i in english.info if "English only" in i.value], "an English page needs no such note"
    monkeypatch.setenv("PROMPT_SANDBOX_LANGUAGE", "zh")
    chinese = as_learner("Ana", exercise="sentiment-label")
    chinese.switch_page("views/practice.py").run()
    assert not chinese.exception
    [note] = [i.value for i in chinese.info if "英文" in i.value]
    assert "SmolLM2" in note and "提示词" in note, note


def test_the_instructor_page_names_the_exercises_in_the_readers_language(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    monkeypatch.setenv("PROMPT_SANDBOX_LANGUAGE", "zh")
    at = app()
    at.switch_page("views/instructor.py").run()
    at.text_input(key="passcode_input").input("teach-42")
    at.button[0].click().run()
    assert not at.exception
    title = i18n.shown(load_catalog(ROOT / "exercises").exercises["sentiment-label"].title, "zh")
    [mistakes] = [box for box in at.selectbox if box.label == zh("Typical mistakes in")]
    assert title in mistakes.options and "Label review sentiment" not in mistakes.options
