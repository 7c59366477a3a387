"""``prompt-sandbox models list|pull|verify``: the model manifests, their prepared weights and servers."""

from __future__ import annotations

import sys
import time

import click

from ..config import load_settings
from ..errors import SandboxError
from .common import friendly_errors


@click.group()
def models() -> None:
    """List, prepare (pull) and verify the local models."""


@models.command("list")
@friendly_errors
def models_list() -> None:
    """Show every model manifest and whether it is ready."""
    from ..models.manifests import ServerManifest, load_manifests
    from ..models.weights import prepared_folder

    settings = load_settings()
    for name, manifest in load_manifests(settings.models_dir).items():
        chosen = name in (settings.generator, settings.embedder)
        mark = "*" if chosen else " "
        if isinstance(manifest, ServerManifest):
            where = f"served: '{manifest.server.model}' at {manifest.server.base_url}"
            click.echo(f"{mark} {name:28} {manifest.role:9} {manifest.license:12} {where}")
            continue
        ready = "ready" if prepared_folder(manifest, settings) else "not prepared (run: prompt-sandbox models pull)"
        click.echo(f"{mark} {name:28} {manifest.role:9} {manifest.license:12} sha256 {manifest.fingerprint}  {ready}")
    click.echo("* = in use (PROMPT_SANDBOX_GENERATOR / PROMPT_SANDBOX_EMBEDDER)")


@models.command("pull")
@click.argument("names", nargs=-1)
@friendly_errors
def models_pull(names: tuple[str, ...]) -> None:
    """Verify and prepare the models in use (or the NAMES given)."""
    from ..models.manifests import ServerManifest, load_manifests
    from ..models.weights import prepared_folder, pull

    settings = load_settings()
    manifests = load_manifests(settings.models_dir)
    wanted = list(names) or [settings.generator, settings.embedder]
    for name in wanted:
        if name not in manifests:
            raise SandboxError(f"No model manifest named '{name}' in {settings.models_dir}.")
        manifest = manifests[name]
        if isinstance(manifest, ServerManifest):
            click.echo(f"{name}: answered by the server at {manifest.server.base_url}; nothing to prepare here")
            continue
        if prepared_folder(manifest, settings):
            click.echo(f"{name}: already prepared")
            continue
        started = time.perf_counter()
        pull(manifest, settings, click.echo)
        click.echo(f"{name}: prepared in {time.perf_counter() - started:.0f} s")


@models.command("verify")
@friendly_errors
def models_verify() -> None:
    """Re-hash every model's weights against its manifest. Exit 1 on any mismatch."""
    from ..models.manifests import ServerManifest, load_manifests
    from ..models.server import health
    from ..models.weights import verify

    settings = load_settings()
    bad = 0
    for name, manifest in load_manifests(settings.models_dir).items():
        if isinstance(manifest, ServerManifest):
            if name not in (settings.generator, settings.embedder):
                continue  # a server not in use may well be off
            answers, line = health(manifest)
            problems = [] if answers else [line]
        else:
            problems = verify(manifest, settings)
        bad += bool(problems)
        click.echo(f"{name}: {'OK' if not problems else 'PROBLEM'}")
        for problem in problems:
            click.echo(f"  {problem}")
    sys.exit(1 if bad else 0)
