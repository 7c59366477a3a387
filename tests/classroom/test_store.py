"""The progress database, on a real SQLite file and on a real PostgreSQL server: restarts, concurrent learners."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from sandbox.classroom.database import SQLiteDatabase
from sandbox.classroom.migrations import MIGRATIONS
from sandbox.classroom.store import Learner, Store
from sandbox.errors import StoreError
from sandbox.exercises.schema import Exercise
from sandbox.grading import grade

from ..conftest import FakeEmbedder, FakeGenerator

EXERCISE = Exercise.model_validate(
    {"id": "echo", "title": "Echo", "task": "t", "cases": [{"input": "hello world", "expect": ["hello world"]}]}
)


def _verdict(settings, reply: str = "hello world"):
    return grade(EXERCISE, "Repeat: {input}", FakeGenerator([reply]), FakeEmbedder(), settings)


def test_attempts_survive_a_restart(settings, database) -> None:
    store = Store(database)
    ana = store.learner("Ana")
    store.record_attempt(ana, "Repeat: {input}", _verdict(settings, "goodbye"))
    store.record_attempt(ana, "Say exactly: {input}", _verdict(settings))
    assert str(database).startswith("postgresql://") or settings.database_path.is_file()

    reopened = Store(database)  # as after a server restart
    again = reopened.learner("  ana ")  # case and spacing do not make a new learner
    assert again == ana
    attempts = reopened.attempts(again, "echo")
    assert [a.prompt for a in attempts] == ["Say exactly: {input}", "Repeat: {input}"]
    assert attempts[0].passed and attempts[0].verdict.cases[0].output == "hello world"
    assert attempts[0].verdict.generator == "fake-generator"
    progress = reopened.progress(again)["echo"]
    assert progress.attempts == 2 and progress.passed and progress.best_score == 100
    assert progress.status == "passed"


def test_migrations_run_once(settings, database) -> None:
    Store(database)
    Store(database)
    assert Store(database).applied_migrations() == [
        "001_initial",
        "002_classes_and_releases",
        "003_ungraded_runs",
        "004_sign_in",
        "005_interface_language",
    ]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "type a name"),
        ("   ", "type a name"),
        ("x" * 41, "at most 40"),
        ("\x00\x07", "type a name"),
        ("\u200b\u2060", "type a name"),
    ],
)
def test_bad_names_get_advice(settings, database, name: str, words: str) -> None:
    with pytest.raises(StoreError, match=words):
        Store(database).learner(name)


def test_unicode_names_are_kept(settings, database) -> None:
    store = Store(database)
    learner = store.learner("Zoë 山田 🌱")
    assert learner.name == "Zoë 山田 🌱"
    assert store.learner("ZOË 山田 🌱").id == learner.id


def test_two_learners_submitting_at_once_lose_nothing(settings, database) -> None:
    store = Store(database)
    verdict = _verdict(settings)
    errors: list[BaseException] = []

    def learner_run(name: str) -> None:
        try:
            mine = Store(database)
            me = mine.learner(name)
            for i in range(20):
                mine.record_attempt(me, f"{name} attempt {i}", verdict)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=learner_run, args=(n,)) for n in ("Ana", "Ben", "Chen", "Dara")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    for name in ("Ana", "Ben", "Chen", "Dara"):
        assert len(store.attempts(store.learner(name), "echo")) == 20


def test_an_unwritable_data_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(StoreError, match="Cannot create the data folder"):
        Store(blocker / "data" / "progress.sqlite3")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "progress.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="Cannot open the progress database"):
        Store(path)
    assert path.read_bytes().startswith(b"this is not sqlite"), "nothing is overwritten"
    assert sqlite3.sqlite_version


def test_class_codes_and_released_solutions(settings, database) -> None:
    store = Store(database)
    ana = store.learner("Ana", "  b-12 ")
    assert ana.class_code == "B-12"
    assert store.learner("ana").class_code == "B-12", "signing in again without a code keeps the class"
    store.learner("Ben", "A-1")
    store.learner("Chen")
    assert store.class_codes() == ["A-1", "B-12"]
    assert [learner.name for learner in store.learners("B-12")] == ["Ana"]
    store.record_attempt(ana, "p", _verdict(settings))
    rows = store.all_attempts("B-12")
    assert [(r.learner, r.class_code, r.exercise_id, r.passed) for r in rows] == [("Ana", "B-12", "echo", True)]
    assert store.all_attempts("A-1") == []
    store.release_solution("echo")
    store.release_solution("echo")
    assert store.released_solutions() == {"echo"}
    store.release_solution("echo", released=False)
    assert store.released_solutions() == set()


def test_a_version_1_database_upgrades_in_place(settings) -> None:
    """A classroom's database from before class codes keeps its attempts after the upgrade."""
    from sandbox.classroom.migrations import m001_initial

    settings.database_path.parent.mkdir(parents=True)
    verdict = _verdict(settings)
    with sqlite3.connect(settings.database_path) as db:
        db.execute("CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
        m001_initial(db, SQLiteDatabase(settings.database_path))
        db.execute("INSERT INTO migrations VALUES ('001_initial', '2026-01-01')")
        db.execute("INSERT INTO learners VALUES (1, 'Ana', 'ana', '2026-01-01')")
        db.execute(
            "INSERT INTO attempts VALUES (1, 1, 'echo', 'old prompt', 1, 100, ?, 'g', 'h', 'e', 'h', '2026-01-01')",
            (verdict.model_dump_json(),),
        )
    upgraded = Store(settings.database_path)
    assert upgraded.applied_migrations() == [
        "001_initial",
        "002_classes_and_releases",
        "003_ungraded_runs",
        "004_sign_in",
        "005_interface_language",
    ]
    assert upgraded.learners() == [Learner(1, "Ana", "", has_pin=False)], "on the class list, without a PIN yet"
    ana = upgraded.learner("Ana")
    assert ana.class_code == ""
    assert [a.prompt for a in upgraded.attempts(ana, "echo")] == ["old prompt"]


def test_a_run_the_model_did_not_answer_is_kept_but_never_counts(settings, database) -> None:
    store = Store(database)
    ana = store.learner("Ana", "B2")
    store.record_attempt(ana, "{input}", _verdict(settings))
    store.record_ungraded(ana, "echo", "Say: {input}", "The model server at http://x/v1 is not answering.", "srv")
    reopened = Store(database)
    progress = reopened.progress(ana)["echo"]
    assert progress.attempts == 1  # the ungraded run is not an attempt
    assert len(reopened.attempts(ana, "echo")) == 1
    [run] = reopened.ungraded_runs("B2")
    assert (run.learner, run.exercise_id, run.prompt, run.generator) == ("Ana", "echo", "Say: {input}", "srv")
    assert "not answering" in run.reason
    assert reopened.ungraded_runs("other class") == []


def test_app_processes_starting_together_migrate_once(database) -> None:
    """Four processes open a new database at the same moment: each migration runs once and nobody fails."""
    script = "import sys; from sandbox.classroom.store import Store; Store(sys.argv[1]).learner('Ana'); print('ok')"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    starts = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(database)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for _ in range(4)
    ]
    results = [process.communicate(timeout=120) for process in starts]
    assert [process.returncode for process in starts] == [0, 0, 0, 0], [err.decode()[-500:] for _, err in results]
    store = Store(database)
    assert store.applied_migrations() == [name for name, _ in MIGRATIONS]
    assert [learner.name for learner in store.learners()] == ["Ana"]


def test_a_postgresql_server_that_is_not_running_is_a_clear_error() -> None:
    pytest.importorskip("psycopg")
    url = "postgresql://sandbox:secret@127.0.0.1:9/progress"
    with pytest.raises(StoreError) as caught:
        Store(url)
    message = str(caught.value)
    assert "Cannot open the progress database postgresql://sandbox@127.0.0.1:9/progress" in message
    assert "secret" not in message  # the password never reaches a page or a log
    assert "PROMPT_SANDBOX_DATABASE_URL is running" in message


def test_everything_kept_about_a_learner_can_be_read_and_deleted(settings, database) -> None:
    store = Store(database)
    ana, ben = store.learner("Ana", "B-12"), store.learner("Ben", "B-12")
    store.record_attempt(ana, "Repeat: {input}", _verdict(settings))
    store.record_ungraded(ana, "echo", "Say {input}", "the model server did not answer", "class-server")
    store.record_attempt(ben, "Echo {input}", _verdict(settings, "nope"))
    attempts, ungraded = store.records_of(ana)
    assert [a.prompt for a in attempts] == ["Repeat: {input}"] and [u.prompt for u in ungraded] == ["Say {input}"]
    store.delete_learner(ana)
    assert [learner.name for learner in store.learners()] == ["Ben"]
    assert [a.learner for a in store.all_attempts()] == ["Ben"] and store.ungraded_runs() == []
    assert store.learner("Ana").id != ana.id, "a new Ana starts from nothing"
    assert store.records_of(store.learner("Ana")) == ([], [])


def test_a_new_sqlite_file_waits_for_another_process_switching_it_to_wal(tmp_path) -> None:
    """The switch to WAL is refused at once while another process writes the new file; the store waits, as for writes.

    This is the race that failed one of four app processes starting together now and then.
    """
    path = tmp_path / "progress.sqlite3"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN IMMEDIATE")  # another app process, in the middle of its migrations
    other.execute("INSERT INTO t VALUES (1)")
    release = threading.Timer(0.5, lambda: other.execute("COMMIT"))
    release.start()
    try:
        SQLiteDatabase(path).prepare()
    finally:
        release.join()
        other.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
