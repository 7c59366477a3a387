"""The ``prompt-sandbox`` command: serve the app, check and grade exercises, manage models.

Errors from the package (:class:`~sandbox.errors.SandboxError`) become one clean
message on stderr and exit code 2; nothing prints a traceback at a person.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .config import Settings, force_offline, load_settings
from .errors import ExerciseFileError, SandboxError

if TYPE_CHECKING:
    from .exercises import Exercise

F = TypeVar("F", bound=Callable[..., Any])


def friendly_errors(func: F) -> F:
    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SandboxError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


def _settings(exercises: Path | None = None, data: Path | None = None) -> Settings:
    return load_settings().with_overrides(exercises_dir=exercises, data_dir=data)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="prompt-sandbox")
def main() -> None:
    """prompt-sandbox: practise prompt engineering on a small model that runs on this computer."""
    force_offline()


# --- serve ---------------------------------------------------------------------------


@main.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default 8501).")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1; 0.0.0.0 for a classroom network).")
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Folder for the progress database.")
@friendly_errors
def serve(port: int | None, host: str | None, exercises: Path | None, data: Path | None) -> None:
    """Start the web app (Streamlit) for learners."""
    settings = _settings(exercises, data).with_overrides(port=port, host=host)
    app = Path(__file__).resolve().parent.parent / "sandbox_ui" / "app.py"
    env = dict(os.environ)
    env["PROMPT_SANDBOX_EXERCISES"] = str(Path(settings.exercises_dir).resolve())
    env["PROMPT_SANDBOX_DATA"] = str(Path(settings.data_dir).resolve())
    env["PROMPT_SANDBOX_MODELS"] = str(Path(settings.models_dir).resolve())
    env["HF_HUB_OFFLINE"] = env["TRANSFORMERS_OFFLINE"] = "1"
    env["STREAMLIT_BROWSER_GATHER_USAGE_STATS"] = "false"
    args = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless=true",
        "--browser.gatherUsageStats=false",
        f"--server.address={settings.host}",
        f"--server.port={settings.port}",
        f"--browser.serverAddress={settings.host if settings.host != '0.0.0.0' else '127.0.0.1'}",
        "--server.fileWatcherType=none",
        "--client.toolbarMode=minimal",
        "--theme.base=light",
    ]
    click.echo(f"Starting prompt-sandbox on http://{settings.host}:{settings.port} (Ctrl+C stops it)")
    os.execve(sys.executable, args, env)


# --- check ---------------------------------------------------------------------------


@main.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@click.option("--solve", is_flag=True, help="Also run each solution and naive baseline prompts on the model.")
@click.option("--json", "as_json", is_flag=True, help="With --solve: print one JSON object.")
@friendly_errors
def check(directory: Path | None, solve: bool, as_json: bool) -> None:
    """Validate exercise files (every problem as file:line); with --solve, prove each is solvable and not too easy.

    Exit 1 if any file is broken, or (with --solve) any exercise is unsolvable or too easy.
    """
    from .exercises import load_catalog

    settings = _settings(directory)
    catalog = load_catalog(settings.exercises_dir)
    ok = len(catalog.exercises)
    bad = len(catalog.broken)
    if not as_json:
        for broken in catalog.broken:
            for problem in broken.problems:
                click.echo(problem)
        for warning in _calibration_warnings(catalog, settings):
            click.echo(f"warning: {warning}")
        click.echo(f"{ok} exercise{'s' if ok != 1 else ''} valid, {bad} file{'s' if bad != 1 else ''} with problems.")
    if not solve:
        sys.exit(1 if bad or not ok else 0)

    from .models import build_embedder, build_generator
    from .solvability import MIN_MARGIN, by_track, save_reports, solve_all, table

    generator = build_generator(settings)
    embedder = build_embedder(settings, beside=generator)

    def started(exercise: Exercise) -> None:
        if not as_json:
            click.echo(f"solving {exercise.id}...", err=True)

    reports = solve_all(catalog.in_order(), generator, embedder, settings, on_start=started)
    blocking = [r for r in reports if r.blocking]
    save_reports(settings, generator.name, embedder.name, reports)
    if as_json:
        payload = {
            "generator": generator.name,
            "generator_hash": generator.fingerprint,
            "embedder": embedder.name,
            "embedder_hash": embedder.fingerprint,
            "min_margin": MIN_MARGIN,
            "exercises": [r.to_json() for r in reports],
            "broken": [{"path": b.path, "problems": b.problems} for b in catalog.broken],
        }
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        click.echo(f"On {generator.name} ({generator.fingerprint}) and {embedder.name} ({embedder.fingerprint}):")
        for line in table(reports):
            click.echo(line)
        for report in reports:
            for line in report.failed_cases:
                click.echo(f"{report.exercise}: solution failed {line}")
            for baseline in report.baselines:
                if baseline.passed:
                    click.echo(f"{report.exercise}: the baseline '{baseline.name}' passes: {baseline.prompt[:60]!r}")
        if len(catalog.tracks) > 1:
            click.echo("By track:")
            titles = {e.id: t.title for t in catalog.tracks for e in catalog.in_track(t.id)}
            for line in by_track(reports, titles):
                click.echo(f"  {line}")
        click.echo(
            f"{len(reports) - len(blocking)} of {len(reports)} exercises solvable and not too easy "
            f"(margin minimum {MIN_MARGIN:.2f})."
        )
    sys.exit(1 if bad or blocking or not ok else 0)


def _calibration_warnings(catalog: Any, settings: Settings) -> list[str]:
    from .calibrate import mismatch
    from .models import load_manifests

    manifests = load_manifests(settings.models_dir)
    gen, emb = manifests.get(settings.generator), manifests.get(settings.embedder)
    if gen is None or emb is None:
        return []
    found = [mismatch(e, gen.name, gen.fingerprint, emb.name, emb.fingerprint) for e in catalog.exercises.values()]
    return [w for w in found if w]


# --- calibrate -------------------------------------------------------------------------


@main.command()
@click.argument("exercise")
@click.option("--write", "write_file", is_flag=True, help="Store the threshold and the models used in the file.")
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@friendly_errors
def calibrate(exercise: str, write_file: bool, exercises: Path | None) -> None:
    """Suggest a threshold for EXERCISE from its solution and the naive baselines; --write stores it."""
    from . import calibrate as cal
    from .models import build_embedder, build_generator
    from .solvability import solve as solve_one

    settings = _settings(exercises)
    found = _find_exercise(exercise, settings)
    generator = build_generator(settings)
    embedder = build_embedder(settings, beside=generator)
    report = solve_one(found, generator, embedder, settings)
    click.echo(
        f"Exercise {found.id} on {generator.name} ({generator.fingerprint}) and {embedder.name} ({embedder.fingerprint}):"
    )
    click.echo(f"  solution: {'passes' if report.solution_passed else 'fails'}, weakest case {report.solution_weakest}")
    for baseline in report.baselines:
        click.echo(
            f"  baseline {baseline.name}: best case {baseline.best:.2f}, weakest case score {baseline.closest:.2f}"
            f"{' (passes!)' if baseline.passed else ''}"
        )
    suggestion = cal.suggest(found, report)
    if suggestion.threshold is None:
        click.echo(suggestion.reason)
        sys.exit(1)
    current = found.threshold_or(settings.threshold)
    click.echo(f"Suggested threshold {suggestion.threshold:.2f} (now {current:.2f}): {suggestion.reason}.")
    if write_file:
        calibration = cal.calibration_for(generator.name, generator.fingerprint, embedder.name, embedder.fingerprint)
        cal.write(Path(found.path), suggestion.threshold, calibration)
        click.echo(f"Written to {found.path}.")


# --- grade / score ---------------------------------------------------------------------


def _find_exercise(ref: str, settings: Settings) -> Any:
    from .exercises import load_catalog, load_exercise_file

    path = Path(ref)
    if path.suffix in (".yaml", ".yml") and path.is_file():
        try:
            return load_exercise_file(path)
        except ExerciseFileError as exc:
            raise SandboxError(f"The exercise file is broken:\n{exc}") from None
    catalog = load_catalog(settings.exercises_dir)
    for broken in catalog.broken:
        if Path(broken.path).stem == ref:
            raise SandboxError("The exercise file is broken:\n" + "\n".join(broken.problems))
    return catalog.find(ref)


def _print_case(case: Any, threshold: float) -> None:
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


@main.command()
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
    from .grading import grade as run_grade
    from .models import build_embedder, build_generator

    if (prompt_text is None) == (prompt_file is None):
        raise click.UsageError("Give the prompt with exactly one of --prompt TEXT or --prompt-file FILE.")
    prompt = prompt_text if prompt_text is not None else prompt_file.read()
    settings = _settings(exercises)
    found = _find_exercise(exercise, settings)
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
            _print_case(case, verdict.threshold)
        click.echo(verdict.summary())
    sys.exit(0 if verdict.passed else 1)


@main.command()
@click.argument("exercise")
@click.option("--case", "case_index", type=int, required=True, help="Case number, 0-based, in file order.")
@click.option("--output", required=True, help="The answer to judge.")
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@friendly_errors
def score(exercise: str, case_index: int, output: str, exercises: Path | None, as_json: bool) -> None:
    """Judge a given OUTPUT for one case without running the model. Exit 0 passed, 1 failed."""
    from .grading import case_json, score_output
    from .models import build_embedder

    settings = _settings(exercises)
    found = _find_exercise(exercise, settings)
    if not 0 <= case_index < len(found.cases):
        raise click.BadParameter(f"this exercise has cases 0 to {len(found.cases) - 1}", param_hint="--case")
    result = score_output(found, case_index, output, build_embedder(settings), settings)
    threshold = found.threshold_or(settings.threshold)
    if as_json:
        payload = {"exercise": found.id, "passed": result.passed, "score": result.score, "cases": [case_json(result)]}
        payload.update(case_json(result))
        click.echo(json.dumps(payload, ensure_ascii=False))
    else:
        _print_case(result, threshold)
    sys.exit(0 if result.passed else 1)


# --- bench ---------------------------------------------------------------------------


@main.command()
@click.option(
    "--exercise", "exercise_ref", default="order-number", show_default=True, help="A 3-case exercise to grade."
)
@click.option("--runs", type=click.IntRange(1, 50), default=3, show_default=True, help="Runs per figure.")
@click.option(
    "--learners", type=click.IntRange(1, 200), default=30, show_default=True, help="Learners in the simulated class."
)
@click.option("--anchors", is_flag=True, help="Also measure llama.cpp on the same prompts (the `bench` extra).")
@click.option(
    "--server", default=None, help="Also run the learner and the class through this model server (a manifest name)."
)
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@friendly_errors
def bench(
    exercise_ref: str, runs: int, learners: int, anchors: bool, server: str | None, exercises: Path | None
) -> None:
    """Measure cold start, one learner's verdict and a whole class (medians and ranges)."""
    from .bench import run_bench
    from .exercises import load_catalog

    settings = _settings(exercises)
    catalog = load_catalog(settings.exercises_dir)
    mix = [e for e in catalog.exercises.values() if e.solution]
    run_bench(_find_exercise(exercise_ref, settings), mix, settings, runs, learners, anchors, click.echo, server)


# --- models ----------------------------------------------------------------------------


@main.group()
def models() -> None:
    """List, prepare (pull) and verify the local models."""


@models.command("list")
@friendly_errors
def models_list() -> None:
    """Show every model manifest and whether it is ready."""
    from .models import ServerManifest, load_manifests, prepared_folder

    settings = load_settings()
    for name, manifest in load_manifests(settings.models_dir).items():
        chosen = name in (settings.generator, settings.embedder)
        mark = "*" if chosen else " "
        if isinstance(manifest, ServerManifest):
            where = f"served: '{manifest.server.model}' at {manifest.server.base_url}"
            click.echo(f"{mark} {name:28} {manifest.role:9} {manifest.license:12} {where}")
            continue
        ready = "ready" if prepared_folder(manifest, settings) else "not prepared (run: prompt-sandbox models pull)"
        click.echo(f"{mark} {name:28} {manifest.role:9} {manifest.license:12} sha256 {manifest.fingerprint}  {ready}")
    click.echo("* = in use (PROMPT_SANDBOX_GENERATOR / PROMPT_SANDBOX_EMBEDDER)")


@models.command("pull")
@click.argument("names", nargs=-1)
@friendly_errors
def models_pull(names: tuple[str, ...]) -> None:
    """Verify and prepare the models in use (or the NAMES given)."""
    from .models import ServerManifest, load_manifests, prepared_folder, pull

    settings = load_settings()
    manifests = load_manifests(settings.models_dir)
    wanted = list(names) or [settings.generator, settings.embedder]
    for name in wanted:
        if name not in manifests:
            raise SandboxError(f"No model manifest named '{name}' in {settings.models_dir}.")
        manifest = manifests[name]
        if isinstance(manifest, ServerManifest):
            click.echo(f"{name}: answered by the server at {manifest.server.base_url}; nothing to prepare here")
            continue
        if prepared_folder(manifest, settings):
            click.echo(f"{name}: already prepared")
            continue
        started = time.perf_counter()
        pull(manifest, settings, click.echo)
        click.echo(f"{name}: prepared in {time.perf_counter() - started:.0f} s")


@models.command("verify")
@friendly_errors
def models_verify() -> None:
    """Re-hash every model's weights against its manifest. Exit 1 on any mismatch."""
    from .model_server import health
    from .models import ServerManifest, load_manifests, verify

    settings = load_settings()
    bad = 0
    for name, manifest in load_manifests(settings.models_dir).items():
        if isinstance(manifest, ServerManifest):
            if name not in (settings.generator, settings.embedder):
                continue  # a server not in use may well be off
            answers, line = health(manifest)
            problems = [] if answers else [line]
        else:
            problems = verify(manifest, settings)
        bad += bool(problems)
        click.echo(f"{name}: {'OK' if not problems else 'PROBLEM'}")
        for problem in problems:
            click.echo(f"  {problem}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
