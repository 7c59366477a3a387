"""Shared UI plumbing: cached resources, plain text for Markdown, and the one error helper.

This is the only place (with the pages and components) that imports Streamlit;
all logic lives in the ``sandbox`` package.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime

import streamlit as st

from sandbox import i18n
from sandbox.classroom.access import PasscodeGuard
from sandbox.classroom.runs import RunsInProgress
from sandbox.classroom.store import Learner, Store
from sandbox.config import Settings, force_offline, load_settings
from sandbox.errors import SandboxError
from sandbox.exercises.catalog import Catalog, load_catalog
from sandbox.exercises.languages import language_name
from sandbox.exercises.schema import Exercise
from sandbox.grading import exercise_language
from sandbox.i18n import _, shown
from sandbox.models import factory, status
from sandbox.models.base import Embedder, Generator

EXERCISE_PARAM = "exercise"
_MARKUP = re.compile(r"([!-/:-@\[-`{-~])")
"""Every ASCII punctuation mark: Markdown (and Streamlit's :color[...] and :icon: forms) reads no escaped one."""
_LINKLIKE = re.compile(r"(?i)\b(?:https?|ftp|mailto)(?=:)|\bwww(?=\.)|@")
"""Where Streamlit's Markdown would still make a link out of plain text (it finds addresses after escapes)."""
WORD_JOINER = "\u2060"


def plain(text: str) -> str:
    """Text from a person (a name, an address, an answer) made safe for Streamlit's Markdown: shown as typed.

    Every ASCII punctuation mark gets a backslash, which Markdown allows before any of
    them, so no link, image, emphasis, heading, list, HTML tag or Streamlit directive
    can come out of it. A web or mail address in it would still become a link, so an
    invisible word joiner goes after its ``http``, ``www`` or ``@``.
    """
    unlinked = _LINKLIKE.sub(lambda found: found.group(0) + WORD_JOINER, text)
    return _MARKUP.sub(r"\\\1", unlinked)


def settings() -> Settings:
    force_offline()
    return load_settings()


def show_error(error: Exception, where: st.delta_generator.DeltaGenerator | None = None) -> None:
    """The one place errors reach the page: a plain message, never a traceback."""
    box = where if where is not None else st
    if isinstance(error, SandboxError):
        box.error(str(error), icon=":material/warning:")
    else:
        box.error(
            _("Something went wrong: {error}. Your earlier work is saved; try again or tell your instructor.").format(
                error=error
            ),
            icon=":material/warning:",
        )


@st.cache_resource(show_spinner=False)
def passcode_guard() -> PasscodeGuard:
    """One per app process: wrong instructor passcodes are counted across every browser session."""
    return PasscodeGuard()


def session_id() -> str:
    """A random name for this browser session, kept in its server-side state (never from the address)."""
    if "session_id" not in st.session_state:
        st.session_state["session_id"] = secrets.token_hex(16)
    return str(st.session_state["session_id"])


@st.cache_resource(show_spinner=False)
def _store(location: str) -> Store:
    return Store(location)


def open_store() -> Store:
    """The progress store, or a SandboxError saying why it cannot be opened."""
    return _store(settings().database)


def store() -> Store:
    """The progress store; when it cannot be opened, the page says why and what to check, and stops there.

    A database that can only be read is used that way, and the page says so.
    """
    try:
        opened = open_store()
    except SandboxError as exc:
        st.error(
            _("{problem} Until this is fixed, progress can be neither shown nor saved; tell your instructor.").format(
                problem=exc
            ),
            icon=":material/warning:",
        )
        st.stop()
    if opened.read_only:
        st.warning(
            _(
                "The progress database {where} can only be read (its folder is read-only): progress is "
                "shown, but signing in, runs and changes cannot be saved. Tell your instructor."
            ).format(where=plain(opened.where)),
            icon=":material/lock:",
        )
    return opened


@st.cache_resource(show_spinner=False)
def _generator(name: str, models_dir: str) -> Generator:
    return factory.build_generator(settings())


@st.cache_resource(show_spinner=False)
def _embedder(name: str, models_dir: str) -> Embedder:
    return factory.build_embedder(settings(), beside=generator())


def generator() -> Generator:
    s = settings()
    return _generator(s.generator, str(s.models_dir))


def embedder() -> Embedder:
    s = settings()
    return _embedder(s.embedder, str(s.models_dir))


# The cached texts below take the interface's language, so each language has its own entry:
# a page in Chinese is never shown a line cached for an English one.


@st.cache_data(ttl=60, show_spinner=False)
def _answering(generator: str, models_dir: str, interface: str) -> str:
    with i18n.speaking(interface):
        return status.answering_line(settings())


def answering() -> str:
    """Which model answers, read from its manifest at most once a minute (it shows on every page)."""
    s = settings()
    return _answering(s.generator, str(s.models_dir), i18n.current())


@st.cache_data(ttl=15, show_spinner=False)
def _health(generator: str, models_dir: str, interface: str) -> tuple[bool | None, str]:
    with i18n.speaking(interface):
        return status.model_health(settings())


@st.cache_data(ttl=60, show_spinner=False)
def _language_gap(generator: str, models_dir: str, language: str, interface: str) -> str:
    with i18n.speaking(interface):
        return status.language_gap(settings(), language, language_name(language))


@st.cache_data(ttl=60, show_spinner=False)
def _prompt_language(generator: str, models_dir: str, exercise_language: str, interface: str) -> str:
    with i18n.speaking(interface):
        return status.prompt_language(settings(), interface, exercise_language)


def prompt_language(exercise: Exercise) -> str:
    """On a page in a language the model does not read, the plain request to write the prompt in English; else ""."""
    s = settings()
    return _prompt_language(s.generator, str(s.models_dir), exercise_language(exercise), i18n.current())


def language_gap(exercise: Exercise) -> str:
    """Why the class's model cannot do this exercise (it is in a language the model does not speak); "" if it can."""
    s = settings()
    return _language_gap(s.generator, str(s.models_dir), exercise_language(exercise), i18n.current())


def model_health() -> tuple[bool | None, str]:
    """Asked of the server at most every 15 s, however many instructors look."""
    s = settings()
    return _health(s.generator, str(s.models_dir), i18n.current())


def catalog() -> Catalog:
    """Re-read on every run; unchanged files come from a cache, changed ones are parsed again."""
    return load_catalog(settings().exercises_dir)


@st.cache_resource(show_spinner=False)
def _loading(name: str, models_dir: str) -> threading.Thread:
    """Load both models in the background once per process, so pages render while the model loads."""

    def load() -> None:
        try:
            generator().load()
            embedder().load()
        except SandboxError:
            pass  # a learner who presses Run sees the error from ensure_models_loaded

    thread = threading.Thread(target=load, name="load-models", daemon=True)
    thread.start()
    return thread


def start_loading() -> None:
    s = settings()
    _loading(s.generator, str(s.models_dir))


def new_run_stop() -> threading.Event:
    """A stop switch for this session's next run; any earlier run of the session is stopped first.

    Streamlit starts a new script run at once when a button is pressed, while the
    old one winds down; setting its switch stops its answers and frees the
    learner's place, so Run right after Cancel is never refused.
    """
    stop_previous_run()
    stop = st.session_state["run_stop"] = threading.Event()
    return stop


def stop_previous_run() -> None:
    previous = st.session_state.pop("run_stop", None)
    if isinstance(previous, threading.Event):
        previous.set()


def ensure_models_loaded() -> bool:
    """Load both models with a visible message the first time; False (and a shown error) if they cannot load."""
    try:
        gen, emb = generator(), embedder()
        if not gen.loaded:
            with st.status(
                _(
                    "The language model is still loading. Your run starts as soon as it is ready "
                    "(the first time after installing takes about a minute)..."
                )
            ) as loading:
                gen.load()
                emb.load()
                loading.update(label=_("The model is ready."), state="complete")
        else:
            emb.load()
    except SandboxError as exc:
        show_error(exc)
        return False
    return True


@st.cache_resource(show_spinner=False)
def _runs_here() -> tuple[str, set[int], threading.Lock]:
    """This app process's name in the runs-in-progress table, and which of those runs it is answering now."""
    return f"{os.getpid()}-{secrets.token_hex(4)}", set(), threading.Lock()


@contextmanager
def run_in_progress(store: Store, learner: Learner, exercise_id: str) -> Iterator[int]:
    """Mark a run as being answered while the block runs; if the app dies first, the mark says it was lost."""
    process, live, lock = _runs_here()
    runs = RunsInProgress(store)
    run = runs.start(learner, exercise_id, process)
    with lock:
        live.add(run)
    try:
        yield run
    finally:
        with suppress(SandboxError):
            runs.end(run)  # before it leaves the live set, so no other page run calls it lost meanwhile
        with lock:
            live.discard(run)


def lost_runs_notice(learner: Learner, catalog: Catalog) -> None:
    """Tell the learner, once, about runs cut off by a dropped connection or a stopped app: never counted."""
    process, live, lock = _runs_here()
    with lock:
        answering = set(live)
    try:
        lost = RunsInProgress(open_store()).lost(learner, process, answering)
    except SandboxError:
        return  # the page explains an unusable database itself
    for run in lost:
        exercise = catalog.exercises.get(run.exercise_id)
        title = shown(exercise.title) if exercise else run.exercise_id
        started = datetime.fromisoformat(run.started_at).astimezone().strftime("%H:%M")
        st.warning(
            _(
                "Your run of “{title}” (started at {started}) was lost: the connection dropped or the app "
                "stopped before it was graded. It was not saved and does not count as an attempt. "
                "Press Run to try again."
            ).format(title=plain(title), started=started),
            icon=":material/wifi_off:",
        )
