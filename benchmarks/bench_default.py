"""Datasheet figures of a built benchmark table (the embedded default: benchmarks_data/default.parquet).

Prints, for the table's validation metric (the search signal) and test metric: the spread over unique cells (best,
top-1%, median, worst), how many cells tie at the top, Spearman between the two per-seed columns on the first 300
unique cells (official order) and on all; the seed noise (|seed0 - seed1|: median and 95th percentile, the
tolerance the tests use); and the median seconds per run. With ``--extra-seeds 2 3`` it also trains those seeds on
the same 300 cells (through the builder) and reports the agreement of two independent *tables* (the 2-seed mean
against the mean of the extra seeds). Writes everything to ``--json``.

    .venv/bin/python benchmarks/bench_default.py benchmarks_data/default.parquet --extra-seeds 2 3 --workers 2
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lso.bench.quality import table_quality
from lso.bench.table import BenchmarkTable
from lso.jobs import progress_bar
from lso.nets.builder import BuildConfig, build_benchmark
from lso.nets.protocol import TrainProtocol
from lso.train.correlation import spearman


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", type=Path)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--extra-seeds", type=int, nargs=2, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path, default=Path("out/default_build/datasheet.json"))
    args = parser.parse_args()

    table = BenchmarkTable.load(args.table)
    protocol = TrainProtocol.from_dict(json.loads(table.meta.extra["protocol"]))
    ds, seeds = protocol.dataset, protocol.seeds
    print(f"{args.table}: {len(table):,} rows, {table.num_unique:,} unique; protocol {protocol.describe()}")
    out: dict = {"table": str(args.table), "rows": len(table), "unique": table.num_unique,
                 "protocol": protocol.to_dict()}
    frame = table.frame.sort_values("index").drop_duplicates("unique_id")
    for split in ("valid", "test"):
        cols = (f"{ds}_{split}_seed{seeds[0]}", f"{ds}_{split}_seed{seeds[1]}") if len(seeds) > 1 else None
        q = table_quality(table, f"{ds}_{split}", seed_columns=cols, sample=args.sample)
        out[split] = q.to_dict()
        print(f"{ds}_{split} (mean of seeds {list(seeds)}): best {q.best:.2f}, top-1% {q.top1pct:.2f}, "
              f"median {q.median:.2f}, worst {q.worst:.2f}; {q.top_ties} cell(s) at the best")
        if cols:
            a, b = (frame[c].to_numpy(dtype=float) for c in cols)
            diff = np.abs(a - b)
            out[split]["seed_abs_diff_median"] = float(np.median(diff))
            out[split]["seed_abs_diff_p95"] = float(np.quantile(diff, 0.95))
            print(f"  seed {seeds[0]} vs {seeds[1]}: Spearman {q.seed_spearman:.3f} on the first {q.sample} unique "
                  f"cells, {q.seed_spearman_all:.3f} on all; |diff| median {np.median(diff):.2f}, "
                  f"95th pct {np.quantile(diff, 0.95):.2f} points")
    per_run = frame["train_seconds"].to_numpy(dtype=float) / len(seeds)
    out["seconds_per_run_median"] = float(np.median(per_run))
    out["train_seconds_total"] = float(frame["train_seconds"].sum())
    print(f"seconds per run (1 thread, as built): median {np.median(per_run):.2f}; "
          f"sum over all runs {frame['train_seconds'].sum() / 3600:.2f} CPU-hours")

    if args.extra_seeds:
        extra = protocol.with_(seeds=tuple(args.extra_seeds), name=protocol.name + "-extra")
        extra_out = args.json.parent / "extra_seeds.parquet"
        with progress_bar(f"training {extra.name}", "run") as reporter:
            build_benchmark(BuildConfig(extra, extra_out, workers=args.workers, limit=args.sample), reporter=reporter)
        other = BenchmarkTable.load(extra_out).frame.drop_duplicates("unique_id").set_index("unique_id")
        mine = frame.set_index("unique_id").loc[other.index]
        res = {}
        for split in ("valid", "test"):
            res[split] = {
                "mean_vs_mean": spearman(mine[f"{ds}_{split}"].to_numpy(), other[f"{ds}_{split}"].to_numpy()),
                "single_seed": spearman(mine[f"{ds}_{split}_seed{seeds[0]}"].to_numpy(),
                                        other[f"{ds}_{split}_seed{args.extra_seeds[0]}"].to_numpy()),
            }
            print(f"{split}: two independent 2-seed tables agree with Spearman {res[split]['mean_vs_mean']:.3f} on "
                  f"{len(other)} cells (single seeds {seeds[0]} vs {args.extra_seeds[0]}: {res[split]['single_seed']:.3f})")
        out["extra_seeds"] = {"seeds": list(args.extra_seeds), "cells": len(other), **res}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
