"""The datasheet of a sampled benchmark of another space (``lso bench build --space nb101|darts --sample N``): what was
trained, how the scores spread, and how far the table can be trusted, written beside the table as
``<table>.datasheet.json``.

Figures over the table's cells (one row per isomorphism class):

- ``signal`` / ``report``: best and median of ``<dataset>_valid`` (what searches see) and ``<dataset>_test`` (what
  they report; from other training runs when the protocol has ``test_seeds``);
- ``best_by_signal_report``: the report of the best cell by signal, the figure a perfect search on the table gets;
- ``signal_report_spearman``: Spearman's rho of signal and report over the cells (independent runs: how much of the
  ranking is more than seed noise);
- ``seed_spearman``: rho between the first two per-seed signal columns (None with one seed per figure).
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from lso.atomic import write_json
from lso.bench.space_table import SpaceTable
from lso.errors import MetricError
from lso.stats import spearman


@dataclass(frozen=True)
class SpaceDatasheet:
    """The datasheet of one space table (module docstring); accuracies in percent, ``train_hours`` the sum of the
    table's ``train_seconds`` (every run, valid and test seeds) in hours, NaN when the table has no such column."""

    space: str
    cells: int
    dataset: str
    source: str
    sample: int | None
    sample_seed: int | None
    signal: str
    report: str
    signal_best: float
    signal_median: float
    report_best: float
    report_median: float
    best_by_signal_arch: str
    best_by_signal_report: float
    signal_report_spearman: float
    seed_spearman: float | None
    train_hours: float

    def to_dict(self) -> dict:
        return asdict(self)


def _int_or_none(text: str | None) -> int | None:
    return int(text) if text is not None and text.strip().lstrip("-").isdigit() else None


def space_datasheet(table: SpaceTable, signal: str | None = None, report: str | None = None) -> SpaceDatasheet:
    """The datasheet of ``table``; ``signal`` / ``report`` default to ``<dataset>_valid`` / ``<dataset>_test``.

    Raises:
        MetricError: for a metric the table does not have (the message lists those it has).
    """
    ds = table.meta.dataset
    signal = signal or f"{ds}_valid"
    report = report or f"{ds}_test"
    frame = table.frame
    for name in (signal, report):
        if name not in frame.columns:
            raise MetricError(f"the table has no metric {name!r}; it has: {', '.join(table.metrics)}")
    s, r = frame[signal].to_numpy(float), frame[report].to_numpy(float)
    seeds = sorted(c for c in frame.columns if c.startswith(f"{signal}_seed"))
    best = int(np.argmax(s))
    extra = table.meta.extra
    return SpaceDatasheet(
        space=table.meta.space, cells=len(frame), dataset=ds, source=table.meta.source,
        sample=_int_or_none(extra.get("sample")), sample_seed=_int_or_none(extra.get("sample_seed")),
        signal=signal, report=report,
        signal_best=float(s.max()), signal_median=float(np.median(s)),
        report_best=float(r.max()), report_median=float(np.median(r)),
        best_by_signal_arch=str(frame["arch"].iloc[best]), best_by_signal_report=float(r[best]),
        signal_report_spearman=spearman(s, r),
        seed_spearman=(spearman(frame[seeds[0]].to_numpy(float), frame[seeds[1]].to_numpy(float))
                       if len(seeds) > 1 else None),
        train_hours=float(frame["train_seconds"].sum() / 3600) if "train_seconds" in frame.columns else float("nan"),
    )


def datasheet_path(table_path: str | os.PathLike[str]) -> Path:
    """Where a table's datasheet goes: ``x.parquet`` -> ``x.datasheet.json``."""
    path = Path(table_path)
    return path.with_name(path.stem + ".datasheet.json")


def write_space_datasheet(table: SpaceTable, table_path: str | os.PathLike[str]) -> Path:
    """Write ``space_datasheet(table)`` as JSON (atomically) beside ``table_path``; returns its path."""
    return write_json(datasheet_path(table_path), space_datasheet(table).to_dict())
