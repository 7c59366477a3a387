"""The instructor passcode: as text or a hash; wrong tries slowed, then the page locked for the whole app; logged."""

from __future__ import annotations

import logging

import pytest

from sandbox.classroom.access import APP_LIMIT, LOCK_S, PasscodeGuard, hash_passcode, passcode_matches
from sandbox.errors import SandboxError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_passcode_matches_as_text_or_as_its_hash() -> None:
    hashed = hash_passcode("teach-42")
    assert hashed.startswith("pbkdf2_sha256$200000$") and "teach-42" not in hashed
    assert passcode_matches("teach-42", "teach-42") and passcode_matches("teach-42", hashed)
    assert not passcode_matches("teach-43", "teach-42") and not passcode_matches("teach-43", hashed)
    assert hash_passcode("teach-42") != hashed, "each hash has its own salt"
    with pytest.raises(SandboxError, match=r"not a whole one.*hash-passcode"):
        passcode_matches("x", "pbkdf2_sha256$oops")


def test_wrong_tries_make_the_next_wait_longer_and_the_right_one_opens_after_the_wait(caplog) -> None:
    clock = Clock()
    guard = PasscodeGuard(clock)
    caplog.set_level(logging.INFO, logger="sandbox.access")
    messages = [guard.try_passcode("ana-session", "guess", "teach-42").message for _ in range(3)]
    assert messages == ["That passcode is not right."] * 3, "three free tries"
    assert guard.try_passcode("ana-session", "guess", "teach-42").message == (
        "That passcode is not right. Wait 2 seconds before the next try."
    )
    early = guard.try_passcode("ana-session", "teach-42", "teach-42")
    assert not early.opened and early.message == "Too many wrong tries: wait 2 more seconds, then try again."
    clock.now += 2
    assert guard.try_passcode("ana-session", "guess", "teach-42").message.endswith(
        "Wait 4 seconds before the next try."
    )
    clock.now += 4
    assert guard.try_passcode("ana-session", "teach-42", "teach-42").opened
    assert guard.try_passcode("other-session", "teach-42", "teach-42").opened, "another session is not held back"
    wrong = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(wrong) == 5 and "wrong passcode" in wrong[0].getMessage()


def test_too_many_wrong_tries_from_many_sessions_lock_the_page_for_everyone(caplog) -> None:
    clock = Clock()
    guard = PasscodeGuard(clock)
    for number in range(APP_LIMIT - 1):
        assert not guard.try_passcode(f"session-{number}", "guess", "teach-42").opened
        clock.now += 1
    last = guard.try_passcode("session-last", "guess", "teach-42")
    assert "locked for 15 minutes" in last.message
    refused = guard.try_passcode("the-instructor", "teach-42", "teach-42")
    assert not refused.opened and refused.message.startswith("The instructor page is locked for 15 more minutes")
    assert any(r.levelno == logging.ERROR and "locked" in r.getMessage() for r in caplog.records)
    clock.now += LOCK_S
    assert guard.try_passcode("the-instructor", "teach-42", "teach-42").opened


def test_wrong_tries_spread_over_a_long_time_do_not_lock_the_page() -> None:
    clock = Clock()
    guard = PasscodeGuard(clock)
    for number in range(APP_LIMIT * 2):
        guard.try_passcode(f"session-{number}", "guess", "teach-42")
        clock.now += 60
    assert guard.try_passcode("the-instructor", "teach-42", "teach-42").opened
