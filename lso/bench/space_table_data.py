"""What a table of a search space other than NAS-Bench-201 holds: its metadata, and the checks its rows pass.

Used by ``lso.bench.space_table.SpaceTable`` (import these names from there). Rows are numbered from 1 (the first
data row) in every message, so a user finds the line in their CSV or JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from lso.bench.metric_info import MetricInfo
from lso.errors import ArchStringError, BenchmarkFileError, LsoError, shown

if TYPE_CHECKING:  # lso.spaces imports torch: loaded only when a table's cells are checked (resolve_space)
    from lso.spaces import SearchSpace

KEY_COLUMNS: tuple[str, ...] = ("arch", "canonical")
DUPLICATE_POLICIES: tuple[str, ...] = ("error", "mean")


@dataclass(frozen=True)
class SpaceTableMeta:
    """Where a ``SpaceTable`` comes from, stored in its Parquet file.

    Attributes:
        space: the search space's registry name (``lso.spaces.get_space``), e.g. ``"nb101"``, ``"darts"``.
        source: the file or process it was made from (``"nb101-tfrecord:nasbench_only108.tfrecord"``).
        dataset / fidelity / protocol: what the metrics measure (``"cifar10"``, ``"108 epochs"``, how trained).
        metric_info: per metric its direction and scale (``MetricInfo``; a ``{"direction", "scale"}`` mapping is
            accepted too); a table fills in what is not given by ``infer_metric_info``.
        extra: further provenance, strings only (e.g. how many duplicate rows were averaged).
        checksum: SHA-256 of the table's data (set by the table, never of this metadata).
    """

    space: str
    source: str = ""
    dataset: str = ""
    fidelity: str = ""
    protocol: str = ""
    metric_info: Mapping[str, MetricInfo] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)
    checksum: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.space, str) or not self.space.strip():
            raise LsoError(f"a space table's metadata needs the space's name, got {self.space!r}")
        for name in ("source", "dataset", "fidelity", "protocol", "checksum"):
            if not isinstance(getattr(self, name), str):
                raise LsoError(f"space table metadata: {name} must be a string, got {getattr(self, name)!r}")
        if not isinstance(self.metric_info, Mapping) or not isinstance(self.extra, Mapping):
            raise LsoError("space table metadata: metric_info and extra must be mappings")
        object.__setattr__(self, "metric_info", {str(k): _metric_info(str(k), v) for k, v in self.metric_info.items()})
        object.__setattr__(self, "extra", {str(k): str(v) for k, v in self.extra.items()})

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (metric info as ``{metric: {"direction", "scale"}}``)."""
        out = asdict(self) | {"metric_info": {}}
        out["metric_info"] = {m: {"direction": i.direction, "scale": i.scale} for m, i in self.metric_info.items()}
        out["extra"] = dict(self.extra)
        return out

    @classmethod
    def from_json(cls, data: Any) -> SpaceTableMeta:
        """The metadata ``to_json`` wrote; ``BenchmarkFileError`` naming the problem otherwise."""
        if not isinstance(data, Mapping):
            raise BenchmarkFileError(f"space table metadata must be a JSON object, got {shown(data)}")
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise BenchmarkFileError(f"space table metadata has unknown field(s) {', '.join(unknown)}")
        try:
            return cls(**data)
        except (LsoError, TypeError) as err:
            raise BenchmarkFileError(f"space table metadata: {err}") from err


def _metric_info(metric: str, value: object) -> MetricInfo:
    if isinstance(value, MetricInfo):
        return value if value.name == metric else MetricInfo(metric, value.direction, value.scale)
    if isinstance(value, Mapping) and set(value) <= {"direction", "scale"} and len(value) == 2:
        return MetricInfo(metric, value["direction"], value["scale"])  # checks both values
    raise LsoError(f"metric info of {metric!r} must be a MetricInfo or {{'direction': ..., 'scale': ...}}, "
                   f"got {shown(value)}")


def resolve_space(space: SearchSpace | str, meta: SpaceTableMeta | None) -> SearchSpace:
    """The space object for ``space`` (a name is looked up in the registry), checked against ``meta.space``."""
    from lso.spaces import SearchSpace, get_space

    obj = get_space(space) if isinstance(space, str) else space
    if not isinstance(obj, SearchSpace):
        raise LsoError(f"a space table needs a SearchSpace or a space name, got {type(space).__name__}")
    if meta is not None and meta.space != obj.name:
        raise LsoError(f"the table's metadata names space {meta.space!r} but its rows are given in space {obj.name!r}")
    return obj


def checked_cell(space: SearchSpace, arch: object, row: int) -> tuple[str, str]:
    """``(official string, canonical form)`` of row ``row``'s architecture (a string or a cell of ``space``).

    Raises ``BenchmarkFileError`` naming the row for a malformed string, a cell of another type, or a cell not
    valid in the space.
    """
    if isinstance(arch, str):
        try:
            cell = space.parse(arch)
        except ArchStringError as err:
            raise BenchmarkFileError(f"row {row}: {err}") from err
    elif isinstance(arch, space.cell_type):
        cell = arch
    else:
        raise BenchmarkFileError(f"row {row}: the architecture must be a {space.name} string or "
                                 f"{space.cell_type.__name__}, got {type(arch).__name__} {shown(arch)}")
    text = space.to_string(cell)
    if not space.is_valid(cell):
        raise BenchmarkFileError(f"row {row}: {text} is not a valid cell of the {space.name} space")
    try:
        return text, space.canonical(cell)
    except ArchStringError as err:
        raise BenchmarkFileError(f"row {row}: {err}") from err


def checked_metric_names(names: Iterable[object]) -> list[str]:
    """Metric column names as strings: non-empty, distinct, none of the key columns."""
    out: list[str] = []
    for name in names:
        text = str(name)
        if not text.strip():
            raise BenchmarkFileError("a metric column has an empty name")
        if text in KEY_COLUMNS:
            raise BenchmarkFileError(f"{text!r} is a key column of a space table, not a metric")
        if text in out:
            raise BenchmarkFileError(f"metric {text!r} is given twice")
        out.append(text)
    return out


def checked_value(value: object, metric: str, row: int, arch: object) -> float:
    """One metric value as a finite float; ``BenchmarkFileError`` naming row, arch and metric otherwise."""
    if isinstance(value, (bool, np.bool_)):
        raise BenchmarkFileError(f"row {row} ({_short(arch)}): metric {metric!r} is {value!r}, not a number")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BenchmarkFileError(f"row {row} ({_short(arch)}): metric {metric!r} is {shown(value)}, "
                                 "not a number") from None
    if not math.isfinite(number):
        raise BenchmarkFileError(f"row {row} ({_short(arch)}): metric {metric!r} is {number}; metric values must "
                                 "be finite numbers")
    return number


def numeric_column(column: pd.Series, metric: str, archs: pd.Series) -> np.ndarray:
    """A frame's metric column as finite float64 ``[n]``; ``BenchmarkFileError`` naming the first bad row."""
    numbers = pd.to_numeric(column, errors="coerce")
    bad = numbers.isna() & column.notna()
    if bad.any():
        r = int(np.flatnonzero(bad.to_numpy())[0])
        raise BenchmarkFileError(f"metric column {metric!r} is not numeric: row {r + 1} ({_short(archs.iat[r])}) "
                                 f"holds {shown(column.iat[r])}")
    values = numbers.to_numpy(dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.all():
        r = int(np.flatnonzero(~finite)[0])
        raise BenchmarkFileError(f"row {r + 1} ({_short(archs.iat[r])}): metric {metric!r} is {values[r]}; metric "
                                 f"values must be finite numbers ({int((~finite).sum())} such value(s) in the column)")
    return values


def _short(arch: object, limit: int = 60) -> str:
    text = str(arch)
    return text if len(text) <= limit else text[: limit - 3] + "..."
