"""``prompt-sandbox serve``: start the web app (Streamlit), headless and with nothing calling out."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click

from .common import friendly_errors, settings_for


@click.command()
@click.option("--port", type=int, default=None, help="Port to serve on (default 8501).")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1; 0.0.0.0 for a classroom network).")
@click.option("--exercises", type=click.Path(path_type=Path), default=None, help="Exercises folder.")
@click.option("--data", type=click.Path(path_type=Path), default=None, help="Folder for the progress database.")
@friendly_errors
def serve(port: int | None, host: str | None, exercises: Path | None, data: Path | None) -> None:
    """Start the web app (Streamlit) for learners."""
    settings = settings_for(exercises, data).with_overrides(port=port, host=host)
    app = Path(__file__).resolve().parents[2] / "sandbox_ui" / "app.py"
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
        "--client.showErrorDetails=none",  # an error the pages did not catch shows no traceback or server path
        "--theme.base=light",
    ]
    click.echo(f"Starting prompt-sandbox on http://{settings.host}:{settings.port} (Ctrl+C stops it)")
    if os.name == "nt":  # Windows has no exec: the new process would lose the console
        sys.exit(subprocess.call(args, env=env))
    os.execve(sys.executable, args, env)
