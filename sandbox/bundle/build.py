"""``prompt-sandbox bundle``: one folder and one archive that install and run the app with no network.

Made on a connected computer from a checkout; carried to the classroom on a USB
stick. The folder holds every wheel the app needs (the versions installed here,
so the classroom gets what was tested), the model packages, the exercises and
model manifests, ``install.py`` with its shell and PowerShell wrappers, and a
``SHA256SUMS`` of every file that the installer checks before it writes anything.
"""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import shutil
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from ..config import Settings, project_root
from . import installer
from .wheels import (
    BundleBuildError,
    Target,
    Wheel,
    download,
    fetch_alone,
    missing,
    pins_of_this_environment,
    pip,
    resolves_with_pip,
    wheels_in,
)

SCRIPTS = Path(__file__).resolve().parent / "scripts"
APP_SOURCE = ("sandbox", "sandbox_ui", "pyproject.toml", "README.md")
"""What the app's own wheel is built from (copied aside, so the checkout gains no build folders)."""
APP_FILES = ("README.md", "CHANGELOG.md", ".streamlit/config.toml")


@dataclass(frozen=True)
class Bundle:
    folder: Path
    archive: Path | None
    files: int
    size_bytes: int
    wheels: int
    seconds: float


def build_bundle(
    settings: Settings,
    out: Path,
    target: Target,
    say: Callable[[str], None],
    archive: bool = True,
    models: tuple[str, ...] = (),
) -> Bundle:
    started = time.monotonic()
    root = project_root()
    if not (root / "pyproject.toml").is_file():
        raise BundleBuildError(
            f"A bundle is made from a checkout of prompt-sandbox (a folder with pyproject.toml), and {root} is not one."
        )
    version = importlib.metadata.version("prompt-sandbox")
    carried_models = [hub_model(settings, name) for name in models]  # refused before anything is written
    folder = out.resolve() / f"prompt-sandbox-{version}-{target.platform}-py{target.python}"
    if folder.exists():
        shutil.rmtree(folder)
    wheels = folder / installer.WHEELS
    wheels.mkdir(parents=True)

    say("Building the app's wheel ...")
    app = _app_wheel(root, wheels)
    with tempfile.TemporaryDirectory() as scratch:
        here = Path(scratch) / "installed-here.txt"
        here.write_text("\n".join(pins_of_this_environment()) + "\n", encoding="utf-8")
        constraints = [root / "constraints.txt", here]
        say(f"Downloading the wheels it needs on {target.platform} with Python {target.python} ...")
        download(app, wheels, target, constraints, say)
        model_wheels = {canonicalize_name(p) for p in model_packages(settings)} - set(wheels_in(wheels))
        if model_wheels:
            say(
                f"Downloading the model packages {', '.join(sorted(model_wheels))} (without their own dependencies) ..."
            )
            fetch_alone(sorted(model_wheels), wheels, target, constraints)
    have = wheels_in(wheels)
    install = [f"{app.name}=={app.version}"]
    no_deps = [f"{name}=={have[name].version}" for name in sorted(model_wheels)]

    say("Checking that the wheels are complete for that computer ...")
    gaps = missing(wheels, install, target) + missing(wheels, no_deps, target, walk=False)
    if gaps:
        raise BundleBuildError("The bundle lacks wheels the app needs:\n  " + "\n  ".join(gaps))
    if target.is_here:
        resolves_with_pip(wheels, install, no_deps)

    (folder / installer.PINS).write_text("".join(f"{w.name}=={w.version}\n" for w in have.values()), encoding="utf-8")
    description = {
        "name": "prompt-sandbox",
        "version": str(app.version),
        "platform": target.platform,
        "python": target.python,
        "made": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "install": install,
        "install_no_deps": no_deps,
        "models": [{"name": name, "sha256": sha256} for name, _, sha256, _ in carried_models],
    }
    (folder / installer.DESCRIPTION).write_text(json.dumps(description, indent=2) + "\n", encoding="utf-8")
    _copy_app_files(settings, root, folder, say)
    for name, prepared, _, model_files in carried_models:
        say(f"Carrying the model {name} ({sum((prepared / f).stat().st_size for f in model_files) / 1e6:.0f} MB) ...")
        for file in model_files:
            (folder / installer.CARRIED_MODELS / name / file).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(prepared / file, folder / installer.CARRIED_MODELS / name / file)
    _copy_scripts(folder, target)
    files = installer.write_sums(folder)
    size = sum(path.stat().st_size for path in installer.carried(folder))
    packed = _archive(folder, target) if archive else None
    return Bundle(folder, packed, files, size, len(have), time.monotonic() - started)


def model_packages(settings: Settings) -> list[str]:
    """The pip packages that carry the weights the model manifests name."""
    from ..models.manifests import ModelManifest, load_manifests

    return sorted(
        {
            manifest.source.package
            for manifest in load_manifests(settings.models_dir).values()
            if isinstance(manifest, ModelManifest) and manifest.source.package
        }
    )


def hub_model(settings: Settings, name: str) -> tuple[str, Path, str, list[str]]:
    """A pulled hub model to carry: its name, prepared folder, weights' sha256 and files."""
    from ..models.manifests import ModelManifest, get_manifest
    from ..models.weights import prepared_folder, prepared_sha256

    manifest = get_manifest(settings, name, "generator")
    if not isinstance(manifest, ModelManifest) or not manifest.source.hub:
        raise BundleBuildError(
            f"--model {name}: only a model from a hub is carried this way (models from packages always come along, "
            "and a model server stays where it is)."
        )
    folder = prepared_folder(manifest, settings)
    if folder is None:
        raise BundleBuildError(f"--model {name}: pull it here first: prompt-sandbox models pull {name}")
    return name, folder, prepared_sha256(manifest, settings), [manifest.source.file, *manifest.source.files]


def _app_wheel(root: Path, wheels: Path) -> Wheel:
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "prompt-sandbox"
        source.mkdir()
        for name in APP_SOURCE:
            if (root / name).is_dir():
                shutil.copytree(root / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            else:
                shutil.copy2(root / name, source / name)
        pip(["wheel", "--no-deps", "-q", "-w", str(wheels), str(source)], "Building the app's wheel")
    return next(iter(wheels_in(wheels).values()))


def _copy_app_files(settings: Settings, root: Path, folder: Path, say: Callable[[str], None]) -> None:
    shutil.copytree(settings.exercises_dir, folder / "exercises", ignore=shutil.ignore_patterns("__pycache__", ".*"))
    models = folder / "models"
    models.mkdir()
    for path in [*sorted(settings.models_dir.glob("*.yaml")), settings.models_dir / "README.md"]:
        if path.is_file():
            shutil.copy2(path, models / path.name)
            if path.suffix == ".yaml" and "path:" in path.read_text(encoding="utf-8"):
                say(f"  note: {path.name} names weights in a local folder; copy that folder to the classroom too")
    for name in APP_FILES:
        if (root / name).is_file():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, folder / name)


def _copy_scripts(folder: Path, target: Target) -> None:
    shutil.copy2(Path(installer.__file__), folder / "install.py")
    for script in sorted(SCRIPTS.iterdir()):
        text = script.read_text(encoding="utf-8").replace("@PYTHON@", target.python)
        newline = "\r\n" if script.suffix == ".ps1" else "\n"
        with open(folder / script.name, "w", encoding="utf-8", newline=newline) as stream:
            stream.write(text)
        if script.suffix == ".sh":
            (folder / script.name).chmod(0o755)


def _archive(folder: Path, target: Target) -> Path:
    """A .tar.gz for Linux (the scripts keep their execute bit), a .zip for Windows."""
    if target.platform.startswith("win"):
        path = folder.with_suffix(".zip")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:  # wheels are compressed already
            for file in [*installer.carried(folder), folder / installer.SUMS]:
                archive.write(file, f"{folder.name}/{file.relative_to(folder).as_posix()}")
        return path
    path = folder.parent / f"{folder.name}.tar.gz"
    with tarfile.open(path, "w:gz", compresslevel=1) as archive:
        for file in [*installer.carried(folder), folder / installer.SUMS]:
            archive.add(file, f"{folder.name}/{file.relative_to(folder).as_posix()}")
    return path
