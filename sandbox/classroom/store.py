"""The progress database: learners, every graded attempt, and runs the model did not answer.

A SQLite file by default; a PostgreSQL server when several app processes share
one (``PROMPT_SANDBOX_DATABASE_URL``). Schema changes go through numbered
migrations recorded in ``migrations``, so a classroom's database upgrades in
place, once, even when several app processes start together. Each call opens
its own connection, so several browser sessions (threads) can write at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..grading import Verdict
from ..i18n import N_, _, sentences
from .database import Connection, SQLiteDatabase, open_database
from .migrations import MIGRATIONS
from .names import looks_key, name_key, normalise_class_code, normalise_name


@dataclass(frozen=True)
class Learner:
    id: int
    name: str
    class_code: str = ""
    has_pin: bool = False


@dataclass(frozen=True)
class AttemptRow:
    """One attempt with who made it, for the instructor's reports and exports."""

    id: int
    learner: str
    class_code: str
    exercise_id: str
    prompt: str
    passed: bool
    score: int
    created_at: str
    verdict: Verdict


@dataclass(frozen=True)
class UngradedRun:
    """A run the model could not answer (its server was down, too slow, or failed): kept, never scored."""

    id: int
    learner: str
    class_code: str
    exercise_id: str
    prompt: str
    reason: str
    generator: str
    created_at: str


@dataclass(frozen=True)
class Progress:
    attempts: int
    best_score: int
    passed: bool

    @property
    def status(self) -> str:
        if self.passed:
            return "passed"
        return "tried" if self.attempts else "not started"


def now_text() -> str:
    """The moment, as the database keeps it (UTC, ISO 8601, to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, location: str | Path) -> None:
        """``location``: the SQLite file, or a ``postgresql://`` URL."""
        self.database = open_database(location)
        self.read_only = False
        """A SQLite file that can be read but not written: progress is shown, nothing new is saved."""
        try:
            self.database.prepare()
            with self.database.migrating() as db:
                self._migrate(db)
        except self.database.errors as exc:
            if not (isinstance(self.database, SQLiteDatabase) and self.database.path.is_file()):
                raise StoreError(
                    sentences(
                        _("Cannot open the progress database {where}: {error}.").format(
                            where=self.database.where, error=str(exc).strip()
                        ),
                        _(self.database.advice),
                    )
                ) from exc
            self._open_read_only(exc)
        except OSError as exc:
            raise StoreError(
                _(
                    "Cannot create the data folder {folder}: {error}. Check that "
                    "PROMPT_SANDBOX_DATA names a folder this app may create and write, or unset it."
                ).format(folder=Path(location).parent, error=exc.strerror)
            ) from exc

    def _open_read_only(self, why: Exception) -> None:
        assert isinstance(self.database, SQLiteDatabase)
        try:
            self.database.open_read_only()
            with self.database.connect() as db:
                done = {row["name"] for row in db.execute("SELECT name FROM migrations").fetchall()}
        except sqlite3.Error as exc:
            raise StoreError(
                sentences(
                    _("Cannot open the progress database {where}: {error}, and it cannot even be read ({why}).").format(
                        where=self.where, error=str(why).strip(), why=exc
                    ),
                    _(self.database.advice),
                )
            ) from exc
        if missing := [name for name, _step in MIGRATIONS if name not in done]:
            raise StoreError(
                _(
                    "The progress database {where} cannot be written, and it is from an older version of the app "
                    "(it lacks {migrations}), so it cannot be read either. Make its folder writable once, "
                    "so the app can upgrade it."
                ).format(where=self.where, migrations=", ".join(missing))
            )
        self.read_only = True

    @property
    def where(self) -> str:
        return self.database.where

    @contextmanager
    def _told(self, failed: str, then: str = "") -> Iterator[None]:
        """A driver error inside becomes a StoreError: what failed (a text with ``{where}`` and ``{error}``, marked
        with ``N_``), ``then`` (another sentence, marked too), what to check."""
        try:
            yield
        except self.database.errors as exc:
            told = _(failed).format(where=self.where, error=str(exc).strip())
            raise StoreError(sentences(told, _(then) if then else "", _(self.database.advice))) from exc

    @contextmanager
    def connection(self) -> Iterator[Any]:
        """A connection for reading (autocommit); a driver error becomes a StoreError naming the database."""
        with self._told(N_("Could not read the progress database {where}: {error}.")), self.database.connect() as db:
            yield db

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """One transaction for writing (the roster writes through it too); refused on a read-only database."""
        if self.read_only:
            raise StoreError(
                _(
                    "The progress database {where} can be read but not written (its file or folder is read-only), "
                    "so this was not saved. Ask whoever runs the app to make that folder writable, then restart it."
                ).format(where=self.where)
            )
        with (
            self._told(
                N_("Could not save to the progress database {where}: {error}."),
                N_("Nothing of it was half-saved; try again."),
            ),
            self.database.transaction() as db,
        ):
            yield db

    def _migrate(self, db: Connection) -> None:
        db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        done = {row["name"] for row in db.execute("SELECT name FROM migrations").fetchall()}
        for name, step in MIGRATIONS:
            if name not in done:
                step(db, self.database)
                db.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", (name, now_text()))

    def applied_migrations(self) -> list[str]:
        with self.connection() as db:
            return [row["name"] for row in db.execute("SELECT name FROM migrations ORDER BY name").fetchall()]

    def learner(self, raw_name: str, class_code: str | None = None, *, new: bool = False) -> Learner:
        """The learner with this name (case, width and invisible characters do not matter), added on first use.

        For the instructor's tools: learners sign in through :mod:`sandbox.classroom.roster`,
        which never adds one from a name alone. A class code given here is recorded; None
        keeps the one on file. ``new``: refuse a name already on the roster. A name that only
        looks like one on the roster is always refused.
        """
        name = normalise_name(raw_name)
        key = name_key(name)
        code = normalise_class_code(class_code) if class_code else None
        with self.connection() as db:  # most calls find the learner as they are: no write needed
            row = db.execute(
                "SELECT id, name, class_code, pin_hash FROM learners WHERE name_key = ?", (key,)
            ).fetchone()
        if row is not None and not new and code in (None, row["class_code"]):
            return Learner(int(row["id"]), str(row["name"]), str(row["class_code"]), bool(row["pin_hash"]))
        with self.transaction() as db:
            row = db.execute(
                "SELECT id, name, class_code, pin_hash FROM learners WHERE name_key = ?", (key,)
            ).fetchone()
            if row is not None and new:
                raise StoreError(_("{name} is already on the roster.").format(name=repr(row["name"])))
            if row is None:
                self._refuse_lookalike(db, name)
                # two app processes may add the same new learner at once: the second insert does nothing
                db.execute(
                    """INSERT INTO learners (name, name_key, class_code, created_at) VALUES (?, ?, ?, ?)
                       ON CONFLICT (name_key) DO NOTHING""",
                    (name, key, code or "", now_text()),
                )
                row = db.execute(
                    "SELECT id, name, class_code, pin_hash FROM learners WHERE name_key = ?", (key,)
                ).fetchone()
            if code is not None and code != row["class_code"]:
                db.execute("UPDATE learners SET class_code = ? WHERE id = ?", (code, row["id"]))
            return Learner(int(row["id"]), str(row["name"]), code or str(row["class_code"]), bool(row["pin_hash"]))

    def _refuse_lookalike(self, db: Connection, name: str) -> None:
        looks, key = looks_key(name), name_key(name)
        # the same name may have been added by another app process a moment ago: that is no look-alike
        for row in db.execute("SELECT name FROM learners WHERE name_key != ?", (key,)).fetchall():
            if looks_key(str(row["name"])) == looks:
                raise StoreError(
                    _(
                        "{name} looks just like {other}, who is already on the roster, so the two could be "
                        "mistaken for each other. Add a letter or a family name to tell them apart."
                    ).format(name=repr(name), other=repr(row["name"]))
                )

    def learners(self, class_code: str | None = None) -> list[Learner]:
        query = "SELECT id, name, class_code, pin_hash FROM learners"
        params: tuple[str, ...] = ()
        if class_code:
            query += " WHERE class_code = ?"
            params = (class_code,)
        with self.connection() as db:
            rows = db.execute(query + " ORDER BY name_key", params).fetchall()
        return [Learner(int(r["id"]), str(r["name"]), str(r["class_code"]), bool(r["pin_hash"])) for r in rows]

    def class_codes(self) -> list[str]:
        with self.connection() as db:
            rows = db.execute(
                "SELECT DISTINCT class_code FROM learners WHERE class_code != '' ORDER BY class_code"
            ).fetchall()
        return [str(r["class_code"]) for r in rows]

    def all_attempts(self, class_code: str | None = None) -> list[AttemptRow]:
        """Every attempt, oldest first, with the learner's name and class."""
        if class_code:
            return self._attempt_rows("WHERE l.class_code = ?", (class_code,))
        return self._attempt_rows("", ())

    def _with_learner(self, table: str, where: str, params: tuple[object, ...]) -> list[Any]:
        """Rows of ``table`` (alias ``t``), oldest first, each with its learner's name and class."""
        query = f"""SELECT t.*, l.name AS learner, l.class_code FROM {table} t
                    JOIN learners l ON l.id = t.learner_id {where} ORDER BY t.id"""
        with self.connection() as db:
            return list(db.execute(query, params).fetchall())

    def _attempt_rows(self, where: str, params: tuple[object, ...]) -> list[AttemptRow]:
        rows = self._with_learner("attempts", where, params)
        return [
            AttemptRow(
                id=int(r["id"]),
                learner=str(r["learner"]),
                class_code=str(r["class_code"]),
                exercise_id=str(r["exercise_id"]),
                prompt=str(r["prompt"]),
                passed=bool(r["passed"]),
                score=int(r["score"]),
                created_at=str(r["created_at"]),
                verdict=Verdict.model_validate(json.loads(r["verdict_json"])),
            )
            for r in rows
        ]

    def release_solution(self, exercise_id: str, released: bool = True) -> None:
        """The instructor shows (or hides again) an exercise's solution to every learner."""
        with self.transaction() as db:
            if released:
                db.execute(
                    """INSERT INTO released_solutions (exercise_id, released_at) VALUES (?, ?)
                       ON CONFLICT (exercise_id) DO NOTHING""",
                    (exercise_id, now_text()),
                )
            else:
                db.execute("DELETE FROM released_solutions WHERE exercise_id = ?", (exercise_id,))

    def released_solutions(self) -> set[str]:
        with self.connection() as db:
            return {str(r["exercise_id"]) for r in db.execute("SELECT exercise_id FROM released_solutions").fetchall()}

    def record_attempt(self, learner: Learner, prompt: str, verdict: Verdict, run: int | None = None) -> int:
        """Save a graded attempt; with ``run``, that run stops being in progress in the same transaction."""
        with self.transaction() as db:
            if run is not None:
                db.execute("DELETE FROM runs_in_progress WHERE id = ?", (run,))
            cursor = db.execute(
                """INSERT INTO attempts (learner_id, exercise_id, prompt, passed, score, verdict_json,
                   generator, generator_hash, embedder, embedder_hash, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id""",
                (
                    learner.id,
                    verdict.exercise,
                    prompt,
                    int(verdict.passed),
                    verdict.score,
                    verdict.model_dump_json(),
                    verdict.generator,
                    verdict.generator_hash,
                    verdict.embedder,
                    verdict.embedder_hash,
                    now_text(),
                ),
            )
            return int(cursor.fetchall()[0]["id"])

    def record_ungraded(self, learner: Learner, exercise_id: str, prompt: str, reason: str, generator: str) -> int:
        """Keep a run the model did not answer; it is not an attempt and changes no score."""
        with self.transaction() as db:
            cursor = db.execute(
                """INSERT INTO ungraded_runs (learner_id, exercise_id, prompt, reason, generator, created_at)
                   VALUES (?, ?, ?, ?, ?, ?) RETURNING id""",
                (learner.id, exercise_id, prompt, reason, generator, now_text()),
            )
            return int(cursor.fetchall()[0]["id"])

    def ungraded_runs(self, class_code: str | None = None) -> list[UngradedRun]:
        """Every run the model did not answer, oldest first (for the instructor)."""
        where, params = ("WHERE l.class_code = ?", (class_code,)) if class_code else ("", ())
        return self._ungraded_rows(where, params)

    def _ungraded_rows(self, where: str, params: tuple[object, ...]) -> list[UngradedRun]:
        rows = self._with_learner("ungraded_runs", where, params)
        return [
            UngradedRun(
                id=int(r["id"]),
                learner=str(r["learner"]),
                class_code=str(r["class_code"]),
                exercise_id=str(r["exercise_id"]),
                prompt=str(r["prompt"]),
                reason=str(r["reason"]),
                generator=str(r["generator"]),
                created_at=str(r["created_at"]),
            )
            for r in rows
        ]

    def records_of(self, learner: Learner) -> tuple[list[AttemptRow], list[UngradedRun]]:
        """Everything kept about one learner, oldest first: attempts and runs the model did not answer."""
        attempts = self._attempt_rows("WHERE t.learner_id = ?", (learner.id,))
        ungraded = self._ungraded_rows("WHERE t.learner_id = ?", (learner.id,))
        return attempts, ungraded

    def delete_learner(self, learner: Learner) -> None:
        """Remove the learner and everything kept about them, in one transaction (the instructor confirmed)."""
        with self.transaction() as db:
            db.execute("DELETE FROM attempts WHERE learner_id = ?", (learner.id,))
            db.execute("DELETE FROM ungraded_runs WHERE learner_id = ?", (learner.id,))
            db.execute("DELETE FROM sessions WHERE learner_id = ?", (learner.id,))
            db.execute("DELETE FROM runs_in_progress WHERE learner_id = ?", (learner.id,))
            db.execute("DELETE FROM learners WHERE id = ?", (learner.id,))

    def attempts(self, learner: Learner, exercise_id: str) -> list[AttemptRow]:
        """This learner's attempts at one exercise, newest first."""
        rows = self._attempt_rows("WHERE t.learner_id = ? AND t.exercise_id = ?", (learner.id, exercise_id))
        return rows[::-1]

    def progress(self, learner: Learner) -> dict[str, Progress]:
        with self.connection() as db:
            rows = db.execute(
                """SELECT exercise_id, COUNT(*) AS n, MAX(score) AS best, MAX(passed) AS passed
                   FROM attempts WHERE learner_id = ? GROUP BY exercise_id""",
                (learner.id,),
            ).fetchall()
        return {
            str(r["exercise_id"]): Progress(attempts=int(r["n"]), best_score=int(r["best"]), passed=bool(r["passed"]))
            for r in rows
        }
