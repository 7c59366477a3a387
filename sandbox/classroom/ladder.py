"""What a learner may see as they try: hints unlock with failed attempts, the solution after a pass.

The exercise file sets only how many failed attempts unlock each hint
(``hints_after``); whether a solution is released is the instructor's decision,
kept in the database, never in a file.
"""

from __future__ import annotations

from ..exercises.schema import Exercise
from ..i18n import ngettext


def hints_unlocked(exercise: Exercise, failed_attempts: int) -> int:
    """How many of the exercise's hints the learner may read now."""
    return min(len(exercise.hints), failed_attempts // exercise.hints_after)


def next_hint_line(exercise: Exercise, failed_attempts: int) -> str:
    """One sentence on when the next hint unlocks ('' when every hint is open or there are none)."""
    open_now = hints_unlocked(exercise, failed_attempts)
    if open_now >= len(exercise.hints):
        return ""
    needed = (open_now + 1) * exercise.hints_after - failed_attempts
    message = ngettext(
        "Hint {number} of {total} unlocks after {count} more failed attempt.",
        "Hint {number} of {total} unlocks after {count} more failed attempts.",
        needed,
    )
    return message.format(number=open_now + 1, total=len(exercise.hints), count=needed)


def solution_visible(exercise: Exercise, passed: bool, released: bool) -> bool:
    return bool(exercise.solution) and (passed or released)
