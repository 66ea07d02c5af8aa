"""A table's values laid out over the whole cell space (official index order), and hover labels for cells."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from lso.bench.table import BenchmarkTable
from lso.space import Cell, all_cells, index_of, num_cells


def values_by_index(table: BenchmarkTable, metric: str) -> np.ndarray:
    """``metric`` for every cell, ``[15625]`` float64 in official index order; NaN where the table has no row."""
    out = np.full(num_cells(), np.nan)
    out[table.indices()] = table.values(metric)
    return out


def cell_values(table: BenchmarkTable, cells: Sequence[Cell | str], metric: str) -> np.ndarray:
    """``metric`` of each cell, ``[n]`` float64; NaN for cells the table lacks."""
    full = values_by_index(table, metric)
    return np.asarray([full[index_of(Cell.parse(c))] for c in cells], dtype=np.float64)


def hover_texts(table: BenchmarkTable, indices: Sequence[int] | np.ndarray, metrics: Sequence[str] | None = None,
                extra: dict[str, np.ndarray] | None = None) -> list[str]:
    """Plotly hover text per official index: ``"#index arch"`` then ``metric: value`` lines (all of ``metrics``,
    default every metric of the table; "n/a" when the table lacks the cell), then ``extra`` columns (name ->
    ``[len(indices)]`` values, e.g. the surrogate's prediction)."""
    metrics = list(table.metrics if metrics is None else metrics)
    columns = {m: values_by_index(table, m) for m in metrics}
    every = all_cells()
    extra = extra or {}
    lines = []
    for row, i in enumerate(np.asarray(indices, dtype=np.int64)):
        parts = [f"#{i} {every[i].to_string()}"]
        for m, col in columns.items():
            v = col[i]
            parts.append(f"{m}: {v:.2f}" if np.isfinite(v) else f"{m}: n/a")
        for name, vals in extra.items():
            parts.append(f"{name}: {float(vals[row]):.2f}")
        lines.append("<br>".join(parts))
    return lines
