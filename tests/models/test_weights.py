"""Verified weights: prepared once, re-verified, a mismatch refused, the bfloat16 copy equal to the rounded weights."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models.manifests import get_manifest
from sandbox.models.weights import prepared_folder, pull, typed_weights, verify

ROOT = Path(__file__).resolve().parents[2]


def test_default_models_are_prepared_and_verify(settings) -> None:
    for name in ("smollm2-135m-instruct", "all-minilm-l6-v2"):
        manifest = get_manifest(settings, name, "generator" if "smol" in name else "embedder")
        assert prepared_folder(manifest, settings) is not None, "make setup runs `prompt-sandbox models pull`"
        assert verify(manifest, settings) == []


def _copy_models(tmp_path: Path, sha: str | None = None) -> Path:
    models = tmp_path / "models"
    models.mkdir()
    text = (ROOT / "models" / "all-minilm-l6-v2.yaml").read_text()
    if sha:
        text = text.replace("53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", sha)
    (models / "all-minilm-l6-v2.yaml").write_text(text)
    return models


def test_a_sha256_mismatch_is_a_clear_error_and_nothing_loads(tmp_path, monkeypatch) -> None:
    models = _copy_models(tmp_path, sha="f" * 64)
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(models))
    settings = load_settings()
    manifest = get_manifest(settings, "all-minilm-l6-v2", "embedder")
    with pytest.raises(ModelError) as caught:
        pull(manifest, settings, progress=lambda m: None)
    message = str(caught.value)
    assert "do not match the manifest" in message and "f" * 64 in message and "was not loaded" in message
    assert prepared_folder(manifest, settings) is None
    assert any("do not match" in p for p in verify(manifest, settings))


def test_pull_prepares_a_copy_and_notices_damage(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(_copy_models(tmp_path)))
    settings = load_settings()
    manifest = get_manifest(settings, "all-minilm-l6-v2", "embedder")
    folder = pull(manifest, settings, progress=lambda m: None)
    assert folder == settings.model_cache_dir / "all-minilm-l6-v2"
    assert prepared_folder(manifest, settings) == folder
    with open(folder / "model.safetensors", "r+b") as handle:
        handle.seek(1000)
        handle.write(b"damaged")
    assert prepared_folder(manifest, settings) is None, "a changed file is not trusted"
    assert any("changed or damaged" in p for p in verify(manifest, settings))


def _bfloat16_pairs(folder: Path):
    from safetensors import safe_open

    with (
        safe_open(str(folder / "model.safetensors"), "pt") as plain,
        safe_open(str(folder / "model.bfloat16.safetensors"), "pt") as typed,
    ):
        assert set(plain.keys()) == set(typed.keys())
        for name in plain.keys():  # noqa: SIM118 - safe_open is not a dict
            yield plain.get_tensor(name), typed.get_tensor(name)


def test_a_bfloat16_copy_is_kept_beside_the_weights_with_the_same_numbers(tmp_path, monkeypatch, settings) -> None:
    """The app loads bfloat16 from a copy made once, not from the float32 file; it must round the same way."""
    import json

    import torch

    default = get_manifest(settings, "smollm2-135m-instruct", "generator")
    source = prepared_folder(default, settings)
    assert source is not None
    models = tmp_path / "models"
    folder = models / "cache" / default.name
    shutil.copytree(source, folder, ignore=shutil.ignore_patterns("model.bfloat16.safetensors"))
    shutil.copy(ROOT / "models" / f"{default.name}.yaml", models)
    marker = json.loads((folder / "prepared.json").read_text())
    marker["folder"] = str(folder)
    marker.pop("typed", None)
    (folder / "prepared.json").write_text(json.dumps(marker))
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(models))
    ours = load_settings().with_overrides(dtype="bfloat16")
    manifest = get_manifest(ours, default.name, "generator")
    assert prepared_folder(manifest, ours) == folder

    assert typed_weights(manifest, folder, ours.with_overrides(dtype="float32")) is None, (
        "float32 loads the file itself"
    )
    assert typed_weights(manifest, folder, ours) == "bfloat16"
    for plain, typed in _bfloat16_pairs(folder):
        assert typed.dtype == torch.bfloat16 and torch.equal(plain.to(torch.bfloat16), typed)
    assert verify(manifest, ours) == []

    with open(folder / "model.bfloat16.safetensors", "r+b") as handle:
        handle.seek(100_000)
        handle.write(b"damaged")
    assert any("bfloat16 copy" in p and "damaged" in p for p in verify(manifest, ours))
    assert typed_weights(manifest, folder, ours) == "bfloat16", "a changed copy is written again"
    assert verify(manifest, ours) == []


def test_cache_folder_is_ignored_by_git() -> None:
    assert "/models/cache/" in (ROOT / ".gitignore").read_text()
    assert shutil.which("git") is not None
