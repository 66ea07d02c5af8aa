"""What a benchmark table's data must be: its key columns, validation, data checksum and provenance metadata.

Used by ``lso.bench.table.BenchmarkTable`` (which every caller imports these names through). A valid frame has
integer ``index`` values that are official NAS-Bench-201 indices (0..15,624, each once), the official ``arch``
string of each, a ``unique_id`` column added here (the smallest official index of the cell's isomorphism class),
and float metric columns; rows sorted by index.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from lso.bench.metric_info import MetricInfo
from lso.errors import ArchStringError, BenchmarkFileError, LsoError
from lso.space import Cell, all_cells, unique_ids

KEY_COLUMNS: tuple[str, ...] = ("index", "arch", "unique_id")


@dataclass(frozen=True)
class TableMeta:
    """Where a table comes from. ``checksum`` is the SHA-256 of its data (index, arch and metric columns; never of
    this metadata). ``metric_info`` maps a metric to ``{"direction": "max"|"min", "scale": "percent"|"fraction"|
    "raw"}``; metrics without an entry have theirs inferred (``BenchmarkTable.metric_info``)."""

    source: str = ""
    dataset: str = ""
    fidelity: str = ""
    checksum: str = ""
    extra: dict[str, str] = field(default_factory=dict)
    metric_info: dict[str, dict[str, str]] = field(default_factory=dict)


def data_checksum(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of ``frame``'s values and column names (``BenchmarkTable`` passes it without ``unique_id``)."""
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    digest.update(",".join(frame.columns).encode())
    return digest.hexdigest()


def checked_metric_info(info: Mapping[str, Mapping[str, str]], metrics: Sequence[str]) -> dict[str, dict[str, str]]:
    """Stored metric info limited to ``metrics`` (a subset drops the others), each value checked."""
    if not isinstance(info, Mapping):
        raise BenchmarkFileError(f"metric info must map metric names to {{'direction', 'scale'}}, got {info!r}")
    out: dict[str, dict[str, str]] = {}
    for metric, entry in info.items():
        if metric not in metrics:
            continue
        if not isinstance(entry, Mapping) or set(entry) - {"direction", "scale"}:
            raise BenchmarkFileError(f"metric info of {metric!r} must be {{'direction': ..., 'scale': ...}}, "
                                     f"got {entry!r}")
        try:
            MetricInfo(metric, entry.get("direction", "max"), entry.get("scale", "raw"))  # type: ignore[arg-type]
        except LsoError as err:
            raise BenchmarkFileError(f"table metadata: {err}") from err
        out[metric] = {str(k): str(v) for k, v in entry.items()}
    return out


def validated_frame(frame: pd.DataFrame, *, allow_nan: bool) -> pd.DataFrame:
    """Check columns, arch strings, index agreement and NaNs; return a clean frame sorted by index.

    Raises ``BenchmarkFileError`` naming the first problem (NaN metric values pass only with ``allow_nan``;
    infinite ones never).
    """
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
    index = _checked_index(frame)
    out = pd.DataFrame({"index": index, "arch": frame["arch"].astype(str)})
    ids = unique_ids()
    out["unique_id"] = np.asarray([ids[i] for i in index.to_numpy()], dtype=np.int64)
    for c in (c for c in frame.columns if c not in KEY_COLUMNS):
        out[str(c)] = _checked_metric(frame[c], c, index, allow_nan=allow_nan)
    return out.sort_values("index", kind="stable").reset_index(drop=True)


def _checked_index(frame: pd.DataFrame) -> pd.Series:
    """The ``index`` column as int64, checked to be distinct official indices that agree with ``arch``."""
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
    return index


def _checked_metric(column: pd.Series, name: object, index: pd.Series, *, allow_nan: bool) -> np.ndarray:
    """A metric column as float64 ``[n]``: numeric, finite, NaN only with ``allow_nan``."""
    try:
        col = pd.to_numeric(column, errors="raise").astype(np.float64)
    except (ValueError, TypeError) as err:
        raise BenchmarkFileError(f"metric column {name!r} is not numeric: {err}") from err
    nans = int(col.isna().sum())
    if nans and not allow_nan:
        first = int(index[col.isna()].iloc[0])
        raise BenchmarkFileError(f"metric column {name!r} has {nans} NaN value(s) (first at index {first})")
    infinite = np.isinf(col.to_numpy())
    if infinite.any():  # never admitted, not even with allow_nan: no ranking or score is defined for them
        first = int(index[infinite].iloc[0])
        raise BenchmarkFileError(f"metric column {name!r} has {int(infinite.sum())} infinite value(s) (first at "
                                 f"index {first}); metric values must be finite numbers")
    return col.to_numpy()
