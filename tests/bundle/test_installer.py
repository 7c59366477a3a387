"""The installer's own checks, on small folders: what a bad copy, a wrong computer or a changed list look like."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.tags import Tag

from sandbox.bundle import installer
from sandbox.bundle.installer import problems, write_sums
from sandbox.bundle.wheels import Target


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    room = tmp_path / "bundle"
    (room / "wheels").mkdir(parents=True)
    (room / "wheels/app-1.0-py3-none-any.whl").write_bytes(b"wheel bytes")
    (room / "README.md").write_text("read me", encoding="utf-8")
    assert write_sums(room) == 2
    return room


def test_an_intact_bundle_has_no_problems_and_what_using_it_adds_is_not_checked(folder: Path) -> None:
    for grown in (".venv/bin/python", "data/progress.sqlite3", "models/cache/x/model.safetensors"):
        (folder / grown).parent.mkdir(parents=True, exist_ok=True)
        (folder / grown).write_text("made on the classroom computer", encoding="utf-8")
    assert problems(folder) == []
    write_sums(folder)
    assert "data/" not in (folder / installer.SUMS).read_text(encoding="utf-8")


def test_each_altered_or_missing_file_is_named(folder: Path) -> None:
    (folder / "wheels/app-1.0-py3-none-any.whl").write_bytes(b"wheel byteZ")
    (folder / "README.md").unlink()
    assert problems(folder) == [
        "missing: README.md",
        "altered: wheels/app-1.0-py3-none-any.whl (its contents differ from the bundle's)",
    ]


def test_a_changed_list_or_no_list_is_refused(folder: Path) -> None:
    sums = folder / installer.SUMS
    sums.write_text(sums.read_text(encoding="utf-8") + "not a line\n", encoding="utf-8")
    assert problems(folder) == [f"{installer.SUMS} line 3 is not '<sha256>  <file>': the list itself was changed"]
    sums.unlink()
    assert problems(folder) == [f"{installer.SUMS} is missing: this folder is not a whole prompt-sandbox bundle"]


def run_installer(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """install.py as a classroom runs it: the system's Python with no site packages (``-S``), so only the standard library."""
    shutil.copy(installer.__file__, folder / "install.py")
    return subprocess.run(
        [sys.executable, "-S", "-I", str(folder / "install.py"), *args], capture_output=True, text=True, timeout=60
    )


def test_the_installer_needs_only_the_standard_library(folder: Path) -> None:
    helped = run_installer(folder, "--help")
    assert helped.returncode == 0, helped.stderr
    assert "--no-start" in helped.stdout and "--start" in helped.stdout


def test_a_computer_with_another_python_is_told_which_one_before_anything_is_written(folder: Path) -> None:
    description = {"platform": installer.this_platform(), "python": "3.99", "install": ["app==1.0"]}
    (folder / installer.DESCRIPTION).write_text(json.dumps(description), encoding="utf-8")
    refused = run_installer(folder, "--no-start")
    assert refused.returncode == 2
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    assert f"This bundle was made for Python 3.99, and this is Python {running}" in refused.stderr
    assert f"prompt-sandbox bundle --python {running}" in refused.stderr
    assert not (folder / ".venv").exists()


def test_starting_before_installing_says_to_install_first(folder: Path) -> None:
    refused = run_installer(folder, "--start")
    assert refused.returncode == 2
    assert "is not installed" in refused.stderr and "run install first" in refused.stderr


def test_a_windows_target_drops_linux_only_dependencies_and_takes_windows_wheels() -> None:
    windows, linux = Target("win_amd64", "3.11"), Target("linux_x86_64", "3.11")
    cuda = Requirement('nvidia-nccl-cu13==2.29.7; platform_system == "Linux"')
    colour = Requirement('colorama; platform_system == "Windows"')
    assert not windows.applies(cuda, ()) and windows.applies(colour, ())
    assert linux.applies(cuda, ()) and not linux.applies(colour, ())
    test_only = Requirement('pytest>=8; extra == "test"')
    assert not windows.applies(test_only, ()) and windows.applies(test_only, ("test",))
    assert Tag("cp311", "cp311", "win_amd64") in windows.tags()
    assert Tag("cp311", "cp311", "manylinux_2_28_x86_64") not in windows.tags()
    assert Tag("py3", "none", "any") in windows.tags()
    assert "--platform" in windows.pip_flags and "win_amd64" in windows.pip_flags


def test_an_unknown_platform_is_refused_with_the_ones_there_are() -> None:
    from sandbox.bundle.wheels import BundleBuildError

    with pytest.raises(BundleBuildError, match="linux_x86_64 or win_amd64"):
        Target("macosx_arm64", "3.11")
