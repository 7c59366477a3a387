"""``prompt-sandbox hash-passcode``: the instructor passcode as a hash, to configure instead of the passcode itself."""

from __future__ import annotations

import click

from ..classroom.access import hash_passcode


@click.command("hash-passcode")
@click.option(
    "--passcode", prompt="Instructor passcode", hide_input=True, confirmation_prompt=True, help="The passcode."
)
def hash_passcode_command(passcode: str) -> None:
    """Print a hash of the instructor passcode for PROMPT_SANDBOX_INSTRUCTOR_PASSCODE (the page accepts either)."""
    if not passcode.strip():
        raise click.BadParameter("the passcode must not be empty", param_hint="--passcode")
    click.echo(hash_passcode(passcode))
