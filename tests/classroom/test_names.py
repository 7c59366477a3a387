"""Learners' names: one learner however the name is typed; a name that only looks like another is refused."""

from __future__ import annotations

import pytest

from sandbox.classroom.names import looks_key, name_key, normalise_name
from sandbox.classroom.store import Store
from sandbox.errors import StoreError


@pytest.mark.parametrize(
    "typed", ["ana", "ANA", "\uff21na", "Ana\u00a0", "  ana  ", "A\u200bna", "\ufeffAna", "An\u2060a"]
)
def test_the_ways_of_typing_one_name_are_one_learner(typed: str) -> None:
    assert name_key(typed) == name_key("Ana")
    assert normalise_name(typed).casefold() == "ana"


@pytest.mark.parametrize("other", ["\u0410na", "An\u0430", "\u0391na", "Аnа"])
def test_a_word_mixing_alphabets_is_refused(other: str) -> None:
    with pytest.raises(StoreError, match="mixes letters of different alphabets"):
        normalise_name(other)


@pytest.mark.parametrize("name", ["李明", "Li 明", "Zoë", "Ольга", "José Ñúñez", "O'Brien-Smith"])
def test_names_in_one_alphabet_are_fine(name: str) -> None:
    assert normalise_name(name) == name


def test_a_name_that_looks_like_one_on_the_list_is_refused_with_the_reason(tmp_path) -> None:
    store = Store(tmp_path / "p.sqlite3")
    store.learner("Olga")
    store.learner("Ana")
    store.learner("Coco")
    # all-Cyrillic "Сосо" is one alphabet, but on screen it is "Coco"; "0lga" and "Ana" with an accent too
    for lookalike in ("\u0421\u043e\u0441\u043e", "0lga", "Ána"):
        with pytest.raises(StoreError, match="looks just like"):
            store.learner(lookalike)
    assert [one.name for one in store.learners()] == ["Ana", "Coco", "Olga"]
    assert store.learner("Anna").name == "Anna", "a different name is a different learner"


def test_looks_key_ignores_case_accents_and_lookalike_letters() -> None:
    assert looks_key("Ána") == looks_key("ana")
    assert looks_key("\u0421\u043e\u0441\u043e") == looks_key("coco")
    assert looks_key("rn") == looks_key("m")
    assert looks_key("Ben") != looks_key("Ken")


def test_a_look_alike_kept_before_these_rules_does_not_stop_new_names(tmp_path) -> None:
    import sqlite3

    store = Store(tmp_path / "p.sqlite3")
    with sqlite3.connect(tmp_path / "p.sqlite3") as db:  # an older app let a mixed-alphabet name in
        db.execute("INSERT INTO learners (name, name_key, created_at) VALUES ('\u0410na', '\u0430na', 'then')")
    assert store.learner("Ben").name == "Ben"
    with pytest.raises(StoreError, match="looks just like"):
        store.learner("Ana")
