"""The Streamlit pages through AppTest (fast, no browser), with fake models for focus.

The real models in the real app are proven by tests/ui/test_browser.py.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from sandbox.classroom.access import hash_passcode
from sandbox.classroom.store import Store
from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models import factory

from ..conftest import FakeEmbedder, FakeGenerator

ROOT = Path(__file__).resolve().parents[2]
APP = str(ROOT / "sandbox_ui" / "app.py")
SOLUTION = (
    "Classify the sentiment of this customer review as positive or negative. Answer with one word.\n\nReview: {input}"
)


@pytest.fixture
def fakes(monkeypatch):
    generator = FakeGenerator(["Negative", "Positive", "Negative", "Positive"])
    monkeypatch.setattr(factory, "build_generator", lambda settings, progress=None: generator)
    monkeypatch.setattr(factory, "build_embedder", lambda settings, progress=None, beside=None: FakeEmbedder())
    st.cache_resource.clear()
    yield generator
    st.cache_resource.clear()


def app(**params: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=30)
    for key, value in params.items():
        at.query_params[key] = value
    return at


def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.code] + [h.value for h in at.title]
    parts += [e.value for e in at.error] + [w.value for w in at.warning] + [s.value for s in at.success]
    parts += [i.value for i in at.info] + [c.value for c in at.caption] + [h.value for h in at.header]
    return "\n".join(str(p) for p in parts)


def test_home_lists_tracks_and_asks_for_a_name(fakes) -> None:
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "Practise writing prompts"
    assert "Getting started" in [h.value for h in at.header]
    assert "Type your name in the box on the left" in texts(at)
    assert at.sidebar.text_input(key="learner_name_input") is not None


def test_signing_in_keeps_the_name_in_the_address(fakes) -> None:
    at = app().run()
    at.sidebar.text_input(key="learner_name_input").input("Amina K.")
    at.sidebar.button[0].click().run()
    assert "Signed in as **Amina K\\.**" in [m.value for m in at.sidebar.markdown]
    assert at.query_params["learner"] == "Amina K."


def test_an_empty_name_gets_advice(fakes) -> None:
    at = app().run()
    at.sidebar.text_input(key="learner_name_input").input("   ")
    at.sidebar.button[0].click().run()
    assert "Please type your name" in at.sidebar.error[0].value


def test_running_an_exercise_shows_verdict_and_saves_the_attempt(fakes) -> None:
    at = app(learner="Ana", exercise="sentiment-label")
    at.switch_page("pages/exercise.py").run()
    assert at.title[0].value == "Label review sentiment"
    at.text_area(key="prompt::sentiment-label").input(SOLUTION)
    at.button(key="run").click().run()
    assert not at.exception
    page = texts(at)
    assert "Passed! All 4 cases passed. Score 100." in page
    assert "Negative" in [c.value for c in at.code]
    assert "Positive" in [c.value for c in at.code]
    store = Store(load_settings().database_path)
    attempts = store.attempts(store.learner("Ana"), "sentiment-label")
    assert len(attempts) == 1 and attempts[0].passed and attempts[0].prompt == SOLUTION
    assert "The instructor's solution (you passed, so you can compare)" in [e.label for e in at.expander]
    assert SOLUTION in [c.value for c in at.code]


def test_the_practice_page_names_the_track_and_technique_and_offers_the_track_intro(fakes) -> None:
    at = app(learner="Ana", exercise="sentiment-label")
    at.switch_page("pages/exercise.py").run()
    assert not at.exception
    caption = at.caption[0].value
    assert caption.startswith("Getting started · Technique: Labelling and classification · Level 1 of 5")
    intro = [e for e in at.expander if e.label == "About this track: Getting started"]
    assert intro and "say exactly **what** you want" in "\n".join(m.value for m in intro[0].markdown)


def test_hidden_case_outputs_never_reach_the_page(fakes) -> None:
    fakes.replies = ["Negative", "Positive", "SECRET-HIDDEN-ANSWER", "ANOTHER-SECRET"]
    at = app(learner="Ana", exercise="sentiment-label")
    at.switch_page("pages/exercise.py").run()
    at.text_area(key="prompt::sentiment-label").input(SOLUTION)
    at.button(key="run").click().run()
    page = texts(at)
    assert "Not yet: 2 of 4 cases passed (hidden cases: 0 of 2 passed)." in page
    assert "SECRET" not in page
    assert "The jacket fell apart" not in page, "hidden inputs stay hidden"
    assert "Classify the sentiment of this customer review" not in page.replace(SOLUTION, ""), (
        "no solution before a pass"
    )


def test_a_prompt_with_an_unknown_placeholder_is_explained(fakes) -> None:
    at = app(learner="Ana", exercise="sentiment-label")
    at.switch_page("pages/exercise.py").run()
    at.text_area(key="prompt::sentiment-label").input("Label {review}")
    at.button(key="run").click().run()
    assert "uses {review}, which this exercise does not have" in at.error[0].value
    assert fakes.requests == []


def test_a_model_that_fails_to_load_shows_a_message_and_the_page_survives(monkeypatch) -> None:
    def broken(settings, progress=None):
        raise ModelError("The language model 'x' failed to load: weights missing. Run `prompt-sandbox models verify`.")

    monkeypatch.setattr(factory, "build_generator", broken)
    monkeypatch.setattr(factory, "build_embedder", lambda settings, progress=None, beside=None: FakeEmbedder())
    st.cache_resource.clear()
    at = app(learner="Ana", exercise="sentiment-label")
    at.switch_page("pages/exercise.py").run()
    at.text_area(key="prompt::sentiment-label").input(SOLUTION)
    at.button(key="run").click().run()
    assert not at.exception
    assert "failed to load: weights missing" in at.error[0].value
    assert at.title[0].value == "Label review sentiment"
    st.cache_resource.clear()


def test_a_broken_file_is_listed_for_the_instructor_and_learners_see_no_details(
    fakes, write_exercise, monkeypatch
) -> None:
    write_exercise(
        "t/good.yaml", "title: Good one\ntask: t\ncases:\n  - input: a\n    expect: [b]\n    hidden: false\n"
    )
    secret = "title: Bad\ntask: t\ncases:\n  - input: 2024-06-01\n    expect: [90]\n    hidden: true\n"
    write_exercise("t/bad.yaml", secret)
    monkeypatch.setenv("PROMPT_SANDBOX_EXERCISES", str(write_exercise.root))
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    at = app().run()
    assert not at.exception
    assert [p.proto.label for p in at.get("page_link")] == ["Good one"]
    assert "1 exercise is being fixed by your instructor and not shown yet." in texts(at)
    practice = app(learner="Ana", exercise="bad")
    practice.switch_page("pages/exercise.py").run()
    assert "This exercise is being fixed by your instructor" in practice.warning[0].value
    for page in (at, practice):
        assert "bad.yaml" not in texts(page) and "2024-06-01" not in texts(page) and "90" not in texts(page)
    teacher = app()
    teacher.switch_page("pages/instructor.py").run()
    teacher.text_input(key="passcode_input").input("teach-42")
    teacher.button[0].click().run()
    problems = "\n".join(c.value for c in teacher.code)
    assert "exercises/t/bad.yaml:4: case 1 > input: 'input' must be text; put it in quotes (you wrote 2024-06-01)" in (
        problems
    )


def test_names_and_addresses_are_shown_as_typed_never_as_markdown(fakes) -> None:
    at = app().run()
    at.sidebar.text_input(key="learner_name_input").input("[a](http://e.com) **b** ![t](http://x/n)")
    at.sidebar.button[0].click().run()
    [shown] = [m.value for m in at.sidebar.markdown if m.value.startswith("Signed in as")]
    joiner = "\u2060"  # invisible: Streamlit makes no link of an address with one after its http
    assert shown == (
        f"Signed in as **\\[a\\]\\(http{joiner}\\:\\/\\/e\\.com\\) \\*\\*b\\*\\* "
        f"\\!\\[t\\]\\(http{joiner}\\:\\/\\/x\\/n\\)**"
    )
    lost = app(learner="Ana", exercise="[here](http://example.com)")
    lost.switch_page("pages/exercise.py").run()
    assert lost.warning[0].value == (
        f"There is no exercise '\\[here\\]\\(http{joiner}\\:\\/\\/example\\.com\\)'. Pick one below."
    )


def test_a_run_is_never_graded_on_an_exercise_the_learner_did_not_pick(fakes, write_exercise, monkeypatch) -> None:
    """The learner's exercise file is removed while they write; Run must not grade their prompt on another one."""
    one = "title: First\ntask: t\ncases:\n  - input: a\n    expect: [b]\n"
    write_exercise("t/first.yaml", one)
    gone = write_exercise("t/second.yaml", one.replace("First", "Second"))
    monkeypatch.setenv("PROMPT_SANDBOX_EXERCISES", str(write_exercise.root))
    earlier = app(learner="Ana", exercise="first")
    earlier.switch_page("pages/exercise.py").run()
    earlier.text_area(key="prompt::first").input("Repeat {input}")
    earlier.button(key="run").click().run()  # Ana's earlier attempt at the first exercise
    sent = len(fakes.requests)
    at = app(learner="Ana", exercise="second")
    at.switch_page("pages/exercise.py").run()
    at.text_area(key="prompt::second").input("Say {input}")
    gone.unlink()
    at.button(key="run").click().run()
    assert not at.exception
    assert at.warning[0].value == "There is no exercise 'second'. Pick one below."
    assert len(fakes.requests) == sent, "nothing more was sent to the model"
    assert "cases passed" not in texts(at)
    store = Store(load_settings().database_path)
    assert [a.prompt for a in store.all_attempts(None)] == ["Repeat {input}"]


def test_playground_streams_an_answer_without_grading(fakes) -> None:
    fakes.replies = ["Hello there, learner."]
    at = app()
    at.switch_page("pages/playground.py").run()
    at.text_area(key="pg_prompt").input("Say hello")
    at.button(key="pg_run").click().run()
    assert "Hello there, learner." in [c.value for c in at.code]
    assert fakes.requests[-1].temperature == 0.0 and fakes.requests[-1].system is None


def test_a_system_prompt_exercise_shows_which_part_is_the_learners(fakes) -> None:
    fakes.replies = ["Wipe it down.", "No, ask a colleague.", "Stop the press now.", "Bring your ID card."]
    at = app(learner="Ana", exercise="short-answers")
    at.switch_page("pages/exercise.py").run()
    assert at.text_area(key="prompt::short-answers").label == "Your system prompt"
    page = texts(at)
    assert "User message" in page and "{input}" in [c.value for c in at.code]
    at.text_area(key="prompt::short-answers").input("Answer in one short sentence.")
    at.button(key="run").click().run()
    assert "Passed! All 4 cases passed." in texts(at)
    assert fakes.requests[0].system == "Answer in one short sentence."
    assert fakes.requests[0].prompt == "How do I clean the conveyor belt?"


def test_the_playground_passes_system_and_prefill(fakes) -> None:
    fakes.replies = ["Becker", '"}']
    at = app()
    at.switch_page("pages/playground.py").run()
    at.text_area(key="pg_system").input("You extract names.")
    at.text_area(key="pg_prompt").input("Who flew to Hamburg? Tom Becker did.")
    at.text_input(key="pg_prefill").input("Tom ")
    at.button(key="pg_run").click().run()
    assert "Tom Becker" in [c.value for c in at.code]
    request = fakes.requests[-1]
    assert request.system == "You extract names." and request.prefill == "Tom "


def test_the_instructor_page_is_closed_without_a_configured_passcode(fakes, monkeypatch) -> None:
    monkeypatch.delenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", raising=False)
    at = app()
    at.switch_page("pages/instructor.py").run()
    assert "The instructor page is closed" in at.info[0].value
    assert not at.get("tab")


def test_the_instructor_page_needs_the_passcode(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    Store(load_settings().database_path).learner("Secret Learner", "B-12")
    at = app()
    at.switch_page("pages/instructor.py").run()
    assert "Secret Learner" not in texts(at) and not at.dataframe
    at.text_input(key="passcode_input").input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "That passcode is not right."
    assert not at.get("tab")
    at.text_input(key="passcode_input").input("teach-42")
    at.button[0].click().run()
    assert not at.exception
    assert [t.label for t in at.get("tab")] == ["Class grid", "Exercises", "One learner", "Exercise health", "Export"]
    assert "Secret Learner" in at.dataframe[0].value["learner"].tolist()


def test_wrong_passcodes_slow_the_next_try_and_the_instructor_session_expires(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", hash_passcode("teach-42"))
    at = app()
    at.switch_page("pages/instructor.py").run()

    def attempt(code: str) -> str:
        at.text_input(key="passcode_input").input(code)
        at.button[0].click().run()
        return at.error[0].value if at.error else ""

    assert [attempt(f"guess-{n}") for n in range(3)] == ["That passcode is not right."] * 3
    assert attempt("guess-4") == "That passcode is not right. Wait 2 seconds before the next try."
    assert attempt("teach-42").startswith("Too many wrong tries: wait"), "the right one is not even checked yet"
    assert not at.get("tab")
    time.sleep(2.1)
    assert attempt("teach-42") == ""
    assert at.get("tab")[0].label == "Class grid"
    at.session_state["instructor"] = at.session_state["instructor"] - 241 * 60  # four hours and a minute later
    at.run()
    assert not at.get("tab") and "The instructor page closed after 240 minutes" in at.info[0].value


def test_the_exercise_statistics_keep_numbers_in_their_number_column(fakes, monkeypatch) -> None:
    """A median for one exercise and none for the others used to mix numbers and "" (an ArrowTypeError each load)."""
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    learner = app(learner="Ana", exercise="sentiment-label")
    learner.switch_page("pages/exercise.py").run()
    learner.text_area(key="prompt::sentiment-label").input(SOLUTION)
    learner.button(key="run").click().run()
    at = app()
    at.switch_page("pages/instructor.py").run()
    at.text_input(key="passcode_input").input("teach-42")
    at.button[0].click().run()
    assert not at.exception
    [column] = [d.value["median attempts to pass"] for d in at.dataframe if "median attempts to pass" in d.value]
    assert column.dtype.kind == "f" and column.notna().sum() == 1 and column.max() == 1


def test_a_released_solution_reaches_learners_who_have_not_passed(fakes, monkeypatch) -> None:
    at = app(learner="Ana", exercise="sentiment-label")
    at.switch_page("pages/exercise.py").run()
    assert not any("solution" in e.label for e in at.expander)
    Store(load_settings().database_path).release_solution("sentiment-label")
    at.run()
    assert "The instructor's solution (your instructor has shared it)" in [e.label for e in at.expander]


def test_hints_unlock_after_failed_attempts(fakes) -> None:
    fakes.replies = ["maybe", "maybe", "maybe", "maybe"]
    at = app(learner="Ana", exercise="sentiment-label")
    at.switch_page("pages/exercise.py").run()
    assert "Hint 1 of 2 unlocks after 1 more failed attempt." in texts(at)
    assert "Tell the model which two words" not in texts(at)
    at.text_area(key="prompt::sentiment-label").input("Label: {input}")
    at.button(key="run").click().run()
    assert "Hint 1 is now open, under the cases." in texts(at)
    assert "Tell the model which two words it may answer with." in texts(at)
    assert "Ask for one word only" not in texts(at), "locked hints never reach the page"


class SlowLoadingGenerator(FakeGenerator):
    """Loads only when told to, like a big model on a slow disk."""

    def __init__(self, replies: list[str]) -> None:
        super().__init__(replies)
        self.ready = threading.Event()

    @property
    def loaded(self) -> bool:
        return self.ready.is_set()

    def load(self) -> None:
        self.ready.wait(20)


def test_pages_render_while_the_model_loads_and_run_waits_with_a_message(monkeypatch) -> None:
    generator = SlowLoadingGenerator(["Negative", "Positive", "Negative", "Positive"])
    monkeypatch.setattr(factory, "build_generator", lambda settings, progress=None: generator)
    monkeypatch.setattr(factory, "build_embedder", lambda settings, progress=None, beside=None: FakeEmbedder())
    st.cache_resource.clear()
    try:
        at = app().run()  # the model is still loading: the home page renders anyway
        assert not at.exception and not generator.loaded
        assert at.title[0].value == "Practise writing prompts"
        at = app(learner="Ana", exercise="sentiment-label")
        at.switch_page("pages/exercise.py").run()
        at.text_area(key="prompt::sentiment-label").input(SOLUTION)
        threading.Timer(1.0, generator.ready.set).start()
        at.button(key="run").click().run()
        assert [s.proto.label for s in at.get("status")] == ["The model is ready."]  # it said "still loading" first
        assert "Passed! All 4 cases passed." in texts(at)
    finally:
        st.cache_resource.clear()


def test_the_queue_line_tells_a_waiting_learner_their_place() -> None:
    from sandbox_ui.components import queue_line

    assert queue_line(0) == "Your run is next; the model starts in a moment..."
    assert queue_line(1) == "Waiting for the model: 1 other run is ahead of yours. You can cancel."
    assert queue_line(3) == "Waiting for the model: 3 other runs are ahead of yours. You can cancel."
