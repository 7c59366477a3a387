"""The app's code must import on Windows classroom computers too: no POSIX-only module at import time."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
POSIX_ONLY = {"resource", "fcntl", "pwd", "grp", "termios", "tty", "pty", "posix", "crypt"}
POSIX_ONLY_CALLS = {"fork", "forkpty", "getuid", "geteuid", "setsid", "killpg", "getpgid"}


def test_no_module_imports_a_posix_only_module_at_import_time_or_calls_posix_only_functions() -> None:
    found = []
    for path in sorted([*ROOT.glob("sandbox/**/*.py"), *ROOT.glob("sandbox_ui/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:  # what runs when the module is imported
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name.split(".")[0] for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module.split(".")[0]]
            found += [f"{path.relative_to(ROOT)}:{node.lineno} imports {name}" for name in names if name in POSIX_ONLY]
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in POSIX_ONLY_CALLS
                and getattr(node.value, "id", "") == "os"
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno} calls os.{node.attr}")
    assert found == []
