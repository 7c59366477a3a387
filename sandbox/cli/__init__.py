"""The ``prompt-sandbox`` command: serve the app, check and grade exercises, manage models, measure.

Each group of commands has its module (``serve``, ``authoring``: check and
calibrate, ``grading``: grade and score, ``models``, ``bench``, ``passcode``, ``data``: backup and the class list, ``bundle``); this one joins
them under :func:`main`. Errors from the package (:class:`~sandbox.errors.SandboxError`)
become one clean message on stderr and exit code 2 (``common.friendly_errors``);
nothing prints a traceback at a person. Each command imports what it needs when
it runs, so ``--help`` and ``check`` start fast.
"""

from __future__ import annotations

import click

from ..config import force_offline
from .authoring import calibrate, check
from .bench import bench
from .bundle import bundle
from .data import backup, roster
from .grading import grade, score
from .models import models
from .passcode import hash_passcode_command
from .serve import serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="prompt-sandbox")
def main() -> None:
    """prompt-sandbox: practise prompt engineering on a small model that runs on this computer."""
    force_offline()


for command in (serve, check, calibrate, grade, score, bench, models, hash_passcode_command, backup, roster, bundle):
    main.add_command(command)
