"""A space table's file: Parquet with the ``SpaceTableMeta`` as JSON under the schema key ``lso.space_table``.

``lso.bench.space_table.SpaceTable.load`` / ``save`` read and write through these functions; the frames they hand
over are checked by ``SpaceTable`` itself (its data against the stored checksum).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from lso.atomic import atomic_path
from lso.bench.space_table_data import SpaceTableMeta
from lso.errors import BenchmarkFileError

META_KEY = b"lso.space_table"


def read_space_table_file(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, SpaceTableMeta]:
    """The raw frame and the stored metadata of a space table's Parquet file (``BenchmarkFileError`` otherwise)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise BenchmarkFileError(f"space table not found: {path}" if not path.exists() else f"{path} is not a file")
    try:
        arrow = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as err:
        raise BenchmarkFileError(f"cannot read Parquet table {path} (truncated, corrupt or not Parquet?): "
                                 f"{err}") from err
    raw = (arrow.schema.metadata or {}).get(META_KEY)
    if raw is None:
        raise BenchmarkFileError(f"{path} is not an lso space table (no {META_KEY.decode()} metadata); a NAS-Bench-201 "
                                 "table is read with BenchmarkTable.load")
    try:
        info = json.loads(raw)
    except ValueError as err:
        raise BenchmarkFileError(f"table {path} has unreadable space table metadata: {err}") from err
    return arrow.to_pandas(), SpaceTableMeta.from_json(info)


def is_space_table_file(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` is a Parquet file whose schema carries space table metadata (reads the schema only)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in (".parquet", ".pq"):
        return False
    try:
        return META_KEY in (pq.read_schema(path).metadata or {})
    except (pa.ArrowInvalid, OSError):
        return False


def write_space_table_file(path: str | os.PathLike[str], frame: pd.DataFrame, meta: SpaceTableMeta) -> Path:
    """Write ``frame`` as Parquet with ``meta`` in its schema, atomically (a failed write never replaces a file)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    schema_meta = {**(arrow.schema.metadata or {}), META_KEY: json.dumps(meta.to_json()).encode()}
    with atomic_path(path) as tmp:
        pq.write_table(arrow.replace_schema_metadata(schema_meta), tmp)
    return path
