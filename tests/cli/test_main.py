"""The command group: help lists every command."""

from __future__ import annotations

from .running import run


def test_help_lists_the_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("serve", "check", "grade", "score", "models"):
        assert command in result.stdout
