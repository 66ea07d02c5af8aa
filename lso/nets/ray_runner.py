"""Run the benchmark builder's training jobs on a Ray cluster (``lso bench build --ray ADDRESS``).

One actor per CPU of the cluster (or per GPU when the device is CUDA) loads the dataset once and trains the jobs it
is handed; results come back to this process, which appends each to the run cache as it arrives, so an interrupted
build loses at most the runs in flight, exactly as with local workers. Every node must have ``lso`` (and the
dataset files, for CIFAR) installed at the same paths. Ray is optional: ``pip install 'lso[ray]'``.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path

import torch

from lso.data.datasets import load_dataset
from lso.errors import LsoError
from lso.nets.protocol import TrainProtocol
from lso.nets.trainer import TrainResult, train_cell


class RayError(LsoError):
    """Ray is missing, or the cluster cannot be reached."""


def _check_reachable(address: str) -> None:
    """Fail fast on a HOST:PORT nobody answers at (Ray itself retries for minutes)."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto", "local": Ray resolves them itself
    try:
        socket.create_connection((host, int(port)), timeout=5).close()
    except OSError as err:
        raise RayError(f"no Ray cluster answers at {address!r} ({err}); start one with `ray start --head` or "
                       "use local --workers") from err


class _Trainer:
    """A Ray actor: one dataset in memory, one torch thread, trains the (arch, seed) jobs it receives."""

    def __init__(self, protocol: TrainProtocol, data_root: str | None, device: str) -> None:
        torch.set_num_threads(1)
        self.protocol, self.device = protocol, device
        self.data = load_dataset(protocol.dataset, protocol.split_seed, data_root)

    def train(self, arch: str, seed: int) -> TrainResult:
        return train_cell(arch, self.protocol, self.data, seed, self.device)


MAX_TRIES = 3  # a job whose actor dies is retried on a fresh actor, at most this many times in all


def run_on_ray(
    address: str,
    protocol: TrainProtocol,
    data_root: Path | None,
    device: str,
    pending: list[tuple[str, int]],
    done: Callable[[TrainResult], None],
    advance: Callable[[], None],
    *,
    failed: Callable[[str], None] | None = None,
) -> str:
    """Train ``pending`` (arch, seed) jobs on the Ray cluster at ``address`` ("auto", "host:port", "ray://...", or
    "local" to start a private one); ``done(result)`` is called for each result in this process as it arrives.
    Returns a description of what ran (for the table's metadata).

    The dataset is loaded here first (a missing dataset fails before any actor starts). A CUDA device on a cluster
    without GPUs fails at once (Ray would wait forever for a GPU to schedule the actors on). An actor that dies
    (its node lost, its process killed) is replaced and its job retried, ``MAX_TRIES`` times in all; a job that
    still fails, or whose training raised, is reported to ``failed("ARCH seed S: reason")`` and the build goes on
    (without ``failed``, it raises ``RayError``).

    Raises:
        RayError: when ray is not installed, the cluster cannot be reached or lacks the device.
    """
    try:
        import ray
        from ray.exceptions import RayActorError, RayTaskError
    except ImportError as err:
        raise RayError("--ray needs the ray package: pip install 'lso[ray]' (or use local --workers)") from err
    gpu = device.startswith("cuda")
    if not gpu and device not in ("cpu", "auto"):
        raise RayError(f"unknown device {device!r} for a Ray build: use cpu, cuda or auto")
    load_dataset(protocol.dataset, protocol.split_seed, data_root)  # fails here, not in every actor
    connected_here = not ray.is_initialized()
    if connected_here:
        _check_reachable(address)
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise RayError(f"cannot reach a Ray cluster at {address!r}: {err}") from err
    try:
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), int(resources.get("CPU", 0))
        if device == "auto":
            device, gpu = ("cuda", True) if gpus > 0 else ("cpu", False)
        if gpu and gpus < 1:
            raise RayError(f"--device {device} asked, but the Ray cluster at {address!r} has no GPU ({cpus} CPU(s)): "
                           "use --device cpu, or add GPU nodes")
        if gpu:
            device = "cuda"  # each actor sees only the GPU Ray gave it, as cuda:0
        slots = max(1, gpus if gpu else cpus)
        actor = ray.remote(num_cpus=0 if gpu else 1, num_gpus=1 if gpu else 0, max_restarts=0)(_Trainer)
        root = str(data_root) if data_root else None
        idle = [actor.remote(protocol, root, device) for _ in range(slots)]
        running: dict = {}  # object ref -> (actor, job, tries)
        jobs = [(job, 1) for job in reversed(pending)]  # a stack: retried jobs go back on top
        problems = 0

        def report(job: tuple[str, int], why: str) -> None:
            message = f"{job[0]} seed {job[1]}: {why}"
            if failed is None:
                raise RayError(f"a run failed on the Ray cluster: {message}")
            failed(message)
            advance()

        while jobs or running:
            while jobs and idle:
                job, tries = jobs.pop()
                trainer = idle.pop()
                running[trainer.train.remote(*job)] = (trainer, job, tries)
            ready, _ = ray.wait(list(running), num_returns=1)
            ref = ready[0]
            trainer, job, tries = running.pop(ref)
            try:
                result = ray.get(ref)
            except RayActorError as err:  # the actor died: a fresh one takes its place
                problems += 1
                idle.append(actor.remote(protocol, root, device))
                if tries < MAX_TRIES:
                    jobs.append((job, tries + 1))
                else:
                    report(job, f"its Ray actor died {tries} times ({_short(err)})")
                continue
            except RayTaskError as err:  # the training itself raised: retrying would fail the same way
                problems += 1
                idle.append(trainer)
                report(job, f"training raised {_short(err)}")
                continue
            idle.append(trainer)
            done(result)
            advance()
        lost = f", {problems} actor failure(s) recovered or reported" if problems else ""
        return f"ray cluster {address}: {slots} actor(s) on {cpus} CPU(s), {gpus} GPU(s), device {device}, " \
               f"1 thread each{lost}"
    finally:
        if connected_here:
            ray.shutdown()


def _short(err: BaseException) -> str:
    """The first line of an error (Ray's carry the remote traceback), as ``Type: message``."""
    cause = getattr(err, "cause", None)
    if isinstance(cause, BaseException):
        err = cause
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return f"{type(err).__name__}: {lines[0] if lines else ''}"[:200]
