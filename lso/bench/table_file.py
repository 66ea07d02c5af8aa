"""A benchmark table's file: Parquet written by lso (metadata in the schema under ``lso.table``) or a CSV table.

``BenchmarkTable.load`` / ``BenchmarkTable.save`` (``lso.bench.table``) read and write through these functions;
the frames they hand over are validated by ``BenchmarkTable`` itself.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from lso.atomic import atomic_path
from lso.bench.table_data import KEY_COLUMNS, TableMeta
from lso.errors import BenchmarkFileError

_META_KEY = b"lso.table"
_SPACE_META_KEY = b"lso.space_table"  # lso.bench.space_table_file's key: such a file is not an NB201 table
_DATASET_PREFIXES = {"cifar10": "cifar10", "cifar10valid": "cifar10", "cifar100": "cifar100", "imagenet16": "imagenet16"}


def read_table_file(path: str | os.PathLike[str]) -> tuple[pd.DataFrame, TableMeta, str]:
    """The raw frame, the metadata and the stored data checksum ("" when none: CSV, or Parquet without lso
    metadata) of a ``.parquet`` / ``.pq`` / ``.csv`` table file.

    Raises ``BenchmarkFileError`` for a missing path, a folder, an unknown suffix, an unreadable file or
    unreadable lso metadata.
    """
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
        return frame, TableMeta(source=f"csv:{path.name}", dataset=_guess_dataset(frame), fidelity=""), ""
    if suffix in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            arrow = pq.read_table(path)
        except (pa.ArrowInvalid, OSError) as err:
            raise BenchmarkFileError(f"cannot read Parquet table {path} (truncated or corrupt?): {err}") from err
        if _SPACE_META_KEY in (arrow.schema.metadata or {}):
            try:
                space = json.loads(arrow.schema.metadata[_SPACE_META_KEY]).get("space", "another")
            except (ValueError, AttributeError):
                space = "another"
            raise BenchmarkFileError(f"{path} is a table of the {space} space (a SpaceTable): this takes "
                                     "NAS-Bench-201 tables; search a space table with `lso search pool`")
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
        return arrow.to_pandas(), meta, stored_checksum
    raise BenchmarkFileError(f"unknown table format {path.suffix!r} for {path}: use .parquet or .csv")


def write_table_file(path: str | os.PathLike[str], frame: pd.DataFrame, meta: TableMeta) -> Path:
    """Write ``frame`` as Parquet with ``meta`` in its schema, atomically: a failed write never replaces an
    existing file."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    arrow = pa.Table.from_pandas(frame, preserve_index=False)
    arrow = arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), _META_KEY: json.dumps(asdict(meta)).encode()})
    with atomic_path(path) as tmp:
        pq.write_table(arrow, tmp)
    return path


def _guess_dataset(frame: pd.DataFrame) -> str:
    # Only known dataset prefixes: a cost column such as params_mb names no dataset.
    prefixes = {_DATASET_PREFIXES.get(str(c).split("_")[0]) for c in frame.columns if c not in KEY_COLUMNS}
    return ",".join(sorted(p for p in prefixes if p))
