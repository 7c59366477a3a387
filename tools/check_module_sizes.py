"""Fail when a Python module is longer than the limit, naming each file: a long module is doing several jobs.

Usage: python tools/check_module_sizes.py [--max N] FOLDER...   (``make lint`` runs it on the code and the tests)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

LIMIT = 400


def too_long(folders: list[Path], limit: int) -> list[tuple[Path, int]]:
    """Every ``.py`` file under ``folders`` with more than ``limit`` lines, longest first."""
    found = []
    for folder in folders:
        for path in sorted(folder.rglob("*.py")):
            with path.open(encoding="utf-8") as handle:
                count = sum(1 for _ in handle)
            if count > limit:
                found.append((path, count))
    return sorted(found, key=lambda item: -item[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--max", type=int, default=LIMIT, help=f"most lines a module may have (default {LIMIT})")
    args = parser.parse_args(argv)
    missing = [str(f) for f in args.folders if not f.is_dir()]
    if missing:
        print(f"module sizes: no such folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    long = too_long(args.folders, args.max)
    for path, count in long:
        print(f"{path}: {count} lines, over the limit of {args.max}; split it by job into modules of its package")
    if long:
        return 1
    print(f"module sizes: every module in {', '.join(map(str, args.folders))} has at most {args.max} lines")
    return 0


if __name__ == "__main__":
    sys.exit(main())
