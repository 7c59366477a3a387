"""The layer rule and the module size limit, as `make lint` checks them: kept by the tree, and caught when broken."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
SIZES = ROOT / "tools" / "check_module_sizes.py"


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` on the packages under ``root``, with the contracts in its pyproject.toml."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-logo", "--no-cache", str(root / "pyproject.toml")],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=120,
    )


@pytest.fixture
def copy_of_the_code(tmp_path: Path) -> Path:
    for folder in ("sandbox", "sandbox_ui"):
        shutil.copytree(ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def add_import(module: Path, line: str) -> None:
    text = module.read_text(encoding="utf-8")
    head, marker, rest = text.partition("from __future__ import annotations\n")
    module.write_text(head + marker + line + "\n" + rest, encoding="utf-8")


def test_the_tree_keeps_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract", "import_named"),
    [
        (
            "sandbox/grading.py",
            "from .cli import main",
            "Layers: the ways in, then the tools, then grading",
            "sandbox.grading -> sandbox.cli",
        ),
        (
            "sandbox/models/base.py",
            "from .engine import TransformersGenerator",
            "The model engine in layers",
            "sandbox.models.base -> sandbox.models.engine",
        ),
        ("sandbox/exercises/schema.py", "import streamlit", "sandbox never imports Streamlit", "streamlit"),
        (
            "sandbox/exercises/checks.py",
            "from .catalog import Catalog",
            "The exercise format in layers",
            "sandbox.exercises.checks -> sandbox.exercises.catalog",
        ),
    ],
)
def test_an_import_against_the_layers_fails_naming_the_contract(
    copy_of_the_code: Path, module: str, line: str, contract: str, import_named: str
) -> None:
    add_import(copy_of_the_code / module, line)
    result = lint_imports(copy_of_the_code)
    assert result.returncode == 1, result.stdout
    broken = result.stdout[result.stdout.index("Broken contracts") :]
    assert contract in broken and import_named in broken, broken


def run_sizes(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SIZES), *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_every_module_is_at_most_400_lines() -> None:
    result = run_sizes("sandbox", "sandbox_ui", "tests", "tools")
    assert result.returncode == 0, result.stdout
    assert "has at most 400 lines" in result.stdout


def test_a_module_over_the_limit_is_named(tmp_path: Path) -> None:
    (tmp_path / "short.py").write_text("x = 1\n" * 400)
    (tmp_path / "long.py").write_text("x = 1\n" * 401)
    result = run_sizes(str(tmp_path))
    assert result.returncode == 1
    assert result.stdout.splitlines() == [
        f"{tmp_path / 'long.py'}: 401 lines, over the limit of 400; split it by job into modules of its package"
    ]
