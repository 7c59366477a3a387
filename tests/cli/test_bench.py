"""bench through the real entry point: every figure's line, fairness 0."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from .running import ROOT, run

SETUP = re.compile(r"setup: (float32|bfloat16) \((the fastest fair one|no setup was fair), measured on this computer")
FIGURE = re.compile(r"  (float32|bfloat16): [\d.]+ tok/s in one batch of \d+, fair$")


def setup_block(lines: list[str]) -> list[str]:
    """The setup the bench uses and each candidate's figures (measured now, or read): the lines after it."""
    if lines[0].startswith("Measuring which way of running the model is fastest"):
        lines = lines[1:]
    assert SETUP.match(lines[0]), lines[0]
    assert [FIGURE.match(line) is not None for line in lines[1:3]] == [True, True], lines[1:3]
    return lines[3:]


@pytest.mark.slow
@pytest.mark.parametrize("isa", ["native", "avx2"])
def test_bench_prints_the_setup_medians_ranges_the_class_and_fairness(isa: str) -> None:
    result = run("bench", "--runs", "1", "--learners", "3", *(["--isa", isa] if isa != "native" else []))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("prompt-sandbox bench: generator smollm2-135m-instruct, embedder all-minilm-l6-v2, ")
    if isa == "avx2":  # torch and oneDNN held to AVX2, as on most classroom PCs
        assert "CPU cores (torch AVX2, oneDNN up to AVX2)" in lines[0]
    lines = setup_block(lines[1:])
    assert lines[0].startswith("cold start: process start to both models ready: median ")
    assert lines[1].startswith("cold start: process start to first verdict: median ")
    assert lines[2].startswith("one learner: grade the 3-case exercise 'order-number': median ")
    assert lines[3].startswith("one learner: generated tokens per second: median ")
    assert lines[4].startswith("a class: 3 learners (")
    assert lines[5].startswith("a class: verdict latency p50: median ")
    assert lines[6].startswith("a class: verdict latency p95: median ")
    assert all("(range " in line for line in lines[0:8])
    assert lines[8].startswith("a class: peak memory of the serving process ")
    assert re.fullmatch(
        r"fairness: 0 of \d+ answers differ between running alone and inside the class's batches", lines[9]
    )
    assert re.match(r"plain path: \d+ of \d+ answers differ from one plain `generate` call per case", lines[10])
    assert lines[11].startswith("naive path (transformers, float32, one request at a time): ")
    assert re.fullmatch(r"ratio: class tokens per second / naive path = [\d.]+x", lines[12])


TINY_QWEN = """name: tiny-qwen
role: generator
license: Apache-2.0
format: transformers
source:
  hub: Example/tiny-qwen
  revision: 0123456789abcdef0123456789abcdef01234567
  file: model.safetensors
architecture:
  model_type: qwen2
  hidden_size: 896
  intermediate_size: 512
  num_hidden_layers: 2
  num_attention_heads: 14
  num_key_value_heads: 2
  vocab_size: 49152
  tie_word_embeddings: true
  use_sliding_window: false
"""


@pytest.mark.slow
def test_bench_measures_a_model_that_was_never_downloaded_with_random_weights_of_its_shape(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    models = tmp_path / "models"
    (models / "cache").mkdir(parents=True)
    for path in (ROOT / "models").glob("*.yaml"):
        shutil.copy(path, models)
    for name in ("smollm2-135m-instruct", "all-minilm-l6-v2"):  # the prepared defaults, shared
        (models / "cache" / name).symlink_to(ROOT / "models" / "cache" / name)
    (models / "tiny-qwen.yaml").write_text(TINY_QWEN, encoding="utf-8")
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(models))
    args = ("bench", "--model", "tiny-qwen", "--random-weights", "--runs", "1", "--learners", "3", "--naive", "3")
    result = run(*args)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("tiny-qwen-random-weights: building tiny-qwen's architecture with random weights")
    assert lines[1].startswith("prompt-sandbox bench: generator tiny-qwen-random-weights, ")
    setup_block(lines[2:])
    assert any(re.fullmatch(r"fairness: 0 of \d+ answers differ .*", line) for line in lines)
    assert "naive path (transformers, float32, one request at a time): " in result.stdout
    assert "over 3 requests" in result.stdout
    assert (models / "cache" / "random-weights" / "tiny-qwen" / "model.safetensors").is_file()
    assert not (models / "tiny-qwen-random-weights.yaml").exists(), "the bench's manifest stays in the cache"
