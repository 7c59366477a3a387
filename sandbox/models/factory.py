"""The factories: which implementation answers for the configured models.

A manifest on this computer gets the transformers engine behind the batching
service; a ``format: openai`` manifest gets the model server's client. The rest
of the app asks for a :class:`~sandbox.models.base.Generator` or an
:class:`~sandbox.models.base.Embedder` here and never names an implementation.
"""

from __future__ import annotations

from typing import Any

from ..config import Settings
from ..errors import ModelError
from ..i18n import N_
from .base import BesideGenerator, ByLanguage, Embedder, Generator
from .embedders import SentenceTransformerEmbedder
from .engine import TransformersGenerator
from .manifests import ServerManifest, get_manifest, local_manifest
from .service import GenerationService
from .setups import AUTO, CANDIDATES, chosen

DTYPES = CANDIDATES
"""The number types the engine runs in (``PROMPT_SANDBOX_DTYPE``)."""


def build_engine(settings: Settings, progress: Any = None, packed: bool = True) -> TransformersGenerator:
    """The configured local language model itself, answering one request per call unless given a batch.

    ``packed=False`` keeps transformers' own linear layers (the bench's naive path).
    """
    manifest = local_manifest(settings, settings.generator, "generator")
    if manifest.format == "sentence-transformers":
        raise ModelError(
            N_("{manifest}: a generator must be format gguf or transformers."), manifest=manifest.manifest_path
        )
    if settings.dtype not in (AUTO, *DTYPES):
        raise ModelError(
            N_(
                "PROMPT_SANDBOX_DTYPE={value} is not a number type the app can run; "
                "use one of {choices}, or leave it unset ({auto}: the fastest fair one on this computer)."
            ),
            value=repr(settings.dtype),
            choices=", ".join(DTYPES),
            auto=AUTO,
        )
    choose = None
    if settings.dtype == AUTO:

        def choose() -> str:
            return chosen(manifest, settings, progress).dtype

    return TransformersGenerator(manifest, settings, progress, packed, choose)


def build_generator(settings: Settings, progress: Any = None) -> Generator:
    """The configured language model behind the batching service: what the app and the tools use.

    A local model is batched here; a model server batches itself, and the service
    only keeps the queue, one run per learner and cancelling the same.
    """
    manifest = get_manifest(settings, settings.generator, "generator")
    if isinstance(manifest, ServerManifest):
        from .server import ServerEngine  # requests is imported only for a model server

        engine: Any = ServerEngine(manifest)
        return GenerationService(engine, manifest.server.parallel, 0.0)
    return GenerationService(build_engine(settings, progress), settings.batch_size, settings.batch_window_ms / 1000)


def build_embedder(settings: Settings, progress: Any = None, beside: Generator | None = None) -> Embedder:
    """The configured embedding model, with the multilingual one for exercises in languages it cannot read.

    Given ``beside`` (the app's generator), a local one computes on the generator's thread.
    """
    main = _one_embedder(settings, settings.embedder, progress, beside)
    if not settings.multilingual_embedder or settings.multilingual_embedder == settings.embedder:
        return main
    return ByLanguage(main, _one_embedder(settings, settings.multilingual_embedder, progress, beside))


def _one_embedder(settings: Settings, name: str, progress: Any, beside: Generator | None) -> Embedder:
    manifest = get_manifest(settings, name, "embedder")
    if isinstance(manifest, ServerManifest):
        from .server import ServerEmbedder

        return ServerEmbedder(manifest)
    if manifest.format not in ("sentence-transformers", "universal-sentence-encoder"):
        raise ModelError(
            N_("{manifest}: an embedder must be format sentence-transformers, universal-sentence-encoder or openai."),
            manifest=manifest.manifest_path,
        )
    embedder = SentenceTransformerEmbedder(manifest, settings, progress)
    return embedder if beside is None else BesideGenerator(embedder, beside)
