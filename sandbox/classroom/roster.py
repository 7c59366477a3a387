"""Signing learners in: the instructor's roster, PINs, and server-side sessions kept by a random token.

A learner chooses their name from the roster and types the PIN the instructor
handed out (a class the instructor marked passwordless skips the PIN). What the
browser keeps is a random token; the server keeps only its hash, with the learner
and an expiry, so no address, name or copied link makes anyone somebody else.
Wrong PINs for one learner are slowed like instructor passcodes (per learner,
from any number of browsers). PINs are stored as hashes, so the instructor sees
a PIN only when it is made: the printable sheet is made at that moment.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from .. import i18n
from ..errors import StoreError
from ..i18n import _
from .access import PasscodeGuard, hash_passcode
from .names import normalise_class_code
from .store import Learner, Store

PIN_DIGITS = 4
PIN_ITERATIONS = 20_000
"""A 4-digit PIN is guessed by trying, not by breaking its hash: wrong tries are what is slowed."""
PIN_FREE_TRIES = 5


class SignInError(StoreError):
    """A learner could not sign in; the message says what to do."""


@dataclass(frozen=True)
class NewPin:
    learner: Learner
    pin: str


def _now() -> datetime:
    return datetime.now(UTC)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def pin_guard() -> PasscodeGuard:
    """Wrong PINs counted per learner; no lock for the whole class (a fumbling learner must not lock out the rest)."""
    return PasscodeGuard(noun="PIN", free_tries=PIN_FREE_TRIES, app_limit=None)


class Roster:
    """Who is in the class and who is signed in, on top of the progress store."""

    def __init__(self, store: Store, guard: PasscodeGuard | None = None, session_hours: int = 12) -> None:
        self.store = store
        self.guard = guard or pin_guard()
        self.session_hours = session_hours

    # --- the instructor's side -------------------------------------------------------------
    def add(self, names: list[str], class_code: str = "") -> tuple[list[Learner], list[str]]:
        """Add each name to the roster (in ``class_code``); returns those added and one problem line per refused one."""
        added, problems = [], []
        for raw in names:
            if not raw.strip():
                continue
            try:
                added.append(self.store.learner(raw, class_code or None, new=True))
            except StoreError as exc:
                problems.append(_("{name}: {problem}").format(name=raw.strip(), problem=exc))
        return added, problems

    def add_from_csv(self, text: str) -> tuple[list[Learner], list[str]]:
        """A roster from a spreadsheet: a ``name`` column and, if there is one, a ``class`` column (or no header)."""
        numbered = [
            (number, row)
            for number, row in enumerate(csv.reader(io.StringIO(text.lstrip("\ufeff"))), start=1)
            if any(cell.strip() for cell in row)
        ]
        if not numbered:
            return [], [_("The file has no names in it.")]
        header = [cell.strip().casefold() for cell in numbered[0][1]]
        named = "name" in header
        name_col = header.index("name") if named else 0
        class_col = header.index("class") if "class" in header else (None if named else 1)
        added, problems = [], []
        for number, row in numbered[1:] if named else numbered:
            name = row[name_col] if name_col < len(row) else ""
            code = row[class_col] if class_col is not None and class_col < len(row) else ""
            got, refused = self.add([name], code.strip())
            added += got
            problems += [_("line {number}: {problem}").format(number=number, problem=problem) for problem in refused]
        return added, problems

    def new_pin(self, learner: Learner) -> NewPin:
        """A fresh random PIN for ``learner`` (the old one stops working, and so do their open sessions)."""
        pin = "".join(secrets.choice("0123456789") for _ in range(PIN_DIGITS))
        self._store_pin(learner, pin)
        return NewPin(replace(learner, has_pin=True), pin)

    def _store_pin(self, learner: Learner, pin: str) -> None:
        with self.store.transaction() as db:
            db.execute(
                "UPDATE learners SET pin_hash = ? WHERE id = ?",
                (hash_passcode(pin, iterations=PIN_ITERATIONS), learner.id),
            )
            db.execute("DELETE FROM sessions WHERE learner_id = ?", (learner.id,))
        self.guard.forget(f"learner {learner.id}")

    def move(self, learner: Learner, class_code: str) -> Learner:
        """Put ``learner`` in another class (only the instructor does this)."""
        code = normalise_class_code(class_code)
        with self.store.transaction() as db:
            db.execute("UPDATE learners SET class_code = ? WHERE id = ?", (code, learner.id))
        return replace(learner, class_code=code)

    def passwordless(self, class_code: str) -> bool:
        with self.store.connection() as db:
            row = db.execute("SELECT passwordless FROM classes WHERE code = ?", (class_code,)).fetchone()
        return bool(row and row["passwordless"])

    def set_passwordless(self, class_code: str, on: bool) -> None:
        """A trusted room may sign in by name alone; off by default."""
        with self.store.transaction() as db:
            db.execute(
                """INSERT INTO classes (code, passwordless) VALUES (?, ?)
                   ON CONFLICT (code) DO UPDATE SET passwordless = excluded.passwordless""",
                (class_code, int(on)),
            )

    # --- the learner's side ------------------------------------------------------------------
    def enrol_self(self, name: str, pin: str) -> str:
        """Where no instructor runs the roster (no passcode set): a learner adds their own name and PIN; a token."""
        if not (pin.isascii() and pin.isdigit() and 4 <= len(pin) <= 8):
            raise SignInError(_("Choose a PIN of 4 to 8 digits (only 0-9), and keep it to yourself."))
        learner = self.store.learner(name, new=True)
        self._store_pin(learner, pin)
        return self.open_session(learner)

    def sign_in(self, learner: Learner, pin: str, session: str) -> str:
        """Check the PIN (none in a passwordless class) and open a session: the token the browser keeps."""
        if self.passwordless(learner.class_code):
            return self.open_session(learner)
        with self.store.connection() as db:
            row = db.execute("SELECT pin_hash FROM learners WHERE id = ?", (learner.id,)).fetchone()
        if row is None:
            raise SignInError(_("That name is no longer on the roster. Ask your instructor."))
        if not row["pin_hash"]:
            raise SignInError(_("You have no PIN yet. Ask your instructor for yours."))
        result = self.guard.try_passcode(f"learner {learner.id}", pin.strip(), str(row["pin_hash"]), who=session)
        if not result.opened:
            raise SignInError(result.message)
        return self.open_session(learner)

    def open_session(self, learner: Learner) -> str:
        token = secrets.token_urlsafe(32)
        now = _now()
        expires = now + timedelta(hours=self.session_hours)
        with self.store.transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (now.isoformat(),))
            db.execute(
                "INSERT INTO sessions (token_hash, learner_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (_token_hash(token), learner.id, now.isoformat(), expires.isoformat()),
            )
        return token

    def learner_for(self, token: str) -> Learner | None:
        """The learner whose session this token opened, while it has not expired or been closed."""
        if not token:
            return None
        with self.store.connection() as db:
            row = db.execute(
                """SELECT l.id, l.name, l.class_code, l.pin_hash, s.expires_at FROM sessions s
                   JOIN learners l ON l.id = s.learner_id WHERE s.token_hash = ?""",
                (_token_hash(token),),
            ).fetchone()
        if row is None or str(row["expires_at"]) < _now().isoformat():
            return None
        return Learner(int(row["id"]), str(row["name"]), str(row["class_code"]), bool(row["pin_hash"]))

    def sign_out(self, token: str) -> None:
        with self.store.transaction() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (_token_hash(token),))


def _html(text: str, **fields: str) -> str:
    """A translated text for the slips page: escaped, then filled with the escaped ``fields``."""
    return html.escape(text, quote=False).format(**{key: html.escape(value) for key, value in fields.items()})


def sign_in_sheet(pins: list[NewPin], address: str = "") -> str:
    """A page to print and cut into slips: each learner's name, class and PIN (made only when the PINs are)."""
    class_of, pin_of = _("Class {code}"), _("PIN {pin}")
    slips = "\n".join(
        f'<div class="slip"><div class="name">{html.escape(p.learner.name)}</div>'
        f"<div>{_html(class_of, code=p.learner.class_code) if p.learner.class_code else ''}</div>"
        f'<div class="pin">{_html(pin_of, pin=p.pin)}</div></div>'
        for p in pins
    )
    where = ""
    if address:
        where = "<p>" + _html(_("Open {address}, choose your name, type your PIN."), address=address) + "</p>"
    title = _html(_("prompt-sandbox sign-in slips"))
    heading = _html(_("Sign-in slips"))
    keep = _html(_("Keep your PIN to yourself. Lost it? Your instructor can make a new one."))
    lang = "zh-CN" if i18n.current() == "zh" else "en"
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; }}
.slip {{ display: inline-block; width: 30%; margin: 0.5em; padding: 0.8em; border: 1px dashed #888; }}
.name {{ font-size: 1.3em; font-weight: bold; }} .pin {{ font-size: 1.6em; font-family: monospace; margin-top: 0.3em; }}
</style></head><body>
<h1>{heading}</h1>{where}
<p>{keep}</p>
{slips}
</body></html>
"""
