"""models list and verify through the real entry point."""

from __future__ import annotations

from .running import run


def test_models_list_and_verify() -> None:
    listed = run("models", "list")
    assert listed.returncode == 0
    assert "* smollm2-135m-instruct" in listed.stdout and "ready" in listed.stdout
    verified = run("models", "verify")
    assert verified.returncode == 0, verified.stdout
    assert "smollm2-135m-instruct: OK" in verified.stdout and "all-minilm-l6-v2: OK" in verified.stdout
