"""The columnar benchmark table: one row per official index, metric columns, provenance metadata; Parquet on disk.

Columns: ``index`` (official NAS-Bench-201 index, 0..15,624), ``arch`` (official string), ``unique_id`` (smallest
official index of the cell's isomorphism class), then float metric columns named ``<dataset>_<split>`` such as
``cifar10_valid`` or ``cifar10_test`` (accuracies in percent). Metadata (source, dataset, fidelity, checksum) is
stored in the Parquet schema so a table file is self-describing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from lso.atomic import atomic_path
from lso.errors import ArchStringError, BenchmarkFileError, MetricError
from lso.space import Cell, all_cells, index_of, unique_ids

KEY_COLUMNS: tuple[str, ...] = ("index", "arch", "unique_id")
_META_KEY = b"lso.table"


@dataclass(frozen=True)
class TableMeta:
    """Where a table comes from. ``checksum`` is the SHA-256 of its data (index, arch and metric columns)."""

    source: str = ""
    dataset: str = ""
    fidelity: str = ""
    checksum: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _checksum(frame: pd.DataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    digest.update(",".join(frame.columns).encode())
    return digest.hexdigest()


class BenchmarkTable:
    """A NAS benchmark as a table, queried by cell, official index or arch string.

    Build one with ``BenchmarkTable.load(path)`` (Parquet written by lso, or a CSV with ``index``/``arch`` columns),
    or ``BenchmarkTable.from_frame(frame, meta)``. Rows are sorted by official index. A table may hold only part
    of the space (e.g. a benchmark still being built); ``is_complete`` tells.
    """

    def __init__(self, frame: pd.DataFrame, meta: TableMeta, *, allow_nan: bool = False) -> None:
        self._frame = _validated(frame, allow_nan=allow_nan)
        self.meta = replace(meta, checksum=_checksum(self._frame.drop(columns=["unique_id"])))
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
        """Read a Parquet table written by ``save`` or a CSV table (``.csv``, e.g. the tables in shared/benchmarks)."""
        path = Path(path)
        if not path.exists():
            raise BenchmarkFileError(f"benchmark table not found: {path}")
        if path.is_dir():
            raise BenchmarkFileError(f"{path} is a folder, not a table file (to convert an official folder use `lso bench import`)")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            try:
                frame = pd.read_csv(path)
            except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
                raise BenchmarkFileError(f"cannot read CSV table {path}: {err}") from err
            meta = TableMeta(source=f"csv:{path.name}", dataset=_guess_dataset(frame), fidelity="")
            return cls(frame, meta, allow_nan=allow_nan)
        if suffix in (".parquet", ".pq"):
            import pyarrow as pa
            import pyarrow.parquet as pq

            try:
                arrow = pq.read_table(path)
            except (pa.ArrowInvalid, OSError) as err:
                raise BenchmarkFileError(f"cannot read Parquet table {path} (truncated or corrupt?): {err}") from err
            raw = (arrow.schema.metadata or {}).get(_META_KEY)
            meta = TableMeta()
            stored_checksum = ""
            if raw is not None:
                try:
                    info = json.loads(raw)
                    stored_checksum = info.pop("checksum", "")
                    meta = TableMeta(**info)
                except (ValueError, TypeError) as err:
                    raise BenchmarkFileError(f"table {path} has unreadable lso metadata: {err}") from err
            table = cls(arrow.to_pandas(), meta, allow_nan=allow_nan)
            if stored_checksum and stored_checksum != table.meta.checksum:
                raise BenchmarkFileError(
                    f"table {path} fails its checksum (stored {stored_checksum[:12]}..., data gives "
                    f"{table.meta.checksum[:12]}...): the file was modified or is corrupt"
                )
            return table
        raise BenchmarkFileError(f"unknown table format {path.suffix!r} for {path}: use .parquet or .csv")

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the table as Parquet, atomically: a failed write never replaces an existing file."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrow = pa.Table.from_pandas(self._frame, preserve_index=False)
        arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), _META_KEY: json.dumps(asdict(self.meta)).encode()})
        with atomic_path(path) as tmp:
            pq.write_table(arrow, tmp)
        return path

    # ----- shape -------------------------------------------------------------------------------------------------
    @property
    def frame(self) -> pd.DataFrame:
        """A copy of the underlying frame (index, arch, unique_id, metrics...)."""
        return self._frame.copy()

    @property
    def metrics(self) -> tuple[str, ...]:
        """Names of the metric columns."""
        return tuple(c for c in self._frame.columns if c not in KEY_COLUMNS)

    def __len__(self) -> int:
        return len(self._frame)

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
    def require_metric(self, metric: str) -> None:
        """Raise ``MetricError`` naming the available metrics when ``metric`` is not a column."""
        if metric not in self.metrics:
            raise MetricError(f"metric {metric!r} is not in this table; it has: {', '.join(self.metrics) or 'none'}")

    def values(self, metric: str) -> np.ndarray:
        """The column ``metric`` as float64, shape ``[n]``, in row order."""
        self.require_metric(metric)
        return self._frame[metric].to_numpy(dtype=np.float64).copy()

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
        """The metric a command uses for ``split`` ("valid" or "test") when none is named: ``<dataset>_<split>`` of
        the table's dataset, else the first ``*_<split>`` column; ``MetricError`` when there is none."""
        own = f"{self.meta.dataset}_{split}"
        found = own if own in self.metrics else next((m for m in self.metrics if m.endswith(f"_{split}")), None)
        if found is None:
            raise MetricError(f"this table has no *_{split} metric to default to (name one, e.g. with --signal / "
                              f"--report / --metric); it has: {', '.join(self.metrics)}")
        return found

    def best(self, metric: str) -> tuple[Cell, float]:
        """The cell with the highest value of ``metric`` (first by index on ties) and that value."""
        values = self.values(metric)
        r = int(np.nanargmax(values))
        return all_cells()[int(self._frame["index"].iat[r])], float(values[r])

    def top(self, metric: str, k: int = 10) -> pd.DataFrame:
        """The ``k`` best rows by ``metric``: columns index, arch, unique_id and all metrics."""
        self.require_metric(metric)
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        return self._frame.sort_values([metric, "index"], ascending=[False, True], kind="stable").head(k).reset_index(drop=True)

    def summary(self) -> dict:
        """What ``lso bench info`` prints: sizes, metadata, and per metric its best value and arch."""
        out: dict = {
            "cells": len(self),
            "unique": self.num_unique,
            "complete": self.is_complete,
            "meta": asdict(self.meta),
            "metrics": {},
        }
        for m in self.metrics:
            values = self.values(m)
            if np.isnan(values).all():
                out["metrics"][m] = {"best": None, "arch": None, "index": None, "missing": int(len(values))}
                continue
            cell, value = self.best(m)
            out["metrics"][m] = {
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


_DATASET_PREFIXES = {"cifar10": "cifar10", "cifar10valid": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet16"}


def _guess_dataset(frame: pd.DataFrame) -> str:
    # Only known dataset prefixes: a cost column such as params_mb names no dataset.
    prefixes = {_DATASET_PREFIXES.get(str(c).split("_")[0]) for c in frame.columns if c not in KEY_COLUMNS}
    return ",".join(sorted(p for p in prefixes if p))


def _validated(frame: pd.DataFrame, *, allow_nan: bool) -> pd.DataFrame:
    """Check columns, arch strings, index agreement and NaNs; return a clean frame sorted by index."""
    if not isinstance(frame, pd.DataFrame):
        raise BenchmarkFileError(f"a benchmark table needs a pandas DataFrame, got {type(frame).__name__}")
    missing = [c for c in ("index", "arch") if c not in frame.columns]
    if missing:
        raise BenchmarkFileError(
            f"table is missing column(s) {', '.join(missing)}; it has: {', '.join(map(str, frame.columns))}"
        )
    if len(frame) == 0:
        raise BenchmarkFileError("table has no rows")
    frame = frame.reset_index(drop=True)
    try:
        index = pd.to_numeric(frame["index"], errors="raise")
    except (ValueError, TypeError) as err:
        raise BenchmarkFileError(f"column 'index' must hold integers: {err}") from err
    if index.isna().any() or (index % 1 != 0).any():
        raise BenchmarkFileError("column 'index' must hold integers (found NaN or fractions)")
    index = index.astype(np.int64)
    if index.duplicated().any():
        dup = int(index[index.duplicated()].iloc[0])
        raise BenchmarkFileError(f"column 'index' repeats index {dup}")
    every = all_cells()
    bad = index[(index < 0) | (index >= len(every))]
    if len(bad):
        raise BenchmarkFileError(f"column 'index' has {int(bad.iloc[0])}, outside 0..{len(every) - 1}")
    for row, (i, arch) in enumerate(zip(index.to_numpy(), frame["arch"].to_numpy())):
        if not isinstance(arch, str):
            raise BenchmarkFileError(f"row {row}: arch is {arch!r}, not a string")
        if every[i].to_string() != arch:
            try:
                cell = Cell.from_string(arch)
            except ArchStringError as err:
                raise BenchmarkFileError(f"row {row} (index {i}): {err}") from err
            raise BenchmarkFileError(
                f"row {row}: index {i} is {every[i]} in the official order, but the table says {cell}; "
                "the table's index column does not follow the NAS-Bench-201 order"
            )
    metric_cols = [c for c in frame.columns if c not in KEY_COLUMNS]
    out = pd.DataFrame({"index": index, "arch": frame["arch"].astype(str)})
    ids = unique_ids()
    out["unique_id"] = np.asarray([ids[i] for i in index.to_numpy()], dtype=np.int64)
    for c in metric_cols:
        try:
            col = pd.to_numeric(frame[c], errors="raise").astype(np.float64)
        except (ValueError, TypeError) as err:
            raise BenchmarkFileError(f"metric column {c!r} is not numeric: {err}") from err
        nans = int(col.isna().sum())
        if nans and not allow_nan:
            first = int(index[col.isna()].iloc[0])
            raise BenchmarkFileError(f"metric column {c!r} has {nans} NaN value(s) (first at index {first})")
        out[str(c)] = col.to_numpy()
    return out.sort_values("index", kind="stable").reset_index(drop=True)
