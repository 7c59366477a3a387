"""A consistent copy of the progress database, taken while the app runs (SQLite's online backup).

Learners may be pressing Run while the copy is made: SQLite's backup API copies
the pages under a read lock, so the copy is one moment of the database, never
half of a write. A PostgreSQL database is copied with its own tool, pg_dump.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..errors import StoreError
from .database import POSTGRES_SCHEMES


@dataclass(frozen=True)
class Backup:
    path: Path
    learners: int
    attempts: int


def default_target(database: Path) -> Path:
    """``backups/progress-YYYYMMDD-HHMMSS.sqlite3`` beside the database."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return database.parent / "backups" / f"progress-{stamp}.sqlite3"


def backup(location: str, target: Path | None = None) -> Backup:
    """Copy the progress database at ``location`` (a SQLite file) to ``target``; returns what the copy holds."""
    if location.startswith(POSTGRES_SCHEMES):
        raise StoreError(
            "The progress database is on a PostgreSQL server: back it up with its own tool, for example "
            '`pg_dump --format=custom --file=progress.dump "$PROMPT_SANDBOX_DATABASE_URL"` '
            "(restore with `pg_restore --clean --dbname=...`)."
        )
    source = Path(location)
    if not source.is_file():
        raise StoreError(f"There is no progress database at {source} yet: nothing to back up.")
    target = Path(target) if target is not None else default_target(source)
    if target.exists():
        raise StoreError(f"{target} already exists; name another file, so no earlier backup is overwritten.")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        live, copy = sqlite3.connect(source, timeout=30), sqlite3.connect(target)
        try:
            live.backup(copy)  # reads only; a learner's write waits for the moment it takes, or goes before it
        finally:
            live.close()
            copy.close()
        check = sqlite3.connect(target)
        try:
            healthy = check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            learners = check.execute("SELECT COUNT(*) FROM learners").fetchone()[0]
            attempts = check.execute("SELECT COUNT(*) FROM attempts").fetchone()[0]
        finally:
            check.close()
        if not healthy:
            raise StoreError(f"The copy {target} failed SQLite's integrity check; try again.")
    except (sqlite3.Error, OSError) as exc:
        raise StoreError(f"Could not back up {source} to {target}: {exc}.") from exc
    return Backup(target, int(learners), int(attempts))
