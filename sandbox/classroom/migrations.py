"""The progress database's schema, as numbered migrations: each runs once, in order, recorded in ``migrations``.

A classroom's database upgrades in place when a newer app starts on it; add a
new step at the end, never change one that has shipped.
"""

from __future__ import annotations

from collections.abc import Callable

from .database import Connection, Database


def _run_script(db: Connection, script: str) -> None:
    """Run statements one by one (``executescript`` would commit the migration's transaction)."""
    for statement in script.split(";"):
        if statement.strip():
            db.execute(statement)


Migration = Callable[[Connection, Database], None]


def m001_initial(db: Connection, database: Database) -> None:
    _run_script(
        db,
        """
        CREATE TABLE learners (
            id {id},
            name TEXT NOT NULL,
            name_key TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        );
        CREATE TABLE attempts (
            id {id},
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
        """.replace("{id}", database.id_column),
    )


def m002_classes_and_releases(db: Connection, database: Database) -> None:
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


def m003_ungraded_runs(db: Connection, database: Database) -> None:
    _run_script(
        db,
        """
        CREATE TABLE ungraded_runs (
            id {id},
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            exercise_id TEXT NOT NULL,
            prompt TEXT NOT NULL,
            reason TEXT NOT NULL,
            generator TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX ungraded_by_learner ON ungraded_runs(learner_id, exercise_id, id)
        """.replace("{id}", database.id_column),
    )


def m004_sign_in(db: Connection, database: Database) -> None:
    """PINs, server-side sessions, per-class sign-in settings, and runs being answered (to tell a learner one was lost).

    Learners already kept get no PIN yet.
    """
    _run_script(
        db,
        """
        ALTER TABLE learners ADD COLUMN pin_hash TEXT NOT NULL DEFAULT '';
        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL
        );
        CREATE INDEX sessions_by_learner ON sessions(learner_id);
        CREATE TABLE classes (
            code TEXT PRIMARY KEY,
            passwordless INTEGER NOT NULL DEFAULT 0
        );
        CREATE TABLE runs_in_progress (
            id {id},
            learner_id INTEGER NOT NULL REFERENCES learners(id),
            exercise_id TEXT NOT NULL,
            process TEXT NOT NULL,
            started_at TEXT NOT NULL
        )
        """.replace("{id}", database.id_column),
    )


def m005_interface_language(db: Connection, database: Database) -> None:
    """Each learner's interface language (en, zh); empty until they choose one (the class's language then)."""
    _run_script(db, "ALTER TABLE learners ADD COLUMN language TEXT NOT NULL DEFAULT ''")


MIGRATIONS: list[tuple[str, Migration]] = [
    ("001_initial", m001_initial),
    ("002_classes_and_releases", m002_classes_and_releases),
    ("003_ungraded_runs", m003_ungraded_runs),
    ("004_sign_in", m004_sign_in),
    ("005_interface_language", m005_interface_language),
]
