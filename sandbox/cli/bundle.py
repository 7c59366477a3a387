"""``prompt-sandbox bundle``: everything a classroom with no internet needs, in one folder and one archive."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .common import friendly_errors, settings_for


@click.command()
@click.option(
    "--out", type=click.Path(path_type=Path), default=Path("dist"), show_default=True, help="Folder to write into."
)
@click.option(
    "--platform",
    "platform_name",
    type=click.Choice(["linux_x86_64", "win_amd64"]),
    default=None,
    help="The classroom computers' system (default: this computer's).",
)
@click.option("--python", "python_version", default=None, help="Their Python, as 3.11 (default: this one's).")
@click.option("--no-archive", is_flag=True, help="Write the folder only, not the .tar.gz or .zip beside it.")
@click.option("--model", "models", multiple=True, help="Also carry this pulled hub model (repeatable).")
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder to carry.")
@friendly_errors
def bundle(
    out: Path,
    platform_name: str | None,
    python_version: str | None,
    no_archive: bool,
    models: tuple[str, ...],
    exercises: Path | None,
) -> None:
    """Make an offline bundle: wheels, models, exercises, install.sh and SHA256SUMS (run on a connected computer)."""
    from ..bundle.build import build_bundle
    from ..bundle.installer import this_platform
    from ..bundle.wheels import Target

    target = Target(
        platform=platform_name or this_platform(),
        python=python_version or f"{sys.version_info.major}.{sys.version_info.minor}",
    )
    made = build_bundle(settings_for(exercises), out, target, click.echo, archive=not no_archive, models=models)
    click.echo(
        f"Bundle for {target.platform}, Python {target.python}: {made.folder} "
        f"({made.files} files, {made.wheels} wheels, {made.size_bytes / 1e6:.0f} MB, made in {made.seconds:.0f} s)"
    )
    if made.archive is not None:
        click.echo(f"Archive: {made.archive} ({made.archive.stat().st_size / 1e6:.0f} MB)")
    start = ".\\install.ps1" if target.platform.startswith("win") else "./install.sh"
    click.echo(f"On the classroom computer: unpack it, then run {start} in its folder (no network needed).")
