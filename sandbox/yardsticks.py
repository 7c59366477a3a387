"""The yardsticks ``prompt-sandbox bench`` measures the app against: plain transformers, one request
at a time (the naive path), and llama.cpp on the same GGUF file (the optional ``bench`` extra)."""

from __future__ import annotations

import os
import time

from .config import Settings
from .models.base import GenerationRequest
from .models.engine import TransformersGenerator
from .models.manifests import local_manifest
from .models.weights import source_folder


def naive_answers(engine: TransformersGenerator, requests: list[GenerationRequest]) -> tuple[list[str], float, int]:
    """The plain path: one request at a time, one generate call each. Answers, seconds, tokens."""
    started = time.perf_counter()
    answers = [engine.generate(r) for r in requests]
    seconds = time.perf_counter() - started
    return answers, seconds, sum(engine.count_tokens(a) for a in answers)


def llama_cpp_answers(settings: Settings, requests: list[GenerationRequest]) -> tuple[float, int]:
    """llama.cpp on the same GGUF, one request at a time (greedy). Seconds and generated tokens."""
    from llama_cpp import Llama  # the optional `bench` extra

    manifest = local_manifest(settings, settings.generator, "generator")
    path = source_folder(manifest, settings.models_dir) / manifest.source.file
    llm = Llama(str(path), n_ctx=manifest.context_length, n_threads=os.cpu_count(), verbose=False, seed=0)
    llm.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=4, temperature=0.0)  # warm-up
    started = time.perf_counter()
    tokens = 0
    for r in requests:
        messages = ([{"role": "system", "content": r.system}] if r.system else []) + [
            {"role": "user", "content": r.prompt}
        ]
        out = llm.create_chat_completion(messages, max_tokens=r.max_new_tokens, temperature=0.0, top_k=1)  # type: ignore[arg-type]
        tokens += int(out["usage"]["completion_tokens"])  # type: ignore[index,call-overload]
    return time.perf_counter() - started, tokens
