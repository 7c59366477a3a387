"""Manifests, verified weights, and loading errors a person can act on."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models import (
    GenerationRequest,
    TransformersGenerator,
    build_generator,
    get_manifest,
    load_manifests,
    prepared_folder,
    pull,
    typed_weights,
    verify,
)

ROOT = Path(__file__).resolve().parent.parent


def test_default_manifests_name_the_issue_models() -> None:
    manifests = load_manifests(ROOT / "models")
    generator = manifests["smollm2-135m-instruct"]
    embedder = manifests["all-minilm-l6-v2"]
    assert generator.role == "generator" and generator.format == "gguf"
    assert generator.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert embedder.role == "embedder" and embedder.license == "Apache-2.0"
    assert embedder.sha256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


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


def test_an_unknown_model_name_lists_the_choices(monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_GENERATOR", "gpt-17")
    with pytest.raises(ModelError, match=r"No model manifest named 'gpt-17'.*smollm2-135m-instruct"):
        build_generator(load_settings())


def test_a_broken_manifest_names_its_file(tmp_path, monkeypatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "bad.yaml").write_text("name: bad\nrole: painter\n")
    with pytest.raises(ModelError, match=r"bad\.yaml: role"):
        load_manifests(models)


def test_a_local_model_folder_that_fails_to_load_says_what_to_do(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "models" / "my-model"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"not really weights")
    import hashlib

    sha = hashlib.sha256(b"not really weights").hexdigest()
    (tmp_path / "models" / "mine.yaml").write_text(
        f"name: mine\nrole: generator\nlicense: MIT\nformat: transformers\n"
        f"source: {{path: my-model, file: model.safetensors}}\nsha256: {sha}\n"
    )
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(tmp_path / "models"))
    monkeypatch.setenv("PROMPT_SANDBOX_GENERATOR", "mine")
    generator = build_generator(load_settings())
    with pytest.raises(ModelError, match=r"(?s)failed to load.*models verify"):
        generator.load()


@pytest.mark.slow
def test_generation_is_greedy_streamed_and_cancellable(real_generator) -> None:
    import threading

    request = GenerationRequest(prompt="Write a short poem about the sea.", max_new_tokens=24)
    pieces = list(real_generator.stream(request))
    assert len(pieces) > 3, "the answer arrives in pieces"
    assert "".join(pieces) == real_generator.generate(request)
    stop = threading.Event()
    stop.set()
    cut = real_generator.generate(GenerationRequest(prompt="Write a long story.", max_new_tokens=64, stop=stop))
    assert len(cut.split()) <= 2


@pytest.mark.slow
def test_sampling_follows_the_seed(real_generator) -> None:
    def ask(seed: int) -> str:
        request = GenerationRequest(prompt="Name a colour.", max_new_tokens=12, temperature=1.2, seed=seed)
        return real_generator.generate(request)

    assert ask(7) == ask(7)
    assert len({ask(s) for s in range(4)}) > 1


@pytest.mark.slow
def test_a_prompt_longer_than_the_context_is_refused(real_generator) -> None:
    assert isinstance(real_generator.engine, TransformersGenerator)  # the app's model, behind the batching service
    with pytest.raises(Exception, match="tokens long"):
        real_generator.generate(GenerationRequest(prompt="word " * 3000, max_new_tokens=16))


def test_cache_folder_is_ignored_by_git() -> None:
    assert "/models/cache/" in (ROOT / ".gitignore").read_text()
    assert shutil.which("git") is not None


@pytest.mark.slow
def test_an_instructor_can_add_a_local_model_folder_and_choose_it(tmp_path, monkeypatch, settings) -> None:
    """Any transformers causal LM folder with a chat template works; here the prepared default one."""
    import json

    default = get_manifest(settings, "smollm2-135m-instruct", "generator")
    folder = prepared_folder(default, settings)
    assert folder is not None
    marker = json.loads((settings.model_cache_dir / default.name / "prepared.json").read_text())
    models = tmp_path / "models"
    models.mkdir()
    (models / "classroom.yaml").write_text(
        "name: classroom-model\nrole: generator\ntitle: Our classroom model\nlicense: Apache-2.0\n"
        f"format: transformers\nsource: {{path: {folder}, file: model.safetensors}}\n"
        f"sha256: {marker['weights_sha256']}\n"
    )
    shutil.copy(ROOT / "models" / "all-minilm-l6-v2.yaml", models)
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(models))
    monkeypatch.setenv("PROMPT_SANDBOX_GENERATOR", "classroom-model")
    generator = build_generator(load_settings(), progress=lambda m: None)
    assert generator.name == "classroom-model"
    answer = generator.generate(GenerationRequest(prompt="Say hello in one word.", max_new_tokens=8))
    assert answer.strip()
    assert verify(get_manifest(load_settings(), "classroom-model", "generator"), load_settings()) == []


def test_memory_tuning_leaves_what_the_user_set(monkeypatch) -> None:
    import os

    from sandbox.config import ONEDNN_PRIMITIVES, tune_memory

    monkeypatch.setenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "64")
    tune_memory.cache_clear()
    tune_memory()
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == "64"
    monkeypatch.delenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY")
    tune_memory.cache_clear()
    tune_memory()
    assert os.environ["ONEDNN_PRIMITIVE_CACHE_CAPACITY"] == str(ONEDNN_PRIMITIVES)
