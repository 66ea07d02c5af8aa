"""Benchmark tables of search spaces other than NAS-Bench-201 (``SpaceTable``), keyed by the space's canonical form.

``lso.bench.BenchmarkTable`` is keyed by NAS-Bench-201's official index 0..15,624; spaces such as NAS-Bench-101
(423,624 cells) or DARTS (~10^18 genotypes) have no such index, so a ``SpaceTable`` keys its rows by
``space.canonical(cell)`` instead: a cell isomorphic to a row's cell finds that row.

Columns, in this order: ``arch`` (the space's official string, normalised as ``space.to_string(space.parse(arch))``),
``canonical`` (``space.canonical(cell)``, unique per row), then finite float64 metric columns. On disk: Parquet
with the metadata (``SpaceTableMeta``, JSON under the schema key ``lso.space_table``) and a SHA-256 of the data that
``load`` verifies, written atomically.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd

from lso.bench.metric_columns import MetricColumns
from lso.bench.metric_info import MetricInfo, infer_metric_info
from lso.bench.space_table_data import (
    DUPLICATE_POLICIES,
    KEY_COLUMNS,
    SpaceTableMeta,
    checked_cell,
    checked_metric_names,
    checked_value,
    numeric_column,
    resolve_space,
)
from lso.bench.space_table_file import is_space_table_file, read_space_table_file, write_space_table_file
from lso.bench.table_data import data_checksum
from lso.errors import ArchStringError, BenchmarkFileError, LsoError, shown
from lso.spaces import SearchSpace

_NO_OVERRIDES: Mapping[str, str] = MappingProxyType({})


class CellNotFoundError(LsoError, KeyError):
    """A cell that a table has no row for (neither itself nor an isomorphic cell)."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


class SpaceTable(MetricColumns):
    """Metrics of cells of one search space, one row per canonical form (module docstring).

    Build one with ``from_rows``, ``from_frame`` or ``load``; the constructor takes already checked columns.
    """

    key_columns = KEY_COLUMNS

    def __init__(self, space: SearchSpace, frame: pd.DataFrame, meta: SpaceTableMeta) -> None:
        self._space = space
        self._frame = frame
        metrics = tuple(c for c in frame.columns if c not in KEY_COLUMNS)
        info = {m: meta.metric_info.get(m) or infer_metric_info(m, frame[m].to_numpy()) for m in metrics}
        self.meta = replace(meta, metric_info=info, checksum=data_checksum(frame))
        self._row_of = {c: r for r, c in enumerate(frame["canonical"].tolist())}

    # ----- construction ------------------------------------------------------------------------------------------
    @classmethod
    def from_rows(cls, space: SearchSpace | str, rows: Iterable[tuple[Any, Mapping[str, float]]],
                  meta: SpaceTableMeta | None = None, *, duplicates: str = "error") -> SpaceTable:
        """A table from ``(arch, {metric: value})`` pairs, ``arch`` an official string or a cell of ``space``.

        Every row must have the same metrics, each a finite number. ``duplicates``: ``"error"`` rejects two rows of
        one canonical form, ``"mean"`` averages them (the first row's arch is kept; ``meta.extra["duplicates"]``
        tells how many rows were merged). Raises ``BenchmarkFileError`` naming the first bad row (rows count from 1).
        """
        space = resolve_space(space, meta)
        archs: list[str] = []
        canonicals: list[str] = []
        columns: dict[str, list[float]] = {}
        metrics: list[str] | None = None
        for row, item in enumerate(rows, start=1):
            if not (isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Mapping)):
                raise BenchmarkFileError(f"row {row}: expected a pair (arch, {{metric: value}}), got {shown(item)}")
            arch, values = item
            if metrics is None:
                metrics = checked_metric_names(values)
                columns = {m: [] for m in metrics}
            elif set(map(str, values)) != set(metrics):
                raise BenchmarkFileError(f"row {row}: has metrics {sorted(map(str, values))}, the first row has "
                                         f"{sorted(metrics)}; every row needs the same metrics")
            text, canonical = checked_cell(space, arch, row)
            archs.append(text)
            canonicals.append(canonical)
            for name, value in values.items():
                columns[str(name)].append(checked_value(value, str(name), row, text))
        if metrics is None:
            raise BenchmarkFileError("a space table needs at least one row")
        return cls.from_columns(space, archs, canonicals, columns, meta, duplicates=duplicates)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, meta: SpaceTableMeta, *, duplicates: str = "error") -> SpaceTable:
        """A table from a frame with an ``arch`` column and numeric metric columns (a ``canonical`` column is
        recomputed, never trusted); the space is ``meta.space``. ``duplicates`` as in ``from_rows``."""
        if not isinstance(frame, pd.DataFrame):
            raise BenchmarkFileError(f"a space table needs a pandas DataFrame, got {type(frame).__name__}")
        if "arch" not in frame.columns:
            raise BenchmarkFileError(f"table is missing column 'arch'; it has: {', '.join(map(str, frame.columns))}")
        space = resolve_space(meta.space, meta)
        frame = frame.reset_index(drop=True).rename(columns=str)
        metrics = checked_metric_names(c for c in frame.columns if c not in KEY_COLUMNS)
        columns = {m: numeric_column(frame[m], m, frame["arch"]).tolist() for m in metrics}
        archs, canonicals = [], []
        for row, arch in enumerate(frame["arch"].tolist(), start=1):
            text, canonical = checked_cell(space, arch, row)
            archs.append(text)
            canonicals.append(canonical)
        if not archs:
            raise BenchmarkFileError("a space table needs at least one row")
        return cls.from_columns(space, archs, canonicals, columns, meta, duplicates=duplicates)

    @classmethod
    def from_columns(cls, space: SearchSpace | str, archs: Sequence[str], canonicals: Sequence[str],
                     columns: Mapping[str, Sequence[float]], meta: SpaceTableMeta | None = None, *,
                     duplicates: str = "error") -> SpaceTable:
        """A table from checked columns: ``archs`` normalised official strings, ``canonicals`` their canonical
        forms, ``columns`` ``{metric: values [n]}`` of finite numbers (importers that have checked their cells
        already use this to avoid hashing them twice). Duplicates as in ``from_rows``."""
        if duplicates not in DUPLICATE_POLICIES:
            raise LsoError(f"duplicates must be one of {', '.join(DUPLICATE_POLICIES)}, got {duplicates!r}")
        space = resolve_space(space, meta)
        meta = meta or SpaceTableMeta(space=space.name)
        frame = pd.DataFrame({"arch": pd.Series(list(archs), dtype=str),
                              "canonical": pd.Series(list(canonicals), dtype=str)})
        for name in checked_metric_names(columns):
            values = np.asarray(columns[name], dtype=np.float64)
            if values.shape != (len(frame),) or not np.isfinite(values).all():
                raise BenchmarkFileError(f"metric {name!r} must hold {len(frame)} finite numbers")
            frame[name] = values
        repeated = frame["canonical"].duplicated(keep=False)
        if repeated.any():
            if duplicates == "error":
                rows = np.flatnonzero(frame["canonical"] == frame["canonical"][repeated].iat[0])[:2]
                a, b = (frame["arch"].iat[r] for r in rows)
                raise BenchmarkFileError(f"rows {rows[0] + 1} and {rows[1] + 1} are the same cell (equal canonical "
                                         f"form): {a} and {b}; pass duplicates='mean' to average them")
            merged = frame.groupby("canonical", sort=False).agg(
                {"arch": "first", **{m: "mean" for m in frame.columns if m not in KEY_COLUMNS}}).reset_index()
            note = f"mean: {len(frame)} rows averaged into {len(merged)} cells ({len(frame) - len(merged)} duplicates)"
            frame = merged[list(frame.columns)]
            meta = replace(meta, extra={**meta.extra, "duplicates": note})
        return cls(space, frame.reset_index(drop=True), meta)

    # ----- files -------------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike[str], space: SearchSpace | str | None = None) -> SpaceTable:
        """Read a table ``save`` wrote; its data must match the stored checksum, which vouches for the rows ``save``
        had checked (they are not parsed again: loading the 423,624 NB101 cells takes seconds, not a minute).
        ``space`` (a name or, for a space outside the registry, the object): the space the table must be of. Raises
        ``BenchmarkFileError`` naming the problem (missing, not Parquet, not a space table, another space, checksum
        failure)."""
        frame, meta = read_space_table_file(path)
        if space is not None:
            asked = space if isinstance(space, str) else space.name
            if asked != meta.space:
                raise BenchmarkFileError(f"table {Path(path)} is of space {meta.space!r}, not {asked!r}")
        obj = resolve_space(space if space is not None and not isinstance(space, str) else meta.space, meta)
        missing = [c for c in KEY_COLUMNS if c not in frame.columns]
        if missing:
            raise BenchmarkFileError(f"table {Path(path)} is missing column(s) {', '.join(missing)}")
        for m in checked_metric_names(c for c in frame.columns if c not in KEY_COLUMNS):
            frame[m] = numeric_column(frame[m], m, frame["arch"])
        stored = meta.checksum
        table = cls(obj, frame.astype({"arch": str, "canonical": str}), meta)
        if stored != table.meta.checksum:
            raise BenchmarkFileError(f"table {Path(path)} fails its checksum (stored {stored[:12] or 'none'}..., data "
                                     f"gives {table.meta.checksum[:12]}...): the file was modified or is corrupt")
        if len(table._row_of) != len(table):
            raise BenchmarkFileError(f"table {Path(path)} repeats a canonical form")
        return table

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as Parquet with its metadata, atomically (a failed write never replaces a file)."""
        return write_space_table_file(path, self._frame, self.meta)

    # ----- shape -------------------------------------------------------------------------------------------------
    @property
    def space(self) -> SearchSpace:
        """The search space of the rows."""
        return self._space

    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the data: arch, canonical, metrics."""
        return self._frame.copy()

    def __len__(self) -> int:
        return len(self._frame)

    def archs(self) -> list[str]:
        """The official strings of the rows, in row order."""
        return self._frame["arch"].tolist()

    def cells(self) -> list[Any]:
        """The cells of the rows (parsed from ``arch``), in row order."""
        return [self._space.parse(a) for a in self._frame["arch"].tolist()]

    # ----- queries -----------------------------------------------------------------------------------------------
    def row_of(self, cell: Any) -> int | None:
        """The row holding ``cell`` (a cell or official string) or a cell isomorphic to it; ``None`` when absent
        (also for a cell the space cannot hash, e.g. an NB101 cell whose input reaches no output)."""
        if isinstance(cell, str):
            cell = self._space.parse(cell)  # a malformed string raises ArchStringError
        try:
            return self._row_of.get(self._space.canonical(cell))
        except ArchStringError:
            return None

    def contains(self, cell: Any) -> bool:
        return self.row_of(cell) is not None

    def __contains__(self, cell: Any) -> bool:
        return self.contains(cell)

    def row(self, cell: Any) -> dict[str, float]:
        """All metrics of ``cell`` (looked up by canonical form); ``CellNotFoundError`` naming it when absent."""
        r = self.row_of(cell)
        if r is None:
            text = cell if isinstance(cell, str) else self._space.to_string(cell)
            raise CellNotFoundError(f"cell {text} is not in this {self._space.name} table (nor any cell isomorphic "
                                    "to it)")
        return {m: float(self._frame[m].iat[r]) for m in self.metrics}

    def value(self, cell: Any, metric: str) -> float:
        """One metric of one cell (a cell or official string; an isomorphic cell finds the same row)."""
        self.require_metric(metric)
        return self.row(cell)[metric]

    def metric_info(self, metric: str) -> MetricInfo:
        self.require_metric(metric)
        return self.meta.metric_info[metric]

    def with_metric_info(self, directions: Mapping[str, str] = _NO_OVERRIDES,
                         scales: Mapping[str, str] = _NO_OVERRIDES) -> SpaceTable:
        """This table with ``{metric: "max"|"min"}`` / ``{metric: "percent"|"fraction"|"raw"}`` overrides stored."""
        for metric in (*directions, *scales):
            self.require_metric(metric)
        info = {m: MetricInfo(m, directions.get(m, i.direction), scales.get(m, i.scale))  # type: ignore[arg-type]
                for m, i in self.meta.metric_info.items()}
        return SpaceTable(self._space, self._frame, replace(self.meta, metric_info=info))

    def best(self, metric: str) -> tuple[str, float]:
        """The arch with the best value of ``metric`` by its direction (first row on ties) and that value."""
        values = self.values(metric)
        r = int(np.argmax(values) if self.metric_info(metric).direction == "max" else np.argmin(values))
        return str(self._frame["arch"].iat[r]), float(values[r])

    def top(self, metric: str, k: int = 10) -> pd.DataFrame:
        """The ``k`` best rows by ``metric`` and its direction (ties in row order)."""
        self.require_metric(metric)
        if k < 1:
            raise LsoError(f"k must be at least 1, got {k}")
        ascending = self.metric_info(metric).direction == "min"
        return self._frame.sort_values(metric, ascending=ascending, kind="stable").head(k).reset_index(drop=True)

    def summary(self) -> dict[str, Any]:
        """What ``lso bench info`` prints: space, rows, metadata, per metric direction, scale, best, median."""
        metrics = {}
        for m in self.metrics:
            info, (arch, best) = self.metric_info(m), self.best(m)
            metrics[m] = {"direction": info.direction, "scale": info.scale, "best": best, "arch": arch,
                          "median": float(np.median(self.values(m)))}
        return {"space": self._space.name, "cells": len(self), "meta": self.meta.to_json(), "metrics": metrics}


__all__ = ["CellNotFoundError", "KEY_COLUMNS", "SpaceTable", "SpaceTableMeta", "is_space_table_file",
           "read_space_table_file"]
