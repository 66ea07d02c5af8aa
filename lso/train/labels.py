"""The labelled set: a seeded random sample of the benchmark table (CR-LSO took the first 300 by index, a biased
sample of the official shuffle; we draw uniformly), and the standardisation of its labels."""

from __future__ import annotations

import numpy as np

from lso.bench import BenchmarkTable
from lso.errors import LsoError
from lso.runs.format import LabelSet  # the record of labelled.json (re-exported here)


class LabelError(LsoError):
    """More labels asked for than the table has cells with a finite metric value."""


def sample_labels(table: BenchmarkTable, metric: str, count: int, seed: int) -> LabelSet:
    """Draw ``count`` cells uniformly without replacement (``np.random.default_rng(seed)``) among the table's rows
    with a finite ``metric``; return them sorted by official index with their values."""
    values = table.values(metric)
    indices = table.indices()
    finite = np.isfinite(values)
    if count > int(finite.sum()):
        raise LabelError(f"asked for {count} labelled cells but the table has {int(finite.sum())} with a finite {metric}")
    if count == 0:
        return LabelSet(metric, np.zeros(0, dtype=np.int64), np.zeros(0), 0.0, 1.0)
    rows = np.sort(np.random.default_rng(seed).choice(np.flatnonzero(finite), size=count, replace=False))
    chosen = values[rows]
    std = float(chosen.std()) if count > 1 and chosen.std() > 0 else 1.0
    return LabelSet(metric, indices[rows].astype(np.int64), chosen, float(chosen.mean()), std)


__all__ = ["LabelError", "LabelSet", "sample_labels"]
