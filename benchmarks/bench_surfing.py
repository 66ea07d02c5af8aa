"""Surfing figures of issue 4 on a trained G-VAE run (default out/runs/u0, see bench_search.py).

1. From the same random starts: how often surfing (through snapshots of an ICNN refitted from a fresh
   initialisation on labelled cells) and plain ascent on the final ICNN (as many steps in all) end on the
   surrogate's best decodable cell.
2. Decoder inversion: fraction of random cells for which surfing a temperature-smoothed reconstruction loss
   (T = 8, 4, 2, 1) and plain descent (T = 1, same number of steps) find z with decode(z) == cell.

    .venv/bin/python benchmarks/bench_surfing.py [--run out/runs/u0] [--labels 100] [--starts 50] [--cells 200]
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import torch

from lso.bench import BenchmarkTable
from lso.models.workbench import LatentModel
from lso.search.surfing import invert, surf_vs_plain

NB201 = Path(__file__).resolve().parents[2] / "shared" / "benchmarks" / "nb201" / "nb201_cifar10.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--run", type=Path, default=Path("out/runs/u0"))
    parser.add_argument("--table", type=Path, default=NB201)
    parser.add_argument("--labels", type=int, default=100)
    parser.add_argument("--starts", type=int, default=50)
    parser.add_argument("--cells", type=int, default=200)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args()
    table = BenchmarkTable.load(args.table)
    model = LatentModel.load(args.run)
    every = table.cells()
    print("seed | target (surrogate's best decodable cell) | surf hits | plain hits | starts")
    for seed in range(args.seeds):
        rng = random.Random(seed)
        labelled = rng.sample(every, args.labels)
        y = torch.tensor([table.query(c, "cifar10_valid") for c in labelled])
        fit = model.fit_surrogate(model.encode(labelled), y, steps=200, lr=3e-3, reset=True, rescale=True,
                                  snapshot_every=40, seed=seed)
        starts = model.encode(rng.sample(every, args.starts))
        result = surf_vs_plain(model, list(fit.snapshots), starts, steps=20, step_size=0.25)
        print(f"{seed} | {result.target} | {result.surf_hits} | {result.plain_hits} | {result.starts}")
    cells = random.Random(99).sample(every, args.cells)
    surfed = sum(invert(model, c, temperatures=(8.0, 4.0, 2.0, 1.0), steps=50).exact for c in cells)
    plain = sum(invert(model, c, temperatures=(1.0,), steps=200).exact for c in cells)
    print(f"decoder inversion from z=0, {args.cells} random cells: surfing {surfed}/{args.cells}, "
          f"plain {plain}/{args.cells} (200 Adam steps each)")


if __name__ == "__main__":
    main()
