"""``lso app``: it finds the app as package data, and stopping it stops the Streamlit server it started.

Before, ``lso app`` ran the server with ``subprocess.call`` and died alone on SIGTERM: the server was orphaned and
kept serving. Now SIGTERM, SIGINT and SIGHUP are passed on (lso.cli.app.serve).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from appserver import alive, children, free_port, start_app, stop_and_check, wait_healthy
from cli_runner import run_cli

import lso.cli.app as cli_app

pytest.importorskip("streamlit")


def test_the_app_is_package_data():
    assert cli_app.APP_MAIN.is_file() and cli_app.APP_MAIN.name == "main.py"
    assert (cli_app.APP_DIR / "views").is_dir() and (cli_app.APP_DIR / "common" / "data.py").is_file()
    command = cli_app.streamlit_command("127.0.0.1", 8765)
    assert command[:4] == [sys.executable, "-m", "streamlit", "run"] and command[4] == str(cli_app.APP_MAIN)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopping_lso_app_stops_the_server(sig, tmp_path: Path):
    port = free_port()
    proc = start_app([sys.executable, "-m", "lso.cli.main"], port, tmp_path / "workspace", cwd=tmp_path)
    try:
        wait_healthy(proc, port, timeout=90)
        servers = children(proc.pid)
        assert servers, "`lso app` serves but has no child process"
    except BaseException:
        proc.kill()
        raise
    code, out = stop_and_check(proc, servers, sig)
    assert code == 0, out
    assert f"http://127.0.0.1:{port}" in out


def test_a_server_that_ignores_the_signal_is_killed_after_the_grace(tmp_path: Path):
    ready = tmp_path / "ready"
    stubborn = textwrap.dedent(f"""
        import pathlib, signal, time
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        pathlib.Path({str(ready)!r}).write_text("")
        time.sleep(120)
    """)
    front = f"import sys; from lso.cli.app import serve; sys.exit(serve([sys.executable, '-c', {stubborn!r}], grace=1))"
    proc = subprocess.Popen([sys.executable, "-c", front])
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None and time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child = children(proc.pid)
        assert len(child) == 1
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 137  # killed: 128 + SIGKILL
        assert time.monotonic() - started < 10
        assert not alive(child[0])
    finally:
        if proc.poll() is None:
            proc.kill()


def test_without_streamlit_it_says_what_to_install(monkeypatch, capsys):
    monkeypatch.setattr(cli_app, "have_streamlit", lambda: False)
    assert run_cli(["app"]) == 2
    assert "pip install 'lso[app]'" in capsys.readouterr().err


def test_lso_app_starts_without_importing_torch():
    """`lso app` registers its own command group only: the server's parent process never waits for torch."""
    code = ("import sys; from lso.cli.main import build_app; app = build_app(only='app'); "
            "print('torch' in sys.modules, [c.name for c in app.registered_commands])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False ['app']"
    helped = subprocess.run([sys.executable, "-m", "lso.cli.main", "app", "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and "--workspace" in helped.stdout
