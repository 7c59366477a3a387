"""``prompt-sandbox backup``: a consistent copy of the progress database, also while the app runs."""

from __future__ import annotations

from pathlib import Path

import click

from .common import friendly_errors, settings_for


@click.command()
@click.option("--to", "target", type=click.Path(path_type=Path), default=None, help="The copy's file name.")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Folder of the progress database.")
@friendly_errors
def backup(target: Path | None, data: Path | None) -> None:
    """Copy the progress database (default: data/backups/progress-DATE-TIME.sqlite3)."""
    from ..classroom.backup import backup as copy_database

    settings = settings_for(data=data)
    made = copy_database(settings.database, target)
    click.echo(f"Backed up {made.learners} learners and {made.attempts} attempts to {made.path}")
