"""The embedder computes the default model's vectors without sentence-transformers, and they are the same."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox.config import load_settings
from sandbox.models.embedders import MeanPooling, SentenceTransformers, mean_pooling_length
from sandbox.models.manifests import get_manifest
from sandbox.models.weights import ensure_ready

TEXTS = [
    "The parcel arrived late and the box was crushed.",
    "",
    "   spaces around   ",
    "Überweisung bis 12.03. — bitte bestätigen 🙂",
    "发货延迟，客户很生气。",
    "word " * 400,  # longer than the model's 256-token limit: both cut it the same way
    "Thank you!",
]


@pytest.fixture(scope="module")
def folder() -> Path:
    settings = load_settings()
    return ensure_ready(get_manifest(settings, settings.embedder, "embedder"), settings, lambda message: None)


def test_the_default_embedder_is_plain_mean_pooling(folder) -> None:
    assert mean_pooling_length(folder) == 256


def test_vectors_match_sentence_transformers(folder) -> None:
    fast = MeanPooling(folder, 256).encode(TEXTS)
    reference = SentenceTransformers(folder).encode(TEXTS)
    for text, ours, theirs in zip(TEXTS, fast, reference, strict=True):
        assert len(ours) == len(theirs) == 384
        assert max(abs(a - b) for a, b in zip(ours, theirs, strict=True)) < 1e-5, text[:40]


def test_a_text_s_vector_does_not_depend_on_the_texts_beside_it(folder) -> None:
    """A score must not move with what else was embedded in the same call (in a padded batch it did, slightly)."""
    model = MeanPooling(folder, 256)
    together = model.encode(TEXTS)
    assert together == [model.encode([text])[0] for text in reversed(TEXTS)][::-1]


def test_scoring_a_verdict_does_not_import_sentence_transformers(folder) -> None:
    script = (
        "import sys, json; from sandbox.config import load_settings; from sandbox.models.factory import build_embedder;"
        "e = build_embedder(load_settings()); v = e.embed(['a cat', 'a kitten']);"
        "print(json.dumps(['sentence_transformers' in sys.modules, sum(x * y for x, y in zip(*v))]))"
    )
    imported, similarity = json.loads(
        subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout.splitlines()[
            -1
        ]
    )
    assert imported is False
    assert 0.5 < similarity < 1.0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d["pooling"].update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True), None),
        (lambda d: d["modules"].pop(), None),
        (lambda d: d["bert"].update(do_lower_case=True), None),
        (lambda d: None, 128),
    ],
)
def test_other_layouts_go_to_sentence_transformers(tmp_path, change, expected) -> None:
    parts = {
        "modules": [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
        "pooling": {"word_embedding_dimension": 8, "pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False},
        "bert": {"max_seq_length": 128, "do_lower_case": False},
    }
    change(parts)
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(json.dumps(parts["modules"]))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(parts["pooling"]))
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps(parts["bert"]))
    assert mean_pooling_length(tmp_path) == expected
