"""The queried cells of search runs as CSV text (the app's download button, notebooks)."""

from __future__ import annotations

from typing import Sequence

import pandas as pd

from lso.search.result import SearchResult
from lso.space import index_of

COLUMNS = ("method", "seed", "order", "arch", "index", "signal", "report", "best_signal_so_far",
           "best_report_so_far", "label")
"""Columns of ``queries_frame``: ``signal`` / ``report`` are the runs' metrics (``SearchResult.signal_name`` /
``report_name``, named in ``export_filename``); ``order`` counts from 1; ``best_*_so_far`` describe the
best-by-signal cell among the first ``order`` queries; ``label`` is True for a run's pre-charged labels."""


def queries_frame(results: Sequence[SearchResult]) -> pd.DataFrame:
    """One row per charged query of each run, in query order, runs one after another (``COLUMNS``)."""
    rows = []
    for result in results:
        curve = result.best_so_far()
        for k, ev in enumerate(result.evaluations):
            rows.append((result.method, result.seed, k + 1, ev.cell.to_string(), index_of(ev.cell), ev.signal,
                         ev.report, float(curve.signal[k]), float(curve.report[k]), k < result.precharged))
    return pd.DataFrame(rows, columns=list(COLUMNS))


def queries_csv(results: Sequence[SearchResult]) -> str:
    """``queries_frame(results)`` as CSV text (header line, then one line per query)."""
    return queries_frame(results).to_csv(index=False)


def export_filename(result: SearchResult) -> str:
    """A descriptive file name naming method, seed and metrics, e.g.
    ``search_crlso_seed0_cifar10_valid_cifar10_test.csv``."""
    return f"search_{result.method}_seed{result.seed}_{result.signal_name}_{result.report_name}.csv"
