"""`models pull` of a hub model, against a hub on loopback serving the default model's files (HF_ENDPOINT).

The files are the default model's prepared bfloat16 weights and tokenizer, served
as the hub serves a repository at a revision; nothing reaches the internet.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models.base import GenerationRequest
from sandbox.models.factory import build_engine
from sandbox.models.manifests import local_manifest
from sandbox.models.weights import ensure_ready, prepared_folder, sha256_file

from ..servers import free_port
from .hub_server import Hub

ROOT = Path(__file__).resolve().parents[2]
REPO, REVISION = "HuggingFaceTB/SmolLM2-135M-Instruct", "0123456789abcdef0123456789abcdef01234567"
SMALL = ["config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"]


def hub_files(folder: Path) -> Path:
    """The files a hub repository of the default model holds: bfloat16 weights, as hub models come."""
    default = ensure_ready(local_manifest(load_settings(), "smollm2-135m-instruct", "generator"), load_settings())
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "model.safetensors").symlink_to(default / "model.bfloat16.safetensors")
    for name in SMALL:
        (folder / name).symlink_to(default / name)
    return folder


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hub_files(tmp_path_factory.mktemp("hub-files"))


def manifest(served: Path, sha256: str | None = "", **changes: object) -> str:
    weights = sha256_file(served / "model.safetensors") if sha256 == "" else sha256
    fields = {"download_mb": 275, "memory_mb": 1500, **changes}
    return (
        "name: smollm2-from-hub\nrole: generator\nlicense: Apache-2.0\nformat: transformers\n"
        f"source:\n  hub: {REPO}\n  revision: {REVISION}\n  file: model.safetensors\n  files:\n"
        f"    config.json: '{sha256_file(served / 'config.json')}'\n"
        + "".join(f"    {name}: null\n" for name in SMALL[1:])
        + (f"sha256: '{weights}'\n" if weights else "sha256: null\n")
        + "".join(f"{key}: {value}\n" for key, value in fields.items())
    )


@pytest.fixture
def models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(folder))
    return folder


@pytest.fixture
def hub(served: Path) -> Iterator[Hub]:
    with Hub(served, REPO, REVISION) as running:
        yield running


def pull(endpoint: str, *args: str, wait: bool = True) -> subprocess.CompletedProcess[str] | subprocess.Popen[str]:
    command = [sys.executable, "-m", "sandbox.cli", "models", "pull", "smollm2-from-hub", *args]
    env = {**os.environ, "HF_ENDPOINT": endpoint}
    if not wait:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


def pulled_manifest():
    return local_manifest(load_settings(), "smollm2-from-hub", "generator")


@pytest.mark.slow
def test_a_whole_pull_verifies_the_files_and_the_model_answers_as_the_same_weights_do(
    served: Path, models: Path, hub: Hub, real_generator
) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served), encoding="utf-8")
    done = pull(hub.url)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "smollm2-from-hub: needs about 0.3 GB of disk" in done.stdout
    assert "verified and ready" in done.stdout
    assert {path for method, path, _ in hub.requests} == {
        f"/{REPO}/resolve/{REVISION}/{n}" for n in ["model.safetensors", *SMALL]
    }
    folder = prepared_folder(pulled_manifest(), load_settings())
    assert folder is not None and not (folder / "model.bfloat16.safetensors").exists(), "bfloat16 already: no copy"

    engine = build_engine(load_settings().with_overrides(generator="smollm2-from-hub"))
    request = GenerationRequest(prompt="Name a colour of the sky. One word.", max_new_tokens=8)
    assert engine.generate(request) == real_generator.generate(request)
    again = pull(hub.url)
    assert "already prepared" in again.stdout


@pytest.mark.slow
def test_a_pull_killed_part_way_resumes_where_it_stopped(served: Path, models: Path, hub: Hub) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served), encoding="utf-8")
    hub.stall_after = stall = 64 * 1024 * 1024
    first = pull(hub.url, wait=False)
    deadline = time.monotonic() + 120
    while hub.sent.get("model.safetensors", 0) < stall and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(1)  # what was sent has reached the file
    assert hub.sent["model.safetensors"] >= stall
    first.kill()  # the computer was switched off mid-download
    first.wait()
    assert prepared_folder(pulled_manifest(), load_settings()) is None

    done = pull(hub.url)
    assert done.returncode == 0, done.stdout + done.stderr
    ranges = [r for method, path, r in hub.requests if method == "GET" and path.endswith("/model.safetensors") and r]
    assert ranges and int(ranges[-1].split("=")[1].split("-")[0]) >= 32 * 1024 * 1024, "it asked only for the rest"
    folder = prepared_folder(pulled_manifest(), load_settings())
    assert folder is not None
    assert sha256_file(folder / "model.safetensors") == sha256_file(served / "model.safetensors")


def test_a_file_whose_sha256_differs_is_refused_deleted_and_never_loaded(served: Path, models: Path, hub: Hub) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served, sha256="0" * 64), encoding="utf-8")
    refused = pull(hub.url)
    assert refused.returncode == 2
    assert "model.safetensors of 'smollm2-from-hub' is not the file the manifest pins" in refused.stderr
    assert f"the manifest says {'0' * 64}" in refused.stderr
    assert not list(models.rglob("model.safetensors"))
    with pytest.raises(ModelError, match="is not downloaded yet"):
        ensure_ready(pulled_manifest(), load_settings())


def test_a_server_that_is_down_or_has_no_such_model_is_named(served: Path, models: Path, hub: Hub) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served), encoding="utf-8")
    nobody = f"http://127.0.0.1:{free_port()}"
    down = pull(nobody)
    assert down.returncode == 2 and f"Could not reach {nobody} for config.json" in down.stderr
    assert "Run the same command again to go on from where it stopped." in down.stderr

    (models / "smollm2-from-hub.yaml").write_text(
        manifest(served).replace(REPO, "Nobody/no-such-model"), encoding="utf-8"
    )
    missing = pull(hub.url)
    assert missing.returncode == 2 and f"{hub.url} has no model 'Nobody/no-such-model'" in missing.stderr
    (models / "smollm2-from-hub.yaml").write_text(manifest(served).replace(REVISION, "f" * 40), encoding="utf-8")
    old = pull(hub.url)
    assert old.returncode == 2 and f"has no revision {'f' * 40} of '{REPO}'" in old.stderr


def test_not_enough_disk_or_memory_is_refused_before_anything_is_downloaded(
    served: Path, models: Path, hub: Hub
) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served, download_mb=10**12), encoding="utf-8")
    disk = pull(hub.url)
    assert disk.returncode == 2 and "Not enough free disk for 'smollm2-from-hub'" in disk.stderr
    assert "PROMPT_SANDBOX_MODELS" in disk.stderr
    (models / "smollm2-from-hub.yaml").write_text(manifest(served, memory_mb=10**9), encoding="utf-8")
    memory = pull(hub.url)
    assert memory.returncode == 2 and "needs about 1000000.0 GB of memory" in memory.stderr
    assert hub.requests == []


def test_the_app_never_downloads_a_model_that_was_not_pulled(served: Path, models: Path, hub: Hub) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served), encoding="utf-8")
    os.environ["HF_ENDPOINT"] = hub.url
    try:
        engine = build_engine(load_settings().with_overrides(generator="smollm2-from-hub"))
        with pytest.raises(ModelError, match="prompt-sandbox models pull smollm2-from-hub"):
            engine.load()
    finally:
        del os.environ["HF_ENDPOINT"]
    assert hub.requests == []


def test_a_model_on_a_usb_stick_is_taken_from_the_folder_and_verified(
    served: Path, models: Path, tmp_path: Path
) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served), encoding="utf-8")
    stick = tmp_path / "usb" / "smollm2-from-hub"
    stick.mkdir(parents=True)
    for name in ["model.safetensors", *SMALL]:
        (stick / name).symlink_to(served / name)
    done = pull("http://127.0.0.1:9", "--from", str(tmp_path / "usb"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert prepared_folder(pulled_manifest(), load_settings()) is not None

    (stick / "tokenizer.json").unlink()
    (models / "cache").rename(tmp_path / "old-cache")
    lacking = pull("http://127.0.0.1:9", "--from", str(tmp_path / "usb"))
    assert lacking.returncode == 2 and "lacks tokenizer.json of 'smollm2-from-hub'" in lacking.stderr


def test_a_manifest_that_pins_no_hash_needs_one_from_the_user(served: Path, models: Path, hub: Hub) -> None:
    (models / "smollm2-from-hub.yaml").write_text(manifest(served, sha256=None), encoding="utf-8")
    refused = pull(hub.url)
    assert refused.returncode == 2 and "--sha256 <64 hex digits>" in refused.stderr
    assert hub.requests == []
    done = pull(hub.url, "--sha256", sha256_file(served / "model.safetensors"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert prepared_folder(pulled_manifest(), load_settings()) is not None
