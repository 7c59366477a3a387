"""The instructor page through AppTest: the passcode and its limits, the class's records, exports and deletion."""

from __future__ import annotations

import time

from streamlit.testing.v1 import AppTest

from sandbox.classroom.access import hash_passcode
from sandbox.classroom.roster import NewPin, Roster, sign_in_sheet
from sandbox.classroom.store import Store
from sandbox.config import load_settings

from .apptest import SOLUTION, app, as_learner, texts


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
    practice = as_learner("Ana", exercise="bad")
    practice.switch_page("views/practice.py").run()
    assert "This exercise is being fixed by your instructor" in practice.warning[0].value
    for page in (at, practice):
        assert "bad.yaml" not in texts(page) and "2024-06-01" not in texts(page) and "90" not in texts(page)
    teacher = app()
    teacher.switch_page("views/instructor.py").run()
    teacher.text_input(key="passcode_input").input("teach-42")
    teacher.button[0].click().run()
    problems = "\n".join(c.value for c in teacher.code)
    assert "exercises/t/bad.yaml:4: case 1 > input: 'input' must be text; put it in quotes (you wrote 2024-06-01)" in (
        problems
    )


def test_the_instructor_page_is_closed_without_a_configured_passcode(fakes, monkeypatch) -> None:
    monkeypatch.delenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", raising=False)
    at = app()
    at.switch_page("views/instructor.py").run()
    assert "The instructor page is closed" in at.info[0].value
    assert not at.get("tab")


def test_the_instructor_page_needs_the_passcode(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    Store(load_settings().database_path).learner("Secret Learner", "B-12")
    at = app()
    at.switch_page("views/instructor.py").run()
    assert "Secret Learner" not in texts(at) and not at.dataframe
    at.text_input(key="passcode_input").input("wrong")
    at.button[0].click().run()
    assert at.error[0].value == "That passcode is not right."
    assert not at.get("tab")
    at.text_input(key="passcode_input").input("teach-42")
    at.button[0].click().run()
    assert not at.exception
    assert [t.label for t in at.get("tab")] == [
        "Class grid",
        "Class list",
        "Exercises",
        "One learner",
        "Exercise health",
        "Export",
    ]
    assert "Secret Learner" in at.dataframe[0].value["learner"].tolist()


def test_wrong_passcodes_slow_the_next_try_and_the_instructor_session_expires(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", hash_passcode("teach-42"))
    at = app()
    at.switch_page("views/instructor.py").run()

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


def ana_passes_sentiment_label(monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    learner = as_learner("Ana", exercise="sentiment-label")
    learner.switch_page("views/practice.py").run()
    learner.text_area(key="prompt::sentiment-label").input(SOLUTION)
    learner.button(key="run").click().run()


def opened_with_passcode() -> AppTest:
    at = app()
    at.switch_page("views/instructor.py").run()
    at.text_input(key="passcode_input").input("teach-42")
    at.button[0].click().run()
    return at


def test_the_exercise_statistics_keep_numbers_in_their_number_column(fakes, monkeypatch) -> None:
    """A median for one exercise and none for the others used to mix numbers and "" (an ArrowTypeError each load)."""
    ana_passes_sentiment_label(monkeypatch)
    at = opened_with_passcode()
    assert not at.exception
    [column] = [d.value["median attempts to pass"] for d in at.dataframe if "median attempts to pass" in d.value]
    assert column.dtype.kind == "f" and column.notna().sum() == 1 and column.max() == 1


def test_the_instructor_exports_a_learners_data_and_deletes_them_after_confirming(fakes, monkeypatch) -> None:
    ana_passes_sentiment_label(monkeypatch)
    Store(load_settings().database_path).learner("Ben")
    at = opened_with_passcode()
    at.selectbox(key="timeline_learner").select("Ana").run()
    assert "Everything kept about this learner (JSON)" in [b.proto.label for b in at.get("download_button")]
    delete = at.button(key="delete_learner")
    assert delete.disabled, "nothing is deleted before the name is typed"
    at.text_input(key="delete_confirm").input("Ana").run()
    at.button(key="delete_learner").click().run()
    assert not at.exception
    store = Store(load_settings().database_path)
    assert [x.name for x in store.learners()] == ["Ben"] and store.all_attempts() == []


def test_the_instructor_makes_the_class_list_pins_and_slips(fakes, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    at = opened_with_passcode()
    at.text_area(key="add_names").input("Ana\nBen\n  ana \n\u0410na\n=HYPERLINK(1)")
    at.text_input(key="add_class").input("b-12")
    at.button(key="FormSubmitter:add_learners-Add to the class list").click().run()
    assert not at.exception
    assert "3 learners added to the class list." in [s.value for s in at.success]
    warnings = "\n".join(w.value for w in at.warning)
    assert "already on the roster" in warnings and "mixes letters of different alphabets" in warnings
    store = Store(load_settings().database)
    assert [(one.name, one.class_code, one.has_pin) for one in store.learners()] == [
        ("=HYPERLINK(1)", "B-12", False),
        ("Ana", "B-12", False),
        ("Ben", "B-12", False),
    ]
    at.button(key="pins_missing").click().run()
    [made] = [d for d in at.dataframe if "PIN" in d.value.columns and str(d.value["PIN"][0]).isdigit()]
    pins = dict(zip(made.value["learner"], made.value["PIN"], strict=True))
    assert all(len(pin) == 4 and pin.isdigit() for pin in pins.values())
    roster = Roster(store)
    ana = next(one for one in store.learners() if one.name == "Ana")
    assert roster.learner_for(roster.sign_in(ana, pins["Ana"], "test")) == ana
    slips = sign_in_sheet([NewPin(ana, pins["Ana"])])
    assert "Ana" in slips and pins["Ana"] in slips
    # a learner's class is changed by the instructor only
    at.selectbox(key="move_who").select("Ben").run()
    at.text_input(key="move_to").input("c-7")
    at.button(key="move").click().run()
    assert next(one for one in store.learners() if one.name == "Ben").class_code == "C-7"
    at.toggle(key="passwordless::C-7").set_value(True).run()
    assert roster.passwordless("C-7") and not roster.passwordless("B-12")


def test_a_csv_class_list_is_read_with_its_problems_named_by_line(tmp_path) -> None:
    roster = Roster(Store(tmp_path / "p.sqlite3"))
    added, problems = roster.add_from_csv("\ufeffname,class\nAna,b-1\n\nBen,\n\u0410na,b-1\n")
    assert [(one.name, one.class_code) for one in added] == [("Ana", "B-1"), ("Ben", "")]
    assert len(problems) == 1 and problems[0].startswith("line 5: \u0410na: The word")
    headless, _ = roster.add_from_csv("Chen Wei,c-2\n")
    assert [(one.name, one.class_code) for one in headless] == [("Chen Wei", "C-2")]


def test_exercise_health_shows_how_many_good_prompts_pass(fakes, monkeypatch) -> None:
    from sandbox.authoring.health import save_reports
    from sandbox.authoring.solvability import SolveReport, VariantResult

    monkeypatch.setenv("PROMPT_SANDBOX_INSTRUCTOR_PASSCODE", "teach-42")
    shaky = SolveReport("order-number", True, 0.9, cases=3, solution_cases_passed=3)
    shaky.variants = [VariantResult("v1", True, 0.8), VariantResult("v2", False), VariantResult("v3", False)]
    save_reports(load_settings(), "smollm2-135m-instruct", "all-minilm-l6-v2", [shaky])
    at = app()
    at.switch_page("views/instructor.py").run()
    at.text_input(key="passcode_input").input("teach-42")
    at.button[0].click().run()
    health = next(d.value for d in at.dataframe if "good prompts pass" in d.value.columns)
    row = health.iloc[0]
    assert (row["exercise"], row["good prompts pass"], row["flags"]) == ("order-number", "2 of 4", "brittle")
