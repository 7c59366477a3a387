"""The classroom's records: learners, attempts and releases in the progress database, and what they show.

``database`` (SQLite by default, PostgreSQL for several app processes) under
``store`` (the records, with numbered migrations); ``reports`` (the instructor's
grid, statistics, timelines and exports) and ``ladder`` (when hints and the
solution open for a learner) read them. This package re-exports nothing.
"""
