"""Shared fixtures: a private data folder for every test, the real default models, and small fakes.

The fakes are for focused tests of the UI and of error paths only; every feature
is also proven with the real default models.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.config import Settings, force_offline, load_settings
from sandbox.models.base import Embedder, GenerationRequest, Generator
from sandbox.models.factory import build_embedder, build_generator

from .browsing import CHROMIUM, CHROMIUM_ARGS
from .servers import ModelServer, PostgresServer

ROOT = Path(__file__).resolve().parent.parent
EXERCISES = ROOT / "exercises"

force_offline()


@pytest.fixture(autouse=True)
def private_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test writes its progress database into its own temporary folder."""
    data = tmp_path / "data"
    monkeypatch.setenv("PROMPT_SANDBOX_DATA", str(data))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    for name in (
        "EXERCISES",
        "GENERATOR",
        "EMBEDDER",
        "THRESHOLD",
        "MAX_NEW_TOKENS",
        "MAX_PROMPT_CHARS",
        "DATABASE_URL",
    ):
        monkeypatch.delenv(f"PROMPT_SANDBOX_{name}", raising=False)
    return data


@pytest.fixture
def settings(private_data: Path) -> Settings:
    return load_settings()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole run; CI installs it and sets PROMPT_SANDBOX_TEST_POSTGRES=required."""
    try:
        server = PostgresServer()
    except FileNotFoundError as exc:
        if os.environ.get("PROMPT_SANDBOX_TEST_POSTGRES") == "required":
            raise
        pytest.skip(str(exc))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModelServer]:
    """A real OpenAI-compatible model server (`transformers serve`) on the default weights, for the whole run."""
    server = ModelServer(tmp_path_factory.mktemp("model-server"))
    server.start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> str | Path:
    """Where a test's progress goes: the SQLite file, or a fresh database on the PostgreSQL server."""
    if request.param == "sqlite":
        return settings.database_path
    url = request.getfixturevalue("postgres").new_database()
    monkeypatch.setenv("PROMPT_SANDBOX_DATABASE_URL", url)
    return url


@pytest.fixture(scope="session")
def real_generator() -> Generator:
    """The default language model, loaded once for the whole run."""
    generator = build_generator(load_settings())
    generator.load()
    return generator


@pytest.fixture(scope="session")
def real_embedder(real_generator) -> Embedder:
    """The default embedding model, computing on the language model's thread as in the app."""
    embedder = build_embedder(load_settings(), beside=real_generator)
    embedder.load()
    return embedder


class FakeGenerator(Generator):
    """Answers from a queue of replies (or echoes the prompt); streams word by word."""

    name = "fake-generator"
    fingerprint = "fake00000000"

    def __init__(self, replies: list[str] | None = None, fail_with: Exception | None = None) -> None:
        self.replies = list(replies or [])
        self.fail_with = fail_with
        self.requests: list[GenerationRequest] = []

    def stream(self, request: GenerationRequest) -> Iterator[str]:
        self.requests.append(request)
        if self.fail_with is not None:
            raise self.fail_with
        reply = self.replies.pop(0) if self.replies else f"echo: {request.prompt}"
        yield from re.findall(r"\S+\s*", reply)


class FakeEmbedder(Embedder):
    """A tiny deterministic bag-of-words embedder: same words, similarity 1."""

    name = "fake-embedder"
    fingerprint = "fake11111111"

    def embed(self, texts: list[str]) -> list[list[float]]:
        vectors = []
        for text in texts:
            vector = [0.0] * 64
            for word in re.findall(r"\w+", text.casefold()):
                vector[int(hashlib.md5(word.encode()).hexdigest(), 16) % 64] += 1.0
            norm = math.sqrt(sum(v * v for v in vector)) or 1.0
            vectors.append([v / norm for v in vector])
        return vectors


@pytest.fixture
def write_exercise(tmp_path: Path):
    """Write an exercise file into a temporary exercises folder and return its path."""
    root = tmp_path / "exercises"

    def write(relative: str, text: str) -> Path:
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    write.root = root  # type: ignore[attr-defined]
    return write


def pytest_report_header() -> str:
    return f"prompt-sandbox tests; HF_HUB_OFFLINE={os.environ.get('HF_HUB_OFFLINE')}"


# The browser tests' Chromium (Debian's, headless, offline) and one fresh tab per test.
@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    tab.screenshot(path=str(tmp_path / "last-page.png"))
    context.close()
