"""hash-passcode through the real entry point: the hash it prints opens the instructor page's check."""

from __future__ import annotations

import subprocess
import sys

from sandbox.classroom.access import passcode_matches

from .running import ROOT


def test_hash_passcode_prints_a_hash_that_matches_the_passcode() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "sandbox.cli", "hash-passcode"],
        input="teach-42\nteach-42\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    hashed = result.stdout.strip().splitlines()[-1]
    assert hashed.startswith("pbkdf2_sha256$") and passcode_matches("teach-42", hashed)
    assert not passcode_matches("teach-43", hashed)
