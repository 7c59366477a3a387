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


def speaks(settings: Settings, language: str) -> bool:
    """Whether the class's language model reads and writes ``language`` (its manifest's ``languages``)."""
    try:
        return language in get_manifest(settings, settings.generator, "generator").languages
    except ModelError:
        return True  # the missing model is the problem, and is said elsewhere


def language_gap(settings: Settings, language: str, language_name: str) -> str:
    """Why an exercise in ``language`` cannot run on the class's model, for the page and the CLI; "" when it can."""
    if speaks(settings, language):
        return ""
    manifest = get_manifest(settings, settings.generator, "generator")
    spoken = ", ".join(manifest.languages) or "none"
    return (
        f"This exercise is in {language_name}, and the model this class uses ({manifest.label}) does not read or "
        f"write {language_name} (its languages: {spoken}). An instructor can switch the class to a model that "
        "does, such as Qwen2.5 (see models/README.md)."
    )


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
