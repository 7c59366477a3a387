"""Batch-invariant greedy decoding for Llama-family models: a row's arithmetic never depends on its company.

The batching service runs many learners' answers as rows of one batch. Three
things could make a row's answer depend on who else is in it, and each is
closed here:

- padding: with the usual left-padded key/value cache a row's attention sums
  over a number of padded columns that depends on the batch. Here every row
  keeps its own keys and values from column 0 (:class:`RowCache`), and
  attention is computed in float32 with the columns past a row's length
  masked out (:func:`attend`), ordered so that extra columns only add exact
  zeros after the row's own;
- batch size in the matrix products: oneDNN and MKL choose kernels, and the
  order they add in, by the number of rows. The linear layers are packed once
  for oneDNN (:func:`pack`, also 2-3x faster for a few rows), the sizes that
  change a row's result are measured once per machine and kept beside the
  prepared weights (:func:`remembered_fewest_rows`), and every step gives the
  layers at least that many rows;
- reading the prompts (prefill) stays transformers' own forward, one
  submission at a time, so it never sees another learner's rows.

Only decoder layers shaped like Llama's (q/k/v/o projections, two RMS norms, a
gated MLP, rotary positions; Qwen2's biases and Qwen3's per-head norms too) are
run this way (:func:`supports`); other models use transformers' forward with a
left-padded cache.
"""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

import torch

from .mapped import file_ranges, own, release
from .memo import read_memo, write_memo

ROW_DECODING_MODELS = frozenset({"llama", "mistral", "qwen2", "qwen3"})
"""Model types whose decoder layers this module can run: the default SmolLM2 is a Llama; Qwen2 adds biases to
q/k/v (the linear layers carry them), Qwen3 norms the queries and keys of each head (``q_norm``, ``k_norm``)."""
GROW_BY = 64
"""Cache columns are added in blocks of this many, so the cache is not copied on every step."""
GROUP_CHUNK = 3
"""Query heads per key/value head that attention multiplies at once. Up to 3, the products give a row the same
bits whatever the batch's width; from 4 on they do not (measured with 1 to 8 on this machine's MKL: 0 of 60 rows
differ up to 3, 14 to 23 of 60 from 4). SmolLM2 has 3; Qwen2.5 has 7, done as 3 + 3 + 1."""
PROBE_DRAWS = 2
"""Random batches :func:`fewest_rows` tries per layer shape."""


def supports(model: Any) -> bool:
    """Whether :func:`decode_step` can run ``model`` (else the caller keeps transformers' forward)."""
    config = model.config
    if config.model_type not in ROW_DECODING_MODELS:
        return False
    if getattr(config, "sliding_window", None) and getattr(config, "use_sliding_window", True):
        return False  # a sliding window masks old columns; not done here
    if any(kind != "full_attention" for kind in getattr(config, "layer_types", None) or []):
        return False
    inner = getattr(model, "model", None)
    return inner is not None and hasattr(inner, "rotary_emb") and hasattr(inner, "layers")


class RowCache:
    """The keys and values of a running batch, row ``i``'s tokens in slot ``i`` from column 0 on.

    ``lengths`` says how many columns each row uses. Slots are allocated ahead (in
    blocks of :data:`GROW_BY` columns), so a step writes in place; a row that
    leaves is replaced by the last row, so only that one row is copied.
    """

    def __init__(self, model: Any, floor: int) -> None:
        config = model.config
        self.floor = floor
        self.layers = config.num_hidden_layers
        self.kv_heads = config.num_key_value_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
        self.dtype = torch.float32  # attention's arithmetic; see attend()
        self.keys: list[Any] = [self._empty(0, 0)] * self.layers
        self.values: list[Any] = [self._empty(0, 0)] * self.layers
        self.lengths = torch.zeros(0, dtype=torch.long)

    @property
    def rows(self) -> int:
        return int(self.lengths.shape[0])

    def _empty(self, rows: int, width: int) -> Any:
        return torch.zeros(rows, self.kv_heads, width, self.head_dim, dtype=self.dtype)

    def _reserve(self, rows: int, width: int) -> None:
        """Be sure there are slots for ``rows`` rows of ``width`` columns (rounded up; copies only to grow)."""
        have_rows, have_width = self.keys[0].shape[0], self.keys[0].shape[2]
        if rows <= have_rows and width <= have_width:
            return
        rows, width = max(rows, have_rows), max(columns(width), have_width)
        used = self.rows
        for tensors in (self.keys, self.values):
            for number, old in enumerate(tensors):
                grown = self._empty(rows, width)
                grown[:used, :, :have_width] = old[:used]
                tensors[number] = grown

    def join(self, cache: Any, mask: Any) -> None:
        """Add rows read by transformers: ``cache`` a DynamicCache, ``mask`` (rows, columns) 1 where a token is."""
        lengths = mask.sum(dim=1)
        first, count = self.rows, mask.shape[0]
        longest = int(lengths.max())
        self._reserve(first + count, int(torch.cat([lengths, self.lengths]).max()) + 1)
        # each row's real tokens, in order, from column 0 (a stable sort puts them first); the
        # columns after a row's own get copies of its padding, which attention masks out
        order = torch.sort((mask == 0).to(torch.int8), dim=1, stable=True).indices[:, :longest]
        for number, layer in enumerate(cache.layers):
            index = order[:, None, :, None].expand(count, self.kv_heads, longest, self.head_dim)
            self.keys[number][first : first + count, :, :longest] = layer.keys.gather(2, index)
            self.values[number][first : first + count, :, :longest] = layer.values.gather(2, index)
        self.lengths = torch.cat([self.lengths, lengths])

    def keep(self, keep: list[bool]) -> list[int]:
        """Drop the rows not marked in ``keep``; returns the old numbers of the rows left, in their new order."""
        order = list(range(len(keep)))
        lengths = self.lengths.tolist()
        for gone in sorted((i for i, k in enumerate(keep) if not k), reverse=True):
            last = len(order) - 1
            if gone != last:  # the last row moves into the free slot
                used = lengths[last]
                for tensors in (self.keys, self.values):
                    for tensor in tensors:
                        tensor[gone, :, :used] = tensor[last, :, :used]
                order[gone], lengths[gone] = order[last], lengths[last]
            order.pop()
            lengths.pop()
        self.lengths = torch.tensor(lengths, dtype=torch.long)
        return order

    def step(self, model: Any, tokens: Any) -> Any:
        """One decoding step for every row (:func:`decode_step`)."""
        self._reserve(self.rows, int(self.lengths.max()) + 1)
        return decode_step(model, self, tokens, self.floor)


def columns(needed: int) -> int:
    """How many cache columns attention reads when the longest row needs ``needed``: whole blocks of GROW_BY.

    Softmax and the products add a row's values in vector-wide pieces, and a
    last piece shorter than a vector is added another way; with whole blocks a
    row's own columns are always added the same way, alone or amid longer rows.
    """
    return -(-needed // GROW_BY) * GROW_BY


def attend(query: Any, keys: Any, values: Any, valid: Any, scaling: float) -> Any:
    """Attention of one new token per row over that row's columns: (rows, heads, 1, dim) in, (rows, 1, heads*dim) out.

    Float32 throughout; ``valid`` (rows, columns) is False past each row's
    length, so those columns weigh exactly 0 and a row's result does not depend
    on how many columns the batch has, as long as it is :func:`columns` of them.
    """
    rows, heads, _, dim = query.shape
    kv_heads = keys.shape[1]
    grouped = query.reshape(rows, kv_heads, heads // kv_heads, dim).to(keys.dtype)
    outs = []
    for start in range(0, grouped.shape[2], GROUP_CHUNK):  # Qwen2.5 has 7 query heads per key/value head
        chunk = grouped[:, :, start : start + GROUP_CHUNK]
        # keys times queries, not queries times keys: with the columns as the product's rows,
        # a column's score does not depend on how many columns there are (checked by the tests)
        scores = torch.matmul(keys, chunk.transpose(-1, -2)).transpose(-1, -2).contiguous() * scaling
        scores = scores.masked_fill(~valid[:, None, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        outs.append(torch.matmul(weights, values))  # (rows, kv_heads, chunk, dim)
    out = outs[0] if len(outs) == 1 else torch.cat(outs, dim=2)
    return out.reshape(rows, 1, heads * dim).to(query.dtype)


class PackedLinear(torch.nn.Module):
    """A linear layer whose weights oneDNN has laid out once for its kernels (faster for a few rows)."""

    def __init__(self, linear: torch.nn.Linear, rows: int) -> None:
        super().__init__()
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.packed = torch.ops.mkldnn._reorder_linear_weight(linear.weight.detach(), rows)
        self.bias = linear.bias

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        return torch.ops.mkldnn._linear_pointwise(hidden, self.packed, self.bias, "none", [], "")


def _linears(model: Any) -> list[tuple[Any, str]]:
    """Every linear layer of the decoder and the output head, as (owner, attribute name)."""
    owners: list[tuple[Any, str]] = []
    for layer in model.model.layers:
        owners += [(layer.self_attn, name) for name in ("q_proj", "k_proj", "v_proj", "o_proj")]
        owners += [(layer.mlp, name) for name in ("gate_proj", "up_proj", "down_proj")]
    return [*owners, (model, "lm_head")]


def pack(model: Any, rows: int) -> bool:
    """Lay out the model's linear layers for oneDNN (once, at load); False where this torch cannot.

    Measured on this 2-core machine, a packed layer answers a batch of 32 rows
    2-3x faster in float32 than the plain one, and its result for a row changes
    with fewer batch sizes (see :func:`fewest_rows`). Every weight ends up in
    memory of its own, and its pages of the mapped weights file are handed back
    as soon as it is copied, so the load never holds the file and the copy at
    once (:mod:`sandbox.models.mapped`).
    """
    if not supports(model):
        return False
    ranges = file_ranges()  # each weight's file pages are handed back once it is copied (sandbox/models/mapped.py)
    layers = _linears(model)
    linear_ids = {id(getattr(owner, name)) for owner, name in layers}
    rest = [module for module in model.modules() if id(module) not in linear_ids]
    with torch.no_grad():  # the embeddings first: the output head tied to them is then packed from the copy
        own([tensor for module in rest for tensor in [*module.parameters(False), *module.buffers(False)]], ranges)
    try:
        for owner, name in layers:
            linear = getattr(owner, name)
            setattr(owner, name, PackedLinear(linear, rows))
            release(linear.weight, ranges)
    except (RuntimeError, AttributeError):  # a torch built without oneDNN: keep what is left as it is
        return False
    with torch.no_grad():  # what is left (biases), so the weights file is no longer mapped
        own([*model.parameters(), *model.buffers()], ranges)
    return True


def fewest_rows(model: Any, capacity: int) -> int:
    """The fewest rows a linear layer must be given so that a row's result never depends on the others.

    oneDNN and MKL pick kernels, and the order they add in, by the number of
    rows, so the same row can come out with a different last bit in a batch of 1
    and a batch of 20. For each distinct layer shape this runs a full batch of
    random rows, then the same rows in batches of every smaller size, and returns
    the size below which some row's result changes (on this machine with bfloat16 and packed layers: 2,
    because one row alone takes another kernel). Decoding then pads every step
    to at least this many rows.
    """
    generator = torch.Generator().manual_seed(0)
    seen: dict[tuple[int, int], int] = {}
    with torch.inference_mode():
        for owner, name in _linears(model):
            module = getattr(owner, name)
            shape = (module.in_features, module.out_features)
            if shape in seen:
                continue
            floor = 1
            for _ in range(PROBE_DRAWS):
                rows = torch.randn(capacity, 1, module.in_features, generator=generator).to(model.dtype)
                full = module(rows)
                for count in range(capacity - 1, floor - 1, -1):  # every row, in batches of `count`
                    parts = [module(rows[start : start + count]) for start in range(0, capacity - count + 1, count)]
                    if not torch.equal(torch.cat(parts), full[: len(parts) * count]):
                        floor = count + 1
                        break
            seen[shape] = floor
    return max(seen.values())


def machine() -> str:
    """What the kernels' choices depend on: torch, its CPU code path, the threads, the processor (and a cap
    on oneDNN's instruction sets, ``ONEDNN_MAX_CPU_ISA``, as ``bench --isa`` sets to act as an older CPU)."""
    name = platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    return f"torch {torch.__version__}, {code_path()}, {torch.get_num_threads()} threads, {name}"


def code_path() -> str:
    """torch's CPU code path here (AVX512, AVX2), and the cap on oneDNN's instruction sets if ``bench --isa`` set one."""
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA")
    return torch.backends.cpu.get_cpu_capability() + (f", oneDNN up to {cap}" if cap else "")


def remembered_fewest_rows(model: Any, capacity: int, folder: Path) -> int:
    """:func:`fewest_rows`, measured once per machine and kept in ``folder`` (``floors.json``) for later starts."""
    path = folder / "floors.json"
    layers = "packed" if isinstance(model.lm_head, PackedLinear) else "plain"
    key = f"{machine()}, {model.dtype}, {layers} layers, batches of {capacity}"
    known = read_memo(path)
    if isinstance(known.get(key), int):
        return int(known[key])
    floor = fewest_rows(model, capacity)
    known[key] = floor
    write_memo(path, known)
    return floor


def decode_step(model: Any, cache: RowCache, tokens: Any, floor: int) -> Any:
    """Feed each row its next token; returns each row's greedy choice for the token after it.

    The linear layers get at least ``floor`` rows (:func:`fewest_rows`): filler rows
    read token 0 at position 0 and are dropped.
    """
    from torch.nn.functional import pad
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    inner = model.model
    rows = tokens.shape[0]
    padded = max(rows, floor)
    lengths = cache.lengths
    width = columns(int(lengths.max()) + 1)
    valid = torch.arange(width)[None, :] <= lengths[:, None]
    every = torch.arange(rows)
    hidden = inner.embed_tokens(pad(tokens, (0, padded - rows))[:, None])
    cos, sin = inner.rotary_emb(hidden, pad(lengths, (0, padded - rows))[:, None])
    for number, layer in enumerate(inner.layers):
        attention, mlp = layer.self_attn, layer.mlp
        dim = attention.head_dim
        normed = layer.input_layernorm(hidden)
        query = attention.q_proj(normed).view(padded, 1, -1, dim)
        key = attention.k_proj(normed).view(padded, 1, -1, dim)
        value = attention.v_proj(normed).view(padded, 1, -1, dim).transpose(1, 2)
        if hasattr(attention, "q_norm"):  # Qwen3: each head's query and key normed before the rotation
            query, key = attention.q_norm(query), attention.k_norm(key)
        query, key = apply_rotary_pos_emb(query.transpose(1, 2), key.transpose(1, 2), cos, sin)
        keys, values = cache.keys[number][:rows], cache.values[number][:rows]
        keys[every, :, lengths] = key[:rows, :, 0].to(keys.dtype)
        values[every, :, lengths] = value[:rows, :, 0].to(values.dtype)
        out = attend(query[:rows], keys[:, :, :width], values[:, :, :width], valid, attention.scaling)
        hidden = hidden + attention.o_proj(pad(out, (0, 0, 0, 0, 0, padded - rows)))
        normed = layer.post_attention_layernorm(hidden)
        hidden = hidden + mlp(normed)
    cache.lengths = lengths + 1
    logits = model.lm_head(inner.norm(hidden))[:rows, -1]
    return logits.float().argmax(dim=-1)  # the same choice (ties go to the first), 2x faster than in bfloat16
