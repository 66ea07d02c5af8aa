"""Build a benchmark table by training every unique cell of the NB201 space with one protocol.

Isomorphic cells share one set of runs (6,466 classes for 15,625 cells); every official index gets the row of
its class. Runs are written to a JSON-lines cache as they finish (``lso.nets.cache``), so a build that is
interrupted resumes where it stopped. Work goes to local worker processes (``spawn``, one torch thread each), runs
in this process with ``workers=0``, or goes to a Ray cluster (``ray``, ``lso.nets.ray_runner``).
"""

from __future__ import annotations

import os
import platform
import signal
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path
from statistics import median
from typing import Callable

import torch

from lso.bench.table import BenchmarkTable, TableMeta
from lso.data.datasets import ImageDataset, load_dataset
from lso.errors import LsoError
from lso.jobs import Reporter
from lso.nets.cache import RunCache
from lso.device import describe_device, resolve_device
from lso.nets.protocol import TrainProtocol
from lso.nets.space_build import cell_values, sampled_cells, space_table_from_cache
from lso.nets.trainer import TrainResult, train_cell
from lso.space import Cell, all_cells, unique_ids
from lso.spaces import get_space


@dataclass(frozen=True)
class BuildConfig:
    """What ``build_benchmark`` does.

    ``cache`` defaults to ``<out>.runs.jsonl`` beside the table. ``limit`` trains at most that many unique cells
    (the first ones in official index order, itself a seeded shuffle) and writes a partial table.
    ``workers=0`` trains in this process (e.g. on one GPU); ``workers>=1`` uses that many spawned processes.
    ``ray`` (a cluster address, or "local" for a private one) sends the runs to a Ray cluster instead, one actor
    per CPU (per GPU with a CUDA device); ``workers`` is then ignored. ``shard=(k, n)`` trains only the unique
    cells whose position in that order is ``k`` modulo ``n``: ``n`` builds (machines, or a CPU pool beside a GPU)
    share one protocol without Ray, each with its own cache, then joined by ``lso.nets.cache_merge``.
    ``space`` other than ``nb201`` (``nb101``, ``darts``) trains a seeded sample of ``sample`` distinct cells drawn
    with ``sample_seed`` (``lso.nets.space_build``) and writes a ``SpaceTable``; ``limit`` and ``shard`` cut that
    sample. Replicas and Ray are NB201-only.
    """

    protocol: TrainProtocol
    out: Path
    cache: Path | None = None
    workers: int = 1
    limit: int | None = None
    device: str = "cpu"
    data_root: Path | None = None
    ray: str | None = None
    shard: tuple[int, int] | None = None
    space: str = "nb201"
    sample: int | None = None
    sample_seed: int = 0

    @property
    def cache_path(self) -> Path:
        return self.cache if self.cache is not None else self.out.with_name(self.out.stem + ".runs.jsonl")


@dataclass(frozen=True)
class BuildReport:
    """What a build did. ``rows`` is the number of table rows written (15,625 for a full build)."""

    table: Path
    cache: Path
    rows: int
    unique_cells: int
    runs_trained: int
    runs_cached: int
    wall_time_s: float
    median_run_s: float | None
    workers: int
    complete: bool
    failed_runs: tuple[str, ...] = ()  # "arch seed s: why" of runs that failed on Ray (missing from the table)
    datasheet: Path | None = None  # a sampled build's ``<table>.datasheet.json`` (lso.bench.space_datasheet)


def representatives(limit: int | None = None, shard: tuple[int, int] | None = None) -> list[Cell]:
    """One cell per isomorphism class (the one with the smallest official index), in official index order: the first
    ``limit`` of them, then of those every ``n``-th from the ``k``-th when ``shard=(k, n)``.

    Raises:
        LsoError: a shard outside ``0 <= k < n``.
    """
    if shard is not None and not 0 <= shard[0] < shard[1]:
        raise LsoError(f"shard must be k/n with 0 <= k < n, got {shard[0]}/{shard[1]}")
    ids = unique_ids()
    cells = all_cells()
    reps = [cells[i] for i, uid in enumerate(ids) if uid == i]
    reps = reps if limit is None else reps[: max(0, limit)]
    return reps if shard is None else reps[shard[0]::shard[1]]


def table_from_cache(protocol: TrainProtocol, cache: RunCache, meta_extra: dict[str, str] | None = None) -> BenchmarkTable | None:
    """The benchmark table of every cell whose class has all seeds cached; None when no cell has.

    Columns: ``<ds>_train``, ``<ds>_valid``, ``<ds>_test`` (means over seeds, percent; test over the
    ``test_seeds`` when the protocol has them), per seed ``<ds>_valid_seed<s>`` / ``<ds>_test_seed<s>`` when there
    are several, ``params``, ``flops`` and ``train_seconds`` (summed over every run).
    """
    ds = protocol.dataset
    by_key: dict[str, dict[str, float]] = {}
    rows = []
    for index, cell in enumerate(all_cells()):
        key = cell.canonical()
        if key not in by_key:
            runs = [cache.get(key, s) for s in protocol.seeds]
            test_runs = [cache.get(key, s) for s in protocol.test_seeds] or runs
            if any(r is None for r in runs + test_runs):
                by_key[key] = {}
                continue
            values = cell_values(protocol, runs, test_runs)  # type: ignore[arg-type]
            by_key[key] = values
        if by_key[key]:
            rows.append({"index": index, "arch": cell.to_string(), **by_key[key]})
    if not rows:
        return None
    import pandas as pd

    meta = TableMeta(
        source=f"lso training oracle, protocol {protocol.name}",
        dataset=ds,
        fidelity=f"{protocol.epochs} epochs",
        extra={"protocol": protocol.to_json(), "protocol_summary": protocol.describe(), **(meta_extra or {})},
    )
    return BenchmarkTable.from_frame(pd.DataFrame(rows), meta)


# ----- worker processes ----------------------------------------------------------------------------------------------
# Each spawned worker loads the dataset once (in its initializer) and keeps it for its jobs; this per-process slot
# is the only state a worker holds, and it is set only inside worker processes.
_worker_data: dict[str, object] = {}


def _worker_init(protocol: TrainProtocol, data_root: Path | None, device: str, parent: int | None = None,
                 space: str = "nb201") -> None:
    if parent is not None:
        die_with_parent(parent)
    torch.set_num_threads(1)  # one core per worker: the pool, not intra-op threads, fills the machine
    _worker_data["data"] = load_dataset(protocol.dataset, protocol.split_seed, data_root)
    _worker_data["protocol"] = protocol
    _worker_data["device"] = device
    _worker_data["space"] = space


def die_with_parent(parent: int, poll_s: float = 1.0) -> None:
    """End this (worker) process when the process ``parent`` ends, even by ``kill -9``, which gives it no chance
    to stop its pool: on Linux the kernel sends SIGKILL at the parent's death (``prctl(PR_SET_PDEATHSIG)``); on
    every system a daemon thread also polls ``os.getppid()`` and exits once the worker has been re-parented."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):
            pass  # the poll below still ends the worker
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="lso-die-with-parent", daemon=True).start()


def _train_job(arch: str, protocol: TrainProtocol, data: ImageDataset, group: tuple[int, ...],
               device: str | torch.device, space: str = "nb201") -> list[TrainResult]:
    """The runs of one job: one seed alone, or a group of seeds as copies of one network (``protocol.replicas``);
    a cell of another space than NB201 one seed at a time (``lso.nets.space_trainer``)."""
    if space != "nb201":
        from lso.nets.space_trainer import train_space_cell

        other = get_space(space)
        return [train_space_cell(other, other.parse(arch), protocol, seed, data, device) for seed in group]
    if protocol.replicas:
        from lso.nets.replicas import train_replicas

        return train_replicas(arch, protocol, data, group, device)
    return [train_cell(arch, protocol, data, seed, device) for seed in group]


def _worker_job(arch: str, group: tuple[int, ...]) -> list[TrainResult]:
    data = _worker_data["data"]
    assert isinstance(data, ImageDataset)
    return _train_job(arch, _worker_data["protocol"], data, group, _worker_data["device"],  # type: ignore[arg-type]
                      str(_worker_data["space"]))


def build_benchmark(config: BuildConfig, *, reporter: Reporter | None = None) -> BuildReport:
    """Train every pending (class, seed) run of ``config.protocol``, then write the table to ``config.out``.

    Resumes from the cache; the table (Parquet, atomic write) holds all 15,625 rows when every class is done.
    ``reporter`` gets ``(runs finished, runs pending, message)`` at the start and after every run (trained, or
    failed on Ray); a stop request (``lso.jobs.Cancelled``) ends the build there, with the finished runs cached.

    Raises:
        LsoError: for bad settings (workers < 0), a cache of another protocol, an unknown dataset or a missing
            device.
    """
    protocol = config.protocol
    if config.workers < 0:
        raise LsoError(f"workers must be >= 0, got {config.workers}")
    # On a Ray cluster the nodes, not this process, must have the device.
    device = resolve_device(config.device) if config.ray is None else None
    space = get_space(config.space)
    cache = RunCache(protocol, config.cache_path, space=space.name)
    if space.name == "nb201":
        cells: list = representatives(config.limit, config.shard)
    else:
        if config.sample is None:
            raise LsoError(f"the {space.name} space is too large to train whole: give the sample size (--sample N)")
        if config.ray is not None or protocol.replicas:
            raise LsoError(f"a {space.name} build trains one seed per job with --workers (no Ray, no replicas)")
        cells = sampled_cells(space, config.sample, config.sample_seed, config.limit, config.shard)
    if protocol.replicas and config.ray is not None:
        raise LsoError("a protocol with replicas trains seed groups in one process: build it with --workers, not Ray")
    groups = protocol.seed_groups if protocol.replicas else tuple((s,) for s in protocol.all_seeds)
    # a job: one cell and the seeds trained together (one seed, or a whole group of copies)
    pending = [(space.to_string(c), g) for c in cells for g in groups
               if any(cache.get(space.canonical(c), s) is None for s in g)]
    runs_cached = len(cells) * len(protocol.all_seeds) - sum(len(g) for _, g in pending)
    start = time.perf_counter()
    seconds: list[float] = []

    def done(result: TrainResult) -> None:
        cache.put(space.canonical(space.parse(result.arch)), result)
        seconds.append(result.wall_time_s)

    finished = 0

    def advance() -> None:
        nonlocal finished
        finished += 1
        if reporter is not None:
            reporter(finished, len(pending), f"{finished}/{len(pending)} jobs of {protocol.name}")

    if reporter is not None:
        reporter(0, len(pending), f"{runs_cached} runs cached, {len(pending)} to train")
    ran_on = ""
    failed: list[str] = []
    if config.ray is not None:
        if pending:
            from lso.nets.ray_runner import run_on_ray

            ran_on = run_on_ray(config.ray, protocol, config.data_root, config.device,
                                [(arch, group[0]) for arch, group in pending], done, advance, failed=failed.append)
    elif config.workers == 0:
        data = load_dataset(protocol.dataset, protocol.split_seed, config.data_root) if pending else None
        for arch, group in pending:
            for result in _train_job(arch, protocol, data, group, device, space.name):  # type: ignore[arg-type]
                done(result)
            advance()
    elif pending:
        _run_pool(config, str(device), pending, done, advance)
    wall = time.perf_counter() - start
    if device is None:
        described = ran_on or f"ray cluster {config.ray} (nothing left to train)"
    elif config.workers == 0:
        described = describe_device(device)
    else:
        described = f"{device.type}, {config.workers} worker process(es), 1 thread each"
    extra = {
        "device": described,
        "hardware": f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cpu(s)".strip(),
        "torch": torch.__version__,
    }
    if space.name == "nb201":
        table = table_from_cache(protocol, cache, extra)
    else:
        extra.update(sample=str(config.sample), sample_seed=str(config.sample_seed))
        table = space_table_from_cache(space, protocol, cache, cells, extra)
    rows = 0
    datasheet = None
    if table is not None:
        table.save(config.out)
        rows = len(table)
        if space.name != "nb201":
            from lso.bench.space_datasheet import write_space_datasheet

            datasheet = write_space_datasheet(table, config.out)  # type: ignore[arg-type]
    return BuildReport(
        table=config.out,
        cache=config.cache_path,
        rows=rows,
        unique_cells=len(cells),
        runs_trained=len(seconds),
        runs_cached=runs_cached,
        wall_time_s=wall,
        median_run_s=median(seconds) if seconds else None,
        workers=config.workers,
        complete=rows == (len(all_cells()) if space.name == "nb201" else len(cells)),
        failed_runs=tuple(failed),
        datasheet=datasheet,
    )


def _run_pool(config: BuildConfig, device: str, pending: list[tuple[str, tuple[int, ...]]],
              done: Callable[[TrainResult], None], advance: Callable[[], None]) -> None:
    """Feed ``pending`` jobs to spawned workers, keeping at most 2 per worker queued (so an interrupt loses little).

    Each worker ends when this process does (``die_with_parent``), however this process ends; a worker that dies
    (killed, out of memory) ends the build with an ``LsoError``: the runs finished so far are in the cache."""
    load_dataset(config.protocol.dataset, config.protocol.split_seed, config.data_root)  # a missing dataset fails
    # here, with its own error, instead of killing every worker's initializer
    jobs = iter(pending)
    with ProcessPoolExecutor(
        max_workers=config.workers,
        mp_context=get_context("spawn"),
        initializer=_worker_init,
        initargs=(config.protocol, config.data_root, device, os.getpid(), config.space),
    ) as pool:
        running: set[Future[list[TrainResult]]] = set()
        try:
            while True:
                while len(running) < 2 * config.workers:
                    job = next(jobs, None)
                    if job is None:
                        break
                    running.add(pool.submit(_worker_job, *job))
                if not running:
                    break
                finished, running = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    for result in future.result():
                        done(result)
                    advance()
        except BrokenProcessPool as err:
            raise LsoError(f"a worker process died unexpectedly (killed, or out of memory?): {err}; the runs that "
                           f"finished are in the cache {config.cache_path}; run the same command again to "
                           "resume") from err
        except BaseException:
            for future in running:
                future.cancel()
            raise
