"""What a learner chose for themselves and keeps on every computer they sign in on: the interface's language."""

from __future__ import annotations

from sandbox import i18n

from .store import Learner, Store


class LanguageChoice:
    """Each learner's interface language, kept in the progress database (``learners.language``)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def of(self, learner: Learner) -> str | None:
        """The language the learner chose, or None if they never chose one (the class's language applies)."""
        with self.store.connection() as db:
            rows = db.execute("SELECT language FROM learners WHERE id = ?", (learner.id,)).fetchall()
        return i18n.normalise(str(rows[0]["language"])) if rows else None

    def choose(self, learner: Learner, language: str) -> None:
        code = i18n.normalise(language)
        if code is None:
            raise ValueError(f"not a language of the interface: {language!r}")
        with self.store.transaction() as db:
            db.execute("UPDATE learners SET language = ? WHERE id = ?", (code, learner.id))
