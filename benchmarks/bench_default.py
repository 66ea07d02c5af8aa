"""Datasheet figures of a built benchmark table (the embedded default: benchmarks_data/default.parquet).

Prints, for the table's validation metric (the search signal) and test metric: the spread over unique cells (best,
top-1%, median, worst), how many cells tie at the top, Spearman between the two per-seed columns on the first 300
unique cells (official order) and on all; the seed noise (|seed0 - seed1|: median and 95th percentile, the
tolerance the tests use); and the median seconds per run. With ``--extra-seeds 2 3`` it also trains those seeds on
the same 300 cells (through the builder) and reports the agreement of two independent *tables* (the 2-seed mean
against the mean of the extra seeds). Writes everything to ``--json``.

Tables of many seeds (``mnist1d-v2``, ``mnist1d-v3``: valid from ``seeds``, test from other runs, ``test_seeds``) also get:
the seed-noise model (the per-seed std of a cell, median over cells, and the noise std of a table value, that over
the square root of the seeds), the share of unique cells within one noise std of the best, Spearman of valid vs test
(independent runs when the protocol has ``test_seeds``); ``--extra-seeds`` then takes as many seeds as the table
has (split into valid and test seeds the same way); ``--curse 10`` retrains the table's top 10 unique cells by
valid with the extra seeds (the winner's curse: their fresh test against the table's, beside the extra-seed cells'
own shift as a control, since a set of seeds can sit above or below another for every cell); ``--random-search 20`` runs
random search for 300 queries on 20 seeds and says whether its median reaches the best-by-valid cell's test.
``--extra-spread`` trains the extra seeds on cells spread over the whole space (every k-th class in official order,
about ``--sample`` of them) instead of the first ``--sample`` classes, which share their first edges.

    .venv/bin/python benchmarks/bench_default.py benchmarks_data/default.parquet --extra-seeds 2 3 --workers 2
    .venv/bin/python benchmarks/bench_default.py benchmarks_data/default.parquet --extra-seeds $(seq 32 63) \
        --extra-spread --sample 300 --curse 10 --random-search 20 --json out/default_v3/datasheet.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from lso.bench.quality import table_quality
from lso.bench.table import BenchmarkTable
from lso.jobs import progress_bar
from lso.nets.builder import BuildConfig, build_benchmark, representatives
from lso.nets.protocol import TrainProtocol
from lso.nets.training_oracle import TrainingOracle
from lso.search import TableOracle, run_search
from lso.space import Cell, num_cells
from lso.train.correlation import spearman


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("table", type=Path)
    parser.add_argument("--sample", type=int, default=300)
    parser.add_argument("--extra-seeds", type=int, nargs="+", default=None)
    parser.add_argument("--extra-spread", action="store_true",
                        help="train the extra seeds on --sample cells spread over the whole space (every k-th class "
                             "in official order) instead of the first --sample classes")
    parser.add_argument("--curse", type=int, default=0, help="retrain the top N unique cells by valid (extra seeds)")
    parser.add_argument("--random-search", type=int, default=0, help="seeds of random search at 300 queries")
    parser.add_argument("--device", default="cpu")
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
    split_seeds = {"valid": seeds, "test": protocol.test_seeds or seeds}
    for split in ("valid", "test"):
        own = split_seeds[split]
        cols = (f"{ds}_{split}_seed{own[0]}", f"{ds}_{split}_seed{own[1]}") if len(own) > 1 else None
        q = table_quality(table, f"{ds}_{split}", seed_columns=cols, sample=args.sample)
        out[split] = q.to_dict()
        print(f"{ds}_{split} (mean of seeds {list(own)}): best {q.best:.2f}, top-1% {q.top1pct:.2f}, "
              f"median {q.median:.2f}, worst {q.worst:.2f}; {q.top_ties} cell(s) at the best")
        if cols:
            a, b = (frame[c].to_numpy(dtype=float) for c in cols)
            diff = np.abs(a - b)
            out[split]["seed_abs_diff_median"] = float(np.median(diff))
            out[split]["seed_abs_diff_p95"] = float(np.quantile(diff, 0.95))
            print(f"  seed {own[0]} vs {own[1]}: Spearman {q.seed_spearman:.3f} on the first {q.sample} unique "
                  f"cells, {q.seed_spearman_all:.3f} on all; |diff| median {np.median(diff):.2f}, "
                  f"95th pct {np.quantile(diff, 0.95):.2f} points")
        if len(own) > 2:  # the seed-noise model: how far a table value sits from the cell's true mean
            runs = frame[[f"{ds}_{split}_seed{x}" for x in own]].to_numpy(dtype=float)
            per_seed = float(np.median(runs.std(axis=1, ddof=1)))
            noise = per_seed / np.sqrt(len(own))
            values = frame[f"{ds}_{split}"].to_numpy(dtype=float)
            within = float(np.mean(values >= values.max() - noise))
            out[split].update(per_seed_std=per_seed, table_noise_std=noise, share_within_noise_of_best=within,
                              spread=float(values.max() - np.median(values)))
            print(f"  noise: per-seed std {per_seed:.2f} (median over cells), a table value's {noise:.2f}; "
                  f"{100 * within:.2f} % of unique cells within one noise std of the best; best - median "
                  f"{values.max() - np.median(values):.2f}")
    out["valid_vs_test"] = spearman(frame[f"{ds}_valid"].to_numpy(), frame[f"{ds}_test"].to_numpy())
    print(f"Spearman valid vs test over unique cells: {out['valid_vs_test']:.3f} ("
          f"{'independent runs: test from seeds ' + str(list(protocol.test_seeds)) if protocol.test_seeds else 'the same runs'})")
    per_run = frame["train_seconds"].to_numpy(dtype=float) / len(protocol.all_seeds)
    out["seconds_per_run_median"] = float(np.median(per_run))
    out["train_seconds_total"] = float(frame["train_seconds"].sum())
    print(f"seconds per run (1 thread, as built): median {np.median(per_run):.2f}; "
          f"sum over all runs {frame['train_seconds'].sum() / 3600:.2f} CPU-hours")

    if args.extra_seeds:
        extra = _extra_protocol(protocol, args.extra_seeds)
        extra_out = args.json.parent / "extra_seeds.parquet"
        with progress_bar(f"training {extra.name}", "run") as reporter:
            # every k-th class of the whole space (not of the table, which may be a partial build)
            where = ({"shard": (0, len(representatives()) // args.sample)} if args.extra_spread else {"limit": args.sample})
            build_benchmark(BuildConfig(extra, extra_out, workers=args.workers, **where), reporter=reporter)
        other = BenchmarkTable.load(extra_out).frame.drop_duplicates("unique_id").set_index("unique_id")
        mine = frame.set_index("unique_id").loc[other.index]
        res = {}
        for split in ("valid", "test"):
            first = split_seeds[split][0]
            other_first = (extra.test_seeds or extra.seeds)[0] if split == "test" else extra.seeds[0]
            res[split] = {
                "mean_vs_mean": spearman(mine[f"{ds}_{split}"].to_numpy(), other[f"{ds}_{split}"].to_numpy()),
                "single_seed": spearman(mine[f"{ds}_{split}_seed{first}"].to_numpy(),
                                        other[f"{ds}_{split}_seed{other_first}"].to_numpy()),
            }
            print(f"{split}: two independent tables agree with Spearman {res[split]['mean_vs_mean']:.3f} on "
                  f"{len(other)} cells (single seeds {first} vs {other_first}: {res[split]['single_seed']:.3f})")
        out["extra_seeds"] = {"seeds": list(args.extra_seeds), "cells": len(other),
                              "cells_from": "spread over the space" if args.extra_spread else "first in official order",
                              **res}
        if args.curse:
            out["winners_curse"] = _winners_curse(frame, extra, args.curse, args.json.parent, args.device,
                                                  control=mine, control_fresh=other)
    if args.random_search:
        out["random_search"] = _random_search(table, ds, args.random_search)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(out, indent=2))
    print(f"wrote {args.json}")


def _extra_protocol(protocol: TrainProtocol, extra_seeds: list[int]) -> TrainProtocol:
    """The table's protocol with fresh seeds: as many as it has, split into valid and test seeds the same way."""
    if len(extra_seeds) != len(protocol.all_seeds) or set(extra_seeds) & set(protocol.all_seeds):
        raise SystemExit(f"--extra-seeds needs {len(protocol.all_seeds)} seeds other than the table's "
                         f"{list(protocol.all_seeds)}")
    k = len(protocol.seeds)
    return protocol.with_(name=protocol.name + "-twin", seeds=tuple(extra_seeds[:k]),
                          test_seeds=tuple(extra_seeds[k:]))


def _winners_curse(frame, extra: TrainProtocol, top: int, folder: Path, device: str, control, control_fresh) -> dict:
    """The top ``top`` unique cells by valid, retrained with ``extra``'s seeds: mean table test vs mean fresh test.

    ``control`` / ``control_fresh``: the table's rows and the extra seeds' rows of the cells those seeds trained
    anyway (the agreement sample). Their mean test moves by the fresh seeds' own offset (every cell trained with a
    seed shares its initial-weight stream and batch order, so a set of seeds can sit a point or two above or below
    another for all cells). The top's drop beyond that offset is the part selection explains."""
    ds = extra.dataset
    best = frame.sort_values(f"{ds}_valid", ascending=False).head(top)
    oracle = TrainingOracle(extra, cache=folder / "winners_curse.runs.jsonl", device=device)
    fresh = [oracle.record(Cell.from_string(arch)) for arch in best["arch"]]
    table_test, fresh_test = float(best[f"{ds}_test"].mean()), float(np.mean([r.test_acc for r in fresh]))
    table_valid, fresh_valid = float(best[f"{ds}_valid"].mean()), float(np.mean([r.valid_acc for r in fresh]))
    control_table, control_new = float(control[f"{ds}_test"].mean()), float(control_fresh[f"{ds}_test"].mean())
    drop, offset = table_test - fresh_test, control_table - control_new
    print(f"winner's curse, top {top} by valid: valid {table_valid:.2f} -> {fresh_valid:.2f}, test {table_test:.2f} "
          f"-> {fresh_test:.2f} with fresh seeds (drop {drop:.2f}; target <= 1.5); the {len(control)} extra-seed cells "
          f"as control: test {control_table:.2f} -> {control_new:.2f}, so the top's drop beyond the seeds' own "
          f"offset is {drop - offset:.2f}")
    return {"top": top, "table_valid": table_valid, "fresh_valid": fresh_valid, "table_test": table_test,
            "fresh_test": fresh_test, "drop_test": drop, "control_cells": len(control),
            "control_table_test": control_table, "control_fresh_test": control_new,
            "drop_test_beyond_control": drop - offset}


def _random_search(table: BenchmarkTable, ds: str, seeds: int, budget: int = 300) -> dict:
    """Median over ``seeds`` of random search's best-by-valid test after ``budget`` queries, vs the table's
    best-by-valid cell's test (a benchmark that separates methods keeps the median below it)."""
    if len(table) < num_cells():
        print(f"random search: skipped, the table is partial ({len(table):,} of {num_cells():,} cells)")
        return {"skipped": "partial table"}
    oracle = TableOracle(table, f"{ds}_valid", f"{ds}_test")
    target = oracle.optimum().report
    found = [run_search("random", oracle, budget=budget, seed=s).best_so_far().report[-1] for s in range(seeds)]
    med = float(np.median(found))
    print(f"random search, {budget} queries, {seeds} seeds: median test {med:.2f}; the best-by-valid cell's test "
          f"{target:.2f} ({'reached' if med >= target else 'not reached'})")
    return {"budget": budget, "seeds": seeds, "median_test": med, "optimum_test": target, "reached": med >= target}


if __name__ == "__main__":
    main()
