"""Start ``lso app`` as a user does, wait for its Streamlit server, stop it with a signal, and find its children.

Shared by tests/cli/test_cli_app.py (the checkout's ``lso``) and tests/test_wheel.py (``lso`` from an installed wheel).
Linux only: children are read from /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Sequence


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    """Process ids whose parent is ``pid`` (from /proc)."""
    return list(children_with_commands(pid))


def children_with_commands(pid: int) -> dict[int, str]:
    """``{pid: command line}`` of the living (not zombie) processes whose parent is ``pid`` (from /proc)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after the last ')'
            state, ppid = stat.rpartition(")")[2].split()[:2]
            if int(ppid) == pid and state != "Z":
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, ValueError):
            continue
    return found


def alive(pid: int) -> bool:
    """True while ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"


def wait_healthy(proc: subprocess.Popen, port: int, timeout: float) -> float:
    """Seconds until ``/_stcore/health`` answers 200; AssertionError (with the output) when ``proc`` exits first or
    nothing answers within ``timeout``."""
    start = time.monotonic()
    url = f"http://127.0.0.1:{port}/_stcore/health"
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            raise AssertionError(f"`lso app` exited with {proc.returncode} before serving:\n{out}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"`lso app` did not answer at {url} within {timeout:.0f} s")


def start_app(argv: Sequence[str], port: int, workspace: Path, cwd: Path, env: dict | None = None
              ) -> subprocess.Popen:
    """``ARGV app --port PORT --workspace WORKSPACE`` in ``cwd`` (output kept in a pipe read at the end)."""
    return subprocess.Popen(
        [*argv, "app", "--port", str(port), "--workspace", str(workspace)],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )


def stop_and_check(proc: subprocess.Popen, server_pids: Sequence[int], sig: int = signal.SIGTERM,
                   timeout: float = 15.0) -> tuple[int, str]:
    """Send ``sig`` to ``lso app`` only (not its process group, as ``kill PID`` or a service manager does); assert
    that it exits and that every server process it started is gone within ``timeout``. Returns (exit status,
    output). Kills anything left behind, so a failing test never leaves a server running."""
    os.kill(proc.pid, sig)
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        code = None
    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in server_pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in server_pids if alive(pid)]
    for pid in left:  # before reading the output: a server left behind holds the pipe open
        os.kill(pid, signal.SIGKILL)
    if code is None:
        proc.kill()
        proc.wait()
    out = proc.stdout.read() if proc.stdout else ""
    assert code is not None, f"`lso app` did not exit within {timeout:.0f} s of signal {sig}:\n{out}"
    assert not left, f"the Streamlit server {left} outlived `lso app` (signal {sig}):\n{out}"
    return code, out
