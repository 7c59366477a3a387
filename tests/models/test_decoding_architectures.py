"""Qwen2 and Qwen3 beside Llama: tiny models of each, built here from their transformers configurations.

Random weights, real architectures: q/k/v biases and grouped key/value heads
(Qwen2), per-head query and key norms (Qwen3), tied embeddings, rope theta 1e6.
Each decodes in the batch-invariant row decoder (sandbox/models/decoding.py);
its greedy answers must equal transformers' plain ``generate`` and be the same
alone and inside a batch of most of 40 requests.
"""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from sandbox.config import load_settings
from sandbox.models import decoding
from sandbox.models.factory import build_engine
from sandbox.models.manifests import local_manifest
from sandbox.models.random_weights import random_model_folder
from sandbox.models.weights import ensure_ready, sha256_file

from .test_decoding import _answers_alone_and_together
from .test_service import shipped_requests

pytestmark = pytest.mark.slow  # models of the real widths, if only 2 layers deep

SHAPE = {
    "hidden_size": 896,  # head_dim 64, as in the real models
    "intermediate_size": 512,
    "num_hidden_layers": 2,
    "num_attention_heads": 14,  # Qwen2.5-0.5B's grouping: 7 query heads per key/value head
    "num_key_value_heads": 2,
    "vocab_size": 49152,  # the default model's tokenizer is reused
    "max_position_embeddings": 2048,
    "tie_word_embeddings": True,
}
ARCHITECTURES = {
    "llama": {"model_type": "llama", **SHAPE},
    "qwen2": {"model_type": "qwen2", "rope_theta": 1_000_000.0, "use_sliding_window": False, **SHAPE},
    "qwen3": {"model_type": "qwen3", "rope_theta": 1_000_000.0, "head_dim": 64, **SHAPE},
}


def tiny_model(architecture: str, spread: float, tmp_path: Path):
    """Settings whose generator is a tiny random model of one architecture (weights of standard deviation ``spread``)."""
    settings = load_settings()
    tokenizer = ensure_ready(local_manifest(settings, settings.generator, "generator"), settings)
    name = f"tiny-{architecture}"
    folder = random_model_folder(
        {**ARCHITECTURES[architecture], "initializer_range": spread}, tmp_path / name, tokenizer
    )
    models = tmp_path / "models"
    models.mkdir()
    (models / f"{name}.yaml").write_text(
        f"name: {name}\nrole: generator\nlicense: none\nformat: transformers\n"
        f"source:\n  path: {folder}\n  file: model.safetensors\nsha256: '{sha256_file(folder / 'model.safetensors')}'\n",
        encoding="utf-8",
    )
    return settings.with_overrides(models_dir=models, generator=name), architecture


@pytest.fixture(params=sorted(ARCHITECTURES))
def close_calls(request: pytest.FixtureRequest, tmp_path: Path):
    """Transformers' own small initial weights: the best and second-best next token are often close, so a
    last-bit difference in a step is more likely to show as another answer (`test_decoding` checks the bits)."""
    return tiny_model(request.param, 0.02, tmp_path)


@pytest.fixture(params=sorted(ARCHITECTURES))
def clear_calls(request: pytest.FixtureRequest, tmp_path: Path):
    """Larger weights, so the greedy choices are clear and float32 rounding elsewhere does not flip them."""
    return tiny_model(request.param, 0.2, tmp_path)


def requests_of(settings, count: int, seed: int):
    chosen = random.Random(seed).sample(shipped_requests(settings), count)
    return [dataclasses.replace(r, max_new_tokens=24) for r in chosen]


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_a_tiny_model_of_each_architecture_answers_the_same_alone_and_amid_a_batch(close_calls, dtype) -> None:
    settings, architecture = close_calls
    engine = build_engine(settings.with_overrides(dtype=dtype))
    engine.load()
    assert engine._model.config.model_type == architecture
    assert decoding.supports(engine._model), f"{architecture} should decode row by row"
    requests = requests_of(settings, 40, seed=3)
    alone, together, batches = _answers_alone_and_together(engine, requests)
    assert max(batches) >= 24, "most of the requests ran in one batch"  # how many join depends on the threads' timing
    assert len(set(alone)) > 10, "the tiny model gave varied answers"
    differ = [i for i in range(len(requests)) if together[i] != alone[i]]
    assert differ == [], f"{architecture} {dtype}: {len(differ)} of {len(requests)} answers changed amid the batch"


def test_a_tiny_model_of_each_architecture_answers_as_plain_generate_does(clear_calls) -> None:
    """In float32 the row decoder's greedy answers are transformers' own."""
    settings, architecture = clear_calls
    engine = build_engine(settings.with_overrides(dtype="float32"))
    engine.load()
    requests = requests_of(settings, 12, seed=5)
    alone, _, _ = _answers_alone_and_together(engine, requests)
    plain = [engine.generate(r) for r in requests]  # one transformers `generate` call each
    # A random model may stop on half a character: transformers' streamer prints it as U+FFFD, the app holds it back.
    differ = [i for i in range(len(requests)) if plain[i].removesuffix("\ufffd") != alone[i]]
    assert differ == [], f"{architecture}: {len(differ)} of {len(requests)} answers differ from plain generate"
