"""Figures measured once per computer and kept in a small JSON file for later starts (``floors.json``,
``setups.json``): read forgivingly, written whole, and a read-only folder only means measuring again."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any


def read_memo(path: Path) -> dict[str, Any]:
    """What ``path`` keeps; empty when it is missing, unreadable or not a JSON object."""
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return known if isinstance(known, dict) else {}


def write_memo(path: Path, known: dict[str, Any]) -> None:
    """Replace ``path`` with ``known`` in one step (two app processes may start at once)."""
    with contextlib.suppress(OSError):  # a read-only models folder: measure again next time
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_text(json.dumps(known, indent=1), encoding="utf-8")
        os.replace(partial, path)
