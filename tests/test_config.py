"""Settings and the process-wide tuning in config.py."""

from __future__ import annotations


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
