"""The wheels a bundle carries: downloaded for the classroom's computer, and proven complete before it leaves.

For the computer the bundle is made on, pip resolves as usual. For another
platform (``win_amd64`` from Linux) pip cannot be trusted to resolve: it judges
the dependencies' conditions (``platform_system == "Linux"``) by the computer it
runs on, so PyTorch's Windows wheel would drag in Linux-only CUDA packages.
There each level of dependencies is read from the wheels' own metadata, judged
for the target, and fetched with ``--no-deps``. Either way :func:`missing`
walks the whole tree again from the wheels on disk, for the target, and the
host's bundle is also put through pip's own resolver with no index at all.
"""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from ..errors import SandboxError
from .installer import offline_env, this_platform

MANYLINUX = [f"manylinux_2_{minor}_x86_64" for minor in range(28, 4, -1)] + [
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
    "linux_x86_64",
]
PLATFORM_TAGS = {"linux_x86_64": MANYLINUX, "win_amd64": ["win_amd64"]}
MARKERS = {
    "linux_x86_64": {
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "platform_machine": "x86_64",
    },
    "win_amd64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
}


class BundleBuildError(SandboxError):
    """The bundle could not be made; the message says what to change."""


@dataclass(frozen=True)
class Target:
    """The classroom computer a bundle is for."""

    platform: str = "linux_x86_64"
    python: str = "3.11"

    def __post_init__(self) -> None:
        if self.platform not in PLATFORM_TAGS:
            raise BundleBuildError(f"Bundles are made for {' or '.join(PLATFORM_TAGS)}, not '{self.platform}'.")

    @property
    def is_here(self) -> bool:
        """The computer making the bundle is of the same kind (pip may resolve as usual)."""
        return self.platform == this_platform() and self.python == f"{sys.version_info.major}.{sys.version_info.minor}"

    @property
    def interpreter(self) -> str:
        """The wheel tag of the target's Python: cp311."""
        return f"cp{self.python.replace('.', '')}"

    @property
    def pip_flags(self) -> list[str]:
        flags = ["--only-binary=:all:"]  # nothing to build on a computer with no network
        if not self.is_here:
            flags += ["--python-version", self.python, "--implementation", "cp"]
            for abi in (self.interpreter, "abi3", "none"):
                flags += ["--abi", abi]
            for tag in PLATFORM_TAGS[self.platform]:
                flags += ["--platform", tag]
        return flags

    def tags(self) -> set[Tag]:
        if self.is_here:
            return set(sys_tags())
        version = tuple(int(part) for part in self.python.split("."))
        platforms = PLATFORM_TAGS[self.platform]
        return set(cpython_tags(version, platforms=platforms)) | set(
            compatible_tags(version, self.interpreter, platforms)
        )

    def applies(self, requirement: Requirement, extras: Iterable[str]) -> bool:
        """Whether a dependency's condition holds on the target computer (for the extras asked of its package)."""
        if requirement.marker is None:
            return True
        env = {
            **MARKERS[self.platform],
            "python_version": self.python,
            "python_full_version": self.python + ".0",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
        }
        return any(requirement.marker.evaluate({**env, "extra": extra}) for extra in ("", *extras))


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: Version
    tags: frozenset[Tag]

    def requirements(self) -> list[Requirement]:
        with zipfile.ZipFile(self.path) as archive:
            metadata = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA") and n.count("/") == 1)
            headers = HeaderParser().parsestr(archive.read(metadata).decode("utf-8"))
        return [Requirement(line) for line in headers.get_all("Requires-Dist") or []]


def wheels_in(folder: Path) -> dict[str, Wheel]:
    found: dict[str, Wheel] = {}
    for path in sorted(folder.glob("*.whl")):
        name, version, _, tags = parse_wheel_filename(path.name)
        found[canonicalize_name(name)] = Wheel(path, canonicalize_name(name), version, frozenset(tags))
    return found


def pins_of_this_environment() -> list[str]:
    """``name==version`` of every package installed here: a bundle carries what was tested, not what is newest."""
    pins = set()
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name and canonicalize_name(name) != "prompt-sandbox":
            pins.add(f"{canonicalize_name(name)}=={Version(dist.version).public}")  # +cpu and the like: any build
    return sorted(pins)


def pip(args: list[str], what: str, isolated: bool = False) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, env=offline_env() if isolated else None
    )
    if result.returncode != 0:
        detail = "\n".join((result.stderr or result.stdout).strip().splitlines()[-12:])
        raise BundleBuildError(f"{what} failed:\n{detail}")


def download(app: Wheel, dest: Path, target: Target, constraints: list[Path], say: Callable[[str], None]) -> None:
    """Fetch every wheel the app's wheel needs on ``target`` into ``dest`` (this computer reaches the package index)."""
    if target.is_here:
        pip(
            ["download", "-q", "-d", str(dest), *_downloading(target, constraints), str(app.path)],
            "Downloading the wheels",
        )
        return
    have = wheels_in(dest)
    asked: dict[str, set[str]] = {app.name: set()}
    while asked:
        wanted: dict[str, Requirement] = {}
        for name, extras in asked.items():
            for dependency in have[name].requirements():
                if target.applies(dependency, extras) and canonicalize_name(dependency.name) not in have:
                    wanted.setdefault(canonicalize_name(dependency.name), dependency)
        if not wanted:
            return
        say(f"  fetching {len(wanted)} packages for {target.platform} ...")
        fetch_alone([f"{r.name}{r.specifier}" for r in wanted.values()], dest, target, constraints)
        have = wheels_in(dest)
        asked = {name: set(r.extras) for name, r in wanted.items()}


def fetch_alone(requirements: list[str], dest: Path, target: Target, constraints: list[Path]) -> None:
    """Fetch these wheels for ``target``, without their dependencies."""
    pip(
        ["download", "-q", "--no-deps", "-d", str(dest), *_downloading(target, constraints), *requirements],
        "Downloading the wheels",
    )


def _downloading(target: Target, constraints: list[Path]) -> list[str]:
    """pip download's options for ``target``, held to the ``constraints`` files."""
    return [*target.pip_flags, *(arg for path in constraints for arg in ("-c", str(path)))]


def missing(folder: Path, requirements: Iterable[str], target: Target, walk: bool = True) -> list[str]:
    """What the wheels in ``folder`` lack to install ``requirements`` on ``target`` (and, with ``walk``, their dependencies)."""
    have = wheels_in(folder)
    supported = target.tags()
    problems = []
    seen: set[str] = set()
    queue = [(Requirement(line), "the app") for line in requirements]
    while queue:
        requirement, wanted_by = queue.pop()
        name = canonicalize_name(requirement.name)
        wheel = have.get(name)
        if wheel is None:
            problems.append(f"{requirement} (needed by {wanted_by}): no wheel")
            continue
        if not requirement.specifier.contains(wheel.version, prereleases=True):
            problems.append(f"{requirement} (needed by {wanted_by}): the bundle has {wheel.version}")
        if not wheel.tags & supported:
            problems.append(f"{wheel.path.name}: not for {target.platform} with Python {target.python}")
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in seen or not walk:
            continue
        seen.add(key)
        queue += [(dep, name) for dep in wheel.requirements() if target.applies(dep, requirement.extras)]
    return problems


def resolves_with_pip(folder: Path, requirements: list[str], no_deps: list[str]) -> None:
    """pip itself installs ``requirements`` from ``folder`` alone (a dry run, no index, no pip settings)."""
    with tempfile.TemporaryDirectory() as scratch:
        base = ["install", "--dry-run", "--ignore-installed", "--no-index", "--find-links", str(folder)]
        base += ["--only-binary=:all:", "--target", scratch, "-q"]
        pip([*base, *requirements], "Installing the bundle's wheels with no index (a dry run)", isolated=True)
        if no_deps:
            pip(
                [*base, "--no-deps", *no_deps], "Installing the model packages with no index (a dry run)", isolated=True
            )
