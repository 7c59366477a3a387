"""Faults around the progress database: a read-only folder, an app killed while it writes, runs cut off."""

from __future__ import annotations

import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sandbox.classroom.runs import RunsInProgress
from sandbox.classroom.store import Store
from sandbox.errors import StoreError

from .test_store import _verdict

ROOT = Path(__file__).resolve().parents[2]
can_mount = shutil.which("unshare") is not None and os.geteuid() == 0


def test_a_run_in_progress_is_lost_only_when_no_process_answers_it(settings, database) -> None:
    store = Store(database)
    runs = RunsInProgress(store)
    ana = store.learner("Ana")
    here = runs.start(ana, "echo", "process-1")
    assert runs.lost(ana, "process-1", {here}) == [], "still being answered by this process"
    store.record_attempt(ana, "Repeat: {input}", _verdict(settings), run=here)
    assert runs.lost(ana, "process-1", set()) == [], "a recorded run is not in progress any more"
    runs.start(ana, "echo", "process-0")  # the app that answered it was killed
    [lost] = runs.lost(ana, "process-1", set())
    assert lost.exercise_id == "echo" and lost.started_at
    assert runs.lost(ana, "process-1", set()) == [], "told once"
    ended = runs.start(ana, "echo", "process-1")
    runs.end(ended)  # cancelled
    assert runs.lost(ana, "process-1", set()) == []
    assert [a.prompt for a in store.attempts(ana, "echo")] == ["Repeat: {input}"]


WRITER = """
import sys
from sandbox.classroom.runs import RunsInProgress
from sandbox.classroom.store import Store
from sandbox.grading import grade
from sandbox.config import load_settings
from tests.conftest import FakeEmbedder, FakeGenerator
from tests.classroom.test_store import EXERCISE
store = Store(sys.argv[1])
ana = store.learner("Ana")
verdict = grade(EXERCISE, "Repeat: {input}", FakeGenerator(["hello world"]), FakeEmbedder(), load_settings())
print("ready", flush=True)
n = 0
while True:
    run = RunsInProgress(store).start(ana, "echo", "writer")
    attempt = store.record_attempt(ana, f"prompt {n}", verdict, run=run)
    print(attempt, flush=True)
    n += 1
"""


@pytest.mark.parametrize("moment_s", [0.0, 0.013, 0.05, 0.2, 0.7])
def test_an_app_killed_while_it_writes_attempts_leaves_a_whole_database(tmp_path, settings, moment_s) -> None:
    """kill -9 at several moments of a stream of attempts: every finished one is kept, no half one, no damage."""
    database = tmp_path / "progress.sqlite3"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(database)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert writer.stdout is not None
    assert writer.stdout.readline().strip() == "ready"
    time.sleep(moment_s)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    finished = {int(line) for line in writer.stdout.read().split()}
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store = Store(database)
    ana = store.learner("Ana")
    kept = store.attempts(ana, "echo")
    assert finished <= {a.id for a in kept}, "every attempt the writer saw committed is there"
    assert len(kept) <= len(finished) + 1, "at most the one committed as it died, before it could say so"
    assert all(a.verdict.cases and a.prompt.startswith("prompt ") for a in kept), "no half-written attempt"
    cut = RunsInProgress(store).lost(ana, "this-process", set())
    assert len(cut) <= 1, "at most the run it was answering is left, and it is reported lost"
    with sqlite3.connect(database) as db:
        [[marks]] = db.execute("SELECT COUNT(*) FROM runs_in_progress").fetchall()
    assert marks == 0


@pytest.mark.skipif(not can_mount, reason="needs root and unshare for a read-only mount")
def test_a_database_in_a_read_only_folder_is_read_and_says_it_cannot_save(tmp_path, settings) -> None:
    data = tmp_path / "data"
    store = Store(data / "progress.sqlite3")
    ana = store.learner("Ana")
    store.record_attempt(ana, "Repeat: {input}", _verdict(settings))
    del store
    script = tmp_path / "read.py"
    script.write_text(
        "import sys\n"
        "from sandbox.classroom.store import Store\n"
        "from sandbox.errors import StoreError\n"
        "store = Store(sys.argv[1])\n"
        "ana = store.learner('Ana')\n"
        "print('read-only', store.read_only, len(store.attempts(ana, 'echo')))\n"
        "try:\n"
        "    store.learner('Ben')\n"
        "except StoreError as exc:\n"
        "    print('refused:', exc)\n"
    )
    mount = f"mount --bind {data} {data} && mount -o remount,bind,ro {data} && exec {sys.executable} {script} {data}/progress.sqlite3"
    done = subprocess.run(
        ["unshare", "--mount", "sh", "-c", mount],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr
    assert "read-only True 1" in done.stdout
    assert "can be read but not written (its file or folder is read-only), so this was not saved" in done.stdout


def test_a_write_the_database_refuses_is_a_clear_error(tmp_path, settings) -> None:
    store = Store(tmp_path / "progress.sqlite3")
    ana = store.learner("Ana")
    with sqlite3.connect(tmp_path / "progress.sqlite3") as db:  # a full disk or a broken file, as SQLite reports it
        db.execute("CREATE TRIGGER refuse BEFORE INSERT ON attempts BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END")
    with pytest.raises(StoreError, match=r"Could not save to the progress database .*: disk I/O error\. Nothing of it"):
        store.record_attempt(ana, "p", _verdict(settings))
    assert store.attempts(ana, "echo") == []
