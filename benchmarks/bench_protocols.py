"""Is a training protocol's ranking above its seed noise? Measure it on a seeded sample of unique cells.

Trains ``--cells`` unique cells (the first of a seeded permutation of the 6,466 isomorphism classes, ``--sample-seed``)
with two disjoint seed sets, table A (``--seeds-a``, default 0 1) and table B (``--seeds-b``, default 2 3): each
table is the mean over its seeds, as a benchmark table built with a 2-seed protocol would be. B is an independent
retraining of every cell with fresh seeds, so it also serves as the winner's-curse check. Prints:

- seconds per run (median, one torch thread per worker process);
- Spearman A vs B (valid, and test): how well two independent tables agree (also for the valid cross-entropy);
- spread of A: best, median, best - median (valid and test);
- the noise std of a table value, ``std(A - B) / sqrt(2)`` over the sample, and the share of cells whose A valid
  is within one noise std of A's best;
- Spearman valid vs test within A;
- winner's curse: the top ``--top`` cells by A valid, their mean A valid / A test against the same cells' mean
  B valid / B test (fresh seeds); the drop should be small.

Runs are cached (``--out``/<protocol>.runs.jsonl, resumable). The protocol is a registered name, optionally
changed with ``--set field=value`` (e.g. ``--set epochs=4 --set train_samples=1000``); the changed protocol is
renamed ``<name>+field=value...``.

``--replicas`` trains each table's seeds of a cell at once, as copies of one grouped network
(``lso.nets.replicas``, about 2.5x fewer CPU-seconds per run with 8 copies); the protocol is renamed
``<name>+replicas`` so that its runs are cached apart.

    .venv/bin/python benchmarks/bench_protocols.py mnist1d-fast --cells 300 --workers 2
    .venv/bin/python benchmarks/bench_protocols.py mnist1d-adam --replicas --seeds-a 0 1 2 3 4 5 6 7 \
        --seeds-b 8 9 10 11 12 13 14 15 --cells 300
"""

from __future__ import annotations

import argparse
import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import fields
from multiprocessing import get_context
from pathlib import Path
from statistics import median

import numpy as np

from lso.nets.builder import _worker_init, _worker_job, representatives
from lso.nets.cache import RunCache
from lso.nets.protocol import TrainProtocol, get_protocol
from lso.train.correlation import spearman


def _parse_set(protocol: TrainProtocol, changes: list[str]) -> TrainProtocol:
    if not changes:
        return protocol
    types = {f.name: f.type for f in fields(TrainProtocol)}
    values: dict[str, object] = {}
    for change in changes:
        key, _, raw = change.partition("=")
        kind = str(types[key])
        if raw == "None":
            values[key] = None
        elif "int" in kind and "float" not in kind:
            values[key] = int(raw)
        elif "float" in kind:
            values[key] = float(raw)
        elif "bool" in kind:
            values[key] = raw.lower() in ("1", "true", "yes")
        else:
            values[key] = raw
    return protocol.with_(name=protocol.name + "+" + ",".join(changes), **values)


def _train_all(protocol: TrainProtocol, cache: RunCache, jobs: list[tuple[str, str, tuple[int, ...]]],
               workers: int) -> list[float]:
    """Train the (key, arch, seeds) jobs not cached yet on ``workers`` spawned processes (a job: one seed, or a
    group of seeds trained at once with ``protocol.replicas``); their seconds per run."""
    pending = [(k, a, g) for k, a, g in jobs if any(cache.get(k, seed) is None for seed in g)]
    seconds: list[float] = []
    if not pending:
        return seconds
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_worker_init,
                             initargs=(protocol, None, "cpu", os.getpid())) as pool:
        todo = iter(pending)
        running: dict = {}
        while True:
            while len(running) < 2 * workers:
                job = next(todo, None)
                if job is None:
                    break
                running[pool.submit(_worker_job, job[1], job[2])] = job
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                key, _, _ = running.pop(future)
                for result in future.result():
                    cache.put(key, result)
                    seconds.append(result.wall_time_s)
                if len(seconds) % 100 == 0:
                    rate = len(seconds) / (time.perf_counter() - start)
                    print(f"  {len(seconds)}/{len(pending)} runs, {rate:.2f} runs/s", flush=True)
    wall = time.perf_counter() - start
    print(f"trained {len(seconds)} runs in {wall:.0f} s wall ({len(seconds) / wall:.2f} runs/s with {workers} "
          f"workers), median {median(seconds):.3f} s per run")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("protocol")
    parser.add_argument("--set", action="append", default=[], metavar="FIELD=VALUE")
    parser.add_argument("--cells", type=int, default=300)
    parser.add_argument("--sample-seed", type=int, default=0)
    parser.add_argument("--seeds-a", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--seeds-b", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("out/bench_protocols"))
    parser.add_argument("--json", type=Path, default=None, help="append the figures as one JSON line to this file")
    parser.add_argument("--replicas", action="store_true", help="train each table's seeds of a cell at once")
    args = parser.parse_args()

    if set(args.seeds_a) & set(args.seeds_b):
        parser.error("--seeds-a and --seeds-b must be disjoint")
    base = _parse_set(get_protocol(args.protocol), args.set)
    if args.replicas:
        base = base.with_(name=base.name + "+replicas", replicas=True)
    protocol = base.with_(seeds=tuple(args.seeds_a) + tuple(args.seeds_b))
    print(f"protocol {protocol.name}: {protocol.describe()}")
    reps = representatives()
    rng = np.random.default_rng(args.sample_seed)
    # a prefix of one seeded permutation: a larger --cells reuses the runs of a smaller one
    sample = [reps[i] for i in rng.permutation(len(reps))[: args.cells]]
    cache = RunCache(protocol, args.out / f"{protocol.name.replace('/', '_')}.runs.jsonl")
    groups = (tuple(args.seeds_a), tuple(args.seeds_b))
    jobs = ([(c.canonical(), c.to_string(), g) for c in sample for g in groups] if args.replicas else
            [(c.canonical(), c.to_string(), (s,)) for c in sample for s in protocol.seeds])
    _train_all(protocol, cache, jobs, args.workers)

    def table(seeds: list[int], metric: str) -> np.ndarray:
        return np.array([np.mean([getattr(cache.get(c.canonical(), s), metric) for s in seeds]) for c in sample])

    runs = [cache.get(c.canonical(), s) for c in sample for s in protocol.seeds]
    sec = median(r.wall_time_s for r in runs)
    va, vb, ta, tb = (table(args.seeds_a, "valid_acc"), table(args.seeds_b, "valid_acc"),
                      table(args.seeds_a, "test_acc"), table(args.seeds_b, "test_acc"))
    noise = float(np.std(va - vb) / np.sqrt(2))
    noise_t = float(np.std(ta - tb) / np.sqrt(2))
    top = np.argsort(-va, kind="stable")[: args.top]
    figures = {
        "protocol": protocol.name, "describe": base.describe(), "cells": len(sample), "sec_per_run": sec,
        "spearman_ab_valid": spearman(va, vb), "spearman_ab_test": spearman(ta, tb),
        "spearman_ab_valid_loss": spearman(table(args.seeds_a, "valid_loss"), table(args.seeds_b, "valid_loss")),
        "best_valid": float(va.max()), "median_valid": float(np.median(va)),
        "spread_valid": float(va.max() - np.median(va)), "spread_test": float(ta.max() - np.median(ta)),
        "noise_std_2seed_valid": noise, "noise_std_2seed_test": noise_t,  # (of a table value: its seeds' mean)
        "share_within_noise_of_best": float(np.mean(va >= va.max() - noise)),
        "spearman_valid_test": spearman(va, ta), "spearman_valid_a_test_b": spearman(va, tb),
        "top_a_valid": float(va[top].mean()), "top_b_valid": float(vb[top].mean()),
        "top_a_test": float(ta[top].mean()), "top_b_test": float(tb[top].mean()),
        "curse_valid": float(va[top].mean() - vb[top].mean()), "curse_test": float(ta[top].mean() - tb[top].mean()),
        "projected_build_cpu_h_4seeds": 4 * len(reps) * sec / 3600, "seeds_per_table": len(args.seeds_a),
        "projected_build_cpu_h": len(protocol.seeds) * len(reps) * sec / 3600,
    }
    print(f"seconds per run (median): {sec:.3f}; full build, {len(protocol.seeds)} runs x {len(reps):,} cells: "
          f"{figures['projected_build_cpu_h']:.2f} CPU-hours")
    print(f"Spearman A vs B: valid {figures['spearman_ab_valid']:.3f}, test {figures['spearman_ab_test']:.3f} "
          f"(valid cross-entropy instead of accuracy: {figures['spearman_ab_valid_loss']:.3f})")
    print(f"spread (A valid): best {va.max():.2f}, median {np.median(va):.2f}, best - median "
          f"{figures['spread_valid']:.2f} (test {figures['spread_test']:.2f})")
    print(f"noise std of a table value: valid {noise:.2f}, test {noise_t:.2f}; cells within one noise std of the "
          f"best: {np.sum(va >= va.max() - noise)} / {len(sample)} ({100 * figures['share_within_noise_of_best']:.1f}%)")
    print(f"Spearman valid vs test (A): {figures['spearman_valid_test']:.3f}; A valid vs B test (the independent "
          f"check a v2 table gives): {figures['spearman_valid_a_test_b']:.3f}")
    print(f"winner's curse, top-{args.top} by A valid: valid {va[top].mean():.2f} -> {vb[top].mean():.2f} (fresh "
          f"seeds), test {ta[top].mean():.2f} -> {tb[top].mean():.2f}; drop {figures['curse_test']:.2f} points")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        with args.json.open("a") as fh:
            fh.write(json.dumps(figures) + "\n")


if __name__ == "__main__":
    main()
