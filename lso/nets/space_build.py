"""A benchmark of a space too large to train whole (NB101, DARTS): a seeded sample of cells, trained with one
protocol (``lso bench build --space nb101 --sample 2000``).

The sample is ``lso.spaces.sample_unique(space, sample, numpy.random.default_rng(sample_seed))``: distinct
isomorphism classes in draw order, so a larger sample of the same seed extends a smaller one and a build resumes
from its cache. The table is a ``lso.bench.space_table.SpaceTable`` with the columns of an NB201 build
(``lso.nets.builder.table_from_cache``): ``<ds>_train``, ``<ds>_valid``, ``<ds>_test`` (means over seeds; test over
the ``test_seeds`` when the protocol has them), per-seed columns when there are several seeds, ``params``,
``flops``, ``train_seconds``.
"""

from __future__ import annotations

from statistics import fmean
from typing import Any, Sequence

import numpy as np

from lso.bench.space_table import SpaceTable
from lso.bench.space_table_data import SpaceTableMeta
from lso.errors import LsoError
from lso.nets.cache import RunCache
from lso.nets.protocol import TrainProtocol
from lso.nets.trainer import TrainResult
from lso.spaces import SearchSpace, sample_unique


def sampled_cells(space: SearchSpace, sample: int, seed: int, limit: int | None = None,
                  shard: tuple[int, int] | None = None) -> list[Any]:
    """The build's cells: ``sample`` distinct classes drawn with ``seed``, the first ``limit`` of them, then every
    ``n``-th from the ``k``-th for ``shard=(k, n)`` (as ``lso.nets.builder.representatives`` cuts NB201's)."""
    if shard is not None and not 0 <= shard[0] < shard[1]:
        raise LsoError(f"shard must be k/n with 0 <= k < n, got {shard[0]}/{shard[1]}")
    if sample < 1:
        raise LsoError(f"--sample must be >= 1 cells, got {sample}")
    cells = sample_unique(space, sample, np.random.default_rng(seed))
    cells = cells if limit is None else cells[: max(0, limit)]
    return cells if shard is None else cells[shard[0]::shard[1]]


def cell_values(protocol: TrainProtocol, runs: Sequence[TrainResult], test_runs: Sequence[TrainResult]) -> dict[str, float]:
    """One table row's metrics from a cell's runs (the column set of module docstring)."""
    ds = protocol.dataset
    test_runs = list(test_runs) or list(runs)
    values = {
        f"{ds}_train": fmean(r.train_acc for r in runs),
        f"{ds}_valid": fmean(r.valid_acc for r in runs),
        f"{ds}_test": fmean(r.test_acc for r in test_runs),
    }
    if len(runs) > 1 or protocol.test_seeds:
        for r in runs:
            values[f"{ds}_valid_seed{r.seed}"] = r.valid_acc
        for r in test_runs:
            values[f"{ds}_test_seed{r.seed}"] = r.test_acc
    values["params"] = float(runs[0].params)
    values["flops"] = float(runs[0].flops)
    values["train_seconds"] = sum(r.wall_time_s for r in {id(r): r for r in list(runs) + test_runs}.values())
    return values


def space_table_from_cache(space: SearchSpace, protocol: TrainProtocol, cache: RunCache, cells: Sequence[Any],
                           meta_extra: dict[str, str] | None = None) -> SpaceTable | None:
    """The table of every cell of ``cells`` with all its seeds cached (in ``cells`` order); None when none has."""
    rows = []
    for cell in cells:
        key = space.canonical(cell)
        runs = [cache.get(key, s) for s in protocol.seeds]
        test_runs = [cache.get(key, s) for s in protocol.test_seeds]
        if any(r is None for r in runs + test_runs):
            continue
        rows.append((space.to_string(cell), cell_values(protocol, runs, test_runs)))  # type: ignore[arg-type]
    if not rows:
        return None
    meta = SpaceTableMeta(
        space=space.name, source=f"lso training oracle, protocol {protocol.name}", dataset=protocol.dataset,
        fidelity=f"{protocol.epochs} epochs", protocol=protocol.to_json(),
        extra={"protocol_summary": protocol.describe(), **(meta_extra or {})},
    )
    return SpaceTable.from_rows(space, rows, meta)
