"""A learner's interface language, kept in the progress database (SQLite file and PostgreSQL)."""

from __future__ import annotations

import pytest

from sandbox.classroom.preferences import LanguageChoice
from sandbox.classroom.store import Store


def test_a_learners_language_is_kept_across_a_restart_and_is_theirs_alone(database) -> None:
    store = Store(database)
    ana, chen = store.learner("Ana", new=True), store.learner("Chen", new=True)
    choice = LanguageChoice(store)
    assert choice.of(ana) is None, "nobody chose yet: the class's language applies"
    choice.choose(ana, "zh-CN")
    reopened = LanguageChoice(Store(database))
    assert reopened.of(ana) == "zh"
    assert reopened.of(chen) is None
    reopened.choose(ana, "en")
    assert LanguageChoice(Store(database)).of(ana) == "en"


def test_a_language_the_interface_lacks_is_not_kept(database) -> None:
    store = Store(database)
    ana = store.learner("Ana", new=True)
    with pytest.raises(ValueError, match="fr"):
        LanguageChoice(store).choose(ana, "fr")
    assert LanguageChoice(store).of(ana) is None
