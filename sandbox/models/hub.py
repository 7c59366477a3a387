"""Models from a hub: downloaded by ``models pull`` alone, from the Hugging Face hub, a mirror or a folder.

The app never downloads. ``prompt-sandbox models pull NAME`` is the one place
the network is used: it takes the manifest's files at its pinned revision with
``huggingface_hub`` (resumable; ``HF_ENDPOINT`` names a mirror, and the usual
``HTTPS_PROXY`` variables are honoured), or copies them from a folder or USB
stick (``--from DIR``), and checks every pinned sha256 before anything is moved
where the app loads from. Before it starts it says how much disk and memory the
model needs and refuses when this computer has less.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..errors import ModelError
from .manifests import ModelManifest

DEFAULT_ENDPOINT = "https://huggingface.co"
DISK_MARGIN = 1.05
"""Free disk wanted beyond the files themselves (the file system's own blocks, the download's metadata)."""


def wanted_files(manifest: ModelManifest, sha256: str | None) -> dict[str, str | None]:
    """Every file to fetch, with the sha256 it must have (None: pinned by the revision only)."""
    weights = sha256 or manifest.sha256
    if weights is None:
        raise ModelError(
            f"The manifest {manifest.manifest_path} pins no sha256 for {manifest.source.file}, so nothing could prove "
            f"the download is the model it names. Find the file's sha256 on the model's page (hub: "
            f"{manifest.source.hub}, revision {manifest.source.revision}) or from whoever gave you the files, and run "
            f"`prompt-sandbox models pull {manifest.name} --sha256 <64 hex digits>`."
        )
    if sha256 and manifest.sha256 and sha256 != manifest.sha256:
        raise ModelError(
            f"--sha256 {sha256} differs from the sha256 the manifest {manifest.manifest_path} pins ({manifest.sha256}); "
            "leave --sha256 out, or correct the manifest."
        )
    return {**manifest.source.files, manifest.source.file: weights}


def free_bytes(folder: Path) -> int:
    """Free space on the disk ``folder`` is (or will be) on."""
    probe = folder
    while not probe.exists():
        probe = probe.parent
    return shutil.disk_usage(probe).free


def total_memory_bytes() -> int:
    import psutil

    return int(psutil.virtual_memory().total)


def check_room(manifest: ModelManifest, folder: Path, have_bytes: int, say: Any) -> None:
    """Say what the model needs, and refuse before downloading when disk or memory is short."""
    need = manifest.download_mb * 1_000_000 - have_bytes
    memory, free = total_memory_bytes(), free_bytes(folder)
    say(
        f"{manifest.name}: needs about {manifest.download_mb / 1000:.1f} GB of disk in {folder.parent} "
        f"and {manifest.memory_mb / 1000:.1f} GB of memory while a class runs "
        f"(this computer: {free / 1e9:.1f} GB free, {memory / 1e9:.1f} GB of memory)"
    )
    if need > 0 and free < need * DISK_MARGIN:
        raise ModelError(
            f"Not enough free disk for '{manifest.name}': it needs {need * DISK_MARGIN / 1e9:.1f} GB more in "
            f"{folder.parent} and there are {free / 1e9:.1f} GB free. Free some space, or put the models "
            "on a bigger disk with PROMPT_SANDBOX_MODELS=/path/to/models. Nothing was downloaded."
        )
    if manifest.memory_mb and memory < manifest.memory_mb * 1_000_000:
        raise ModelError(
            f"'{manifest.name}' needs about {manifest.memory_mb / 1000:.1f} GB of memory while a class runs, and this "
            f"computer has {memory / 1e9:.1f} GB. Keep the default model here, or use a smaller one "
            "(models/README.md, 'Which model for which computer'). Nothing was downloaded."
        )


@contextlib.contextmanager
def _online() -> Iterator[str]:
    """huggingface_hub allowed to reach the endpoint, with progress bars, for this pull only (the app runs offline)."""
    from huggingface_hub import constants

    # the module (the package exports a class of the same name)
    hub_tqdm: Any = importlib.import_module("huggingface_hub.utils.tqdm")

    was = constants.HF_HUB_OFFLINE, hub_tqdm.HF_HUB_DISABLE_PROGRESS_BARS
    constants.HF_HUB_OFFLINE, hub_tqdm.HF_HUB_DISABLE_PROGRESS_BARS = False, None
    hub_tqdm.enable_progress_bars()
    try:
        yield os.environ.get("HF_ENDPOINT", "").rstrip("/") or DEFAULT_ENDPOINT
    finally:
        constants.HF_HUB_OFFLINE, hub_tqdm.HF_HUB_DISABLE_PROGRESS_BARS = was


def download(manifest: ModelManifest, folder: Path, files: dict[str, str | None], say: Any) -> None:
    """Fetch ``files`` of the manifest's hub repository at its revision into ``folder``.

    Each file grows as ``NAME.partial`` until it is whole, so a pull that was
    stopped (a dropped network, a computer switched off) goes on from where it
    was: huggingface_hub itself starts a killed download again from zero.
    """
    source = manifest.source
    with _online() as endpoint:
        folder.mkdir(parents=True, exist_ok=True)
        for name in files:
            try:
                _fetch(source.hub or "", source.revision or "", name, folder, endpoint, say)
            except Exception as exc:
                raise _in_words(exc, endpoint, source.hub or "", source.revision or "", name) from None


def _fetch(repo: str, revision: str, name: str, folder: Path, endpoint: str, say: Any) -> None:
    from huggingface_hub import get_hf_file_metadata, hf_hub_url
    from huggingface_hub.file_download import http_get

    url = hf_hub_url(repo, name, revision=revision, endpoint=endpoint)
    meta = get_hf_file_metadata(url, token=False, endpoint=endpoint)
    final, partial = folder / name, folder / f"{name}.partial"
    if final.is_file() and final.stat().st_size == meta.size:
        return
    final.parent.mkdir(parents=True, exist_ok=True)
    have = partial.stat().st_size if partial.is_file() else 0
    if meta.size is not None and have > meta.size:
        partial.unlink()
        have = 0
    say(f"  {name}" + (f": going on from {have / 1e6:.0f} MB" if have else f" from {endpoint}"))
    with open(partial, "ab") as stream:
        http_get(meta.location, stream, resume_size=have, expected_size=meta.size, displayed_filename=name)
    partial.replace(final)


def _in_words(exc: Exception, endpoint: str, repo: str, revision: str, name: str) -> Exception:
    """huggingface_hub's and httpx's errors as one sentence for the person pulling."""
    from huggingface_hub.errors import (
        EntryNotFoundError,
        HfHubHTTPError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    again = "Run the same command again to go on from where it stopped."
    if isinstance(exc, RepositoryNotFoundError):
        return ModelError(f"{endpoint} has no model '{repo}' (or it needs a login); check HF_ENDPOINT.")
    if isinstance(exc, RevisionNotFoundError):
        return ModelError(f"{endpoint} has no revision {revision} of '{repo}'.")
    if isinstance(exc, EntryNotFoundError):
        return ModelError(f"{endpoint} has no file {name} in '{repo}' at {revision}.")
    if isinstance(exc, HfHubHTTPError):
        return ModelError(f"Downloading {name} from {endpoint} failed: {exc}. {again}")
    if isinstance(exc, OSError) or type(exc).__module__.split(".")[0] in ("httpx", "httpx2", "httpcore", "httpcore2"):
        return ModelError(
            f"Could not reach {endpoint} for {name} ({exc or type(exc).__name__}). Check the network "
            f"(or HF_ENDPOINT, HTTPS_PROXY). {again}"
        )
    return exc


def copy_from(manifest: ModelManifest, origin: Path, folder: Path, files: dict[str, str | None], say: Any) -> None:
    """Take the files from a folder or USB stick (they may lie in it, or in a sub-folder named after the model)."""
    base = origin / manifest.name if (origin / manifest.name / manifest.source.file).is_file() else origin
    lacking = [name for name in files if not (base / name).is_file()]
    if lacking:
        raise ModelError(f"{base} lacks {', '.join(lacking)} of '{manifest.name}'; copy the whole model folder.")
    folder.mkdir(parents=True, exist_ok=True)
    for name in files:
        say(f"{manifest.name}: copying {name} from {base} ...")
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(base / name, folder / name)
