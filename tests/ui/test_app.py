"""The Streamlit pages through AppTest (fast, no browser), with fake models for focus.

The real models in the real app are proven by tests/ui/test_browser.py.
"""

from __future__ import annotations

import threading

import streamlit as st

from sandbox.classroom.roster import Roster
from sandbox.classroom.runs import RunsInProgress
from sandbox.classroom.store import Store
from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models import factory

from ..conftest import FakeEmbedder, FakeGenerator
from .apptest import SOLUTION, app, as_learner, texts


def test_home_lists_tracks_and_asks_to_sign_in(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    at = app().run()
    assert not at.exception
    assert at.title[0].value == "Practise writing prompts"
    assert "Getting started" in [h.value for h in at.header]
    assert "Choose your name in the box on the left, type your PIN" in texts(at)
    assert "Nobody is on the class list yet. Your instructor adds the learners." in at.sidebar.info[0].value
    assert not at.sidebar.expander, "with an instructor, only the instructor adds learners"


def _class_list(*names: str, class_code: str = "") -> dict[str, str]:
    """Learners on the class list, with their PINs."""
    roster = Roster(Store(load_settings().database))
    added, problems = roster.add(list(names), class_code)
    assert not problems
    return {one.name: roster.new_pin(one).pin for one in added}


def _choose(at, name: str):
    """Choose ``name`` in the sign-in list, as it is shown (with the class after it)."""
    names = at.sidebar.selectbox(key="sign_in_who")
    [index] = [i for i, shown in enumerate(names.options) if shown.split(" (")[0] == name]
    return names.select_index(index).run()


def test_a_learner_signs_in_with_their_pin_and_no_address_makes_anyone_someone(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    pins = _class_list("Ana", "Ben", class_code="b-12")
    # the old way in: a name in the address; it signs nobody in and is taken out of the address
    for name in ("ana", "ANA", "\uff21na", "Ana\u00a0"):
        at = app(learner=name).run()
        assert not [m for m in at.sidebar.markdown if m.value.startswith("Signed in as")], name
        assert "learner" not in at.query_params
    assert Store(load_settings().database).learners()[0].name == "Ana", "no learner was made from an address"
    at = _choose(app().run(), "Ana")
    assert [t.label for t in at.sidebar.text_input] == ["Your PIN"], "no class code to type: only the instructor moves"
    at.sidebar.text_input(key="sign_in_pin").input("0000" if pins["Ana"] != "0000" else "1111")
    at.sidebar.button(key="sign_in").click().run()
    assert at.sidebar.error[0].value == "That PIN is not right."
    at.sidebar.text_input(key="sign_in_pin").input(pins["Ana"])
    at.sidebar.button(key="sign_in").click().run()
    assert "Signed in as **Ana**" in [m.value for m in at.sidebar.markdown]
    assert "Class B\\-12" in [c.value for c in at.sidebar.caption]
    assert dict(at.query_params) == {}, "nothing in the address says who is signed in"
    at.sidebar.button(key="sign_out").click().run()
    assert not [m for m in at.sidebar.markdown if m.value.startswith("Signed in as")]


def test_a_passwordless_class_signs_in_by_name_alone(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    _class_list("Ana", class_code="trusted")
    Roster(Store(load_settings().database)).set_passwordless("TRUSTED", True)
    at = _choose(app().run(), "Ana")
    assert not [t for t in at.sidebar.text_input if t.key == "sign_in_pin"], "no PIN asked"
    at.sidebar.button(key="sign_in").click().run()
    assert "Signed in as **Ana**" in [m.value for m in at.sidebar.markdown]


def test_without_an_instructor_a_learner_adds_themselves_with_a_pin(fakes, monkeypatch) -> None:
    monkeypatch.delenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", raising=False)
    at = app().run()
    at.sidebar.text_input(key="enrol_name").input("Amina K.")
    at.sidebar.text_input(key="enrol_pin").input("2468")
    at.sidebar.text_input(key="enrol_pin_again").input("2468")
    at.sidebar.button[-1].click().run()
    assert "Signed in as **Amina K\\.**" in [m.value for m in at.sidebar.markdown]
    again = app().run()  # someone else, wanting to be Amina
    again.sidebar.text_input(key="enrol_name").input("  amina k. ")
    again.sidebar.text_input(key="enrol_pin").input("1111")
    again.sidebar.text_input(key="enrol_pin_again").input("1111")
    again.sidebar.button[-1].click().run()
    assert "'Amina K.' is already on the roster." in again.sidebar.error[0].value
    again.sidebar.text_input(key="enrol_name").input("   ")
    again.sidebar.button[-1].click().run()
    assert "Please type a name" in again.sidebar.error[0].value


def test_running_an_exercise_shows_verdict_and_saves_the_attempt(fakes) -> None:
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
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
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
    assert not at.exception
    caption = at.caption[0].value
    assert caption.startswith("Getting started · Technique: Labelling and classification · Level 1 of 5")
    intro = [e for e in at.expander if e.label == "About this track: Getting started"]
    assert intro and "say exactly **what** you want" in "\n".join(m.value for m in intro[0].markdown)


def test_hidden_case_outputs_never_reach_the_page(fakes) -> None:
    fakes.replies = ["Negative", "Positive", "SECRET-HIDDEN-ANSWER", "ANOTHER-SECRET"]
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
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
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
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
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
    at.text_area(key="prompt::sentiment-label").input(SOLUTION)
    at.button(key="run").click().run()
    assert not at.exception
    assert "failed to load: weights missing" in at.error[0].value
    assert at.title[0].value == "Label review sentiment"
    st.cache_resource.clear()


def test_names_and_addresses_are_shown_as_typed_never_as_markdown(fakes) -> None:
    at = as_learner("[a](http://e.com) **b** ![t](http://x/n)").run()
    [shown] = [m.value for m in at.sidebar.markdown if m.value.startswith("Signed in as")]
    joiner = "\u2060"  # invisible: Streamlit makes no link of an address with one after its http
    assert shown == (
        f"Signed in as **\\[a\\]\\(http{joiner}\\:\\/\\/e\\.com\\) \\*\\*b\\*\\* "
        f"\\!\\[t\\]\\(http{joiner}\\:\\/\\/x\\/n\\)**"
    )
    lost = as_learner("Ana", exercise="[here](http://example.com)")
    lost.switch_page("views/practice.py").run()
    assert lost.warning[0].value == (
        f"There is no exercise '\\[here\\]\\(http{joiner}\\:\\/\\/example\\.com\\)'. Pick one below."
    )


def test_a_run_is_never_graded_on_an_exercise_the_learner_did_not_pick(fakes, write_exercise, monkeypatch) -> None:
    """The learner's exercise file is removed while they write; Run must not grade their prompt on another one."""
    one = "title: First\ntask: t\ncases:\n  - input: a\n    expect: [b]\n"
    write_exercise("t/first.yaml", one)
    gone = write_exercise("t/second.yaml", one.replace("First", "Second"))
    monkeypatch.setenv("PROMPT_SANDBOX_EXERCISES", str(write_exercise.root))
    earlier = as_learner("Ana", exercise="first")
    earlier.switch_page("views/practice.py").run()
    earlier.text_area(key="prompt::first").input("Repeat {input}")
    earlier.button(key="run").click().run()  # Ana's earlier attempt at the first exercise
    sent = len(fakes.requests)
    at = as_learner("Ana", exercise="second")
    at.switch_page("views/practice.py").run()
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
    at.switch_page("views/playground.py").run()
    at.text_area(key="pg_prompt").input("Say hello")
    at.button(key="pg_run").click().run()
    assert "Hello there, learner." in [c.value for c in at.code]
    assert fakes.requests[-1].temperature == 0.0 and fakes.requests[-1].system is None


def test_a_system_prompt_exercise_shows_which_part_is_the_learners(fakes) -> None:
    fakes.replies = ["Wipe it down.", "No, ask a colleague.", "Stop the press now.", "Bring your ID card."]
    at = as_learner("Ana", exercise="short-answers")
    at.switch_page("views/practice.py").run()
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
    at.switch_page("views/playground.py").run()
    at.text_area(key="pg_system").input("You extract names.")
    at.text_area(key="pg_prompt").input("Who flew to Hamburg? Tom Becker did.")
    at.text_input(key="pg_prefill").input("Tom ")
    at.button(key="pg_run").click().run()
    assert "Tom Becker" in [c.value for c in at.code]
    request = fakes.requests[-1]
    assert request.system == "You extract names." and request.prefill == "Tom "


def test_an_unusable_data_folder_is_explained_on_every_page_without_a_traceback(fakes, tmp_path, monkeypatch) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("PROMPT_SANDBOX_DATA", str(tmp_path / "a-file" / "data"))
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    pages = {"home": app().run()}
    for page in ("practice", "instructor"):
        pages[page] = app(exercise="sentiment-label")
        pages[page].switch_page(f"views/{page}.py").run()
    pages["instructor"].text_input(key="passcode_input").input("teach-42")
    pages["instructor"].button[0].click().run()
    for name, at in pages.items():
        assert not at.exception, name
        [message] = [e.value for e in at.error]
        assert message.startswith(f"Cannot create the data folder {tmp_path / 'a-file' / 'data'}: Not a directory.")
        assert "PROMPT_SANDBOX_DATA" in message and "Traceback" not in texts(at), name
    playground = app()
    playground.switch_page("views/playground.py").run()
    assert not playground.exception and not playground.error, "the playground needs no database"


def test_a_released_solution_reaches_learners_who_have_not_passed(fakes, monkeypatch) -> None:
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
    assert not any("solution" in e.label for e in at.expander)
    Store(load_settings().database_path).release_solution("sentiment-label")
    at.run()
    assert "The instructor's solution (your instructor has shared it)" in [e.label for e in at.expander]


def test_hints_unlock_after_failed_attempts(fakes) -> None:
    fakes.replies = ["maybe", "maybe", "maybe", "maybe"]
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
    assert "Hint 1 of 2 unlocks after 1 more failed attempt." in texts(at)
    assert "Tell the model which two words" not in texts(at)
    at.text_area(key="prompt::sentiment-label").input("Label: {input}")
    at.button(key="run").click().run()
    assert "Hint 1 is now open, under the cases." in texts(at)
    assert "Tell the model which two words it may answer with." in texts(at)
    assert "Ask for one word only" not in texts(at), "locked hints never reach the page"


def test_a_failed_run_says_what_to_change_and_the_second_puts_answers_beside_the_expected(fakes) -> None:
    fakes.replies = ["maybe"] * 8
    at = as_learner("Ana", exercise="sentiment-label")
    at.switch_page("views/practice.py").run()
    at.text_area(key="prompt::sentiment-label").input("Label: {input}")
    at.button(key="run").click().run()
    assert not at.exception
    shown = [i.value.replace("\\", "") for i in at.info]  # as the page reads, without Markdown's escapes
    assert "**What to change:** Tell the model it must answer with one of 'positive' or 'negative'." in shown
    assert "The closest expected answer" not in texts(at), "not after one failed attempt"
    at.button(key="run").click().run()
    assert "The closest expected answer" in texts(at)
    beside = [c.value for c in at.code]
    assert beside.count("maybe") >= 2 and "negative" in [v.strip().lower() for v in beside]


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
        at = as_learner("Ana", exercise="sentiment-label")
        at.switch_page("views/practice.py").run()
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


def test_a_run_cut_off_by_a_stopped_app_is_told_once_as_lost_and_not_counted(fakes) -> None:
    at = as_learner("Ana")
    store = Store(load_settings().database)
    ana = store.learner("Ana")
    RunsInProgress(store).start(ana, "sentiment-label", "an-app-process-that-was-killed")
    at.run()
    [lost] = [w.value for w in at.warning]
    assert lost.startswith("Your run of “Label review sentiment” (started at ")
    assert "was lost: the connection dropped or the app stopped before it was graded." in lost
    assert "It was not saved and does not count as an attempt. Press Run to try again." in lost
    at.run()
    assert not at.warning, "told once"
    assert store.attempts(ana, "sentiment-label") == []


def test_a_chinese_exercise_on_an_english_only_model_says_why_it_cannot_run(fakes) -> None:
    at = as_learner("Ana", exercise="review-sentiment-zh")
    at.switch_page("views/practice.py").run()
    assert at.title[0].value == "评论情感标注"
    assert at.warning[0].value.startswith("This exercise is in Chinese, and the model this class uses (SmolLM2")
    assert at.button(key="run").disabled
    home = as_learner("Ana").run()
    assert "Needs a model that speaks its language; this class's model does not." in texts(home)
