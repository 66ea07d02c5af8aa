"""``lso app``: start the Streamlit workbench (``app/main.py``) on this machine and print its URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import typer

from lso.bench.default import REPO_ROOT
from lso.cli.console import make_console
from lso.errors import LsoError

APP_MAIN = REPO_ROOT / "app" / "main.py"


def streamlit_command(host: str, port: int, main: Path = APP_MAIN) -> list[str]:
    """The command line that serves the workbench headless (no browser opened, no usage statistics sent)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(main),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]


def app(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="TCP port."),
    workspace: Path = typer.Option(None, "--workspace", help="Folder for your runs (default: runs/ in the checkout)."),
) -> None:
    """Open the workbench: Benchmark, Train, Latent space, Search and Refine pages (Ctrl-C stops it)."""
    if not APP_MAIN.exists():
        raise LsoError(f"the app is not in this installation ({APP_MAIN} missing): run from a source checkout")
    env = dict(os.environ)
    if workspace is not None:
        env["LSO_WORKSPACE"] = str(workspace.resolve())
    make_console().print(f"[bold]lso workbench[/] at http://{host}:{port}  (Ctrl-C to stop)")
    try:
        code = subprocess.call(streamlit_command(host, port), env=env, cwd=REPO_ROOT)
    except KeyboardInterrupt:
        code = 0
    if code not in (0, -2, 130):
        raise typer.Exit(code)


def register(root: typer.Typer) -> None:
    """Add ``lso app``."""
    root.command("app")(app)
