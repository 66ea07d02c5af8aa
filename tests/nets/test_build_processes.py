"""Processes of `lso bench build`: local worker processes end when the build's process is killed (even by SIGKILL,
which gives it no chance to stop its pool); on Ray, a CUDA device on a cluster without GPUs fails at once instead of
waiting forever, and an actor that dies is replaced and its run retried, so the build still completes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from appserver import alive, children_with_commands
from cli_runner import run_cli
from optional_deps import need_ray

REPO = Path(__file__).resolve().parents[2]
LSO = REPO / ".venv" / "bin" / "lso"

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


@linux_only
def test_workers_exit_when_the_build_is_killed(tmp_path: Path) -> None:
    argv = [str(LSO), "bench", "build", "--dataset", "digits", "--protocol", "digits-fast", "--workers", "2",
            "--out", str(tmp_path / "b.parquet"), "--no-progress"]
    build = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path)
    workers: dict[int, str] = {}
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and build.poll() is None:
            workers = {p: c for p, c in children_with_commands(build.pid).items() if "spawn_main" in c}
            if len(workers) == 2:
                break
            time.sleep(0.2)
        assert len(workers) == 2, f"the build did not start 2 workers: {build.poll()=}, {children_with_commands(build.pid)}"
        cache = tmp_path / "b.runs.jsonl"
        while time.monotonic() < deadline and build.poll() is None:  # the workers train: first runs in the cache
            if cache.exists() and len(cache.read_text().splitlines()) >= 3:
                break
            time.sleep(0.2)
        assert build.poll() is None, build.stderr.read().decode()
        os.kill(build.pid, signal.SIGKILL)
        build.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(alive(p) for p in workers):
            time.sleep(0.1)
        survivors = [p for p in workers if alive(p)]
        assert not survivors, f"worker(s) {survivors} outlived the killed build"
    finally:
        if build.poll() is None:
            build.kill()
        for pid in workers:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_ray_cuda_without_gpus_fails_fast(tmp_path: Path, capsys) -> None:
    need_ray()
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU: a local Ray cluster would have one too")
    out = tmp_path / "t.parquet"
    argv = ["bench", "build", "--dataset", "digits", "--protocol", "digits-fast", "--limit", "1", "--ray", "local",
            "--device", "cuda", "--out", str(out), "--no-progress"]
    start = time.monotonic()
    assert run_cli(argv) == 2
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    errors = [line for line in err.splitlines() if line.startswith("error:")]  # Ray prints notices of its own
    assert len(errors) == 1 and "no GPU" in errors[0] and "Traceback" not in err, err
    assert elapsed < 120, f"took {elapsed:.0f}s"
    assert not out.exists()


@pytest.mark.slow
@linux_only
def test_a_dead_ray_actor_is_replaced_and_the_build_completes(tmp_path: Path) -> None:
    need_ray()
    from lso.nets.protocol import TrainProtocol
    from lso.nets.ray_runner import run_on_ray

    tiny = TrainProtocol(name="tiny", dataset="digits", epochs=2, lr=0.05, batch_size=32, channels=4,
                         cells_per_stage=1, seeds=(0,), train_samples=200)
    from lso.nets.builder import representatives

    pending = [(c.to_string(), 0) for c in representatives(6)]
    results, failed, killed = [], [], []

    def done(result) -> None:
        results.append(result)
        if not killed:  # after the first result, SIGKILL one live actor process
            actors = [p for p, c in _all_processes().items() if c.startswith("ray::_Trainer")]
            assert actors, "no Ray actor process found"
            os.kill(actors[0], signal.SIGKILL)
            killed.append(actors[0])

    described = run_on_ray("local", tiny, None, "cpu", pending, done, lambda: None, failed=failed.append)
    assert killed
    assert not failed, failed
    assert sorted(r.arch for r in results) == sorted(a for a, _ in pending)
    assert "actor failure" in described


def _all_processes() -> dict[int, str]:
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                found[int(entry.name)] = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except OSError:
                continue
    return found
