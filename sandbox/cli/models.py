"""``prompt-sandbox models list|pull|setup|verify``: the model manifests, their prepared weights and servers."""

from __future__ import annotations

import sys
import time
from pathlib import Path

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
        pull = f"prompt-sandbox models pull {name}" if manifest.source.hub else "prompt-sandbox models pull"
        ready = "ready" if prepared_folder(manifest, settings) else f"not prepared (run: {pull})"
        click.echo(f"{mark} {name:28} {manifest.role:9} {manifest.license:12} sha256 {manifest.fingerprint}  {ready}")
    click.echo("* = in use (PROMPT_SANDBOX_GENERATOR / PROMPT_SANDBOX_EMBEDDER)")


@models.command("pull")
@click.argument("names", nargs=-1)
@click.option(
    "--from",
    "origin",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="Take a hub model's files from this folder (a USB stick) instead of downloading them.",
)
@click.option("--sha256", default=None, help="The weights' sha256, for a manifest that pins none.")
@friendly_errors
def models_pull(names: tuple[str, ...], origin: Path | None, sha256: str | None) -> None:
    """Verify and prepare the models in use (or the NAMES given); a hub model is downloaded here, and only here."""
    from ..models.manifests import ServerManifest, load_manifests
    from ..models.setups import GENERATOR_FORMATS, chosen
    from ..models.weights import prepared_folder, pull

    settings = load_settings()
    manifests = load_manifests(settings.models_dir)
    wanted = list(names) or [
        name for name in (settings.generator, settings.embedder, settings.multilingual_embedder) if name
    ]
    for name in wanted:
        if name not in manifests:
            raise SandboxError(f"No model manifest named '{name}' in {settings.models_dir}.")
        manifest = manifests[name]
        if isinstance(manifest, ServerManifest):
            click.echo(f"{name}: answered by the server at {manifest.server.base_url}; nothing to prepare here")
            continue
        if prepared_folder(manifest, settings) and origin is None:
            click.echo(f"{name}: already prepared")
            continue
        started = time.perf_counter()
        pull(manifest, settings, click.echo, origin=origin, sha256=sha256)
        click.echo(f"{name}: prepared in {time.perf_counter() - started:.0f} s")
        if manifest.format in GENERATOR_FORMATS:  # the first start then reads the choice instead of measuring
            for line in chosen(manifest, settings, click.echo).lines():
                click.echo(f"{name}: {line}")


@models.command("setup")
@click.argument("name", required=False)
@click.option("--again", is_flag=True, help="Measure again, even if this computer was measured before.")
@friendly_errors
def models_setup(name: str | None, again: bool) -> None:
    """Which number type the language model runs in here, the fastest fair one (measured once per computer)."""
    from ..models.decoding import code_path
    from ..models.manifests import local_manifest
    from ..models.setups import chosen, forget

    settings = load_settings()
    manifest = local_manifest(settings, name or settings.generator, "generator")
    click.echo(f"{manifest.name} on this computer (torch {code_path()}):")
    if again:
        forget(manifest, settings)
    for line in chosen(manifest, settings, click.echo).lines():
        click.echo(line)


@models.command("verify")
@friendly_errors
def models_verify() -> None:
    """Re-hash every model's weights against its manifest. Exit 1 on any mismatch."""
    from ..models.manifests import ServerManifest, load_manifests
    from ..models.server import health
    from ..models.weights import prepared_folder, verify

    settings = load_settings()
    bad = 0
    for name, manifest in load_manifests(settings.models_dir).items():
        if isinstance(manifest, ServerManifest):
            if name not in (settings.generator, settings.embedder, settings.multilingual_embedder):
                continue  # a server not in use may well be off
            answers, line = health(manifest)
            problems = [] if answers else [line]
        elif manifest.source.hub and not prepared_folder(manifest, settings) and name != settings.generator:
            click.echo(f"{name}: not downloaded (optional: prompt-sandbox models pull {name})")
            continue
        else:
            problems = verify(manifest, settings)
        bad += bool(problems)
        click.echo(f"{name}: {'OK' if not problems else 'PROBLEM'}")
        for problem in problems:
            click.echo(f"  {problem}")
    sys.exit(1 if bad else 0)
