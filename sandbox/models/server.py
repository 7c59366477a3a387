"""Models answered by an OpenAI-compatible server (vLLM, Ollama, LM Studio, llama.cpp's server, ...).

A manifest with ``format: openai`` points here instead of at local weights. The
language model streams chat completions (server-sent events); graded runs ask
for temperature 0 and a fixed seed, the playground's settings pass through. The
server batches requests itself, so :class:`ServerEngine` only keeps up to
``parallel`` of them in flight; the generation service in front of it still
gives learners their queue place, one run each and Cancel. Every failure
(server down, too slow, an error reply, an answer cut off) becomes a
:class:`ModelError` written for the learner, and reaches only the request it
belongs to.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any

import requests

from ..errors import ModelError
from ..i18n import N_, _
from .base import BatchJob, Embedder, GenerationRequest
from .manifests import ServerManifest


class ServerError(ModelError):
    """The model server did not give an answer; the run is not graded."""


def _headers(manifest: ServerManifest) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    variable = manifest.server.api_key_env
    if variable:
        key = os.environ.get(variable)
        if not key:
            raise ServerError(
                N_(
                    "The model server needs an API key, but the environment variable {variable} is empty. "
                    "Ask whoever runs the app to set {variable} before starting it."
                ),
                variable=variable,
            )
        headers["Authorization"] = f"Bearer {key}"
    return headers


def _post(manifest: ServerManifest, path: str, body: dict[str, Any], stream: bool) -> requests.Response:
    """POST to the server; any failure to get a 2xx reply becomes a :class:`ServerError`."""
    spec = manifest.server
    url = spec.base_url.rstrip("/") + path
    try:
        response = requests.post(
            url, json=body, headers=_headers(manifest), stream=stream, timeout=(spec.connect_timeout_s, spec.timeout_s)
        )
    except requests.exceptions.ConnectTimeout:
        raise _unreachable(manifest, timed_out=True) from None
    except requests.exceptions.Timeout:
        raise _too_slow(manifest) from None
    except requests.exceptions.RequestException:
        raise _unreachable(manifest, timed_out=False) from None
    if response.status_code >= 400:
        detail = _error_detail(response)
        response.close()
        raise _refused(manifest, response.status_code, detail)
    return response


# The errors below are raised on the threads that talk to the server, where no page's language is known:
# each keeps its English text (N_) and its fields, and is translated where it is read (str(error) on the page).


def _unreachable(manifest: ServerManifest, timed_out: bool) -> ServerError:
    if timed_out:
        return ServerError(
            N_(
                "The model server at {url} is not answering (it did not accept the connection in time). Your prompt "
                "is saved; this run was not graded and does not count. Try again in a minute, and tell your "
                "instructor if it keeps happening."
            ),
            url=manifest.server.base_url,
        )
    return ServerError(
        N_(
            "The model server at {url} is not answering (nothing answers at that address). Your prompt is saved; "
            "this run was not graded and does not count. Try again in a minute, and tell your instructor if it "
            "keeps happening."
        ),
        url=manifest.server.base_url,
    )


def _too_slow(manifest: ServerManifest) -> ServerError:
    return ServerError(
        N_(
            "The model server at {url} took longer than {seconds:g} s to answer. "
            "This run was not graded and does not count. Try again; if the class is busy, wait a little first."
        ),
        url=manifest.server.base_url,
        seconds=manifest.server.timeout_s,
    )


def _refused(manifest: ServerManifest, status: int, detail: str) -> ServerError:
    spec = manifest.server
    url = spec.base_url
    if status in (401, 403):
        if spec.api_key_env:
            return ServerError(
                N_(
                    "The model server at {url} returned an error: it refused the API key (HTTP {status}); check the "
                    "key in {variable}. This run was not graded and does not count."
                ),
                url=url,
                status=status,
                variable=spec.api_key_env,
            )
        return ServerError(
            N_(
                "The model server at {url} returned an error: it refused the API key (HTTP {status}); check the "
                "key in the configuration. This run was not graded and does not count."
            ),
            url=url,
            status=status,
        )
    if status == 404 or f"'{spec.model}'" in detail or f'"{spec.model}"' in detail:
        if manifest.manifest_path:
            return ServerError(
                N_(
                    "The model server at {url} returned an error: it does not serve a model named '{model}' "
                    "(HTTP {status}: {detail}); check `model:` in {manifest}. This run was not graded and does not "
                    "count."
                ),
                url=url,
                model=spec.model,
                status=status,
                detail=detail,
                manifest=manifest.manifest_path,
            )
        return ServerError(
            N_(
                "The model server at {url} returned an error: it does not serve a model named '{model}' "
                "(HTTP {status}: {detail}); check `model:` in the manifest. This run was not graded and does not "
                "count."
            ),
            url=url,
            model=spec.model,
            status=status,
            detail=detail,
        )
    if status == 400:
        return ServerError(
            N_(
                "The model server at {url} returned an error: it could not take this request (HTTP 400: {detail}); "
                "a shorter prompt may help. This run was not graded and does not count."
            ),
            url=url,
            detail=detail,
        )
    return ServerError(
        N_(
            "The model server at {url} returned an error: HTTP {status}: {detail}. "
            "This run was not graded and does not count."
        ),
        url=url,
        status=status,
        detail=detail,
    )


def _error_detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200].strip() or response.reason
    error = body.get("error", body) if isinstance(body, dict) else body
    if isinstance(error, dict):
        error = error.get("message") or error.get("detail") or error
    return str(error)[:300]


def chat_messages(request: GenerationRequest) -> list[dict[str, str]]:
    messages = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    messages.append({"role": "user", "content": request.prompt})
    return messages


def chat_body(manifest: ServerManifest, request: GenerationRequest) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": manifest.server.model,
        "messages": chat_messages(request),
        "stream": True,
        "max_tokens": request.max_new_tokens,
        "temperature": request.temperature,
        "seed": request.seed,
    }
    if request.temperature > 0:
        body["top_p"] = request.top_p
    if request.prefill:
        # The answer's start goes as the last assistant message: llama.cpp's server and Ollama continue it;
        # vLLM does when asked to (continue_final_message in the manifest).
        body["messages"].append({"role": "assistant", "content": request.prefill})
        if manifest.server.continue_final_message:
            body["continue_final_message"] = True
            body["add_generation_prompt"] = False
    return body


def stream_chat(manifest: ServerManifest, request: GenerationRequest, stopped: Callable[[], bool]) -> Iterator[str]:
    """The answer's text in pieces, as the server sends them; ends early when ``stopped()`` turns true."""
    response = _post(manifest, "/chat/completions", chat_body(manifest, request), stream=True)
    finished = False
    try:
        for raw in response.iter_lines(decode_unicode=False):
            if stopped():
                return
            line = raw.decode("utf-8", errors="replace").strip()
            if not line.startswith("data:"):
                continue
            data = line[5:].strip()
            if data == "[DONE]":
                finished = True
                break
            try:
                chunk = json.loads(data)
            except ValueError:
                continue
            if "error" in chunk:
                raise _refused(manifest, 500, str(chunk["error"])[:300])
            for choice in chunk.get("choices") or []:
                text = (choice.get("delta") or {}).get("content")
                if text:
                    yield text
                if choice.get("finish_reason"):
                    finished = True
    except requests.exceptions.ConnectionError as exc:
        if "timed out" in str(exc).lower():
            raise _too_slow(manifest) from None
        raise _cut_off(manifest) from None
    except requests.exceptions.RequestException:
        raise _cut_off(manifest) from None
    finally:
        response.close()
    if not finished and not stopped():
        raise _cut_off(manifest)


def _cut_off(manifest: ServerManifest) -> ServerError:
    return ServerError(
        N_(
            "The model server at {url} stopped in the middle of an answer. "
            "This run was not graded and does not count; press Run again."
        ),
        url=manifest.server.base_url,
    )


def health(manifest: ServerManifest) -> tuple[bool, str]:
    """Whether the server answers and serves the model, in words for the instructor page (in its language)."""
    spec = manifest.server
    try:
        response = requests.get(
            spec.base_url.rstrip("/") + "/models", headers=_headers(manifest), timeout=(spec.connect_timeout_s, 5)
        )
        response.raise_for_status()
        served = [m.get("id", "") for m in response.json().get("data", [])]
    except ServerError as exc:
        return False, str(exc)
    except (requests.RequestException, ValueError, AttributeError) as exc:
        return False, _("The model server at {url} does not answer: {error}.").format(
            url=spec.base_url, error=type(exc).__name__
        )
    if served and spec.model not in served:
        return False, _("The model server at {url} answers but lists {served}, not '{model}'.").format(
            url=spec.base_url, served=", ".join(served), model=spec.model
        )
    return True, _("The model server at {url} answers and serves '{model}'.").format(
        url=spec.base_url, model=spec.model
    )


class ServerEngine:
    """The generation service's engine for a model server: requests go out in parallel, the server batches."""

    loaded = True

    def __init__(self, manifest: ServerManifest) -> None:
        self.manifest = manifest
        self.name = manifest.name
        self.fingerprint = manifest.fingerprint
        self.parallel = manifest.server.parallel

    def load(self) -> None:
        """Nothing to load: the server holds the model."""

    def encode(self, request: GenerationRequest) -> list[int]:
        return []  # the server tokenises; its reply tells if a prompt is too long

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def health(self) -> tuple[bool, str]:
        return health(self.manifest)

    def _answer(self, job: BatchJob) -> None:
        try:
            for text in stream_chat(self.manifest, job.request, job.stopped):
                job.emit(text)
        except Exception as exc:
            job.fail(exc)
        else:
            job.finish()

    def run_batch(self, jobs: list[BatchJob]) -> None:
        self.run_continuous(_once(jobs), len(jobs))

    def run_continuous(self, admit: Callable[[int], list[BatchJob]], capacity: int) -> None:
        """Keep up to ``capacity`` requests at the server, admitting more as answers end."""
        room = min(capacity, self.parallel)
        running: set[Future[None]] = set()
        with ThreadPoolExecutor(max_workers=room, thread_name_prefix=f"server-{self.name}") as pool:
            while True:
                for job in admit(room - len(running)):
                    running.add(pool.submit(self._answer, job))
                if not running:
                    return
                running = wait(running, timeout=0.05, return_when=FIRST_COMPLETED).not_done


def _once(jobs: list[BatchJob]) -> Callable[[int], list[BatchJob]]:
    left = list(jobs)
    lock = threading.Lock()

    def admit(room: int) -> list[BatchJob]:
        with lock:
            taken, left[:] = left[:room], left[room:]
            return taken

    return admit


class ServerEmbedder(Embedder):
    """Embeddings from the server's /v1/embeddings, normalised here so a dot product is the cosine."""

    def __init__(self, manifest: ServerManifest) -> None:
        self.manifest = manifest
        self.name = manifest.name
        self.fingerprint = manifest.fingerprint
        self.languages = tuple(manifest.languages)

    def embed(self, texts: list[str]) -> list[list[float]]:
        body = {"model": self.manifest.server.model, "input": [t or " " for t in texts]}
        response = _post(self.manifest, "/embeddings", body, stream=False)
        try:
            rows = sorted(response.json()["data"], key=lambda row: row["index"])
            vectors = [list(map(float, row["embedding"])) for row in rows]
        except (ValueError, KeyError, TypeError) as exc:
            raise ServerError(
                N_("The embedding server at {url} sent a reply the app cannot read ({error})."),
                url=self.manifest.server.base_url,
                error=exc,
            ) from None
        if len(vectors) != len(texts):
            raise ServerError(
                N_("The embedding server at {url} sent the wrong number of vectors."), url=self.manifest.server.base_url
            )
        return [_unit(v) for v in vectors]


def _unit(vector: list[float]) -> list[float]:
    length = sum(x * x for x in vector) ** 0.5
    return [x / length for x in vector] if length else vector
