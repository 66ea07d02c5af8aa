"""Seconds per training run (one seed, the protocol's first) of sampled NB201, NB101 and DARTS cells under one
protocol, all interleaved in one process so that the ratios to NB201 share the machine's state.

Each entry of --runs is SPACE or SPACE:CHANNELS:CELLS_PER_STAGE (the protocol's own sizes when left out).
Usage (from the repo root):
  OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_space_trainer.py --protocol mnist1d-v2 --cells 10 \
      --runs nb201 nb101 darts nb101:16:1 darts:4:1
"""
import argparse
import statistics

import numpy as np
import torch

from lso.data.datasets import load_dataset
from lso.nets.protocol import get_protocol
from lso.nets.space_trainer import train_space_cell
from lso.spaces import get_space

ap = argparse.ArgumentParser()
ap.add_argument("--protocol", default="mnist1d-v2")
ap.add_argument("--cells", type=int, default=10)
ap.add_argument("--sample-seed", type=int, default=0)
ap.add_argument("--runs", nargs="+", default=["nb201", "nb101", "darts"])
args = ap.parse_args()
torch.set_num_threads(1)
base = get_protocol(args.protocol)
data = load_dataset(base.dataset, base.split_seed)
runs = []
for entry in args.runs:
    name, *sizes = entry.split(":")
    protocol = base.with_(channels=int(sizes[0]), cells_per_stage=int(sizes[1])) if sizes else base
    space = get_space(name)
    runs.append((entry, space, protocol, space.sample(args.cells, np.random.default_rng(args.sample_seed))))
seed = base.seeds[0]
print(f"protocol {base.name}: {base.describe()}; torch threads {torch.get_num_threads()}; one seed ({seed}) per run")
for _, space, protocol, cells in runs:  # warm-up: first-call overheads, not timed
    train_space_cell(space, cells[0], protocol.with_(epochs=1, train_samples=64), seed, data)
stats = {entry: ([], [], []) for entry, *_ in runs}
for i in range(args.cells):
    for entry, space, protocol, cells in runs:
        r = train_space_cell(space, cells[i], protocol, seed, data)
        for bucket, value in zip(stats[entry], (r.wall_time_s, r.params, r.valid_acc)):
            bucket.append(value)
        print(f"{entry:12s} cell {i}: {r.wall_time_s:6.2f} s  params {r.params:7d}  MACs {r.flops:9d}  valid {r.valid_acc:5.1f}", flush=True)
reference = statistics.median(stats[runs[0][0]][0])
print(f"\n{'run':12s} {'median s/run':>12s} {'x ' + runs[0][0]:>10s} {'params median (min-max)':>26s} {'valid % median (min-max)':>26s}")
for entry, (times, params, accs) in stats.items():
    med = statistics.median(times)
    print(f"{entry:12s} {med:12.2f} {med / reference:10.2f} {int(statistics.median(params)):>10d} ({min(params)}-{max(params)})"
          f" {statistics.median(accs):>10.1f} ({min(accs):.1f}-{max(accs):.1f})")
