"""Handing back a mapped weights file's pages: the values stay right, memory that is not a file is never touched."""

from __future__ import annotations

import mmap
from pathlib import Path

import pytest
import torch

from sandbox.models import decoding, mapped
from sandbox.models.factory import build_engine

pytestmark = pytest.mark.skipif(not mapped.MAPS.is_file(), reason="needs /proc/self/maps (Linux)")


def _mapped_tensor(tmp_path, name: str = "weights.safetensors"):
    values = torch.arange(4 * mmap.PAGESIZE, dtype=torch.float32)
    path = tmp_path / name
    path.write_bytes(values.numpy().tobytes())
    handle = open(path, "rb")  # noqa: SIM115 - the mapping outlives this function
    mapping = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    return torch.frombuffer(mapping, dtype=torch.float32), values, (handle, mapping)


def test_a_tensor_read_from_a_mapped_weights_file_gives_its_pages_back_and_keeps_its_values(tmp_path) -> None:
    tensor, values, _keep = _mapped_tensor(tmp_path)
    ranges = mapped.file_ranges()
    assert mapped.inside(tensor, ranges)
    assert mapped.release(tensor, ranges) >= 3 * mmap.PAGESIZE  # whole pages only
    assert torch.equal(tensor, values), "a page handed back must come back from the file"


def test_memory_that_is_not_a_weights_file_is_never_handed_back(tmp_path) -> None:
    ranges = mapped.file_ranges()
    own = torch.arange(4 * mmap.PAGESIZE, dtype=torch.float32)
    assert not mapped.inside(own, ranges)
    assert mapped.release(own, ranges) == 0
    assert torch.equal(own, torch.arange(4 * mmap.PAGESIZE, dtype=torch.float32))
    other, _values, _keep = _mapped_tensor(tmp_path, "notes.bin")  # a mapped file, but not weights
    assert mapped.release(other, mapped.file_ranges()) == 0


def test_own_copies_what_reads_the_file_and_leaves_the_rest(tmp_path) -> None:
    tensor, values, _keep = _mapped_tensor(tmp_path)
    already = torch.ones(8)
    before = already.data_ptr()
    ranges = mapped.file_ranges()
    mapped.own([tensor, already], ranges)
    assert not mapped.inside(tensor, ranges)
    assert torch.equal(tensor, values)
    assert already.data_ptr() == before


def _resident_weights_file_bytes() -> int:
    """How much of the mapped weights files is in this process's memory now (Rss of their mappings)."""
    total, counting = 0, False
    for line in Path("/proc/self/smaps").read_text(encoding="utf-8").splitlines():
        fields = line.split()
        if "-" in fields[0] and len(fields) >= 5:  # a mapping's first line
            counting = len(fields) == 6 and fields[5].endswith(".safetensors")
        elif counting and fields[0] == "Rss:":
            total += int(fields[1]) * 1024
    return total


@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_packing_never_holds_the_weights_file_and_the_copy_at_once(settings, dtype, monkeypatch) -> None:
    """Each weight's file pages are handed back once it is copied, and none is left reading the file.

    Without that, packing read the whole file into memory beside the packed copy: the load's peak was twice the
    weights (float32: 1.6 GB where the loaded model holds 1.1 GB).
    """
    resident: list[int] = []
    file_size: list[int] = []
    plain_init = decoding.PackedLinear.__init__

    def packing(self, linear, rows) -> None:
        resident.append(_resident_weights_file_bytes())
        file_size.append(sum(high - low for low, high in mapped.file_ranges()))
        plain_init(self, linear, rows)

    monkeypatch.setattr(decoding.PackedLinear, "__init__", packing)
    engine = build_engine(settings.with_overrides(dtype=dtype))
    engine.load()
    assert len(resident) > 200, "the linear layers were not packed"
    held, size = max(resident) >> 20, max(file_size) >> 20
    assert held < size / 4, f"{held} MB of the {size} MB weights file held while packing"
    ranges = mapped.file_ranges()
    model = engine._model
    left = [
        name for name, tensor in [*model.named_parameters(), *model.named_buffers()] if mapped.inside(tensor, ranges)
    ]
    assert left == [], "these still read the weights file"
    assert isinstance(model.lm_head, decoding.PackedLinear)
