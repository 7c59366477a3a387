"""The real app in a subprocess and headless Debian Chromium, shared by the browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from .servers import free_port

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (make test installs it)"
)


class Server:
    """`prompt-sandbox serve` in a subprocess; its PID is kept and it is terminated at the end."""

    def __init__(self, data: Path, env: dict[str, str] | None = None) -> None:
        self.data = data
        self.env = env or {}
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log = data.parent / f"server-{self.port}.log"
        self.log.parent.mkdir(parents=True, exist_ok=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {
            **os.environ,
            "PROMPT_SANDBOX_DATA": str(self.data),
            "PROMPT_SANDBOX_INSTRUCTOR_PASSCODE": "teach-42",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **self.env,
        }
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "sandbox.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"the app did not start; see {self.log}:\n{self.log.read_text()}")

    def kill(self) -> None:
        """The process dies at once (a crash, or its machine switched off)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None


def sign_in(page, url: str, name: str) -> None:
    """Type the name and press Start; retried because a first page may still be re-rendering."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url)
    page.get_by_role("heading", name="Practise writing prompts").wait_for()
    for _ in range(3):
        page.get_by_label("Your name").fill(name)
        page.get_by_role("button", name="Start").click()
        try:
            page.get_by_text(f"Signed in as {name}").wait_for(timeout=30_000)
            return
        except PlaywrightTimeout:
            continue
    page.get_by_text(f"Signed in as {name}").wait_for()


def open_exercise(page, title: str) -> None:
    """Click the exercise's link once the page shows it for the signed-in learner (not a stale one from before)."""
    page.locator("a[href*='learner=']", has_text=title).first.click()
