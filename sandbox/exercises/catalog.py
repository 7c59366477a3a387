"""The catalog: every exercise and track under one folder, re-read when a file changes.

A broken file is kept aside as :class:`BrokenFile` and never stops the other
files loading. Files are re-read when their size or modification time changes,
so an instructor who drops a new file into ``exercises/`` sees it without a restart.
A file's problems are written in the interface's language when it is parsed, so
the cache keeps one parse per file and language.
"""

from __future__ import annotations

import difflib
import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import i18n
from ..errors import ExerciseFileError, ExerciseNotFound
from ..i18n import _
from .loading import display_path, load_exercise_file, load_track_file
from .schema import Exercise, Track

TRACK_FILE = "track.yaml"
EXERCISE_SUFFIXES = (".yaml", ".yml")


@dataclass
class BrokenFile:
    path: str
    problems: list[str]


@dataclass
class Catalog:
    """Everything loaded from one exercises folder."""

    root: Path
    tracks: list[Track] = field(default_factory=list)
    exercises: dict[str, Exercise] = field(default_factory=dict)
    broken: list[BrokenFile] = field(default_factory=list)

    @property
    def notes(self) -> list[str]:
        """Texts written by language that lack one of the interface's languages (the files still load)."""
        return [note for t in self.tracks for note in t.notes] + [
            note for e in self.exercises.values() for note in e.notes
        ]

    def track(self, track_id: str) -> Track | None:
        return next((t for t in self.tracks if t.id == track_id), None)

    def in_order(self) -> list[Exercise]:
        """Every exercise in the order the app lists them: by track, then by difficulty."""
        return [e for track in self.tracks for e in self.in_track(track.id)]

    def in_track(self, track_id: str) -> list[Exercise]:
        items = [e for e in self.exercises.values() if e.track == track_id]
        return sorted(items, key=lambda e: (e.difficulty, e.title.casefold()))

    def find(self, ref: str) -> Exercise:
        """An exercise by id, or by the path of its file."""
        if ref in self.exercises:
            return self.exercises[ref]
        candidate = Path(ref)
        if candidate.suffix in EXERCISE_SUFFIXES:
            wanted = candidate.resolve()
            for exercise in self.exercises.values():
                if Path(exercise.path).resolve() == wanted:
                    return exercise
        close = difflib.get_close_matches(ref, list(self.exercises), n=3)
        if close:
            message = _(
                "No exercise '{ref}' in {folder}. Did you mean {close}? "
                "`prompt-sandbox check` lists problems with the files."
            )
        else:
            message = _("No exercise '{ref}' in {folder}. `prompt-sandbox check` lists problems with the files.")
        raise ExerciseNotFound(message.format(ref=ref, folder=self.root, close=", ".join(close)))


_cache_lock = threading.Lock()
_file_cache: dict[tuple[Path, str], tuple[bytes, Any]] = {}


def _cached(path: Path, loader: Any) -> Any:
    """Parse a file once per content and language; returns the object or the error it raised.

    The content's hash, not its size and time, says whether it changed: an edit that keeps
    both (a copy that keeps the time, a same-length fix) is still seen. Hashing a few
    kilobytes per file costs far less than parsing it. The problems of a broken file are
    written in the language of the page that parsed it, so each language has its own entry
    (an English page's problems are never shown to a Chinese page).
    """
    key = (path, i18n.current())
    try:
        signature = hashlib.sha256(path.read_bytes()).digest()
    except OSError:
        signature = b""  # unreadable: the loader reports why
    with _cache_lock:
        hit = _file_cache.get(key)
        if hit is not None and hit[0] == signature:
            return hit[1]
    try:
        result: Any = loader()
    except ExerciseFileError as exc:
        result = exc
    with _cache_lock:
        _file_cache[key] = (signature, result)
    return result


def load_catalog(root: Path) -> Catalog:
    """Load every exercise and track under ``root``. Never raises for a broken file."""
    root = Path(root)
    catalog = Catalog(root=root)
    if not root.is_dir():
        message = _("the exercises folder does not exist; create it or set PROMPT_SANDBOX_EXERCISES")
        catalog.broken.append(BrokenFile(str(root), [f"{root}: {message}"]))
        return catalog
    tracks: dict[str, Track] = {}
    files = sorted(p for p in root.rglob("*") if p.suffix in EXERCISE_SUFFIXES and p.is_file())
    for path in files:
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts):
            continue
        track_id = relative.parts[0] if len(relative.parts) > 1 else ""
        if path.name == TRACK_FILE:
            loaded = _cached(path, lambda p=path: load_track_file(p, root))
            if isinstance(loaded, ExerciseFileError):
                catalog.broken.append(BrokenFile(loaded.path, loaded.problems))
            else:
                tracks[track_id] = loaded.model_copy(update={"id": track_id})  # a track file at the root too
            continue
        loaded = _cached(path, lambda p=path, t=track_id: load_exercise_file(p, root, t))
        if isinstance(loaded, ExerciseFileError):
            catalog.broken.append(BrokenFile(loaded.path, loaded.problems))
            continue
        if loaded.id in catalog.exercises:
            other = catalog.exercises[loaded.id]
            display = display_path(path, root)
            message = _("the id '{id}' is already used by {other}; rename this file or add a different 'id:'").format(
                id=loaded.id, other=display_path(Path(other.path), root)
            )
            catalog.broken.append(BrokenFile(display, [f"{display}:1: {message}"]))
            continue
        catalog.exercises[loaded.id] = loaded
    for track_id in sorted({e.track for e in catalog.exercises.values()}):
        if track_id not in tracks:
            title = track_id.replace("-", " ").replace("_", " ").capitalize() if track_id else _("Exercises")
            tracks[track_id] = Track(id=track_id, title=title)
    catalog.tracks = sorted(tracks.values(), key=lambda t: (t.order, t.title.casefold()))
    return catalog
