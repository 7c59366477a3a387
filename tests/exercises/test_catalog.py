"""The catalog: files re-read when they change, duplicate ids kept apart, tracks, finding an exercise."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from sandbox.errors import ExerciseNotFound
from sandbox.exercises.catalog import load_catalog

from .test_loading import GOOD


def test_files_are_reread_when_they_change_and_new_files_appear(write_exercise) -> None:
    path = write_exercise("t/one.yaml", GOOD)
    assert load_catalog(write_exercise.root).exercises["one"].title == "Label review sentiment"
    path.write_text(GOOD.replace("Label review sentiment", "Sort the reviews"), encoding="utf-8")
    later = time.time() + 2
    os.utime(path, (later, later))
    catalog = load_catalog(write_exercise.root)
    assert catalog.exercises["one"].title == "Sort the reviews"
    write_exercise("t/two.yaml", GOOD)
    assert set(load_catalog(write_exercise.root).exercises) == {"one", "two"}


def test_an_edit_that_keeps_the_size_and_the_time_is_seen(write_exercise) -> None:
    path = write_exercise("t/one.yaml", GOOD)
    assert load_catalog(write_exercise.root).exercises["one"].title == "Label review sentiment"
    before = path.stat()
    path.write_text(GOOD.replace("Label review sentiment", "Label review sentimenT"), encoding="utf-8")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # as `cp -p` or a same-second save leaves it
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert load_catalog(write_exercise.root).exercises["one"].title == "Label review sentimenT"


def test_duplicate_ids_are_reported_not_merged(write_exercise) -> None:
    write_exercise("a/same.yaml", GOOD)
    write_exercise("b/same.yaml", GOOD)
    catalog = load_catalog(write_exercise.root)
    assert list(catalog.exercises) == ["same"]
    assert "already used by exercises/a/same.yaml" in catalog.broken[0].problems[0]


def test_tracks_have_titles_order_and_intro(write_exercise) -> None:
    write_exercise("later/x.yaml", GOOD)
    write_exercise("first/y.yaml", GOOD.replace("title: Label", "id: other-id\ntitle: Label"))
    write_exercise("first/track.yaml", "title: First steps\norder: 1\nintro: Start here.\n")
    catalog = load_catalog(write_exercise.root)
    assert [t.title for t in catalog.tracks] == ["First steps", "Later"]
    assert catalog.tracks[0].intro == "Start here."
    assert [e.id for e in catalog.in_track("first")] == ["other-id"]


def test_a_track_folder_can_be_loaded_on_its_own(write_exercise) -> None:
    write_exercise("first/y.yaml", GOOD)
    write_exercise("first/track.yaml", "title: First steps\norder: 1\nintro: Start here.\n")
    catalog = load_catalog(write_exercise.root / "first")  # as `check --solve exercises/first` does
    assert [t.title for t in catalog.tracks] == ["First steps"]
    assert [e.id for e in catalog.in_track(catalog.tracks[0].id)] == ["y"]


def test_find_by_id_or_path_and_suggest_close_names(write_exercise) -> None:
    path = write_exercise("t/sentiment.yaml", GOOD)
    catalog = load_catalog(write_exercise.root)
    assert catalog.find("sentiment").id == "sentiment"
    assert catalog.find(str(path)).id == "sentiment"
    with pytest.raises(ExerciseNotFound, match="Did you mean sentiment"):
        catalog.find("sentimnt")


def test_a_missing_folder_is_reported_not_raised(tmp_path: Path) -> None:
    catalog = load_catalog(tmp_path / "nope")
    assert not catalog.exercises
    assert "does not exist" in catalog.broken[0].problems[0]
