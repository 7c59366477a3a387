"""A bundle made here installs and runs on a computer with no network: a network namespace with nothing in it.

The bundle is made once for the module (it needs the package index, as on the
trainer's connected computer); everything after that happens in a fresh folder,
and the install, the CLI, the app and Chromium all run inside the namespace.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sandbox.bundle.installer import DESCRIPTION, SUMS, sha256_of

from ..browsing import CHROMIUM, CHROMIUM_ARGS, add_myself, needs_chromium, open_exercise
from ..models.test_hub import hub_files, manifest
from ..servers import free_port
from .namespaces import NoNetwork, needs_namespaces

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = yaml.safe_load((ROOT / "exercises/getting-started/order-number.yaml").read_text(encoding="utf-8"))

pytestmark = [pytest.mark.slow]


def make_bundle(out: Path, *options: str, models: Path | None = None) -> str:
    env = {**os.environ, **({"PROMPT_SANDBOX_MODELS": str(models)} if models else {})}
    made = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "bundle", "--out", str(out), *options],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    return made.stdout


def models_with_a_pulled_hub_model(folder: Path) -> Path:
    """The shipped manifests and prepared models, plus 'smollm2-from-hub' pulled (from a folder) as a hub model."""
    models = folder / "models"
    (models / "cache").mkdir(parents=True)
    for path in (ROOT / "models").glob("*.yaml"):
        shutil.copy(path, models)
    for name in ("smollm2-135m-instruct", "all-minilm-l6-v2"):
        (models / "cache" / name).symlink_to(ROOT / "models" / "cache" / name)
    files = hub_files(folder / "hub-files")
    (models / "smollm2-from-hub.yaml").write_text(manifest(files), encoding="utf-8")
    pulled = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "models", "pull", "smollm2-from-hub", "--from", str(files)],
        env={**os.environ, "PROMPT_SANDBOX_MODELS": str(models)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert pulled.returncode == 0, pulled.stdout + pulled.stderr
    return models


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    models = models_with_a_pulled_hub_model(tmp_path_factory.mktemp("trainer-pc"))
    printed = make_bundle(out, "--model", "smollm2-from-hub", models=models)
    assert "Carrying the model smollm2-from-hub (" in printed
    (packed,) = out.glob("prompt-sandbox-*-linux_x86_64-py3.11.tar.gz")
    assert f"Archive: {packed}" in printed
    return packed


def unpack(archive: Path, into: Path) -> Path:
    with tarfile.open(archive) as packed:
        packed.extractall(into, filter="tar")
    (folder,) = into.iterdir()
    return folder


@pytest.fixture
def no_network(tmp_path: Path) -> Iterator[NoNetwork]:
    namespace = NoNetwork(tmp_path / "home")
    yield namespace
    namespace.close()


@needs_namespaces
@needs_chromium
@pytest.mark.browser
def test_a_classroom_computer_with_no_network_installs_the_bundle_grades_and_runs_the_app(
    archive: Path, tmp_path: Path, no_network: NoNetwork
) -> None:
    room = unpack(archive, tmp_path / "classroom-pc")
    links = no_network.run(["ip", "-o", "link"]).stdout.splitlines()
    assert [line.split(":")[1].strip() for line in links] == ["lo"], "the namespace has no way out"
    assert no_network.run(["ip", "route"]).stdout.strip() == "", "and no route anywhere"

    installed = no_network.run(["./install.sh", "--no-start"], cwd=room, timeout=900)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "Installed. Start it any time from this folder with ./start.sh" in installed.stdout
    assert (room / "models/cache/smollm2-135m-instruct").is_dir()
    assert "smollm2-from-hub: verified and ready" in installed.stdout, "the carried hub model is prepared"

    grade = [str(room / ".venv/bin/prompt-sandbox"), "grade", "order-number", "--prompt", EXERCISE["solution"]]
    for generator in ("smollm2-135m-instruct", "smollm2-from-hub"):
        graded = no_network.run(grade, cwd=room, env={"PROMPT_SANDBOX_GENERATOR": generator})
        assert graded.returncode == 0, graded.stdout + graded.stderr
        assert "Passed! All 3 cases passed. Score 100." in graded.stdout

    port = free_port()
    app = no_network.popen(["./start.sh", "--port", str(port)], cwd=room, log=tmp_path / "app.log")
    try:
        health = f"http://127.0.0.1:{port}/_stcore/health"
        waited = no_network.run([sys.executable, "-c", WAIT_FOR.format(url=health)], timeout=120)
        assert waited.returncode == 0, (tmp_path / "app.log").read_text()
        from playwright.sync_api import sync_playwright

        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(no_network.chromium(tmp_path, CHROMIUM)), args=CHROMIUM_ARGS
            )
            page = browser.new_page()
            add_myself(page, f"http://127.0.0.1:{port}", "Wang Fang", "2468")  # no instructor passcode there
            open_exercise(page, "Find the order number")
            page.get_by_role("textbox", name="Your prompt").fill(EXERCISE["solution"])
            page.get_by_role("button", name="Run", exact=True).click()
            page.get_by_text("Passed! All 3 cases passed. Score 100.").wait_for(timeout=180_000)
            browser.close()
    finally:
        no_network.stop(app)
    assert (room / "data/progress.sqlite3").is_file(), "progress is kept in the bundle's folder"


WAIT_FOR = """
import time, urllib.request
for _ in range(200):
    try:
        if urllib.request.urlopen('{url}', timeout=2).read() == b'ok':
            raise SystemExit(0)
    except OSError:
        time.sleep(0.5)
raise SystemExit(1)
"""


def test_an_altered_or_missing_file_stops_the_install_with_its_name_before_anything_is_written(
    archive: Path, tmp_path: Path
) -> None:
    room = unpack(archive, tmp_path / "classroom-pc")
    (wheel,) = room.glob("wheels/torch-*.whl")
    with open(wheel, "r+b") as stream:  # one byte changed in the middle, as a bad USB stick does
        stream.seek(wheel.stat().st_size // 2)
        byte = stream.read(1)
        stream.seek(-1, 1)
        stream.write(bytes([byte[0] ^ 0xFF]))
    (room / "exercises/getting-started/order-number.yaml").unlink()

    refused = subprocess.run(["./install.sh", "--no-start"], cwd=room, capture_output=True, text=True, timeout=300)
    assert refused.returncode == 2
    assert f"altered: wheels/{wheel.name}" in refused.stderr
    assert "missing: exercises/getting-started/order-number.yaml" in refused.stderr
    assert "nothing was installed" in refused.stderr
    assert not (room / ".venv").exists()


def test_a_bundle_for_windows_carries_windows_wheels_and_none_of_linux(tmp_path: Path) -> None:
    printed = make_bundle(tmp_path, "--platform", "win_amd64", "--no-archive")
    (room,) = tmp_path.iterdir()
    assert "Bundle for win_amd64, Python 3.11" in printed and ".\\install.ps1" in printed
    wheels = sorted(path.name for path in (room / "wheels").glob("*.whl"))
    assert any(name.startswith("torch-") and name.endswith("-win_amd64.whl") for name in wheels)
    assert any(name.startswith("colorama-") for name in wheels), "Windows-only dependencies come along"
    assert not [name for name in wheels if "manylinux" in name or name.startswith(("nvidia", "triton", "cuda"))]
    assert b"\r\n" in (room / "install.ps1").read_bytes()
    listed = (room / SUMS).read_text(encoding="utf-8")
    assert f"{sha256_of(room / DESCRIPTION)}  {DESCRIPTION}" in listed
