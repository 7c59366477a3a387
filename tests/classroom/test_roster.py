"""Signing in: PINs, sessions kept by a token, wrong PINs slowed; on SQLite and on PostgreSQL."""

from __future__ import annotations

import time

import pytest

from sandbox.classroom.access import PasscodeGuard
from sandbox.classroom.roster import PIN_FREE_TRIES, Roster, SignInError
from sandbox.classroom.store import Store


def _roster(database, **kwargs) -> Roster:
    return Roster(Store(database), **kwargs)


def test_a_session_opened_with_the_pin_names_its_learner_until_signed_out(database) -> None:
    roster = _roster(database)
    [ana, ben], _ = roster.add(["Ana", "Ben"], "b-1")
    pin = roster.new_pin(ana).pin
    token = roster.sign_in(ana, pin, "browser-1")
    assert roster.learner_for(token) == roster.store.learners()[0]
    assert len(token) >= 40, "a random token nobody guesses"
    assert roster.learner_for(token + "x") is None and roster.learner_for("") is None
    assert _roster(database).learner_for(token) is not None, "kept by the server: survives a restart"
    roster.sign_out(token)
    assert roster.learner_for(token) is None
    with pytest.raises(SignInError, match=r"You have no PIN yet\. Ask your instructor"):
        roster.sign_in(ben, "", "browser-2")


def test_a_new_pin_or_deleting_the_learner_closes_their_sessions(database) -> None:
    roster = _roster(database)
    [ana], _ = roster.add(["Ana"])
    first = roster.new_pin(ana).pin
    token = roster.sign_in(ana, first, "b")
    second = roster.new_pin(ana).pin
    assert roster.learner_for(token) is None
    if first != second:
        with pytest.raises(SignInError, match="not right"):
            roster.sign_in(ana, first, "b")
    token = roster.sign_in(ana, second, "b")
    roster.store.delete_learner(ana)
    assert roster.learner_for(token) is None


def test_a_session_expires(database) -> None:
    roster = _roster(database, session_hours=0)
    [ana], _ = roster.add(["Ana"])
    token = roster.sign_in(ana, roster.new_pin(ana).pin, "b")
    time.sleep(0.01)
    assert roster.learner_for(token) is None


def test_wrong_pins_for_a_learner_are_slowed_from_any_browser(database) -> None:
    now = [1000.0]
    roster = _roster(
        database, guard=PasscodeGuard(lambda: now[0], noun="PIN", free_tries=PIN_FREE_TRIES, app_limit=None)
    )
    [ana], _ = roster.add(["Ana"])
    pin = roster.new_pin(ana).pin
    wrong = "0000" if pin != "0000" else "1111"
    for attempt in range(PIN_FREE_TRIES):
        with pytest.raises(SignInError, match=r"^That PIN is not right\.$"):
            roster.sign_in(ana, wrong, f"browser-{attempt}")
    with pytest.raises(SignInError, match="Wait 2 seconds"):
        roster.sign_in(ana, wrong, "another-browser")
    with pytest.raises(SignInError, match="wait 2 more seconds"):
        roster.sign_in(ana, pin, "yet-another")  # even the right PIN waits: it is not compared yet
    now[0] += 3
    assert roster.learner_for(roster.sign_in(ana, pin, "b")) is not None


def test_a_passwordless_class_needs_no_pin_and_others_still_do(database) -> None:
    roster = _roster(database)
    [ana], _ = roster.add(["Ana"], "trusted")
    [ben], _ = roster.add(["Ben"], "other")
    roster.set_passwordless("TRUSTED", True)
    assert roster.learner_for(roster.sign_in(ana, "", "b")).name == "Ana"
    with pytest.raises(SignInError):
        roster.sign_in(ben, "", "b")
    roster.set_passwordless("TRUSTED", False)
    with pytest.raises(SignInError):
        roster.sign_in(ana, "", "b")


@pytest.mark.parametrize("pin", ["12", "123456789", "12a4", "١٢٣٤", ""])
def test_a_learner_who_adds_themselves_chooses_a_pin_of_digits(tmp_path, pin: str) -> None:
    roster = _roster(tmp_path / "p.sqlite3")
    with pytest.raises(SignInError, match="4 to 8 digits"):
        roster.enrol_self("Ana", pin)
    assert roster.store.learners() == []


def test_a_learner_who_adds_themselves_gets_a_session_and_cannot_take_a_name(tmp_path) -> None:
    roster = _roster(tmp_path / "p.sqlite3")
    token = roster.enrol_self("Ana", "2468")
    assert roster.learner_for(token).name == "Ana"
    with pytest.raises(Exception, match="already on the roster"):
        roster.enrol_self("ANA", "1357")
    [ana] = roster.store.learners()
    assert roster.learner_for(roster.sign_in(ana, "2468", "b")) == ana
