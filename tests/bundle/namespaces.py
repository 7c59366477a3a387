"""A network namespace with no network at all, for the offline-install tests (needs root, as CI has)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

needs_namespaces = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None or shutil.which("nsenter") is None,
    reason="a network namespace needs root with unshare and nsenter (CI runs as root)",
)


class NoNetwork:
    """A namespace with only its own loopback, held open by a sleeping process; commands enter it with nsenter.

    They run with the environment of a fresh classroom computer: a new home folder (no pip, Hugging Face or
    Streamlit caches, no settings) and none of this machine's PROMPT_SANDBOX_, PIP_ or HF_ variables.
    """

    def __init__(self, home: Path) -> None:
        home.mkdir(parents=True, exist_ok=True)
        self.env = {"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin", "HOME": str(home), "LANG": "C.UTF-8"}
        self.holder = subprocess.Popen(["unshare", "--net", "sh", "-c", "ip link set lo up && exec sleep 3600"])
        deadline = time.monotonic() + 10
        while "UP" not in self.run(["ip", "-o", "link", "show", "lo"]).stdout:
            if time.monotonic() > deadline:
                raise RuntimeError("the network namespace did not come up")
            time.sleep(0.1)

    def command(self, args: list[str]) -> list[str]:
        return ["nsenter", f"--net=/proc/{self.holder.pid}/ns/net", *args]

    def run(
        self, args: list[str], cwd: Path | None = None, timeout: float = 60, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.command(args),
            cwd=cwd,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def popen(self, args: list[str], cwd: Path, log: Path) -> subprocess.Popen[bytes]:
        """Started in its own process group, so :meth:`stop` ends it with everything it started."""
        with open(log, "ab") as stream:
            return subprocess.Popen(
                self.command(args),
                cwd=cwd,
                env=self.env,
                stdout=stream,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @staticmethod
    def stop(process: subprocess.Popen[bytes]) -> None:
        """End a process from :meth:`popen` and its children (start.sh's app would outlive a plain terminate)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def chromium(self, folder: Path, chromium: str) -> Path:
        """A Chromium that runs inside the namespace (Playwright drives it over pipes, not the network)."""
        wrapper = folder / "chromium-without-network"
        wrapper.write_text(f'#!/bin/sh\nexec {" ".join(self.command([chromium]))} "$@"\n', encoding="utf-8")
        wrapper.chmod(0o755)
        return wrapper

    def close(self) -> None:
        self.holder.kill()
        self.holder.wait()
