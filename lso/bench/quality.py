"""How good a benchmark table is *as a benchmark*: does it separate cells, and does it agree with itself?

A table is useful for search when its scores spread (a wide gap between the median and the best cells), when two
independent training seeds rank cells alike (seed-to-seed Spearman), and when few cells tie at the top (a search
that cannot tell the best cells apart measures nothing). Figures are over unique cells (isomorphism classes),
since isomorphic rows share one training run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from lso.bench.table import BenchmarkTable
from lso.errors import MetricError
from lso.stats import spearman


@dataclass(frozen=True)
class TableQuality:
    """Spread of ``metric`` over unique cells, ties at the top, and seed-to-seed agreement.

    ``seed_spearman`` is Spearman's rho between the per-seed columns ``seed_columns`` over the first ``sample`` unique
    cells in official index order (NB201's order is itself a seeded shuffle, and it is the order in which
    ``lso bench build --limit`` trains cells, so extra seeds trained for those cells line up);
    ``seed_spearman_all`` is over every unique cell. ``tie_tolerance``: two scores within it
    count as tied.
    """

    metric: str
    unique_cells: int
    best: float
    top1pct: float
    median: float
    worst: float
    top_ties: int
    tie_tolerance: float
    seed_columns: tuple[str, str] | None
    sample: int
    seed_spearman: float | None
    seed_spearman_all: float | None

    def to_dict(self) -> dict:
        return asdict(self)


def table_quality(table: BenchmarkTable, metric: str, *, seed_columns: tuple[str, str] | None = None,
                  sample: int = 300, tie_tolerance: float = 1e-9) -> TableQuality:
    """Measure ``table`` on ``metric``.

    Args:
        seed_columns: two per-seed columns of the same metric (e.g. ``("digits_valid_seed0", "digits_valid_seed1")``);
            None: the table has one seed, no agreement figure.
        sample: how many unique cells (first in official order) ``seed_spearman`` uses.
        tie_tolerance: absolute difference under which a score ties with the best one.
    """
    frame = table.frame.sort_values("index").drop_duplicates("unique_id")
    for column in (metric, *(seed_columns or ())):
        if column not in frame.columns:
            raise MetricError(f"table has no column {column!r}; columns: {', '.join(table.metrics)}")
    values = frame[metric].to_numpy(dtype=float)
    best = float(values.max())
    rho = rho_all = None
    if seed_columns is not None:
        a, b = (frame[c].to_numpy(dtype=float) for c in seed_columns)
        n = min(sample, len(frame))
        rho, rho_all = spearman(a[:n], b[:n]), spearman(a, b)
    return TableQuality(
        metric=metric, unique_cells=len(frame), best=best, top1pct=float(np.quantile(values, 0.99)),
        median=float(np.median(values)), worst=float(values.min()),
        top_ties=int((values >= best - tie_tolerance).sum()), tie_tolerance=tie_tolerance,
        seed_columns=tuple(seed_columns) if seed_columns else None, sample=int(min(sample, len(frame))),
        seed_spearman=rho, seed_spearman_all=rho_all,
    )
