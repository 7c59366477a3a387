"""Batch-invariant decoding: a learner's answer is the same bits alone or beside the whole class, in both number types."""

from __future__ import annotations

import json
import random
import threading

import pytest
import torch

from sandbox.models import decoding
from sandbox.models.factory import build_engine
from sandbox.models.service import GenerationService

from .test_service import shipped_requests


def _answers_alone_and_together(engine, requests) -> tuple[list[str], list[str | None], list[int]]:
    """Each request through the service on its own, then all at once from many threads."""
    service = GenerationService(engine, batch_size=32, window_s=0.3)
    alone = [service.generate(r) for r in requests]
    service.batches.clear()
    together: list[str | None] = [None] * len(requests)

    def learner(i: int) -> None:
        together[i] = service.generate(requests[i])

    threads = [threading.Thread(target=learner, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    batches = list(service.batches)
    service.close()
    return alone, together, batches


@pytest.mark.slow
@pytest.mark.parametrize("dtype", ["bfloat16", "float32"])
def test_an_answer_amid_the_class_equals_the_answer_alone(settings, dtype) -> None:
    engine = build_engine(settings.with_overrides(dtype=dtype))
    engine.load()
    assert decoding.supports(engine._model), "the default model should decode row by row"
    requests = random.Random(0).sample(shipped_requests(settings), 64 if dtype == settings.dtype else 40)
    alone, together, batches = _answers_alone_and_together(engine, requests)
    assert max(batches) > 1, "the requests were not batched"
    assert all(alone), "the model gave an empty answer"
    differ = [i for i in range(len(requests)) if together[i] != alone[i]]
    assert differ == [], f"{dtype}: {len(differ)} of {len(requests)} answers changed amid the class"


def test_the_row_floor_is_measured_while_loading_and_kept_for_the_next_start(settings, monkeypatch) -> None:
    """A class's first Run should not wait for the measurement; a restart should not repeat it."""
    engine = build_engine(settings)
    engine.load()
    floors = json.loads((engine._folder / "floors.json").read_text())
    key = next(k for k in floors if f"{engine._model.dtype}, packed layers, batches of {settings.batch_size}" in k)
    assert engine._floors[settings.batch_size] == floors[key] >= 1
    monkeypatch.setattr(decoding, "fewest_rows", lambda *args: pytest.fail("measured again"))
    assert decoding.remembered_fewest_rows(engine._model, settings.batch_size, engine._folder) == floors[key]


@pytest.mark.slow
def test_a_model_the_row_decoder_cannot_run_still_answers_in_batches(settings, monkeypatch) -> None:
    """Other model families keep transformers' forward with a left-padded cache (fair in float32 on these prompts)."""
    engine = build_engine(settings.with_overrides(dtype="float32"))
    engine.load()
    monkeypatch.setattr(decoding, "supports", lambda model: False)
    requests = random.Random(1).sample(shipped_requests(settings), 12)
    alone, together, batches = _answers_alone_and_together(engine, requests)
    assert max(batches) > 1
    assert all(alone)
    assert together == alone


def _attend_in(query, keys, values, rows: int, spare: int, row: int) -> torch.Tensor:
    """``row``'s attention amid ``rows`` rows of random lengths, in a cache wider than needed and full of old values."""
    heads, kv_heads, length, dim = query.shape[1], keys.shape[1], keys.shape[2], keys.shape[3]
    buffer_keys = torch.randn(rows, kv_heads, length + spare + 64, dim)
    buffer_values = torch.randn(rows, kv_heads, length + spare + 64, dim)
    buffer_keys[row, :, :length], buffer_values[row, :, :length] = keys[0], values[0]
    lengths = torch.randint(1, length + spare + 1, (rows,))
    lengths[row] = length
    width = decoding.columns(int(lengths.max()))
    queries = torch.randn(
        rows,
        heads,
        1,
        dim,
    )
    queries[row] = query[0]
    valid = torch.arange(width)[None, :] < lengths[:, None]
    return decoding.attend(queries, buffer_keys[:, :, :width], buffer_values[:, :, :width], valid, dim**-0.5)[row]


@pytest.mark.parametrize(("heads", "kv_heads"), [(9, 3), (14, 2), (16, 2), (16, 16)])
def test_attention_ignores_columns_past_a_row_and_the_other_rows(heads: int, kv_heads: int) -> None:
    """The same row's attention, alone in a tight cache and amid 2..32 rows in wider, reused caches.

    SmolLM2 groups 3 query heads per key/value head, Qwen2.5-0.5B 7, Qwen2.5-1.5B 6, others 8 or 1.
    """
    rng = random.Random(0)
    torch.manual_seed(0)
    dim = 64
    for _ in range(200):
        length = rng.randint(1, 300)
        query = torch.randn(
            1,
            heads,
            1,
            dim,
        )
        keys, values = torch.randn(1, kv_heads, length, dim), torch.randn(1, kv_heads, length, dim)
        rows = rng.randint(2, 32)
        alone = _attend_in(query, keys, values, 1, 0, 0)
        assert torch.equal(alone, _attend_in(query, keys, values, rows, rng.randint(0, 200), rng.randrange(rows)))


@pytest.mark.slow
def test_every_linear_layer_gives_a_row_the_same_bits_in_any_batch_from_the_floor_up(settings) -> None:
    """What fewest_rows measured holds on other random rows, in every layer shape of the model."""
    engine = build_engine(settings.with_overrides(dtype="bfloat16"))
    engine.load()
    model = engine._model
    capacity = 32
    floor = decoding.fewest_rows(model, capacity)
    assert 1 <= floor <= capacity
    generator = torch.Generator().manual_seed(1234)
    shapes = set()
    with torch.inference_mode():
        for owner, name in decoding._linears(model):
            module = getattr(owner, name)
            if (module.in_features, module.out_features) in shapes:
                continue
            shapes.add((module.in_features, module.out_features))
            rows = torch.randn(capacity, 1, module.in_features, generator=generator).to(model.dtype)
            full = module(rows)
            for count in range(floor, capacity):
                start = (count * 7) % (capacity - count + 1)
                part = module(rows[start : start + count])
                assert torch.equal(part, full[start : start + count]), f"{name}: {count} rows from row {start}"
    assert len(shapes) >= 5
