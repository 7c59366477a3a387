"""The builder's completeness check on small wheels made here: a gap in the tree is named, with who needs it."""

from __future__ import annotations

import zipfile
from pathlib import Path

from sandbox.bundle.wheels import Target, missing


def wheel(folder: Path, name: str, version: str, tag: str, *requires: str) -> None:
    path = folder / f"{name}-{version}-{tag}.whl"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}-{version}.dist-info/METADATA", metadata)


def test_a_complete_tree_has_no_gaps_and_conditions_for_other_systems_are_skipped(tmp_path: Path) -> None:
    wheel(
        tmp_path,
        "app",
        "1.0",
        "py3-none-any",
        "engine>=2",
        'cuda-kit; platform_system == "Linux"',
        'pytest; extra == "test"',
    )
    wheel(tmp_path, "engine", "2.1", "cp311-cp311-win_amd64", "helper")
    wheel(tmp_path, "helper", "0.3", "py3-none-any")
    assert missing(tmp_path, ["app==1.0"], Target("win_amd64", "3.11")) == []


def test_a_missing_dependency_a_wrong_version_and_a_wheel_for_another_system_are_each_named(tmp_path: Path) -> None:
    wheel(tmp_path, "app", "1.0", "py3-none-any", "engine>=2", "helper<0.3", "absent[fast]")
    wheel(tmp_path, "engine", "2.1", "cp311-cp311-manylinux_2_28_x86_64")
    wheel(tmp_path, "helper", "0.3", "py3-none-any")
    assert sorted(missing(tmp_path, ["app==1.0"], Target("win_amd64", "3.11"))) == [
        "absent[fast] (needed by app): no wheel",
        "engine-2.1-cp311-cp311-manylinux_2_28_x86_64.whl: not for win_amd64 with Python 3.11",
        "helper<0.3 (needed by app): the bundle has 0.3",
    ]
