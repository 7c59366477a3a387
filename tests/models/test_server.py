"""A model answered by a real OpenAI-compatible server on loopback (`transformers serve` on the default weights).

No mock: the server is a subprocess the tests start and stop; a hung server is a
loopback socket that never answers; a dead one is a port nobody listens on.
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import streamlit as st

from sandbox.classroom.store import Store
from sandbox.config import load_settings
from sandbox.exercises.catalog import load_catalog
from sandbox.grading import grade
from sandbox.models.base import GenerationRequest, Piece
from sandbox.models.factory import build_embedder, build_engine, build_generator
from sandbox.models.manifests import ServerManifest, get_manifest
from sandbox.models.server import ServerError, health, stream_chat
from sandbox.models.service import BusyError
from sandbox.models.status import answering_line, model_health

from ..servers import ModelServer, SilentServer, free_port, models_folder_with
from ..ui.apptest import as_learner

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXERCISES = ROOT / "exercises"
LONG = GenerationRequest("Write a long story about a lighthouse keeper, many paragraphs.", max_new_tokens=200)


def use_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, manifest: str) -> ServerManifest:
    """A models folder with the default manifests plus a server manifest, chosen as the generator."""
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(models_folder_with(tmp_path, manifest)))
    monkeypatch.setenv("PROMPT_SANDBOX_GENERATOR", "class-server")
    found = get_manifest(load_settings(), "class-server", "generator")
    assert isinstance(found, ServerManifest)
    return found


def test_a_graded_run_through_the_server_passes_and_is_the_same_every_time(
    model_server, tmp_path, monkeypatch, real_embedder
) -> None:
    use_server(tmp_path, monkeypatch, model_server.manifest())
    settings = load_settings()
    generator = build_generator(settings)
    exercise = load_catalog(EXERCISES).find("out-of-office-reply")
    first = grade(exercise, exercise.solution or "", generator, real_embedder, settings)
    second = grade(exercise, exercise.solution or "", generator, real_embedder, settings)
    assert first.passed, [c.feedback for c in first.cases]
    assert first.generator == "class-server"
    assert [c.output for c in first.cases] == [c.output for c in second.cases]  # greedy: reproducible
    assert answering_line(settings) == (
        f"Answers come from SmolLM2 on the class server, on the model server at {model_server.base_url}."
    )
    assert model_health(settings) == (
        True,
        f"The model server at {model_server.base_url} answers and serves '{model_server.model}'.",
    )


def test_the_server_answers_as_the_same_weights_do_here(model_server, tmp_path, monkeypatch) -> None:
    """The server runs the app's own prepared weights in float32 through transformers: the same answers here."""
    engine = build_engine(load_settings().with_overrides(dtype="float32"))
    manifest = use_server(tmp_path, monkeypatch, model_server.manifest())
    requests = [
        GenerationRequest("Name three colors."),
        GenerationRequest("Translate to French: good morning", system="Answer in one line."),
        GenerationRequest("What is 2 + 2?", max_new_tokens=12),
    ]
    for request in requests:
        assert "".join(stream_chat(manifest, request, lambda: False)) == engine.generate(request)


def test_answers_stream_in_pieces_and_cancel_stops_them(model_server, tmp_path, monkeypatch) -> None:
    manifest = use_server(tmp_path, monkeypatch, model_server.manifest())
    whole = list(stream_chat(manifest, LONG, lambda: False))
    assert len(whole) > 20  # pieces arrive one by one, not as one block at the end
    stop = threading.Event()
    pieces = []
    for piece in stream_chat(manifest, LONG, stop.is_set):
        pieces.append(piece)
        if len(pieces) == 3:
            stop.set()
    assert len(pieces) == 3
    assert "".join(stream_chat(manifest, GenerationRequest("Name three colors."), lambda: False))  # still serving


def test_the_queue_keeps_one_run_per_learner(model_server, tmp_path, monkeypatch) -> None:
    use_server(tmp_path, monkeypatch, model_server.manifest())
    generator = build_generator(load_settings())
    running = generator.stream_many([LONG], owner="Ana")
    assert next(running).ahead == 0
    with pytest.raises(BusyError, match="You already have a run going"):
        next(generator.stream_many([LONG], owner="Ana"))
    first_piece = next(e for e in running if isinstance(e, Piece))
    assert first_piece.text
    running.close()  # Ana leaves: her run is cancelled and she may run again
    answer = "".join(
        e.text for e in generator.stream_many([GenerationRequest("Hi!")], owner="Ana") if isinstance(e, Piece)
    )
    assert answer


def test_a_wrong_model_name_is_named_in_the_message(model_server, tmp_path, monkeypatch) -> None:
    manifest = use_server(tmp_path, monkeypatch, model_server.manifest().replace(model_server.model, "no-such-model"))
    with pytest.raises(ServerError, match="does not serve a model named 'no-such-model'") as caught:
        list(stream_chat(manifest, GenerationRequest("Hi"), lambda: False))
    assert "This run was not graded and does not count." in str(caught.value)


def test_a_server_that_is_down_gets_a_clear_message(tmp_path, monkeypatch) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    manifest = use_server(
        tmp_path,
        monkeypatch,
        f"name: class-server\nrole: generator\nformat: openai\nserver:\n  base_url: {url}\n  model: m\n",
    )
    with pytest.raises(ServerError, match=f"The model server at {url} is not answering"):
        list(stream_chat(manifest, GenerationRequest("Hi"), lambda: False))
    ok, line = health(manifest)
    assert not ok and url in line


def test_a_server_that_hangs_times_out(tmp_path, monkeypatch) -> None:
    silent = SilentServer()
    try:
        manifest = use_server(
            tmp_path,
            monkeypatch,
            f"name: class-server\nrole: generator\nformat: openai\nserver:\n  base_url: {silent.base_url}\n"
            "  model: m\n  timeout_s: 1\n",
        )
        with pytest.raises(ServerError, match="took longer than 1 s to answer"):
            list(stream_chat(manifest, GenerationRequest("Hi"), lambda: False))
    finally:
        silent.close()


def test_a_server_that_dies_mid_answer_gives_a_clear_error(tmp_path, monkeypatch) -> None:
    server = ModelServer(tmp_path)
    server.start()
    try:
        manifest = use_server(tmp_path, monkeypatch, server.manifest())
        pieces = []
        with pytest.raises(ServerError, match="stopped in the middle of an answer"):
            for piece in stream_chat(manifest, LONG, lambda: False):
                pieces.append(piece)
                if len(pieces) == 2:
                    server.kill()
        assert len(pieces) < 50
    finally:
        server.stop()


def test_a_run_the_server_cannot_answer_is_kept_as_not_graded(tmp_path, monkeypatch, real_embedder) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    use_server(
        tmp_path,
        monkeypatch,
        f"name: class-server\nrole: generator\nformat: openai\nserver:\n  base_url: {url}\n  model: m\n",
    )
    st.cache_resource.clear()
    at = as_learner("Ana", exercise="sentiment-label")
    at.default_timeout = 60
    at.switch_page("views/practice.py").run()
    at.text_area(key="prompt::sentiment-label").input("Is this review positive or negative? {input}")
    at.button(key="run").click().run()
    assert any(f"The model server at {url} is not answering" in e.value for e in at.error)
    assert "This run is kept as not graded: it does not count against you." in [c.value for c in at.caption]
    store = Store(load_settings().database_path)
    ana = store.learner("Ana")
    assert store.attempts(ana, "sentiment-label") == []
    [kept] = store.ungraded_runs()
    assert kept.prompt == "Is this review positive or negative? {input}" and kept.generator == "class-server"
    st.cache_resource.clear()


def test_check_solve_runs_against_the_server_and_records_its_name(model_server, tmp_path, monkeypatch) -> None:
    use_server(tmp_path, monkeypatch, model_server.manifest())
    exercises = tmp_path / "exercises"
    exercises.mkdir()
    shutil.copy(EXERCISES / "getting-started" / "sentiment-label.yaml", exercises)
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "check", "--solve", str(exercises), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=600,
    )
    payload = json.loads(result.stdout)
    assert payload["generator"] == "class-server", result.stderr
    [report] = payload["exercises"]
    assert report["solution_passed"] is True and len(report["variants"]) == 4  # the variants ran there too
    assert [flag for flag in report["flags"] if flag != "brittle"] == []  # robustness is reported, not required yet


def test_bench_measures_the_server_beside_the_local_service(model_server, tmp_path, monkeypatch) -> None:
    use_server(tmp_path, monkeypatch, model_server.manifest())
    monkeypatch.delenv("PROMPT_SANDBOX_GENERATOR")  # the bench's own figures are the local model's
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "bench", "--runs", "1", "--learners", "3", "--server", "class-server"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert any(
        line.startswith("model server 'class-server': grade the 3-case exercise 'order-number'") for line in lines
    )
    assert any(line.startswith("model server 'class-server': verdict latency p95") for line in lines)
    ratio = next(line for line in lines if line.startswith("ratio: class tokens per second, model server /"))
    assert float(ratio.rsplit("= ", 1)[1].rstrip("x")) > 0
    assert any(
        re.fullmatch(r"model server 'class-server': \d+ of \d+ class answers differ from this app's own model's", line)
        for line in lines
    )


class EmbeddingsHandler(http.server.BaseHTTPRequestHandler):
    """/v1/embeddings over real HTTP, with vectors from the real MiniLM (scaled and out of order, as servers may)."""

    embedder = None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if body["model"] != "minilm":
            self.send_response(404)
            payload = {"error": {"message": f"model '{body['model']}' not found"}}
        else:
            vectors = self.embedder.embed(body["input"])
            data = [{"index": i, "embedding": [3 * x for x in v]} for i, v in enumerate(vectors)][::-1]
            self.send_response(200)
            payload = {"object": "list", "data": data}
        raw = json.dumps(payload).encode()
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def test_an_embedder_on_a_server_scores_like_the_local_one(tmp_path, monkeypatch, real_embedder) -> None:
    """No OpenAI-compatible embeddings server installs here without compiling, so a loopback one serves MiniLM."""
    EmbeddingsHandler.embedder = real_embedder
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), EmbeddingsHandler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
        manifest = f"name: minilm-server\nrole: embedder\nformat: openai\nserver:\n  base_url: {url}\n  model: minilm\n"
        models = models_folder_with(tmp_path, manifest, name="minilm-server")
        (models / "wrong.yaml").write_text(
            manifest.replace("minilm-server", "wrong").replace("model: minilm", "model: nope")
        )
        monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(models))
        remote = build_embedder(load_settings().with_overrides(embedder="minilm-server"))
        texts = ["The parcel arrived late.", "", "Thank you for your order!"]
        for ours, theirs in zip(remote.embed(texts), real_embedder.embed([t or " " for t in texts]), strict=True):
            assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 1e-6
        with pytest.raises(ServerError, match="does not serve a model named 'nope'"):
            build_embedder(load_settings().with_overrides(embedder="wrong")).embed(["hi"])
        # a server's embedder that reads Chinese (a bge-m3, say) can score the Chinese exercises
        (models / "zh-server.yaml").write_text(manifest.replace("minilm-server", "zh-server") + "languages: [zh, en]\n")
        both = build_embedder(load_settings().with_overrides(multilingual_embedder="zh-server"))
        assert (both.for_language("zh").name, both.for_language("en").name) == ("zh-server", "all-minilm-l6-v2")
    finally:
        httpd.shutdown()
