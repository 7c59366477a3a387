"""The instructors' guide is checked against the code: every example loads, every field is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from sandbox.exercises.catalog import load_catalog
from sandbox.exercises.loading import load_exercise_file, load_track_file
from sandbox.exercises.schema import Checks, Exercise

ROOT = Path(__file__).resolve().parent.parent
GUIDE = (ROOT / "exercises" / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```yaml\n(.*?)```", GUIDE, re.DOTALL)
EXERCISE_BLOCKS = [b for b in BLOCKS if "cases:" in b]


def test_the_guide_has_examples() -> None:
    assert len(EXERCISE_BLOCKS) >= 3


@pytest.mark.parametrize("block", EXERCISE_BLOCKS, ids=lambda b: b.splitlines()[0][:40])
def test_every_exercise_example_in_the_guide_loads(tmp_path: Path, block: str) -> None:
    path = tmp_path / "example.yaml"
    path.write_text(block, encoding="utf-8")
    exercise = load_exercise_file(path)
    assert exercise.title and exercise.cases


def test_the_variants_example_loads_with_the_complete_example(tmp_path: Path) -> None:
    [block] = [b for b in BLOCKS if "variants:" in b and "cases:" not in b]
    complete = yaml.safe_load(EXERCISE_BLOCKS[0]) | yaml.safe_load(block)
    path = tmp_path / "example.yaml"
    path.write_text(yaml.safe_dump(complete), encoding="utf-8")
    exercise = load_exercise_file(path)
    assert len(exercise.variants) >= 4 and all("{input}" in v for v in exercise.variants)


def test_the_track_example_loads(tmp_path: Path) -> None:
    [block] = [b for b in BLOCKS if "order:" in b and "cases:" not in b]
    path = tmp_path / "t" / "track.yaml"
    path.parent.mkdir()
    path.write_text(block, encoding="utf-8")
    assert load_track_file(path).title == "Getting started"


def test_the_complete_example_uses_every_headline_field() -> None:
    complete = yaml.safe_load(EXERCISE_BLOCKS[0])
    for name in ("title", "difficulty", "task", "cases", "checks", "threshold", "hints", "solution", "max_new_tokens"):
        assert name in complete


def test_every_field_and_check_is_documented() -> None:
    for name, field in Exercise.model_fields.items():
        if not field.exclude:
            assert f"`{name}`" in GUIDE, f"exercises/README.md does not document the field '{name}'"
    for name in Checks.model_fields:
        if name != "explain":
            assert f"`{name}`" in GUIDE, f"exercises/README.md does not document the check '{name}'"


WORKED = [b for b in EXERCISE_BLOCKS if "solution:" in b]


@pytest.mark.slow
@pytest.mark.parametrize("block", WORKED, ids=lambda b: b.splitlines()[0][:40])
def test_worked_examples_in_the_guide_pass_check_solve(
    tmp_path, block, real_generator, real_embedder, settings
) -> None:
    from sandbox.authoring.solvability import solve

    path = tmp_path / "worked.yaml"
    path.write_text(block, encoding="utf-8")
    report = solve(load_exercise_file(path), real_generator, real_embedder, settings)
    assert report.solution_passed, report.failed_cases
    assert not report.blocking, report.to_json()


def test_the_guide_lists_every_technique_with_the_name_learners_see() -> None:
    from sandbox.exercises.schema import TECHNIQUES

    for key, name in TECHNIQUES.items():
        assert f"| `{key}` | {name} |" in GUIDE


def test_the_two_language_example_is_read_in_each_language(tmp_path: Path) -> None:
    from sandbox.i18n import shown

    [block] = [b for b in EXERCISE_BLOCKS if "zh: 找出订单号" in b]
    path = tmp_path / "exercises" / "t" / "order.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(block, encoding="utf-8")
    catalog = load_catalog(tmp_path / "exercises")
    exercise = catalog.exercises["order"]
    assert not catalog.notes and not catalog.broken
    assert shown(exercise.title, "zh") == "找出订单号" and shown(exercise.title, "en") == "Find the order number"
    assert shown(exercise.hints[0], "zh") == "说清楚要找什么：订单号。"
