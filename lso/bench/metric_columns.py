"""What every table type shares: its metric columns and their values (``BenchmarkTable``, ``SpaceTable``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from lso.errors import MetricError


class MetricColumns:
    """Queries on the metric columns of ``self._frame``: every column not in the class's ``key_columns``."""

    _frame: pd.DataFrame
    key_columns: tuple[str, ...] = ()

    @property
    def metrics(self) -> tuple[str, ...]:
        """Names of the metric columns."""
        return tuple(c for c in self._frame.columns if c not in self.key_columns)

    def require_metric(self, metric: str) -> None:
        """Raise ``MetricError`` naming the available metrics when ``metric`` is not a column."""
        if metric not in self.metrics:
            raise MetricError(f"metric {metric!r} is not in this table; it has: {', '.join(self.metrics) or 'none'}")

    def values(self, metric: str) -> np.ndarray:
        """The column ``metric`` as float64, shape ``[n]``, in row order."""
        self.require_metric(metric)
        return self._frame[metric].to_numpy(dtype=np.float64).copy()
