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


def run_on_ray(
    address: str,
    protocol: TrainProtocol,
    data_root: Path | None,
    device: str,
    pending: list[tuple[str, int]],
    done: Callable[[TrainResult], None],
    advance: Callable[[], None],
) -> str:
    """Train ``pending`` (arch, seed) jobs on the Ray cluster at ``address`` ("auto", "host:port", "ray://...", or
    "local" to start a private one); ``done(result)`` is called for each result in this process as it arrives.
    Returns a description of what ran (for the table's metadata).

    Raises:
        RayError: when ray is not installed or the cluster cannot be reached.
    """
    try:
        import ray
        from ray.util import ActorPool
    except ImportError as err:
        raise RayError("--ray needs the ray package: pip install 'lso[ray]' (or use local --workers)") from err
    connected_here = not ray.is_initialized()
    if connected_here:
        _check_reachable(address)
        try:
            ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as err:
            raise RayError(f"cannot reach a Ray cluster at {address!r}: {err}") from err
    try:
        resources = ray.cluster_resources()
        if device == "auto":
            device = "cuda" if resources.get("GPU", 0) > 0 else "cpu"
        gpu = device.startswith("cuda")
        slots = max(1, int(resources.get("GPU" if gpu else "CPU", 1)))
        actor = ray.remote(num_cpus=0 if gpu else 1, num_gpus=1 if gpu else 0)(_Trainer)
        actors = [actor.remote(protocol, str(data_root) if data_root else None, device) for _ in range(slots)]
        pool = ActorPool(actors)
        jobs = iter(pending)
        in_flight = 0
        while True:
            while in_flight < 2 * slots:  # a short queue: an interrupt loses little
                job = next(jobs, None)
                if job is None:
                    break
                pool.submit(lambda a, j: a.train.remote(*j), job)
                in_flight += 1
            if in_flight == 0:
                break
            done(pool.get_next_unordered())
            in_flight -= 1
            advance()
        return f"ray cluster {address}: {slots} actor(s) on {int(resources.get('CPU', 0))} CPU(s), " \
               f"{int(resources.get('GPU', 0))} GPU(s), device {device}, 1 thread each"
    finally:
        if connected_here:
            ray.shutdown()
