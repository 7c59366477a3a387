"""Suggest an exercise's threshold from what its solution and the naive baselines reach,
and write it into the file without touching the author's comments or layout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from ..config import Settings
from ..errors import SandboxError
from ..exercises.schema import Calibration, Exercise
from ..models.manifests import ModelManifest
from .solvability import SolveReport

LOWEST, HIGHEST = 0.30, 0.95


@dataclass
class Suggestion:
    threshold: float | None
    reason: str


def suggest(exercise: Exercise, report: SolveReport) -> Suggestion:
    """Midway between the best baseline case and the solution's weakest case, when they are apart."""
    if not any(case.expect for case in exercise.cases):
        return Suggestion(None, "This exercise is graded by checks alone; it has no similarity threshold to calibrate.")
    if report.solution_weakest is None:
        return Suggestion(
            None, "The exercise has no solution, so there is nothing to calibrate against; add 'solution:'."
        )
    weakest, best = report.solution_weakest, report.best_baseline
    if weakest <= best:
        return Suggestion(
            None,
            f"The solution's weakest case ({weakest:.2f}) is not above the best baseline case ({best:.2f}), so no "
            "threshold separates them. Add checks (labels, max_words, contains...) or better references.",
        )
    middle = round(best + (weakest - best) / 2, 2)
    threshold = min(max(middle, LOWEST), HIGHEST, round(weakest - 0.01, 2))
    reason = (
        f"midway between the best case any baseline reached ({best:.2f}) and the solution's weakest case "
        f"({weakest:.2f}), kept between {LOWEST} and {HIGHEST} and below the solution: {threshold:.2f}"
    )
    return Suggestion(threshold, reason)


def calibration_for(
    generator: ModelManifest | str, generator_hash: str, embedder: str, embedder_hash: str
) -> Calibration:
    name = generator.name if isinstance(generator, ModelManifest) else generator
    return Calibration(
        generator=name,
        generator_hash=generator_hash,
        embedder=embedder,
        embedder_hash=embedder_hash,
        date=datetime.now(UTC).date().isoformat(),
    )


TOP_KEY = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:")


def write(path: Path, threshold: float, calibration: Calibration, exercise: Exercise | None = None) -> None:
    """Write the threshold of the model calibrated on, and its ``calibrated`` entry; every other line stays.

    A file calibrated on one model keeps one number. Calibrated on another model
    than its number was made for, the threshold becomes one per model
    (``{default: 0.60, qwen2.5-0.5b-instruct: 0.72}``: the old number stays the
    default for every other model) and ``calibrated`` lists each model's entry.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    except OSError as exc:
        raise SandboxError(f"Cannot read {path}: {exc.strerror}.") from exc
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    current = exercise.threshold if exercise else None
    calibrations = exercise.calibrations() if exercise else []
    others = [c for c in calibrations if c.generator != calibration.generator]
    made_for = calibrations[0].generator if calibrations else Settings.generator  # uncalibrated: the shipped model
    if isinstance(current, dict) or (current is not None and made_for != calibration.generator):
        entries = dict(current) if isinstance(current, dict) else {"default": current}
        entries[calibration.generator] = threshold
        value = "{" + ", ".join(f"{model}: {number:.2f}" for model, number in entries.items()) + "}"
        listed = [*others, calibration]
    else:
        value, listed = f"{threshold:.2f}", [calibration]
    out: list[str] = []
    skipping = block = False
    wrote_threshold = False
    for line in lines:
        match = TOP_KEY.match(line)
        if block and match is None and line.startswith((" ", "\t")) and line.strip():
            continue  # a threshold written as an indented block
        block = False
        if skipping:
            if match is None and (line.startswith((" ", "\t")) or not line.strip()):
                continue
            skipping = False
        if match and match.group("key") == "calibrated":
            skipping = True
            continue
        if match and match.group("key") == "threshold":
            comment = re.search(r"(\s+#.*)$", line.rstrip("\n"))
            out.append(f"threshold: {value}{comment.group(1) if comment else ''}\n")
            wrote_threshold = block = True
            continue
        out.append(line)
    if not wrote_threshold:
        out.append(f"threshold: {value}\n")
    out.append("calibrated:                     # written by prompt-sandbox calibrate --write\n")
    out += [_calibration_lines(c, listed=len(listed) > 1) for c in listed]
    path.write_text("".join(out), encoding="utf-8")


def _calibration_lines(calibration: Calibration, listed: bool) -> str:
    fields = [
        f"generator: {calibration.generator}",
        f"generator_hash: '{calibration.generator_hash}'",
        f"embedder: {calibration.embedder}",
        f"embedder_hash: '{calibration.embedder_hash}'",
        f"date: '{calibration.date}'",
    ]
    if not listed:
        return "".join(f"  {field}\n" for field in fields)
    return "".join(f"  {'- ' if i == 0 else '  '}{field}\n" for i, field in enumerate(fields))


def mismatch(exercise: Exercise, generator: str, generator_hash: str, embedder: str, embedder_hash: str) -> str:
    """A warning when the exercise was calibrated on other models than the configured ones ('' if none)."""
    calibrations = exercise.calibrations()
    if not calibrations:
        return ""
    matching = [c for c in calibrations if c.generator == generator] or calibrations
    cal = matching[-1]
    differences = []
    if (cal.generator, cal.generator_hash) != (generator, generator_hash):
        differences.append(f"generator {cal.generator} ({cal.generator_hash}), now {generator} ({generator_hash})")
    if (cal.embedder, cal.embedder_hash) != (embedder, embedder_hash):
        differences.append(f"embedder {cal.embedder} ({cal.embedder_hash}), now {embedder} ({embedder_hash})")
    if not differences:
        return ""
    return (
        f"{exercise.path}: calibrated on {'; '.join(differences)}. "
        f"Run `prompt-sandbox calibrate {exercise.id} --write` again."
    )
