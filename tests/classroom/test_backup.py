"""prompt-sandbox backup's copy: one consistent moment of the real SQLite file, also while learners write."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from sandbox.classroom.backup import backup
from sandbox.classroom.store import Store
from sandbox.errors import StoreError
from sandbox.exercises.schema import Exercise
from sandbox.grading import grade

from ..conftest import FakeEmbedder, FakeGenerator

EXERCISE = Exercise.model_validate(
    {"id": "echo", "title": "Echo", "task": "t", "cases": [{"input": "hello world", "expect": ["hello world"]}]}
)


def test_a_backup_taken_while_learners_write_is_whole_and_opens_as_a_store(settings, tmp_path) -> None:
    store = Store(settings.database_path)
    verdict = grade(EXERCISE, "Repeat: {input}", FakeGenerator(["hello world"] * 400), FakeEmbedder(), settings)
    learners = [store.learner(f"Learner {n}") for n in range(4)]
    done = threading.Event()

    def keep_writing(learner) -> None:
        while not done.is_set():
            store.record_attempt(learner, "Repeat: {input}", verdict)

    writers = [threading.Thread(target=keep_writing, args=(learner,)) for learner in learners]
    for writer in writers:
        writer.start()
    try:
        copies = [backup(str(settings.database_path), tmp_path / f"copy-{n}.sqlite3") for n in range(3)]
    finally:
        done.set()
        for writer in writers:
            writer.join()
    for made in copies:
        with sqlite3.connect(made.path) as db:
            assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        restored = Store(made.path)
        assert len(restored.learners()) == made.learners == 4
        assert len(restored.all_attempts()) == made.attempts
    assert copies[0].attempts <= copies[1].attempts <= copies[2].attempts <= len(store.all_attempts())


def test_a_backup_never_overwrites_and_says_how_to_copy_postgresql(settings, tmp_path) -> None:
    Store(settings.database_path).learner("Ana")
    made = backup(str(settings.database_path))
    assert made.path.parent == settings.data_dir / "backups" and made.path.name.startswith("progress-")
    with pytest.raises(StoreError, match="already exists"):
        backup(str(settings.database_path), made.path)
    with pytest.raises(StoreError, match="pg_dump"):
        backup("postgresql://sandbox@127.0.0.1:5432/progress")
    with pytest.raises(StoreError, match="nothing to back up"):
        backup(str(tmp_path / "none.sqlite3"))
