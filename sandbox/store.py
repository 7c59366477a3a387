"""The progress database (SQLite): learners, every graded attempt, and runs the model did not answer.

Schema changes go through numbered migrations recorded in ``migrations``, so a
classroom's database upgrades in place. Each call opens its own connection, so
several browser sessions (threads) can write at once; WAL mode and a busy
timeout make them wait for each other instead of failing.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from .errors import StoreError
from .grading import Verdict
from .prompts import clean_text

MAX_NAME = 40


def _run_script(db: sqlite3.Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would commit the migration's transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


def _m001_initial(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE learners (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE attempts (
            id INTEGER PRIMARY KEY,
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            exercise_id TEXT NOT NULL,
            prompt TEXT NOT NULL,
            passed INTEGER NOT NULL,
            score INTEGER NOT NULL,
            verdict_json TEXT NOT NULL,
            generator TEXT NOT NULL,
            generator_hash TEXT NOT NULL,
            embedder TEXT NOT NULL,
            embedder_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX attempts_by_learner ON attempts(learner_id, exercise_id, id);
        """,
    )


def _m002_classes_and_releases(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        ALTER TABLE learners ADD COLUMN class_code TEXT NOT NULL DEFAULT '';
        CREATE TABLE released_solutions (
            exercise_id TEXT PRIMARY KEY,
            released_at TEXT NOT NULL
        );
        CREATE INDEX attempts_by_exercise ON attempts(exercise_id, id)
        """,
    )


def _m003_ungraded_runs(db: sqlite3.Connection) -> None:
    _run_script(
        db,
        """
        CREATE TABLE ungraded_runs (
            id INTEGER PRIMARY KEY,
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            exercise_id TEXT NOT NULL,
            prompt TEXT NOT NULL,
            reason TEXT NOT NULL,
            generator TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ungraded_by_learner ON ungraded_runs(learner_id, exercise_id, id)
        """,
    )


MIGRATIONS: list[tuple[str, Callable[[sqlite3.Connection], None]]] = [
    ("001_initial", _m001_initial),
    ("002_classes_and_releases", _m002_classes_and_releases),
    ("003_ungraded_runs", _m003_ungraded_runs),
]


@dataclass(frozen=True)
class Learner:
    id: int
    name: str
    class_code: str = ""


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


def normalise_name(raw: str) -> str:
    """A learner's name as typed, cleaned; raises StoreError with advice if it cannot be used."""
    name = " ".join(clean_text(raw).split())
    if not name:
        raise StoreError("Please type your name (or a nickname) so your progress can be saved.")
    if len(name) > MAX_NAME:
        raise StoreError(f"That name is {len(name)} characters long; please use at most {MAX_NAME}.")
    return name


def normalise_class_code(raw: str) -> str:
    code = " ".join(clean_text(raw).split()).upper()
    if len(code) > 20:
        raise StoreError(f"That class code is {len(code)} characters long; class codes have at most 20.")
    return code


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).casefold()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Store:
    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as db:
                db.execute("PRAGMA journal_mode=WAL")
                self._migrate(db)
        except sqlite3.Error as exc:
            raise StoreError(
                f"Cannot open the progress database {self.path}: {exc}. "
                "Check that the data folder is writable (set PROMPT_SANDBOX_DATA to move it)."
            ) from exc
        except OSError as exc:
            raise StoreError(f"Cannot create the data folder {self.path.parent}: {exc.strerror}.") from exc

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("PRAGMA busy_timeout=30000")
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _migrate(self, db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            db.execute("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
            done = {row[0] for row in db.execute("SELECT name FROM migrations")}
            for name, step in MIGRATIONS:
                if name not in done:
                    step(db)
                    db.execute("INSERT INTO migrations VALUES (?, ?)", (name, _now()))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def applied_migrations(self) -> list[str]:
        with self._connect() as db:
            return [row[0] for row in db.execute("SELECT name FROM migrations ORDER BY name")]

    def learner(self, raw_name: str, class_code: str | None = None) -> Learner:
        """The learner with this name (case does not matter), created on first use.

        A class code given here is recorded (a learner may join or change class); None keeps the one on file.
        """
        name = normalise_name(raw_name)
        code = normalise_class_code(class_code) if class_code else None
        with self._write() as db:
            row = db.execute("SELECT id, name, class_code FROM learners WHERE name_key = ?", (_key(name),)).fetchone()
            if row is None:
                cursor = db.execute(
                    "INSERT INTO learners (name, name_key, class_code, created_at) VALUES (?, ?, ?, ?)",
                    (name, _key(name), code or "", _now()),
                )
                return Learner(int(cursor.lastrowid or 0), name, code or "")
            if code is not None and code != row["class_code"]:
                db.execute("UPDATE learners SET class_code = ? WHERE id = ?", (code, row["id"]))
                return Learner(int(row["id"]), str(row["name"]), code)
            return Learner(int(row["id"]), str(row["name"]), str(row["class_code"]))

    def learners(self, class_code: str | None = None) -> list[Learner]:
        query = "SELECT id, name, class_code FROM learners"
        params: tuple[str, ...] = ()
        if class_code:
            query += " WHERE class_code = ?"
            params = (class_code,)
        with self._connect() as db:
            rows = db.execute(query + " ORDER BY name_key", params).fetchall()
        return [Learner(int(r["id"]), str(r["name"]), str(r["class_code"])) for r in rows]

    def class_codes(self) -> list[str]:
        with self._connect() as db:
            rows = db.execute("SELECT DISTINCT class_code FROM learners WHERE class_code != '' ORDER BY 1").fetchall()
        return [str(r[0]) for r in rows]

    def all_attempts(self, class_code: str | None = None) -> list[AttemptRow]:
        """Every attempt, oldest first, with the learner's name and class."""
        if class_code:
            return self._attempt_rows("WHERE l.class_code = ?", (class_code,))
        return self._attempt_rows("", ())

    def _attempt_rows(self, where: str, params: tuple[object, ...]) -> list[AttemptRow]:
        query = f"""SELECT a.*, l.name AS learner, l.class_code FROM attempts a
                    JOIN learners l ON l.id = a.learner_id {where} ORDER BY a.id"""
        with self._connect() as db:
            rows = db.execute(query, params).fetchall()
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
        with self._write() as db:
            if released:
                db.execute("INSERT OR IGNORE INTO released_solutions VALUES (?, ?)", (exercise_id, _now()))
            else:
                db.execute("DELETE FROM released_solutions WHERE exercise_id = ?", (exercise_id,))

    def released_solutions(self) -> set[str]:
        with self._connect() as db:
            return {str(r[0]) for r in db.execute("SELECT exercise_id FROM released_solutions")}

    def record_attempt(self, learner: Learner, prompt: str, verdict: Verdict) -> int:
        with self._write() as db:
            cursor = db.execute(
                """INSERT INTO attempts (learner_id, exercise_id, prompt, passed, score, verdict_json,
                   generator, generator_hash, embedder, embedder_hash, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
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
                    _now(),
                ),
            )
            return int(cursor.lastrowid or 0)

    def record_ungraded(self, learner: Learner, exercise_id: str, prompt: str, reason: str, generator: str) -> int:
        """Keep a run the model did not answer; it is not an attempt and changes no score."""
        with self._write() as db:
            cursor = db.execute(
                """INSERT INTO ungraded_runs (learner_id, exercise_id, prompt, reason, generator, created_at)
                   VALUES (?, ?, ?, ?, ?, ?)""",
                (learner.id, exercise_id, prompt, reason, generator, _now()),
            )
            return int(cursor.lastrowid or 0)

    def ungraded_runs(self, class_code: str | None = None) -> list[UngradedRun]:
        """Every run the model did not answer, oldest first (for the instructor)."""
        where, params = ("WHERE l.class_code = ?", (class_code,)) if class_code else ("", ())
        query = f"""SELECT u.*, l.name AS learner, l.class_code FROM ungraded_runs u
                    JOIN learners l ON l.id = u.learner_id {where} ORDER BY u.id"""
        with self._connect() as db:
            rows = db.execute(query, params).fetchall()
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

    def attempts(self, learner: Learner, exercise_id: str) -> list[AttemptRow]:
        """This learner's attempts at one exercise, newest first."""
        rows = self._attempt_rows("WHERE a.learner_id = ? AND a.exercise_id = ?", (learner.id, exercise_id))
        return rows[::-1]

    def progress(self, learner: Learner) -> dict[str, Progress]:
        with self._connect() as db:
            rows = db.execute(
                """SELECT exercise_id, COUNT(*) AS n, MAX(score) AS best, MAX(passed) AS passed
                   FROM attempts WHERE learner_id = ? GROUP BY exercise_id""",
                (learner.id,),
            ).fetchall()
        return {
            str(r["exercise_id"]): Progress(attempts=int(r["n"]), best_score=int(r["best"]), passed=bool(r["passed"]))
            for r in rows
        }
