"""backup through the real entry point."""

from __future__ import annotations

from sandbox.classroom.store import Store

from .running import run


def test_backup_writes_a_copy_and_says_what_it_holds(settings, tmp_path) -> None:
    store = Store(settings.database_path)
    store.learner("Ana")
    store.learner("Ben")
    target = tmp_path / "usb-stick" / "progress.sqlite3"
    result = run("backup", "--to", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Backed up 2 learners and 0 attempts to {target}"
    assert [learner.name for learner in Store(target).learners()] == ["Ana", "Ben"]
    again = run("backup", "--to", str(target))
    assert again.returncode == 2 and "already exists" in again.stderr
