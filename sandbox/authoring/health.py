"""The last ``check --solve`` results, kept for the instructor page, and how the page shows them.

Flags are saved as English keys, which code compares; the page shows them in the reader's language.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ..config import Settings
from ..i18n import N_, _
from .solvability import SolveReport

FLAG_LABELS = {
    "no solution": N_("no solution"),
    "unsolvable": N_("unsolvable"),
    "too easy": N_("too easy"),
    "thin margin": N_("thin margin"),
    "brittle": N_("brittle"),
}
"""Each flag's key (saved in the report, compared by code) and the words a page shows for it."""


def flag_label(flag: str) -> str:
    """A flag in the reader's language (a key this version does not know: as saved)."""
    return _(FLAG_LABELS[flag]) if flag in FLAG_LABELS else flag


def flags_text(flags: list[str]) -> str:
    """An exercise's flags for a page, "ok" when it has none."""
    if not flags:
        return _("ok")
    text = flag_label(flags[0])
    for flag in flags[1:]:
        text = _("{flags}, {flag}").format(flags=text, flag=flag_label(flag))
    return text


def health_row(entry: dict[str, Any]) -> dict[str, Any]:
    """One saved exercise of :func:`load_saved` as a row of the instructor page's Exercise health table.

    The column names and words are in the reader's language; the exercise id and the margin are data.
    """
    solution = {True: _("passes"), False: _("FAILS"), None: _("none")}[entry["solution_passed"]]
    if entry.get("variants"):
        good = _("{passed} of {total}").format(passed=entry["good_passed"], total=entry["good_prompts"])
    else:
        good = "-"
    return {
        _("exercise"): entry["exercise"],
        _("solution"): solution,
        _("margin"): entry["margin"],
        _("good prompts pass"): good,
        _("flags"): flags_text(entry["flags"]),
    }


def report_path(settings: Settings) -> Path:
    return Path(settings.data_dir) / "solve-report.json"


def save_reports(settings: Settings, generator: str, embedder: str, reports: list[SolveReport]) -> None:
    """Keep the last results, so the instructor page can show each exercise's health."""
    path = report_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "generator": generator,
        "embedder": embedder,
        "at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "exercises": [r.to_json() for r in reports],
    }
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")


def load_saved(settings: Settings) -> dict[str, Any] | None:
    try:
        return json.loads(report_path(settings).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
