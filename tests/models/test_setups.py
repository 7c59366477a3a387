"""The fastest fair setup per computer: measured on the real default model, natively and held to AVX2
(as most classroom PCs are), remembered, and overridden by PROMPT_SANDBOX_DTYPE."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sandbox import i18n
from sandbox.config import load_settings
from sandbox.errors import ModelError
from sandbox.models import setups
from sandbox.models.factory import build_engine
from sandbox.models.manifests import local_manifest
from sandbox.models.setups import SetupFigure, decide

ROOT = Path(__file__).resolve().parents[2]
FIGURE = re.compile(r"^  (float32|bfloat16): ([\d.]+) tok/s in one batch of (\d+), (fair|NOT fair.*)$")


def test_the_fastest_fair_setup_is_chosen_and_an_unfair_one_never() -> None:
    slow, fast = SetupFigure("float32", 90.0, 0, 12), SetupFigure("bfloat16", 150.0, 0, 12)
    assert decide((slow, fast), "now").dtype == "bfloat16"
    unfair = SetupFigure("bfloat16", 300.0, 2, 12)
    choice = decide((slow, unfair), "now")
    assert choice.dtype == "float32" and "NOT fair: 2 of 12 answers differ alone" in "\n".join(choice.lines())
    assert decide((SetupFigure("float32", 9.0, 1, 12), unfair), "now").dtype == "float32"  # the plain reference


def test_a_number_type_set_by_the_instructor_is_used_without_measuring(monkeypatch) -> None:
    def never(*args: object) -> SetupFigure:
        raise AssertionError("measured although PROMPT_SANDBOX_DTYPE was set")

    monkeypatch.setattr(setups, "measure", never)
    settings = load_settings().with_overrides(dtype="float32")
    choice = setups.chosen(local_manifest(settings, settings.generator, "generator"), settings)
    assert choice.dtype == "float32" and choice.why == "set by PROMPT_SANDBOX_DTYPE"


def test_figures_measured_earlier_on_this_computer_are_read_not_measured_again(monkeypatch, tmp_path) -> None:
    settings = load_settings().with_overrides(models_dir=tmp_path, dtype="auto")
    manifest = local_manifest(load_settings(), load_settings().generator, "generator")
    (tmp_path / "cache").mkdir()
    key = setups.machine_key(manifest, settings)
    figures = [SetupFigure("float32", 120.0, 0, 12).__dict__, SetupFigure("bfloat16", 80.0, 0, 12).__dict__]
    (tmp_path / "cache" / "setups.json").write_text(json.dumps({key: figures}))
    monkeypatch.setattr(setups, "measure_apart", lambda *args: pytest.fail("measured again"))
    choice = setups.chosen(manifest, settings)
    assert (choice.dtype, choice.why) == ("float32", "the fastest fair one, measured on this computer earlier")
    setups.forget(manifest, settings)
    assert json.loads((tmp_path / "cache" / "setups.json").read_text()) == {}


def test_figures_with_a_setup_this_version_cannot_run_are_measured_again(monkeypatch, tmp_path) -> None:
    """Another version of the app may have measured a setup this one does not have: it must never be chosen."""
    settings = load_settings().with_overrides(models_dir=tmp_path, dtype="auto")
    manifest = local_manifest(load_settings(), load_settings().generator, "generator")
    (tmp_path / "cache").mkdir()
    old = [SetupFigure("float32", 60.0, 0, 12).__dict__, SetupFigure("int4", 500.0, 0, 12).__dict__]
    (tmp_path / "cache" / "setups.json").write_text(json.dumps({setups.machine_key(manifest, settings): old}))
    measured: list[str] = []

    def measure_apart(manifest, settings) -> tuple[SetupFigure, ...]:
        measured.extend(setups.CANDIDATES)
        return tuple(SetupFigure(dtype, 100.0 if dtype == "bfloat16" else 50.0, 0, 12) for dtype in setups.CANDIDATES)

    monkeypatch.setattr(setups, "measure_apart", measure_apart)
    choice = setups.chosen(manifest, settings)
    assert measured == list(setups.CANDIDATES)
    assert (choice.dtype, choice.why) == ("bfloat16", "the fastest fair one, measured on this computer now")


def test_a_measurement_that_fails_says_how_to_run_without_it(monkeypatch) -> None:
    """The candidates are measured in a child process; if it dies, the message names the cause and the way out."""
    monkeypatch.setattr(setups, "CHILD", "import sys; sys.exit('RuntimeError: oneDNN could not allocate')")
    settings = load_settings().with_overrides(dtype="auto")
    with pytest.raises(ModelError) as error:
        setups.measure_apart(local_manifest(settings, settings.generator, "generator"), settings)
    assert "RuntimeError: oneDNN could not allocate" in str(error.value)
    assert "PROMPT_SANDBOX_DTYPE=float32" in str(error.value)


def test_a_model_that_cannot_load_gives_the_same_error_from_the_measurement(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "models" / "broken"
    folder.mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(b"not weights")
    sha = hashlib.sha256(b"not weights").hexdigest()
    (tmp_path / "models" / "broken.yaml").write_text(
        "name: broken\nrole: generator\nlicense: MIT\nformat: transformers\n"
        f"source: {{path: broken, file: model.safetensors}}\nsha256: {sha}\n"
    )
    monkeypatch.setenv("PROMPT_SANDBOX_MODELS", str(tmp_path / "models"))
    settings = load_settings().with_overrides(dtype="auto", generator="broken")
    with pytest.raises(ModelError, match=r"(?s)The language model 'broken' failed to load.*models verify") as error:
        setups.measure_apart(local_manifest(settings, "broken", "generator"), settings)
    with i18n.speaking("zh"):
        assert "broken" in str(error.value) and "failed to load" not in str(error.value)


def test_the_child_measures_with_the_settings_it_was_given(monkeypatch, tmp_path) -> None:
    settings = load_settings().with_overrides(dtype="auto", batch_size=8, data_dir=tmp_path, threshold=0.6)
    seen: list[tuple[str, object]] = []
    monkeypatch.setattr(
        setups, "measure", lambda manifest, given, dtype: seen.append((dtype, given)) or SetupFigure(dtype, 1.0, 0, 12)
    )
    order = json.dumps({"manifest": settings.generator, "settings": {k: str(v) for k, v in settings.__dict__.items()}})
    assert [figure["dtype"] for figure in setups.measure_here(order)] == list(setups.CANDIDATES)
    assert all(given == settings for _, given in seen)


def setup_lines(env: dict[str, str]) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "models", "setup", "--again"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


@pytest.mark.slow
@pytest.mark.parametrize(
    "isa",
    [{}, {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}],
    ids=["this CPU", "held to AVX2"],
)
def test_both_setups_are_fair_here_and_the_faster_is_chosen(isa) -> None:
    lines = setup_lines(isa)
    if isa:
        assert "(torch AVX2, oneDNN up to AVX2)" in lines[0]
    figures = {m[1]: (float(m[2]), m[4]) for m in map(FIGURE.match, lines) if m}
    assert set(figures) == {"float32", "bfloat16"}, lines
    assert all(fairness == "fair" for _, fairness in figures.values()), lines  # 0 answers differ alone
    faster = max(figures, key=lambda dtype: figures[dtype][0])
    assert f"setup: {faster} (the fastest fair one, measured on this computer now)" in lines


@pytest.mark.slow
def test_the_engine_left_to_choose_loads_in_the_remembered_setup() -> None:
    settings = load_settings().with_overrides(dtype="auto")
    manifest = local_manifest(settings, settings.generator, "generator")
    remembered = setups.chosen(manifest, settings).dtype  # measures once if this computer was not measured yet
    engine = build_engine(settings)
    engine.load()
    assert engine.settings.dtype == remembered and str(engine._model.dtype) == f"torch.{remembered}"
