"""A model hub on loopback that answers the way the Hugging Face hub does, for the download tests.

It serves a folder of files as one repository at one revision:
``HEAD|GET /{repo}/resolve/{revision}/{file}`` with the hub's headers
(``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag`` and ``X-Linked-Size`` for large
files), byte ranges for resumed downloads, and the hub's ``X-Error-Code`` on a
404. It records every request, and can stall a download part way (as a
dropped connection or a killed process leaves it).
"""

from __future__ import annotations

import hashlib
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ..servers import free_port

LARGE = 10 * 1024 * 1024
"""Files from this size on are 'LFS' files, named by their sha256 like on the hub."""


class Hub:
    def __init__(self, folder: Path, repo: str, revision: str) -> None:
        self.folder, self.repo, self.revision = folder, repo, revision
        self.requests: list[tuple[str, str, str]] = []
        """(method, path, Range header) of every request."""
        self.sent: dict[str, int] = {}
        """Bytes of each file sent so far."""
        self.stall_after: int | None = None
        """Send this many bytes of the first large GET, then hang until stopped."""
        self._etags: dict[str, str] = {}
        self.port = free_port()
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Hub:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def etag(self, path: Path) -> str:
        if path.name not in self._etags:
            data = path.read_bytes()
            large = len(data) >= LARGE
            self._etags[path.name] = hashlib.sha256(data).hexdigest() if large else hashlib.sha1(data).hexdigest()
        return self._etags[path.name]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                self._answer(body=False)

            def do_GET(self) -> None:
                self._answer(body=True)

            def _fail(self, status: int, code: str) -> None:
                self.send_response(status)
                self.send_header("X-Error-Code", code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def _answer(self, body: bool) -> None:
                hub.requests.append((self.command, self.path, self.headers.get("Range", "")))
                prefix = f"/{hub.repo}/resolve/"
                if not self.path.startswith(prefix):
                    return self._fail(404, "RepoNotFound")
                revision, _, name = self.path[len(prefix) :].partition("/")
                if revision != hub.revision:
                    return self._fail(404, "RevisionNotFound")
                path = hub.folder / name
                if not name or not path.is_file():
                    return self._fail(404, "EntryNotFound")
                size = path.stat().st_size
                start = 0
                wanted = self.headers.get("Range", "")
                if wanted.startswith("bytes=") and wanted[6:].split("-")[0]:
                    start = int(wanted[6:].split("-")[0])
                self.send_response(206 if start else 200)
                self.send_header("X-Repo-Commit", hub.revision)
                self.send_header("ETag", f'"{hub.etag(path)}"')
                if size >= LARGE:
                    self.send_header("X-Linked-Etag", f'"{hub.etag(path)}"')
                    self.send_header("X-Linked-Size", str(size))
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Content-Length", str(size - start))
                if start:
                    self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
                self.end_headers()
                if body:
                    self._send(path, start, size)

            def _send(self, path: Path, start: int, size: int) -> None:
                stall = hub.stall_after if size >= LARGE else None
                if stall is not None:
                    hub.stall_after = None  # only the first large download stalls
                with open(path, "rb") as stream:
                    stream.seek(start)
                    position = start
                    while position < size:
                        if stall is not None and position - start >= stall:
                            while not hub._stopping.wait(0.1):
                                pass  # hold the connection open, sending nothing
                            return
                        block = stream.read(1 << 20)
                        try:
                            self.wfile.write(block)
                        except OSError:
                            return
                        position += len(block)
                        hub.sent[path.name] = hub.sent.get(path.name, 0) + len(block)
                        if stall is not None:
                            time.sleep(0.01)

        return Handler
