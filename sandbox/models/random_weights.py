"""A model's real shape with random weights: its speed measured before (or without) downloading it.

How fast a model answers depends on its configuration (layers, widths, heads,
vocabulary), not on the values of its weights. So ``prompt-sandbox bench
--model NAME --random-weights`` builds the manifest's ``architecture`` with
random weights in bfloat16, with the default model's tokenizer (its token ids
all lie inside any larger vocabulary; the rest of the vocabulary gets zero
weights, so the model writes tokens that can be counted), and measures that. Random weights never
choose to stop, so every answer runs to its token limit: the class figures are
an upper bound of the real model's.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import ModelError
from .manifests import ModelManifest, local_manifest
from .weights import ensure_ready, sha256_file

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "special_tokens_map.json")
SUFFIX = "-random-weights"


def random_model_folder(architecture: dict[str, Any], folder: Path, tokenizer_from: Path, seed: int = 0) -> Path:
    """Write a model of ``architecture`` (a transformers config) with random weights, and a tokenizer, into ``folder``."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    settings = dict(architecture)
    try:
        config = AutoConfig.for_model(settings.pop("model_type"), **settings)
    except (KeyError, ValueError) as exc:
        raise ModelError(f"The architecture {architecture} is not one transformers knows: {exc}") from exc
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
    known = len(AutoTokenizer.from_pretrained(tokenizer_from))
    with torch.no_grad():  # tokens the borrowed tokenizer cannot write score 0, so they are (almost) never chosen
        for table in {id(t): t for t in (model.get_output_embeddings(), model.get_input_embeddings())}.values():
            table.weight[known:] = 0  # and the bench counts what was written; the shapes, so the speed, stay
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    model.save_pretrained(partial)
    for name in TOKENIZER_FILES:
        if (tokenizer_from / name).is_file():
            shutil.copy2(tokenizer_from / name, partial / name)
    shutil.rmtree(folder, ignore_errors=True)
    partial.rename(folder)
    return folder


def with_random_weights(manifest: ModelManifest, settings: Settings, progress: Any = print) -> Path:
    """A models folder in which ``NAME-random-weights`` is ``manifest``'s architecture with random weights.

    The folder holds the real manifests too and shares the model cache, so the
    bench's other models (the embedder) load as usual.
    """
    if not manifest.architecture:
        raise ModelError(
            f"{manifest.manifest_path} gives no architecture, so its speed cannot be measured without its weights; "
            f"pull it (`prompt-sandbox models pull {manifest.name}`) and bench it as it is."
        )
    default = local_manifest(settings, Settings.generator, "generator")
    tokenizer = ensure_ready(default, settings, progress)
    name = manifest.name + SUFFIX
    weights = settings.model_cache_dir / "random-weights" / manifest.name  # not cache/NAME: that is the marker's
    if not (weights / "model.safetensors").is_file():
        progress(
            f"{name}: building {manifest.label}'s architecture with random weights (speed does not depend on them)"
        )
        random_model_folder(manifest.architecture, weights, tokenizer)
    bench_models = settings.model_cache_dir / "bench-models"
    bench_models.mkdir(parents=True, exist_ok=True)
    for path in Path(settings.models_dir).glob("*.yaml"):
        (bench_models / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    link = bench_models / "cache"
    if not link.exists():
        link.symlink_to(settings.model_cache_dir.resolve(), target_is_directory=True)
    (bench_models / f"{name}.yaml").write_text(
        f"name: {name}\nrole: generator\ntitle: {manifest.label} (random weights)\nlicense: {manifest.license}\n"
        f"format: transformers\nsource:\n  path: {weights.resolve()}\n  file: model.safetensors\n"
        f"sha256: '{sha256_file(weights / 'model.safetensors')}'\ncontext_length: {manifest.context_length}\n",
        encoding="utf-8",
    )
    return bench_models
