"""``grade`` (run a prompt on every case of an exercise) and ``score`` (judge a given answer without the model)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from .common import find_exercise, friendly_errors, settings_for


def print_case(case: Any, threshold: float) -> None:
    status = "PASSED" if case.passed else "FAILED"
    hidden = " (hidden)" if case.hidden else ""
    click.echo(f"Case {case.index}{hidden}: {status}, score {case.score}")
    for name, value in case.input.items():
        click.echo(f"  {name}: {value}")
    click.echo(f"  output: {case.output.strip()}")
    if case.similarity is not None:
        click.echo(f"  similarity: {round(case.similarity * 100)} (needs {round(threshold * 100)})")
        click.echo(f"  closest reference: {case.closest_reference}")
    for message in case.failed_checks:
        click.echo(f"  failed check: {message}")
    if case.advice:
        click.echo(f"  try: {case.advice}")


@click.command()
@click.argument("exercise")
@click.option("--prompt", "prompt_text", default=None, help="The prompt to grade.")
@click.option(
    "--prompt-file", type=click.File("r", encoding="utf-8"), default=None, help="Read the prompt from a file."
)
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def grade(exercise: str, prompt_text: str | None, prompt_file: Any, exercises: Path | None, as_json: bool) -> None:
    """Run a prompt on every case of EXERCISE (an id or a file), hidden ones included. Exit 0 passed, 1 failed."""
    from ..grading import grade as run_grade
    from ..models.factory import build_embedder, build_generator

    if (prompt_text is None) == (prompt_file is None):
        raise click.UsageError("Give the prompt with exactly one of --prompt TEXT or --prompt-file FILE.")
    prompt = prompt_text if prompt_text is not None else prompt_file.read()
    settings = settings_for(exercises)
    found = find_exercise(exercise, settings)
    progress = (lambda m: click.echo(m, err=True)) if not as_json else None
    generator = build_generator(settings, progress)
    verdict = run_grade(found, prompt, generator, build_embedder(settings, progress, beside=generator), settings)
    if as_json:
        click.echo(json.dumps(verdict.to_json(), ensure_ascii=False))
    else:
        click.echo(f"Exercise {found.id}: {found.title}")
        if verdict.note:
            click.echo(f"Note: {verdict.note}")
        for case in verdict.cases:
            print_case(case, verdict.threshold)
        click.echo(verdict.summary())
    sys.exit(0 if verdict.passed else 1)


@click.command()
@click.argument("exercise")
@click.option("--case", "case_index", type=int, required=True, help="Case number, 0-based, in file order.")
@click.option("--output", required=True, help="The answer to judge.")
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def score(exercise: str, case_index: int, output: str, exercises: Path | None, as_json: bool) -> None:
    """Judge a given OUTPUT for one case without running the model. Exit 0 passed, 1 failed."""
    from ..grading import case_json, score_output
    from ..models.factory import build_embedder

    settings = settings_for(exercises)
    found = find_exercise(exercise, settings)
    if not 0 <= case_index < len(found.cases):
        raise click.BadParameter(f"this exercise has cases 0 to {len(found.cases) - 1}", param_hint="--case")
    result = score_output(found, case_index, output, build_embedder(settings), settings)
    threshold = found.threshold_or(settings.threshold, settings.generator)
    if as_json:
        payload = {"exercise": found.id, "passed": result.passed, "score": result.score, "cases": [case_json(result)]}
        payload.update(case_json(result))
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        print_case(result, threshold)
    sys.exit(0 if result.passed else 1)
