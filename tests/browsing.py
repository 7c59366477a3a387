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

    @property
    def database(self) -> str:
        return self.env.get("PROMPT_SANDBOX_DATABASE_URL") or str(self.data / "progress.sqlite3")

    def enrol(self, name: str, class_code: str = "") -> str:
        """Put ``name`` on the class list as the instructor does, and return the PIN made for them."""
        from sandbox.classroom.roster import Roster
        from sandbox.classroom.store import Store

        roster = Roster(Store(self.database))
        added, problems = roster.add([name], class_code)
        assert not problems, problems
        return roster.new_pin(added[0]).pin

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


def sign_in(page, url: str, name: str, pin: str) -> None:
    """Choose the name in the class list, type the PIN, press Sign in; retried while a first page re-renders."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page.goto(url)
    page.get_by_role("heading", name="Practise writing prompts").wait_for()
    for _ in range(3):
        try:
            page.get_by_label("Your name").click()
            page.keyboard.type(name)  # the list shows the names that match what is typed
            page.get_by_role("option", name=name, exact=False).first.click()
            page.get_by_label("Your PIN").fill(pin)
            page.get_by_role("button", name="Sign in").click()
            page.get_by_text(f"Signed in as {name}").wait_for(timeout=30_000)
            kept_by_browser(page)
            return
        except PlaywrightTimeout:
            page.reload()
    page.get_by_text(f"Signed in as {name}").wait_for()
    kept_by_browser(page)


def kept_by_browser(page, timeout_s: float = 30) -> None:
    """Wait until the browser holds the session's cookie (its script runs just after the page draws)."""
    deadline = time.monotonic() + timeout_s
    while not any(c["name"] == "prompt_sandbox_session" for c in page.context.cookies()):
        if time.monotonic() > deadline:
            raise AssertionError("the browser never kept the session's cookie")
        page.wait_for_timeout(50)


def add_myself(page, url: str, name: str, pin: str) -> None:
    """Where no instructor runs the class list: add the name with a chosen PIN, which signs in."""
    page.goto(url)
    page.get_by_role("heading", name="Practise writing prompts").wait_for()
    page.get_by_text("New here? Add your name").click()
    page.get_by_label("Your name").fill(name)
    page.get_by_label("Choose a PIN (4 to 8 digits)").fill(pin)
    page.get_by_label("The same PIN again").fill(pin)
    page.get_by_role("button", name="Add me").click()
    page.get_by_text(f"Signed in as {name}").wait_for(timeout=60_000)
    kept_by_browser(page)


def open_exercise(page, title: str) -> None:
    """Click the exercise's link on the list of exercises."""
    page.get_by_role("link", name=title).first.click()
