"""bench through the real entry point: every figure's line, fairness 0."""

from __future__ import annotations

import re

import pytest

from .running import run


@pytest.mark.slow
def test_bench_prints_medians_ranges_the_class_and_fairness() -> None:
    result = run("bench", "--runs", "1", "--learners", "3")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(
        "prompt-sandbox bench: generator smollm2-135m-instruct (bfloat16), embedder all-minilm-l6-v2"
    )
    assert lines[1].startswith("cold start: process start to both models ready: median ")
    assert lines[2].startswith("cold start: process start to first verdict: median ")
    assert lines[3].startswith("one learner: grade the 3-case exercise 'order-number': median ")
    assert lines[4].startswith("one learner: generated tokens per second: median ")
    assert lines[5].startswith("a class: 3 learners (")
    assert lines[6].startswith("a class: verdict latency p50: median ")
    assert lines[7].startswith("a class: verdict latency p95: median ")
    assert all("(range " in line for line in lines[1:9])
    assert lines[9].startswith("a class: peak memory of the serving process ")
    assert re.fullmatch(
        r"fairness: 0 of \d+ answers differ between running alone and inside the class's batches", lines[10]
    )
    assert re.match(r"plain path: \d+ of \d+ answers differ from one plain `generate` call per case", lines[11])
    assert lines[12].startswith("naive path (transformers, float32, one request at a time): ")
    assert re.fullmatch(r"ratio: class tokens per second / naive path = [\d.]+x", lines[13])
