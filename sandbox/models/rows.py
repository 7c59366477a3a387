"""The rows of a running batch: each row's text handed on as it grows, and transformers' padded batch.

A :class:`Row` turns one job's tokens into text pieces for that job alone; a
:class:`PaddedBatch` runs rows on transformers' own forward with one left-padded
cache (the path for models :mod:`sandbox.models.decoding` does not support).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .base import BatchJob


class Row:
    """One row of a running batch: collects its tokens and hands on text as soon as it is whole."""

    def __init__(self, job: BatchJob, tokenizer: Any, eos_ids: set[int]) -> None:
        self.job, self.tokenizer, self.eos_ids = job, tokenizer, eos_ids
        self.tokens: list[int] = []
        self.sent = ""
        self.closed = False

    def add(self, token: int) -> None:
        if self.closed:
            return
        if token in self.eos_ids:
            self.close()
            return
        self.tokens.append(token)
        text = self.tokenizer.decode(self.tokens, skip_special_tokens=True)
        if not text.endswith("\ufffd"):  # wait for a character's last byte
            self._send(text)
        if len(self.tokens) >= self.job.request.max_new_tokens or self.job.stopped():
            self.close()

    def _send(self, text: str) -> None:
        if text != self.sent and text.startswith(self.sent):
            self.job.emit(text[len(self.sent) :])
            self.sent = text

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        # an answer cut at its length limit may stop inside a character: its bytes so far are no text
        self._send(self.tokenizer.decode(self.tokens, skip_special_tokens=True).rstrip("\ufffd"))
        self.job.finish()


class PaddedBatch:
    """A running batch on transformers' own forward: one DynamicCache, left-padded to a common length."""

    def __init__(self) -> None:
        self.cache: Any = None
        self.mask: Any = None  # (rows, cached length): 1 where a real token sits

    def join(self, cache: Any, mask: Any) -> None:
        parts = ([(self.cache, self.mask)] if self.cache is not None else []) + [(cache, mask)]
        self.cache, self.mask = stack_batches(parts)

    def keep(self, keep: list[bool]) -> list[int]:
        """Drop the rows not marked in ``keep``; returns the old numbers of the rows left."""
        if not any(keep):
            self.cache = self.mask = None
            return []
        self.cache, self.mask, _ = select_rows(self.cache, self.mask, self.mask[:, 0], keep)
        return [i for i, k in enumerate(keep) if k]

    def step(self, model: Any, tokens: Any) -> Any:
        import torch

        positions = self.mask.sum(dim=1, keepdim=True)
        self.mask = torch.cat([self.mask, torch.ones_like(self.mask[:, :1])], dim=1)
        out = model(
            input_ids=tokens[:, None],
            attention_mask=self.mask,
            position_ids=positions,
            cache=self.cache,
            use_cache=True,
        )
        return out.logits[:, -1, :].argmax(dim=-1)


def group_jobs(jobs: Sequence[BatchJob]) -> list[list[BatchJob]]:
    groups: dict[int, list[BatchJob]] = {}
    for job in jobs:
        groups.setdefault(job.group, []).append(job)
    return list(groups.values())


def select_rows(cache: Any, mask: Any, last: Any, keep: list[bool]) -> tuple[Any, Any, Any]:
    """Keep only the rows marked in ``keep``, and drop cache columns that are padding in every row left."""
    import torch

    if all(keep):
        return cache, mask, last
    index = torch.tensor([i for i, k in enumerate(keep) if k], dtype=torch.long)
    mask, last = mask[index], last[index]
    used = mask.any(dim=0).nonzero()
    start = int(used[0]) if len(used) else mask.shape[1]
    mask = mask[:, start:]
    for layer in cache.layers:
        layer.keys = layer.keys[index, :, start:]
        layer.values = layer.values[index, :, start:]
    return cache, mask, last


def stack_batches(parts: list[tuple[Any, Any]]) -> tuple[Any, Any]:
    """Stack batches' caches and masks into one, left-padding the shorter ones so the columns line up."""
    import torch
    from torch.nn.functional import pad

    width = max(mask.shape[1] for _, mask in parts)
    extra = [width - mask.shape[1] for _, mask in parts]
    cache = parts[0][0]
    for number, layer in enumerate(cache.layers):
        layers = [c.layers[number] for c, _ in parts]
        layer.keys = torch.cat([pad(lay.keys, (0, 0, e, 0)) for lay, e in zip(layers, extra, strict=True)])
        layer.values = torch.cat([pad(lay.values, (0, 0, e, 0)) for lay, e in zip(layers, extra, strict=True)])
    return cache, torch.cat([pad(mask, (e, 0)) for (_, mask), e in zip(parts, extra, strict=True)])
