"""``prompt-sandbox backup`` (a consistent copy of the progress database, also while the app runs) and ``roster``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from .common import friendly_errors, settings_for

if TYPE_CHECKING:
    from ..classroom.roster import Roster


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


@click.group()
def roster() -> None:
    """The class list: add learners, make their PINs, print the sign-in slips."""


def _roster(data: Path | None) -> Roster:
    from ..classroom.roster import Roster
    from ..classroom.store import Store

    settings = settings_for(data=data)
    return Roster(Store(settings.database), session_hours=settings.learner_session_hours)


_data_option = click.option(
    "--data", type=click.Path(path_type=Path), default=None, help="Folder of the progress database."
)


@roster.command("list")
@_data_option
@friendly_errors
def roster_list(data: Path | None) -> None:
    """Who is on the class list, their class, and whether they have a PIN."""
    for learner in _roster(data).store.learners():
        click.echo(f"{learner.name}\t{learner.class_code or '-'}\t{'PIN set' if learner.has_pin else 'no PIN yet'}")


@roster.command("add")
@click.argument("names", nargs=-1)
@click.option("--class", "class_code", default="", help="The class code they join.")
@click.option(
    "--csv", "csv_file", type=click.Path(exists=True, path_type=Path), default=None, help="A CSV file: name[,class]."
)
@click.option("--slips", type=click.Path(path_type=Path), default=None, help="Also write printable slips (HTML) here.")
@_data_option
@friendly_errors
def roster_add(
    names: tuple[str, ...], class_code: str, csv_file: Path | None, slips: Path | None, data: Path | None
) -> None:
    """Add learners and make each a PIN (printed once: the app keeps only a hash)."""
    from ..classroom.roster import sign_in_sheet

    signing_in = _roster(data)
    added, problems = signing_in.add(list(names), class_code)
    if csv_file is not None:
        more, refused = signing_in.add_from_csv(csv_file.read_text(encoding="utf-8-sig"))
        added, problems = added + more, problems + refused
    pins = [signing_in.new_pin(learner) for learner in added]
    for made in pins:
        click.echo(f"{made.learner.name}\t{made.learner.class_code or '-'}\tPIN {made.pin}")
    for problem in problems:
        click.echo(f"not added: {problem}", err=True)
    if slips is not None and pins:
        slips.write_text(sign_in_sheet(pins), encoding="utf-8")
        click.echo(f"Slips to print: {slips}")
    if problems:
        raise SystemExit(1)


@roster.command("pin")
@click.argument("name")
@_data_option
@friendly_errors
def roster_pin(name: str, data: Path | None) -> None:
    """A new PIN for one learner (the old one stops working and their sessions close)."""
    from ..classroom.names import name_key
    from ..errors import StoreError

    signing_in = _roster(data)
    learner = next((one for one in signing_in.store.learners() if name_key(one.name) == name_key(name)), None)
    if learner is None:
        raise StoreError(f"{name!r} is not on the class list; add them with `prompt-sandbox roster add`.")
    click.echo(f"{learner.name}\tPIN {signing_in.new_pin(learner).pin}")
