"""The transformers engine on the real default model: greedy, streamed, cancellable; loading errors say what to do."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models.base import GenerationRequest
from sandbox.models.engine import TransformersGenerator
from sandbox.models.factory import build_generator
from sandbox.models.manifests import get_manifest
from sandbox.models.weights import prepared_folder, verify

ROOT = Path(__file__).resolve().parents[2]


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
