"""Model manifests: one YAML file per model in ``models/``, read into typed models.

A manifest says what a model is for (``role``), where its weights come from (a
pip package that carries them, or a local folder) and their sha256, or, for
``format: openai``, which OpenAI-compatible server answers for it. A broken
manifest raises :class:`~sandbox.errors.ModelError` naming the file.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..config import Settings
from ..errors import ModelError
from ..i18n import N_


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package: str | None = None
    """The pip package that carries the weights (install it with --no-deps if it drags in other things)."""
    module: str | None = None
    """The import name of that package, whose folder holds the weights."""
    path: str | None = None
    """Or: a local folder (absolute, or relative to the models folder)."""
    hub: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
    """Or: a model repository on the Hugging Face hub (or a mirror of it, ``HF_ENDPOINT``), as ``owner/name``.
    Only ``prompt-sandbox models pull`` downloads it (or copies it from a folder with ``--from``)."""
    revision: str | None = Field(default=None, pattern=r"^[0-9a-f]{40}$")
    """The hub commit the files are taken from (40 hex digits): the same files for every classroom."""
    files: dict[str, str | None] = Field(default_factory=dict)
    """The other files of a hub model (config, tokenizer), each with its sha256, or null where only the revision pins it."""
    folder: str = ""
    """A sub-folder of the package or path that holds the model."""
    file: str = Field(min_length=1)
    """The weights file whose sha256 is given."""


class ModelManifest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    role: Literal["generator", "embedder"]
    title: str = ""
    license: str = Field(min_length=1)
    format: Literal["gguf", "transformers", "sentence-transformers", "universal-sentence-encoder"]
    source: Source
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    """The weights file's sha256. Only a hub model may leave it out (null): then `models pull NAME --sha256 HEX`
    must be given the hash, from a source the class trusts, and nothing is loaded without it."""
    context_length: int = 2048
    """Longest prompt plus answer, in tokens, the app will ask of this model."""
    download_mb: int = Field(default=0, ge=0)
    """Disk the files of a hub model take (MB); `pull` refuses to start without that much free."""
    memory_mb: int = Field(default=0, ge=0)
    """Memory the model needs while a class runs (MB, measured by `prompt-sandbox bench`); `pull` refuses on a
    computer with less."""
    languages: list[str] = Field(default_factory=lambda: ["en"])
    """The languages the model reads and writes (en, zh, ...)."""
    architecture: dict[str, Any] | None = None
    """The model's transformers configuration (config.json), so `bench --random-weights` can measure its speed
    before any weights are downloaded."""

    manifest_path: str = Field(default="", exclude=True)

    @model_validator(mode="after")
    def _one_source(self) -> ModelManifest:
        kinds = [k for k in ("module", "path", "hub") if getattr(self.source, k)]
        if len(kinds) != 1:
            raise ValueError(
                f"source needs exactly one of module (a pip package), path (a folder) or hub; it has {kinds or 'none'}"
            )
        if self.source.hub and not self.source.revision:
            raise ValueError("a hub source needs its revision: the 40-hex commit the files are taken from")
        if self.sha256 is None and not self.source.hub:
            raise ValueError("sha256 is missing: give the weights file's sha256 (sha256sum FILE)")
        return self

    @property
    def fingerprint(self) -> str:
        return (self.sha256 or "unpinned")[:12]

    @property
    def label(self) -> str:
        return self.title or self.name


class ServerSpec(BaseModel):
    """Where an OpenAI-compatible model server answers (vLLM, Ollama, LM Studio, llama.cpp's server, ...)."""

    model_config = ConfigDict(extra="forbid")

    base_url: str = Field(pattern=r"^https?://")
    """The address up to and including /v1, e.g. http://gpu-server:8000/v1."""
    model: str = Field(min_length=1)
    """The model name the server knows it by (what its /v1/models lists)."""
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    """The environment variable that holds the API key (never the key itself)."""
    connect_timeout_s: float = Field(default=5.0, gt=0)
    timeout_s: float = Field(default=60.0, gt=0)
    """Longest wait for the next piece of an answer (or for an embedding)."""
    parallel: int = Field(default=16, ge=1)
    """Most requests this app sends at once; the server batches them."""
    continue_final_message: bool = False
    """Ask the server to continue a started answer (vLLM's option; leave off for servers that reject it)."""


class ServerManifest(BaseModel):
    """A model answered by a server rather than loaded here."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9._-]*$")
    role: Literal["generator", "embedder"]
    title: str = ""
    license: str = ""
    format: Literal["openai"]
    server: ServerSpec
    context_length: int = 2048
    languages: list[str] = Field(default_factory=lambda: ["en"])
    """The languages the served model reads and writes (say `[zh, en]` for a Qwen model)."""

    manifest_path: str = Field(default="", exclude=True)

    @property
    def fingerprint(self) -> str:
        """Names the served model (its weights are not here to hash), so calibrations follow it."""
        return hashlib.sha256(f"openai:{self.server.model}".encode()).hexdigest()[:12]

    @property
    def label(self) -> str:
        return self.title or self.server.model


Manifest = ModelManifest | ServerManifest


def load_manifests(models_dir: Path) -> dict[str, Manifest]:
    """Every manifest in ``models_dir``; a broken one raises :class:`ModelError` naming the file."""
    manifests: dict[str, Manifest] = {}
    for path in sorted(Path(models_dir).glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            kind: type[ModelManifest] | type[ServerManifest] = (
                ServerManifest if isinstance(data, dict) and data.get("format") == "openai" else ModelManifest
            )
            manifest = kind.model_validate(data)
        except yaml.YAMLError as exc:
            raise ModelError(N_("{path}: not valid YAML ({error})."), path=path, error=exc) from None
        except ValidationError as exc:
            lines = [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise ModelError("\n".join(lines)) from None
        if manifest.name in manifests:
            raise ModelError(
                N_("{path}: the model name '{model}' is used by another manifest too."), path=path, model=manifest.name
            )
        manifests[manifest.name] = manifest.model_copy(update={"manifest_path": str(path)})
    return manifests


def get_manifest(settings: Settings, name: str, role: str) -> Manifest:
    manifests = load_manifests(settings.models_dir)
    if name not in manifests:
        known = ", ".join(n for n, m in manifests.items() if m.role == role)
        if not known:
            raise ModelError(
                N_("No model manifest named '{model}' in {folder}. Models with role {role}: none."),
                model=name,
                folder=settings.models_dir,
                role=role,
            )
        raise ModelError(
            N_("No model manifest named '{model}' in {folder}. Models with role {role}: {known}."),
            model=name,
            folder=settings.models_dir,
            role=role,
            known=known,
        )
    manifest = manifests[name]
    if manifest.role != role:
        raise ModelError(
            N_("The model '{model}' is a {actual}, not a {role}; choose another in the configuration."),
            model=name,
            actual=manifest.role,
            role=role,
        )
    return manifest


def local_manifest(settings: Settings, name: str, role: str) -> ModelManifest:
    """The manifest of a model whose weights are on this computer."""
    manifest = get_manifest(settings, name, role)
    if isinstance(manifest, ServerManifest):
        raise ModelError(N_("The model '{model}' is answered by a server, not loaded on this computer."), model=name)
    return manifest
