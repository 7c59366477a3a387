"""Runs being answered, noted in the progress database, so a run cut off by a dropped connection or a stopped app
is told to its learner as lost (never graded, never counted) instead of vanishing without a word.

A run is noted when it starts, with the app process answering it; the attempt's
insert removes the note in the same transaction (``Store.record_attempt(...,
run=)``), and a cancelled or refused run removes it at once. A note left behind
by a process that died, or that this process is no longer answering, is a lost run.
"""

from __future__ import annotations

from dataclasses import dataclass

from .store import Learner, Store, now_text


@dataclass(frozen=True)
class LostRun:
    """A run that was being answered when its browser or the app went away: never graded, never counted."""

    exercise_id: str
    started_at: str


class RunsInProgress:
    """The notes of runs being answered, on top of the progress store."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def start(self, learner: Learner, exercise_id: str, process: str) -> int:
        """Note that a run is being answered (by app process ``process``), until it is recorded or ended."""
        with self.store.transaction() as db:
            cursor = db.execute(
                """INSERT INTO runs_in_progress (learner_id, exercise_id, process, started_at)
                   VALUES (?, ?, ?, ?) RETURNING id""",
                (learner.id, exercise_id, process, now_text()),
            )
            return int(cursor.fetchall()[0]["id"])

    def end(self, run: int) -> None:
        """The run was cancelled, refused, or recorded: no longer in progress."""
        with self.store.transaction() as db:
            db.execute("DELETE FROM runs_in_progress WHERE id = ?", (run,))

    def lost(self, learner: Learner, process: str, live: set[int]) -> list[LostRun]:
        """Runs of ``learner`` no process is answering any more (not ``live`` ones of this ``process``); forgotten."""
        with self.store.connection() as db:  # read first: every page run asks, and nearly always there is none
            rows = db.execute(
                "SELECT id, exercise_id, process, started_at FROM runs_in_progress WHERE learner_id = ? ORDER BY id",
                (learner.id,),
            ).fetchall()
        lost = [r for r in rows if r["process"] != process or int(r["id"]) not in live]
        if not lost:
            return []
        with self.store.transaction() as db:
            for row in lost:
                db.execute("DELETE FROM runs_in_progress WHERE id = ?", (row["id"],))
        return [LostRun(str(r["exercise_id"]), str(r["started_at"])) for r in lost]
