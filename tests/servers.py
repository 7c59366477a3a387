"""Real servers on loopback for the tests: an OpenAI-compatible model server, and a socket that never answers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from sandbox.config import load_settings
from sandbox.models.manifests import local_manifest
from sandbox.models.weights import ensure_ready

ROOT = Path(__file__).resolve().parent.parent


def models_folder_with(tmp_path: Path, manifest: str, name: str = "class-server") -> Path:
    """A models folder: the default manifests (their prepared weights shared) plus one more manifest."""
    models = tmp_path / "models"
    models.mkdir()
    for path in (ROOT / "models").glob("*.yaml"):
        shutil.copy(path, models)
    (models / "cache").symlink_to(ROOT / "models" / "cache")
    (models / f"{name}.yaml").write_text(manifest, encoding="utf-8")
    return models


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ModelServer:
    """`transformers serve` on the default model's prepared folder: the same weights the app loads.

    Started with ``subprocess.Popen``; its PID is kept and it is terminated by ``stop``.
    """

    def __init__(self, log_dir: Path) -> None:
        settings = load_settings()
        self.folder = ensure_ready(local_manifest(settings, settings.generator, "generator"), settings, lambda m: None)
        self.port = free_port()
        self.log = log_dir / f"model-server-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def model(self) -> str:
        return str(self.folder)

    def manifest(self, name: str = "class-server", **server: object) -> str:
        lines = [f"name: {name}", "role: generator", "title: SmolLM2 on the class server", "format: openai", "server:"]
        settings = {"base_url": self.base_url, "model": self.model, **server}
        lines += [f"  {key}: {value}" for key, value in settings.items()]
        return "\n".join(lines) + "\n"

    def start(self, timeout_s: float = 120) -> None:
        env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        command = [sys.executable, "-m", "transformers.cli.transformers", "serve", self.model]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--device", "cpu", "--dtype", "float32"]
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the model server exited: {self.log.read_text(errors='replace')[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/health", timeout=2) as reply:
                    if reply.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the model server did not start in {timeout_s} s: {self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        """The server dies at once (as when its machine loses power)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)


class SilentServer:
    """A loopback socket that accepts connections and never answers: a hung model server."""

    def __init__(self) -> None:
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(16)
        self.port = int(self.socket.getsockname()[1])
        self.clients: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.socket.accept()
            except OSError:
                return
            self.clients.append(client)

    def close(self) -> None:
        self.socket.close()
        for client in self.clients:
            client.close()


class PostgresServer:
    """A throwaway PostgreSQL cluster on loopback (Debian's package), with a fresh database per test.

    Started with ``pg_ctl``; ``stop`` shuts it down and removes its files.
    """

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not found:
            raise FileNotFoundError("PostgreSQL is not installed (apt-get install -y postgresql)")
        self.bin = found[-1].parent
        self.root = Path(tempfile.mkdtemp(prefix="sandbox-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.count = 0
        self._as_postgres = os.geteuid() == 0  # initdb refuses to run as root
        if self._as_postgres:
            shutil.chown(self.root, "postgres", "postgres")
            self.root.chmod(0o755)

    def _run(self, *command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        subprocess.run([*prefix, *command], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.root / "log"), "-w", "start"
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        self.count += 1
        name = f"sandbox_{self.count}"
        with psycopg.connect(self.url(), autocommit=True) as db:
            db.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
        shutil.rmtree(self.root, ignore_errors=True)
