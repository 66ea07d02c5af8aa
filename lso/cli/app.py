"""``lso app``: start the Streamlit workbench on this machine and print its URL.

The app is package data (``lso._app``: ``app/`` in a checkout, ``lso/_app/`` in an installed wheel), found through
importlib.resources like the embedded benchmark. ``lso app`` runs the Streamlit server as a child process and stays
in front of it: SIGTERM, SIGINT and SIGHUP sent to ``lso app`` are passed on to the server, so stopping ``lso app``
(Ctrl-C, ``kill``, a service manager, ``make run`` killed) stops the server too, instead of leaving it serving.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Mapping, Sequence

import typer

from lso.bench.default import CHECKOUT, DEFAULT_RUN, package_folder
from lso.cli.console import make_console
from lso.errors import LsoError

#: The app's folder and entry script (``app/main.py`` in a checkout).
APP_DIR = package_folder("lso._app", "app")
APP_MAIN = APP_DIR / "main.py"
#: Signals passed on to the server.
FORWARDED = tuple(s for s in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None)) if s is not None)
#: Seconds to let the server stop on its own (a terminal's Ctrl-C reaches it too) before passing a signal on.
SELF_STOP_S = 0.5
#: Seconds the server gets to stop after a passed-on signal before it is killed.
STOP_GRACE_S = 10.0


def streamlit_command(host: str, port: int, main: Path = APP_MAIN) -> list[str]:
    """The command line that serves the workbench headless (no browser opened, no usage statistics sent)."""
    return [
        sys.executable, "-m", "streamlit", "run", str(main),
        "--server.address", host, "--server.port", str(port), "--server.headless", "true",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
        "--client.toolbarMode", "minimal",  # no "Deploy" button: the workbench is served from this machine
    ]


def have_streamlit() -> bool:
    """Whether Streamlit is installed (the ``app`` extra)."""
    return importlib.util.find_spec("streamlit") is not None


def default_workspace() -> Path:
    """``runs/`` in the checkout when running from one, else ``runs/`` in the current folder."""
    return (CHECKOUT if CHECKOUT is not None else Path.cwd()) / "runs"


def serve(command: Sequence[str], env: Mapping[str, str] | None = None, cwd: Path | None = None,
          grace: float = STOP_GRACE_S) -> int:
    """Run ``command`` as a child and wait for it, passing SIGTERM/SIGINT/SIGHUP on to it.

    A signal is passed on after ``SELF_STOP_S`` unless the child has stopped by then (Ctrl-C in a terminal reaches
    the child too, and one stop request is enough); the child then has ``grace`` seconds to stop, or it is killed.
    Returns the child's exit status (128 + N when signal N ended it); 0 when a signal asked it to stop and it did
    (Ctrl-C is how one closes the app)."""
    received: list[tuple[int, float]] = []

    def note(signum: int, _frame) -> None:
        received.append((signum, time.monotonic()))

    previous = {sig: signal.signal(sig, note) for sig in FORWARDED}  # before the child starts: no gap
    proc: subprocess.Popen | None = None
    try:
        proc = subprocess.Popen(list(command), env=dict(env) if env is not None else None, cwd=cwd)
        deadline: float | None = None
        while True:
            try:
                code = proc.wait(timeout=0.1)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if received and deadline is None and now - received[0][1] >= SELF_STOP_S:
                proc.send_signal(received[0][0])
                deadline = now + grace
            elif deadline is not None and now > deadline:
                proc.kill()
                code = proc.wait()
                break
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if proc is not None and proc.poll() is None:  # an exception in this process: never leave the server behind
            proc.kill()
            proc.wait()
    if code < 0:  # killed by a signal: the shell's 128 + N
        code = 128 - code
    if received and code in (0, 128 + received[0][0]):
        return 0
    return code


def app(
    host: str = typer.Option("127.0.0.1", "--host", help="Address to serve on (127.0.0.1: this machine only)."),
    port: int = typer.Option(8501, "--port", min=1, max=65535, help="TCP port."),
    workspace: Path = typer.Option(
        None, "--workspace",
        help="Folder for your runs (default: LSO_WORKSPACE, else runs/ in the checkout, else runs/ here)."),
) -> None:
    """Open the workbench: Benchmark, Train, Latent space, Search and Refine pages (Ctrl-C stops it)."""
    if not have_streamlit():
        raise LsoError("the workbench needs Streamlit, which is not installed: pip install 'lso[app]'")
    if not APP_MAIN.exists():
        raise LsoError(f"the app is not in this installation ({APP_MAIN} missing): reinstall lso")
    env = dict(os.environ)
    if workspace is not None:
        env["LSO_WORKSPACE"] = str(workspace.resolve())
    else:
        env.setdefault("LSO_WORKSPACE", str(default_workspace()))
    env.setdefault("LSO_DEFAULT_RUN", str(DEFAULT_RUN))
    make_console().print(f"[bold]lso workbench[/] at http://{host}:{port}  (Ctrl-C to stop)")
    code = serve(streamlit_command(host, port), env=env, cwd=CHECKOUT)
    if code != 0:
        raise typer.Exit(code)


def register(root: typer.Typer) -> None:
    """Add ``lso app``."""
    root.command("app")(app)
