"""Weights read straight from a mapped safetensors file: give their pages back once they are copied.

transformers maps the weights file into memory, and a tensor loaded from it
reads the file's pages in place. Packing the linear layers for oneDNN
(:func:`sandbox.models.decoding.pack`) copies every weight; without this the
process would hold the copy and every page of the file it read at the same
time, twice the weights, until the last tensor of the file is dropped. After
each copy the pages under the old tensor are handed back to the kernel
(``madvise(MADV_DONTNEED)``). That is safe for a file mapping: a page read
again comes back from the file. Memory that is not a mapping of a
``.safetensors`` file is never touched (there it would erase the values), and
on a system without ``/proc/self/maps`` or ``madvise`` nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
from functools import cache
from pathlib import Path
from typing import Any

MAPS = Path("/proc/self/maps")
MADV_DONTNEED = 4
"""From Linux's mman.h: drop the pages; a file mapping reads them from the file again if touched."""


def file_ranges(suffix: str = ".safetensors") -> list[tuple[int, int]]:
    """The address ranges of this process mapped from files whose names end in ``suffix``."""
    try:
        lines = MAPS.read_text().splitlines()
    except OSError:
        return []
    ranges = []
    for line in lines:
        fields = line.split(maxsplit=5)
        if len(fields) == 6 and fields[5].strip().endswith(suffix):
            low, high = (int(address, 16) for address in fields[0].split("-"))
            ranges.append((low, high))
    return ranges


@cache
def _madvise() -> Any:
    name = ctypes.util.find_library("c")
    try:
        function = ctypes.CDLL(name, use_errno=True).madvise if name else None
    except (OSError, AttributeError):
        return None
    if function is not None:
        function.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    return function


def _span(tensor: Any) -> tuple[int, int]:
    start = tensor.data_ptr()
    return start, start + tensor.numel() * tensor.element_size()


def inside(tensor: Any, ranges: list[tuple[int, int]]) -> bool:
    """Whether ``tensor``'s values lie in one of ``ranges`` (it reads a mapped file)."""
    start, end = _span(tensor)
    return any(low <= start and end <= high for low, high in ranges)


def release(tensor: Any, ranges: list[tuple[int, int]]) -> int:
    """Hand back the whole pages under ``tensor`` that lie in one of ``ranges`` (file mappings); returns the bytes."""
    madvise = _madvise()
    if madvise is None or not inside(tensor, ranges):
        return 0
    start, end = _span(tensor)
    page = mmap.PAGESIZE
    first, last = -(-start // page) * page, end // page * page  # only pages wholly inside the tensor
    if last <= first or madvise(first, last - first, MADV_DONTNEED) != 0:
        return 0
    return last - first


def own(tensors: list[Any], ranges: list[tuple[int, int]]) -> None:
    """Give each tensor that reads a mapped file memory of its own, handing the file's pages back after each copy.

    Without known mappings (``ranges`` empty: no ``/proc``) every tensor is copied, which also unmaps the file.
    """
    for tensor in tensors:
        if ranges and not inside(tensor, ranges):
            continue
        mapped, tensor.data = tensor.data, tensor.data.clone()
        release(mapped, ranges)
