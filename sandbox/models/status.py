"""What the pages say about the language model: which one answers, and whether its server is up."""

from __future__ import annotations

from ..config import Settings
from ..errors import ModelError
from ..i18n import _
from .manifests import ServerManifest, get_manifest


def answering_line(settings: Settings) -> str:
    """Which model answers, in words for the page (learners and instructors both see it)."""
    try:
        manifest = get_manifest(settings, settings.generator, "generator")
    except ModelError:
        return _("The language model '{model}' is not set up; see `prompt-sandbox models list`.").format(
            model=settings.generator
        )
    if isinstance(manifest, ServerManifest):
        return _("Answers come from {model}, on the model server at {address}.").format(
            model=manifest.label, address=manifest.server.base_url
        )
    return _("Answers come from {model}, running on this computer.").format(model=manifest.label)


def speaks(settings: Settings, language: str) -> bool:
    """Whether the class's language model reads and writes ``language`` (its manifest's ``languages``)."""
    try:
        return language in get_manifest(settings, settings.generator, "generator").languages
    except ModelError:
        return True  # the missing model is the problem, and is said elsewhere


def prompt_language(settings: Settings, interface: str, exercise_language: str) -> str:
    """For a page in a language the class's model does not read, on an English exercise it does: write in English.

    The cases and the model's answers are in the exercise's language, so the prompt is too; "" when nothing to say.
    """
    if exercise_language != "en" or speaks(settings, interface) or not speaks(settings, "en"):
        return ""
    manifest = get_manifest(settings, settings.generator, "generator")
    return _(
        "The model of this class ({model}) reads and writes English only, so write your prompt in English. "
        "The cases and the model's answers are in English too."
    ).format(model=manifest.label)


def language_gap(settings: Settings, language: str, language_name: str) -> str:
    """Why an exercise in ``language`` cannot run on the class's model, for the page and the CLI; "" when it can.

    ``language_name`` is the language's name in the reader's language (``exercises.languages.language_name``).
    """
    if speaks(settings, language):
        return ""
    manifest = get_manifest(settings, settings.generator, "generator")
    spoken = ", ".join(manifest.languages) or _("none")
    return _(
        "This exercise is in {language}, and the model this class uses ({model}) does not read or "
        "write {language} (its languages: {spoken}). An instructor can switch the class to a model that "
        "does, such as Qwen2.5 (see models/README.md)."
    ).format(language=language_name, model=manifest.label, spoken=spoken)


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
