"""All configuration in one place: environment variables with defaults that work.

Every path the app reads or writes resolves through :func:`load_settings`, so a
test (or a classroom) can point the whole app somewhere else with environment
variables alone.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, replace
from pathlib import Path

from . import i18n

ENV_PREFIX = "PROMPT_SANDBOX_"


def force_offline() -> None:
    """Make sure nothing in the Hugging Face stack reaches for the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


MALLOC_ARENAS = 2
"""glibc's memory pools for this process's threads: two instead of eight per core."""
MALLOC_MMAP_FROM = 1 << 20
"""Blocks of this many bytes and more come straight from the system and go back to it when freed."""


ONEDNN_PRIMITIVES = 8
"""Kernels oneDNN keeps ready; each learner's prompt length makes new ones, and the default 1024 kept ~100 MB."""


@functools.cache
def tune_memory() -> None:
    """Keep memory the app frees reusable, so a class does not leave the process bloated.

    The app answers many learners from many threads. By default glibc gives
    threads pools of their own, and it raises its threshold for returning big
    blocks to the system each time one is freed, so the key/value cache, which
    grows in steps while a class runs, left its old blocks as holes; oneDNN
    keeps up to 1024 prepared kernels, and reading prompts of many lengths
    makes new ones. Measured with a class of 30 on this 2-core machine: peak
    1.70 GB with the defaults, 1.45 GB with two pools, 1.43 GB with a fixed
    threshold as well, 1.34 GB keeping 8 kernels, at the same speed. Settings
    the user made in the environment win. Both model loaders call it first (it acts once).
    """
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(ONEDNN_PRIMITIVES))
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):  # not glibc
        return
    if mallopt is None:
        return
    m_mmap_threshold, m_arena_max = -3, -8  # from glibc's malloc.h
    if not os.environ.get("MALLOC_ARENA_MAX"):
        mallopt(m_arena_max, MALLOC_ARENAS)
    if not os.environ.get("MALLOC_MMAP_THRESHOLD_"):
        mallopt(m_mmap_threshold, MALLOC_MMAP_FROM)


def project_root() -> Path:
    """The checkout this package lives in (where ``exercises/`` and ``models/`` are)."""
    here = Path(__file__).resolve().parent.parent
    if (here / "exercises").is_dir() or (here / "models").is_dir():
        return here
    return Path.cwd()


@dataclass(frozen=True)
class Settings:
    exercises_dir: Path
    data_dir: Path
    models_dir: Path
    generator: str = "smollm2-135m-instruct"
    embedder: str = "all-minilm-l6-v2"
    multilingual_embedder: str = "use-multilingual-v3"
    """Scores exercises in a language the embedder does not read (Chinese, ...); empty: the embedder scores all."""
    threshold: float = 0.75
    """Similarity (0..1) a case needs when its exercise sets no threshold."""
    max_new_tokens: int = 64
    """Tokens the model may write for a case when its exercise sets no limit."""
    max_prompt_chars: int = 4000
    """Longest prompt a learner may run, after the case text is filled in."""
    host: str = "127.0.0.1"
    port: int = 8501
    instructor_passcode: str = ""
    """Opens the instructor page (the passcode, or its hash from `prompt-sandbox hash-passcode`); empty keeps it closed."""
    instructor_session_minutes: int = 240
    """How long the instructor page stays open in a browser after the passcode; then it asks again."""
    learner_session_hours: int = 12
    """How long a learner stays signed in on a browser (across reloads and restarts); then they sign in again."""
    batch_size: int = 32
    """Most answers the model writes at once (one padded batch)."""
    batch_window_ms: int = 50
    """How long the first waiting request waits for others to join its batch."""
    dtype: str = "auto"
    """Number type of the language model: auto (the fastest fair one on this computer, measured once:
    bfloat16 where the CPU has bfloat16 instructions, else float32; sandbox/models/setups.py), bfloat16 or float32.

    Either way a learner's answer is the same in any batch (sandbox/models/decoding.py); the shipped
    exercises are proven on both (`prompt-sandbox check --solve --dtype`)."""

    language: str = "en"
    """The interface's language for a learner who has not chosen one: en or zh (sandbox/i18n.py)."""

    database_url: str = ""
    """A PostgreSQL database (postgresql://user:password@host:5432/name) shared by several app processes;
    empty keeps progress in a SQLite file in the data folder."""

    @property
    def database_path(self) -> Path:
        return self.data_dir / "progress.sqlite3"

    @property
    def database(self) -> str:
        """Where progress is kept: the PostgreSQL URL if one is set, else the SQLite file."""
        return self.database_url or str(self.database_path)

    @property
    def model_cache_dir(self) -> Path:
        return self.models_dir / "cache"

    def with_overrides(self, **changes: object) -> Settings:
        clean = {k: v for k, v in changes.items() if v is not None}
        return replace(self, **clean)  # type: ignore[arg-type]


def _env(name: str) -> str | None:
    value = os.environ.get(ENV_PREFIX + name)
    return value if value not in (None, "") else None


def load_settings() -> Settings:
    """Read the settings from ``PROMPT_SANDBOX_*`` environment variables."""
    root = project_root()
    base = Settings(
        exercises_dir=Path(_env("EXERCISES") or root / "exercises"),
        data_dir=Path(_env("DATA") or root / "data"),
        models_dir=Path(_env("MODELS") or root / "models"),
    )
    numbers: dict[str, object] = {}
    for field, kind in (
        ("threshold", float),
        ("max_new_tokens", int),
        ("max_prompt_chars", int),
        ("port", int),
        ("batch_size", int),
        ("batch_window_ms", int),
        ("instructor_session_minutes", int),
        ("learner_session_hours", int),
    ):
        raw = _env(field.upper())
        if raw is not None:
            try:
                numbers[field] = kind(raw)
            except ValueError as exc:
                from .errors import SandboxError

                raise SandboxError(
                    f"{ENV_PREFIX}{field.upper()}={raw!r} is not a valid {kind.__name__}; "
                    "fix or unset that environment variable."
                ) from exc
    language = _env("LANGUAGE")
    if language is not None and i18n.normalise(language) is None:
        from .errors import SandboxError

        raise SandboxError(
            f"{ENV_PREFIX}LANGUAGE={language!r} is not a language of the interface; "
            f"use one of {', '.join(i18n.LANGUAGES)} (or unset it for English)."
        )
    return base.with_overrides(
        generator=_env("GENERATOR"),
        language=i18n.normalise(language),
        embedder=_env("EMBEDDER"),
        multilingual_embedder=os.environ.get(ENV_PREFIX + "MULTILINGUAL_EMBEDDER"),
        host=_env("HOST"),
        instructor_passcode=_env("INSTRUCTOR_PASSCODE"),
        dtype=_env("DTYPE"),
        database_url=_env("DATABASE_URL"),
        **numbers,
    )
