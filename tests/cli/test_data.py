"""backup and roster through the real entry point."""

from __future__ import annotations

from pathlib import Path

from sandbox.classroom.roster import Roster
from sandbox.classroom.store import Store

from .running import run


def test_backup_writes_a_copy_and_says_what_it_holds(settings, tmp_path) -> None:
    store = Store(settings.database_path)
    store.learner("Ana")
    store.learner("Ben")
    target = tmp_path / "usb-stick" / "progress.sqlite3"
    result = run("backup", "--to", str(target))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"Backed up 2 learners and 0 attempts to {target}"
    assert [learner.name for learner in Store(target).learners()] == ["Ana", "Ben"]
    again = run("backup", "--to", str(target))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_roster_add_prints_pins_and_writes_slips_as_the_guide_says(settings, tmp_path) -> None:
    guide = (Path(__file__).resolve().parents[2] / "exercises" / "README.md").read_text(encoding="utf-8")
    command = '`prompt-sandbox roster add "Ana Li" "Chen Wei"\n--class B-12 --slips slips.html`'
    assert command in guide
    slips = tmp_path / "slips.html"
    result = run("roster", "add", "Ana Li", "Chen Wei", "--class", "B-12", "--slips", str(slips))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    pins = {line.split("\t")[0]: line.split("\t")[2].removeprefix("PIN ") for line in lines[:2]}
    assert sorted(pins) == ["Ana Li", "Chen Wei"] and all(len(p) == 4 and p.isdigit() for p in pins.values())
    assert f"Slips to print: {slips}" in lines
    assert all(name in slips.read_text() and pin in slips.read_text() for name, pin in pins.items())
    roster = Roster(Store(settings.database_path))
    ana = next(one for one in roster.store.learners() if one.name == "Ana Li")
    assert roster.learner_for(roster.sign_in(ana, pins["Ana Li"], "cli-test")) == ana
    listed = run("roster", "list")
    assert listed.stdout.splitlines() == ["Ana Li\tB-12\tPIN set", "Chen Wei\tB-12\tPIN set"]
    refused = run("roster", "add", "ana li", "\u0410na")
    assert refused.returncode == 1
    assert "not added: ana li: 'Ana Li' is already on the roster." in refused.stderr
    assert "mixes letters of different alphabets" in refused.stderr
    new = run("roster", "pin", "ANA LI")
    assert new.returncode == 0 and new.stdout.startswith("Ana Li\tPIN ")
    assert run("roster", "pin", "Nobody").returncode == 2
