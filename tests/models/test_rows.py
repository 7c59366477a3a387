"""A running batch's rows, with the real default model's tokenizer: the text a job receives."""

from __future__ import annotations

from transformers import AutoTokenizer

from sandbox.models.base import GenerationRequest
from sandbox.models.manifests import get_manifest
from sandbox.models.rows import Row
from sandbox.models.weights import ensure_ready


class Job:
    """Collects what a row hands on, as the batching service's job does."""

    def __init__(self, max_new_tokens: int) -> None:
        self.request = GenerationRequest(prompt="", max_new_tokens=max_new_tokens)
        self.pieces: list[str] = []
        self.finished = False

    def stopped(self) -> bool:
        return False

    def emit(self, text: str) -> None:
        self.pieces.append(text)

    def finish(self) -> None:
        self.finished = True


def test_an_answer_cut_inside_a_character_ends_before_it_never_with_a_replacement_mark(settings) -> None:
    folder = ensure_ready(get_manifest(settings, settings.generator, "generator"), settings, progress=lambda m: None)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    ids = tokenizer("OK 📦 ready", add_special_tokens=False)["input_ids"]
    cut = next(n for n in range(1, len(ids)) if tokenizer.decode(ids[:n]).endswith("\ufffd"))
    job = Job(max_new_tokens=cut)
    row = Row(job, tokenizer, eos_ids=set())
    for token in ids[:cut]:
        row.add(token)
    assert row.closed and job.finished, "the row ends at its length limit"
    assert "".join(job.pieces) == "OK ", "the bytes of the half-written emoji are left out"
