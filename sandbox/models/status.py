"""What the pages say about the language model: which one answers, and whether its server is up."""

from __future__ import annotations

from ..config import Settings
from ..errors import ModelError
from .manifests import ServerManifest, get_manifest


def answering_line(settings: Settings) -> str:
    """Which model answers, in words for the page (learners and instructors both see it)."""
    try:
        manifest = get_manifest(settings, settings.generator, "generator")
    except ModelError:
        return f"The language model '{settings.generator}' is not set up; see `prompt-sandbox models list`."
    if isinstance(manifest, ServerManifest):
        return f"Answers come from {manifest.label}, on the model server at {manifest.server.base_url}."
    return f"Answers come from {manifest.label}, running on this computer."


def model_health(settings: Settings) -> tuple[bool | None, str]:
    """For the instructor: whether the model server answers (None for a model on this computer)."""
    try:
        manifest = get_manifest(settings, settings.generator, "generator")
    except ModelError as exc:
        return False, str(exc)
    if isinstance(manifest, ServerManifest):
        from .server import health  # requests is imported only for a model server

        return health(manifest)
    return None, answering_line(settings)
