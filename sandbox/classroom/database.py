"""The two databases the progress store runs on: a SQLite file (the default) or a PostgreSQL server.

The store writes one SQL dialect (``?`` placeholders, ``ON CONFLICT``,
``RETURNING``) that both understand; this module opens connections, runs
transactions, and says the few things that differ (the id column's type, how
to keep two app processes from migrating at once, the driver's error class).
"""

from __future__ import annotations

import sqlite3
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from ..errors import StoreError
from ..i18n import N_, _

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
MIGRATION_LOCK = 7_246_431  # any constant: PostgreSQL's advisory lock id for "migrating"
BUSY_TIMEOUT_S = 30
"""How long a SQLite connection waits for another process's write before it gives up."""


class Connection(Protocol):
    def execute(self, sql: str, params: Sequence[object] = ()) -> Any: ...


class Database(ABC):
    """Where the progress lives, and how to talk to it."""

    id_column: str
    """DDL for an auto-numbered primary key."""
    errors: tuple[type[Exception], ...]
    """What the driver raises when the database cannot be used."""
    advice: str
    """What to check when it cannot be opened (marked with ``N_``: translate it with ``_()`` where it is shown)."""

    @property
    @abstractmethod
    def where(self) -> str:
        """Where the data is, for messages (never the password)."""

    @abstractmethod
    def connect(self) -> Any:
        """A context manager giving a connection in autocommit mode."""

    @abstractmethod
    def transaction(self) -> Any:
        """A context manager giving a connection inside one transaction (committed at the end, rolled back on error)."""

    @abstractmethod
    def migrating(self) -> Any:
        """Like ``transaction``, and only one app process at a time gets it."""

    def prepare(self) -> None:  # noqa: B027 - optional hook
        """Make the place for the data (a folder); called once before the first connection."""


class _SQLiteConnection:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def execute(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        return self.db.execute(sql, tuple(params))


class SQLiteDatabase(Database):
    """A file on this computer; WAL mode and a busy timeout make concurrent writers wait, not fail."""

    id_column = "INTEGER PRIMARY KEY"
    errors = (sqlite3.Error,)
    advice = N_("Check that the data folder is writable (set PROMPT_SANDBOX_DATA to move it).")

    def __init__(self, path: Path, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._uri = ""

    @property
    def where(self) -> str:
        return str(self.path)

    def open_read_only(self) -> None:
        """Read the file without writing anything beside it (a read-only file or folder, a locked-down USB stick).

        A WAL database's readers write a ``-shm`` file beside it; where even that is impossible,
        SQLite reads the file as immutable (nothing else may change it meanwhile, which a
        read-only folder guarantees).
        """
        self.read_only = True
        for mode in ("mode=ro", "immutable=1"):
            self._uri = f"{self.path.resolve().as_uri()}?{mode}"
            try:
                with self.connect() as db:
                    db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                return
            except sqlite3.OperationalError:
                continue
        raise sqlite3.OperationalError("unable to open database file, even to read it")

    def prepare(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Switching a new file to WAL needs it to itself, and while another process starting at the same
        # moment is in the middle of a write (its migrations), SQLite answers "database is locked" at
        # once instead of waiting its busy timeout: wait here as long as that timeout would.
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        while True:
            try:
                with self.connect() as db:
                    db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def connect(self) -> Iterator[_SQLiteConnection]:
        if self.read_only:
            db = sqlite3.connect(self._uri, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        else:
            db = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA foreign_keys=ON")
        db.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_S * 1000}")
        try:
            yield _SQLiteConnection(db)
        finally:
            db.close()

    @contextmanager
    def transaction(self) -> Iterator[_SQLiteConnection]:
        with self.connect() as db:
            db.execute("BEGIN IMMEDIATE")  # takes the write lock now: two writers queue instead of deadlocking
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def migrating(self) -> Any:
        return self.transaction()  # BEGIN IMMEDIATE already lets one process at a time in


class _PostgresConnection:
    def __init__(self, db: Any) -> None:
        self.db = db

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self.db.execute(sql.replace("?", "%s"), tuple(params))


class PostgresDatabase(Database):
    """A PostgreSQL server shared by several app processes (psycopg 3)."""

    id_column = "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
    advice = N_(
        "Check that the PostgreSQL server in PROMPT_SANDBOX_DATABASE_URL is running, that the database exists, "
        "and that it accepts this user and password."
    )

    def __init__(self, url: str) -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise StoreError(
                _(
                    "PROMPT_SANDBOX_DATABASE_URL names a PostgreSQL database, but the PostgreSQL driver is not "
                    "installed. Run `pip install 'psycopg[binary]'` (or `pip install -e '.[postgres]'`)."
                )
            ) from exc
        self.url = url
        self._psycopg = psycopg
        self.errors = (psycopg.Error,)

    @property
    def where(self) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(self.url)
        host = parts.hostname or "localhost"
        return f"postgresql://{parts.username + '@' if parts.username else ''}{host}:{parts.port or 5432}{parts.path}"

    @contextmanager
    def connect(self) -> Iterator[_PostgresConnection]:
        from psycopg.rows import dict_row

        with self._psycopg.connect(self.url, autocommit=True, row_factory=dict_row, connect_timeout=10) as db:
            yield _PostgresConnection(db)

    @contextmanager
    def transaction(self) -> Iterator[_PostgresConnection]:
        with self.connect() as db, db.db.transaction():
            yield db

    @contextmanager
    def migrating(self) -> Iterator[_PostgresConnection]:
        with self.transaction() as db:
            db.execute("SELECT pg_advisory_xact_lock(?)", (MIGRATION_LOCK,))  # released at commit
            yield db


def open_database(location: str | Path) -> Database:
    """A PostgreSQL URL, or the path of a SQLite file."""
    text = str(location)
    if text.startswith(POSTGRES_SCHEMES):
        return PostgresDatabase(text)
    return SQLiteDatabase(Path(location))
