"""The columnar benchmark table: one row per official index, metric columns, provenance metadata; Parquet on disk.

Columns: ``index`` (official NAS-Bench-201 index, 0..15,624), ``arch`` (official string), ``unique_id`` (smallest
official index of the cell's isomorphism class), then float metric columns named ``<dataset>_<split>`` such as
``cifar10_valid`` or ``cifar10_test`` (accuracies in percent). Metadata (source, dataset, fidelity, checksum, and
per metric its direction and scale, see ``lso.bench.metric_info``) is stored in the Parquet schema so a table file is
self-describing. Metric values are finite floats (NaN only where a table is loaded with ``allow_nan``).

A table may hold one row per isomorphism class (hardware benchmarks publish so): ``dense_values`` resolves any
official index to its own row or, failing that, to its class's row.

This module holds the table type and its queries; what valid data is (``KEY_COLUMNS``, ``TableMeta``, validation,
checksum) is ``lso.bench.table_data`` and the file on disk ``lso.bench.table_file`` (both re-exported here).
"""

from __future__ import annotations

import os
from dataclasses import asdict, replace
from pathlib import Path
from types import MappingProxyType
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from lso.bench.metric_columns import MetricColumns
from lso.bench.metric_info import MetricInfo, infer_metric_info
from lso.bench.table_data import KEY_COLUMNS, TableMeta, checked_metric_info, data_checksum, validated_frame
from lso.bench.table_file import read_table_file, write_table_file
from lso.errors import ArchStringError, BenchmarkFileError, MetricError
from lso.space import Cell, all_cells, index_of, unique_ids

_NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})


class BenchmarkTable(MetricColumns):
    """A NAS benchmark as a table, queried by cell, official index or arch string.

    Build one with ``BenchmarkTable.load(path)`` (Parquet written by lso, or a CSV with ``index``/``arch`` columns),
    or ``BenchmarkTable.from_frame(frame, meta)``. Rows are sorted by official index. A table may hold only part
    of the space (e.g. a benchmark still being built); ``is_complete`` tells.
    """

    key_columns = KEY_COLUMNS

    def __init__(self, frame: pd.DataFrame, meta: TableMeta, *, allow_nan: bool = False) -> None:
        self._frame = validated_frame(frame, allow_nan=allow_nan)
        self.meta = replace(meta, checksum=data_checksum(self._frame.drop(columns=["unique_id"])),
                            metric_info=checked_metric_info(meta.metric_info, self.metrics))
        self._row_of_index = {int(i): r for r, i in enumerate(self._frame["index"].to_numpy())}

    # ----- construction ------------------------------------------------------------------------------------------
    @classmethod
    def from_frame(cls, frame: pd.DataFrame, meta: TableMeta | None = None, *, allow_nan: bool = False) -> "BenchmarkTable":
        """Wrap a frame with ``index`` and ``arch`` columns (``unique_id`` is added) and numeric metric columns."""
        return cls(frame, meta or TableMeta(), allow_nan=allow_nan)

    @classmethod
    def from_metrics(
        cls, metrics: dict[Cell | str, dict[str, float]], meta: TableMeta | None = None, *, allow_nan: bool = False
    ) -> "BenchmarkTable":
        """Build a table from ``{cell: {metric: value}}``."""
        rows = []
        for arch, values in metrics.items():
            cell = Cell.parse(arch)
            rows.append({"index": index_of(cell), "arch": cell.to_string(), **values})
        return cls(pd.DataFrame(rows), meta or TableMeta(), allow_nan=allow_nan)

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, allow_nan: bool = False) -> "BenchmarkTable":
        """Read a Parquet table written by ``save`` or a CSV table (``.csv``, e.g. the tables in shared/benchmarks);
        a Parquet table's stored checksum must match its data (``BenchmarkFileError`` otherwise)."""
        frame, meta, stored_checksum = read_table_file(path)
        table = cls(frame, meta, allow_nan=allow_nan)
        if stored_checksum and stored_checksum != table.meta.checksum:
            raise BenchmarkFileError(
                f"table {Path(path)} fails its checksum (stored {stored_checksum[:12]}..., data gives "
                f"{table.meta.checksum[:12]}...): the file was modified or is corrupt"
            )
        return table

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as Parquet, atomically: a failed write never replaces an existing file."""
        return write_table_file(path, self._frame, self.meta)

    # ----- shape -------------------------------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the underlying frame (index, arch, unique_id, metrics...)."""
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)

    @property
    def keyed_by_class(self) -> bool:
        """True when the table holds at most one row per isomorphism class (no two rows share a ``unique_id``) and
        is not complete, e.g. a hardware benchmark published per class: look cells up with ``dense_values``."""
        return not self.is_complete and self.num_unique == len(self._frame)

    @property
    def num_unique(self) -> int:
        """Number of distinct isomorphism classes among the rows."""
        return int(self._frame["unique_id"].nunique())

    @property
    def is_complete(self) -> bool:
        """True when the table has all 15,625 cells."""
        return len(self._frame) == len(all_cells())

    def indices(self) -> np.ndarray:
        """Official indices of the rows, shape ``[n]``, ascending."""
        return self._frame["index"].to_numpy().copy()

    def cells(self) -> list[Cell]:
        """The cells of the rows, in row order."""
        every = all_cells()
        return [every[i] for i in self._frame["index"].to_numpy()]

    # ----- queries -----------------------------------------------------------------------------------------------
    def dense_values(self, metric: str) -> np.ndarray:
        """``metric`` over the whole space, shape ``[15625]``, indexed by official NAS-Bench-201 index.

        Entry ``i`` is the value of row ``i`` when the table has it; else, when the table has a row of ``i``'s
        isomorphism class (same ``unique_id``), the value of that class's row with the smallest index; else NaN.
        """
        self.require_metric(metric)
        values = self._frame[metric].to_numpy(dtype=np.float64)
        class_ids = self._frame["unique_id"].to_numpy()
        first = ~self._frame["unique_id"].duplicated(keep="first").to_numpy()  # rows are sorted by index
        per_class = np.full(len(all_cells()), np.nan)
        per_class[class_ids[first]] = values[first]
        out = per_class[np.asarray(unique_ids(), dtype=np.int64)]
        out[self._frame["index"].to_numpy()] = values
        return out

    def metric_info(self, metric: str) -> MetricInfo:
        """Direction and scale of ``metric``: the entry stored in ``meta.metric_info``, else inferred from its name
        and values (``lso.bench.metric_info.infer_metric_info``)."""
        self.require_metric(metric)
        stored = self.meta.metric_info.get(metric, {})
        if "direction" in stored and "scale" in stored:
            return MetricInfo(metric, stored["direction"], stored["scale"])  # type: ignore[arg-type]
        inferred = infer_metric_info(metric, self._frame[metric].to_numpy(dtype=np.float64))
        return MetricInfo(metric, stored.get("direction", inferred.direction),  # type: ignore[arg-type]
                          stored.get("scale", inferred.scale))  # type: ignore[arg-type]

    def with_metric_info(
        self, directions: Mapping[str, str] = _NO_OVERRIDES, scales: Mapping[str, str] = _NO_OVERRIDES
    ) -> "BenchmarkTable":
        """This table with the direction and scale of every metric stored in ``meta.metric_info`` (saved with the
        table): the entries already stored, else inferred, with ``directions`` / ``scales`` (``{metric: value}``)
        applied over them (an override replaces only the field it names). The data, and so the checksum, are
        unchanged.

        Raises ``MetricError`` naming the table's metrics for an unknown metric, ``LsoError`` for a value not
        allowed ("max"/"min"; "percent"/"fraction"/"raw")."""
        for metric in (*directions, *scales):
            self.require_metric(metric)
        info: dict[str, dict[str, str]] = {}
        for metric in self.metrics:
            current = self.metric_info(metric)
            checked = MetricInfo(metric, directions.get(metric, current.direction),  # type: ignore[arg-type]
                                 scales.get(metric, current.scale))  # type: ignore[arg-type]
            info[metric] = {"direction": checked.direction, "scale": checked.scale}
        out = BenchmarkTable.__new__(BenchmarkTable)  # same validated data: no second validation pass
        out._frame, out._row_of_index = self._frame, self._row_of_index
        out.meta = replace(self.meta, metric_info=info)
        return out

    def row(self, arch: Cell | str | int) -> dict[str, float]:
        """All metrics of one cell, given as a Cell, an arch string or an official index (int)."""
        index = self._resolve(arch)
        r = self._row_of_index.get(index)
        if r is None:
            raise MetricError(f"cell with index {index} ({all_cells()[index]}) is not in this table")
        return {m: float(self._frame[m].iat[r]) for m in self.metrics}

    def query(self, arch: Cell | str | int, metric: str) -> float:
        """One metric of one cell (Cell, arch string or official index)."""
        self.require_metric(metric)
        return self.row(arch)[metric]

    def default_metric(self, split: str) -> str:
        """The metric a command uses for ``split`` ("valid" or "test") when none is named: the table's own
        ``<dataset>_<split>`` when it is a column, else the only ``*_<split>`` column.

        Raises ``MetricError`` when there is no ``*_<split>`` column, or several and none is the dataset's own
        (the message lists them: a multi-dataset table needs the metric named)."""
        own = f"{self.meta.dataset}_{split}"
        if own in self.metrics:
            return own
        found = [m for m in self.metrics if m.endswith(f"_{split}")]
        if len(found) == 1:
            return found[0]
        flags = {"valid": "--signal/--metric", "test": "--report/--metric"}.get(split, "--signal/--report/--metric")
        if not found:
            raise MetricError(f"this table has no *_{split} metric to default to (name one, e.g. with --signal / "
                              f"--report / --metric); it has: {', '.join(self.metrics)}")
        raise MetricError(f"this table has several *_{split} metrics: {', '.join(found)}; name one with {flags}")

    def paired_metric(self, metric: str, split: str) -> str:
        """The ``split`` metric of ``metric``'s own dataset when the table has it (``cifar100_valid`` ->
        ``cifar100_test``), else ``default_metric(split)``: a search on one dataset reports the same dataset."""
        dataset = metric.rsplit("_", 1)[0] if "_" in metric else ""
        own = f"{dataset}_{split}"
        return own if dataset and own in self.metrics else self.default_metric(split)

    def best(self, metric: str) -> tuple[Cell, float]:
        """The cell with the best value of ``metric`` by its direction (highest for "max", lowest for "min"; first
        by index on ties; NaN never best) and that value."""
        values = self.values(metric)
        if np.isnan(values).all():
            raise MetricError(f"metric {metric!r} has no value in this table (all NaN)")
        r = int(np.nanargmax(values) if self.metric_info(metric).direction == "max" else np.nanargmin(values))
        return all_cells()[int(self._frame["index"].iat[r])], float(values[r])

    def top(self, metric: str, k: int = 10) -> pd.DataFrame:
        """The ``k`` best rows by ``metric`` and its direction (NaN last, ties by index): columns index, arch,
        unique_id and all metrics."""
        self.require_metric(metric)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        ascending = self.metric_info(metric).direction == "min"
        ranked = self._frame.sort_values([metric, "index"], ascending=[ascending, True], kind="stable")
        return ranked.head(k).reset_index(drop=True)

    def summary(self) -> dict:
        """What ``lso bench info`` prints: sizes, metadata, and per metric its direction, scale, best value (by
        direction) and arch, median and number of missing values."""
        out: dict = {
            "cells": len(self),
            "unique": self.num_unique,
            "complete": self.is_complete,
            "meta": asdict(self.meta),
            "metrics": {},
        }
        for m in self.metrics:
            values = self.values(m)
            info = self.metric_info(m)
            entry: dict = {"direction": info.direction, "scale": info.scale}
            if np.isnan(values).all():
                out["metrics"][m] = {**entry, "best": None, "arch": None, "index": None, "missing": int(len(values))}
                continue
            cell, value = self.best(m)
            out["metrics"][m] = {
                **entry,
                "best": value,
                "arch": cell.to_string(),
                "index": index_of(cell),
                "median": float(np.nanmedian(values)),
                "missing": int(np.isnan(values).sum()),
            }
        return out

    def subset(self, metrics: Sequence[str]) -> "BenchmarkTable":
        """A table with only the given metric columns."""
        for m in metrics:
            self.require_metric(m)
        return BenchmarkTable(self._frame[list(KEY_COLUMNS) + list(metrics)], self.meta, allow_nan=True)

    def _resolve(self, arch: Cell | str | int | np.integer) -> int:
        if isinstance(arch, (int, np.integer)) and not isinstance(arch, bool):
            if not 0 <= int(arch) < len(all_cells()):
                raise ArchStringError(f"architecture index {arch} out of range 0..{len(all_cells()) - 1}")
            return int(arch)
        return index_of(Cell.parse(arch))



__all__ = ["KEY_COLUMNS", "BenchmarkTable", "TableMeta"]
