"""Who may open the instructor page: the passcode (as text or as a hash), wrong tries slowed then locked out.

A learner who wants the instructor page can guess. So each browser session gets
a few free tries; after those, every wrong try makes the next one wait longer
(2, 4, 8, ... seconds, at most a minute), and too many wrong tries in the whole
app (from any number of sessions) lock the page for a while; every wrong try is
logged. A restart of the app lifts the lock. The passcode may be configured as a
PBKDF2 hash (``prompt-sandbox hash-passcode`` makes one), so the text itself need
not be written in a service file.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import SandboxError
from ..i18n import N_, _, ngettext

HASH_PREFIX = "pbkdf2_sha256$"
HASH_ITERATIONS = 200_000
FREE_TRIES = 3
"""Wrong tries a session may make before each next try has to wait."""
LONGEST_WAIT_S = 60
APP_LIMIT = 20
"""Wrong tries in the whole app within ``APP_WINDOW_S`` that lock the instructor page."""
APP_WINDOW_S = 15 * 60
LOCK_S = 15 * 60

log = logging.getLogger("sandbox.access")

_NOT_RIGHT = {"passcode": N_("That passcode is not right."), "PIN": N_("That PIN is not right.")}
_NOT_RIGHT_WAIT = {
    "passcode": N_("That passcode is not right. Wait {seconds} seconds before the next try."),
    "PIN": N_("That PIN is not right. Wait {seconds} seconds before the next try."),
}
"""What a wrong try reads, for each ``noun`` a guard may check (an unknown noun reads as a passcode)."""


def hash_passcode(passcode: str, salt: str | None = None, iterations: int = HASH_ITERATIONS) -> str:
    """The form of a passcode to put in PROMPT_SANDBOX_INSTRUCTOR_PASSCODE instead of the passcode itself."""
    salt = salt or secrets.token_hex(16)
    digest = hashlib.pbkdf2_hmac("sha256", passcode.encode(), salt.encode(), iterations).hex()
    return f"{HASH_PREFIX}{iterations}${salt}${digest}"


def passcode_matches(given: str, configured: str) -> bool:
    """Whether ``given`` is the configured passcode (written as itself, or as a hash from :func:`hash_passcode`)."""
    if not configured.startswith(HASH_PREFIX):
        return hmac.compare_digest(given.encode(), configured.encode())
    try:
        iterations, salt, digest = configured[len(HASH_PREFIX) :].split("$")
        rounds = int(iterations)
    except ValueError:
        raise SandboxError(
            _(
                "PROMPT_SANDBOX_INSTRUCTOR_PASSCODE starts like a passcode hash but is not a whole one "
                "({form}). Make a new one with `prompt-sandbox hash-passcode`."
            ).format(form=f"{HASH_PREFIX}ITERATIONS$SALT$HEX")
        ) from None
    return hmac.compare_digest(hash_passcode(given, salt, rounds), f"{HASH_PREFIX}{rounds}${salt}${digest}")


@dataclass(frozen=True)
class TryResult:
    opened: bool
    message: str = ""
    """What the person at the page reads when it did not open."""


@dataclass
class _Session:
    wrong: int = 0
    next_try_at: float = 0.0


class PasscodeGuard:
    """Checks passcodes for one app process, remembering wrong tries per key (a browser session, a learner).

    ``app_limit`` wrong tries in the whole app lock every key (None: never); ``noun`` names
    what is typed in the messages and the log ("passcode" or "PIN").
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        *,
        noun: str = "passcode",
        free_tries: int = FREE_TRIES,
        app_limit: int | None = APP_LIMIT,
    ) -> None:
        self._clock = clock
        self.noun = noun
        self.free_tries = free_tries
        self.app_limit = app_limit
        self._lock = threading.Lock()
        self._sessions: dict[str, _Session] = {}
        self._recent_wrong: deque[float] = deque()
        self._locked_until = 0.0

    def forget(self, key: str) -> None:
        """Wrong tries for ``key`` no longer count (its passcode was changed)."""
        with self._lock:
            self._sessions.pop(key, None)

    def try_passcode(self, session: str, given: str, configured: str, who: str = "") -> TryResult:
        """Check ``given`` for ``session`` (the key wrong tries are counted by; ``who`` tried, for the log).

        Too early, or while locked, it is not even compared.
        """
        with self._lock:
            now = self._clock()
            if now < self._locked_until:
                minutes = max(1, round((self._locked_until - now) / 60))
                return TryResult(
                    False,
                    ngettext(
                        "The instructor page is locked for {minutes} more minute after "
                        "too many wrong passcodes. Restart the app to unlock it sooner.",
                        "The instructor page is locked for {minutes} more minutes after "
                        "too many wrong passcodes. Restart the app to unlock it sooner.",
                        minutes,
                    ).format(minutes=minutes),
                )
            state = self._sessions.setdefault(session, _Session())
            if now < state.next_try_at:
                seconds = max(1, round(state.next_try_at - now))
                return TryResult(
                    False,
                    _("Too many wrong tries: wait {seconds} more seconds, then try again.").format(seconds=seconds),
                )
            if passcode_matches(given, configured):
                self._sessions.pop(session, None)
                log.info("right %s (%s)", self.noun, self._who(session, who))
                return TryResult(True)
            return self._wrong(state, self._who(session, who), now)

    @staticmethod
    def _who(session: str, who: str) -> str:
        return f"{session}, session {who[:8]}" if who else f"session {session[:8]}"

    def _wrong(self, state: _Session, session: str, now: float) -> TryResult:
        state.wrong += 1
        self._recent_wrong.append(now)
        while self._recent_wrong and self._recent_wrong[0] < now - APP_WINDOW_S:
            self._recent_wrong.popleft()
        log.warning("wrong %s (%s, try %d)", self.noun, session, state.wrong)
        if self.app_limit is not None and len(self._recent_wrong) >= self.app_limit:
            self._locked_until = now + LOCK_S
            self._recent_wrong.clear()
            log.error("instructor page locked for %d minutes after %d wrong passcodes", LOCK_S // 60, self.app_limit)
            return TryResult(
                False,
                _(
                    "That passcode is not right. After {limit} wrong passcodes the instructor page is locked for "
                    "{minutes} minutes. Restart the app to unlock it sooner."
                ).format(limit=self.app_limit, minutes=LOCK_S // 60),
            )
        if state.wrong <= self.free_tries:
            return TryResult(False, _(_NOT_RIGHT.get(self.noun, _NOT_RIGHT["passcode"])))
        wait = min(LONGEST_WAIT_S, 2 ** (state.wrong - self.free_tries))
        state.next_try_at = now + wait
        message = _NOT_RIGHT_WAIT.get(self.noun, _NOT_RIGHT_WAIT["passcode"])
        return TryResult(False, _(message).format(seconds=wait))
