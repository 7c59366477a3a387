"""Model manifests: the shipped ones, and errors that name the file or list the choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models.factory import build_generator
from sandbox.models.manifests import load_manifests

ROOT = Path(__file__).resolve().parents[2]


def test_default_manifests_name_the_issue_models() -> None:
    manifests = load_manifests(ROOT / "models")
    generator = manifests["smollm2-135m-instruct"]
    embedder = manifests["all-minilm-l6-v2"]
    assert generator.role == "generator" and generator.format == "gguf"
    assert generator.sha256 == "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
    assert embedder.role == "embedder" and embedder.license == "Apache-2.0"
    assert embedder.sha256 == "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def test_an_unknown_model_name_lists_the_choices(monkeypatch) -> None:
    monkeypatch.setenv("PROMPT_SANDBOX_GENERATOR", "gpt-17")
    with pytest.raises(ModelError, match=r"No model manifest named 'gpt-17'.*smollm2-135m-instruct"):
        build_generator(load_settings())


def test_a_broken_manifest_names_its_file(tmp_path, monkeypatch) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "bad.yaml").write_text("name: bad\nrole: painter\n")
    with pytest.raises(ModelError, match=r"bad\.yaml: role"):
        load_manifests(models)
