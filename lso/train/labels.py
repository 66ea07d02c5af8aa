"""The labelled set: a seeded random sample of the benchmark table (CR-LSO took the first 300 by index, a biased
sample of the official shuffle; we draw uniformly), and the standardisation of its labels."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lso.bench import BenchmarkTable
from lso.errors import LsoError


class LabelError(LsoError):
    """More labels asked for than the table has cells with a finite metric value."""


@dataclass(frozen=True)
class LabelSet:
    """``indices`` official indices ``[m]`` (sorted), ``values`` their metric ``[m]``, and ``mean``/``std`` of the
    values (the ICNN's label standardisation; 0/1 when empty)."""

    metric: str
    indices: np.ndarray
    values: np.ndarray
    mean: float
    std: float

    def __len__(self) -> int:
        return len(self.indices)

    def standardised(self) -> np.ndarray:
        """``(values - mean) / std``, ``[m]``."""
        return (self.values - self.mean) / self.std

    def to_dict(self) -> dict:
        return {"metric": self.metric, "mean": self.mean, "std": self.std,
                "indices": [int(i) for i in self.indices], "values": [float(v) for v in self.values]}

    @classmethod
    def from_dict(cls, data: dict) -> "LabelSet":
        return cls(data["metric"], np.asarray(data["indices"], dtype=np.int64),
                   np.asarray(data["values"], dtype=np.float64), float(data["mean"]), float(data["std"]))


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
