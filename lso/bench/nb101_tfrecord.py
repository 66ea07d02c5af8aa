"""The official NAS-Bench-101 file (``nasbench_only108.tfrecord``) read without TensorFlow, into a ``SpaceTable``.

Each TFRecord record (framing: ``lso.bench.tfrecord``) is one training run: UTF-8 JSON
``[module_hash, epochs, raw_adjacency, raw_operations, raw_metrics]`` with ``raw_adjacency`` the V*V matrix as one
string of 0/1, ``raw_operations`` the V operations joined by commas and ``raw_metrics`` the base64 of a protobuf
``nasbench.ModelMetrics`` (NB101's ``model_metrics.proto``)::

    ModelMetrics   { repeated EvaluationData evaluation_data = 1; int32 trainable_parameters = 2;
                     double total_time = 3; }
    EvaluationData { double current_epoch = 1; double training_time = 2; double train_accuracy = 3;
                     double validation_accuracy = 4; double test_accuracy = 5; string checkpoint_path = 6; }

Evaluations are at the start, halfway and end of training; NB101's API reads the final one (index 2), as here (the
last). Every cell has 3 runs (repeats) at 108 epochs; the table holds per cell the mean over its runs:
``cifar10_valid`` / ``cifar10_test`` / ``cifar10_train`` (accuracy in percent; NB101 stores fractions),
``train_time`` (training seconds of the final evaluation) and ``params`` (trainable parameters). The module hash
of each cell is checked against ``Nb101Space().canonical`` (the official hash), so the table's keys are the official
ones. ``nasbench_full.tfrecord`` reads too (``epochs`` picks 4, 12, 36 or 108).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lso.bench.metric_info import MetricInfo
from lso.bench.space_table import SpaceTable, SpaceTableMeta
from lso.bench.tfrecord import as_double, as_int, as_message, iter_fields, iter_tfrecords
from lso.errors import ArchStringError, BenchmarkFileError
from lso.jobs import Reporter
from lso.spaces import Nb101Cell, Nb101Space

_EVAL_FIELDS = {1: "current_epoch", 2: "training_time", 3: "train_accuracy", 4: "validation_accuracy",
                5: "test_accuracy"}
_MB = 1 << 20


@dataclass(frozen=True)
class EvaluationData:
    """One evaluation of a run (accuracies as fractions, times in seconds; 0.0 where the message omits a field)."""

    current_epoch: float = 0.0
    training_time: float = 0.0
    train_accuracy: float = 0.0
    validation_accuracy: float = 0.0
    test_accuracy: float = 0.0


@dataclass(frozen=True)
class ModelMetrics:
    """A decoded ``nasbench.ModelMetrics`` (module docstring); ``checkpoint_path`` is skipped."""

    evaluation_data: tuple[EvaluationData, ...]
    trainable_parameters: int = 0
    total_time: float = 0.0


@dataclass(frozen=True)
class Nb101Record:
    """One record of the file: a run of ``cell`` (as stored: pruned) for ``epochs`` epochs."""

    number: int
    module_hash: str
    epochs: int
    cell: Nb101Cell
    metrics: ModelMetrics


def decode_model_metrics(raw: bytes) -> ModelMetrics:
    """Decode the protobuf bytes of a ``ModelMetrics`` message (unknown fields skipped)."""
    evaluations, params, total = [], 0, 0.0
    for number, wire, value in iter_fields(raw):
        if number == 1:
            fields: dict[str, float] = {}
            for sub, sub_wire, sub_value in iter_fields(as_message(number, wire, value)):
                if sub in _EVAL_FIELDS:
                    fields[_EVAL_FIELDS[sub]] = as_double(sub, sub_wire, sub_value)
            evaluations.append(EvaluationData(**fields))
        elif number == 2:
            params = as_int(number, wire, value, bits=32)
        elif number == 3:
            total = as_double(number, wire, value)
    return ModelMetrics(tuple(evaluations), params, total)


def parse_record(number: int, data: bytes, source: str = "") -> Nb101Record:
    """One record's data (JSON row) as an ``Nb101Record``; ``BenchmarkFileError`` naming the record (after
    ``source``, e.g. the file name) otherwise."""
    where = f"{source}: record {number}" if source else f"record {number}"
    try:
        row = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        raise BenchmarkFileError(f"{where}: not a NAS-Bench-101 JSON row ({err})") from err
    if not (isinstance(row, list) and len(row) == 5):
        raise BenchmarkFileError(f"{where}: expected [module_hash, epochs, adjacency, operations, metrics], "
                                 f"got {str(row)[:80]}")
    module_hash, epochs, adjacency, operations, raw_metrics = row
    if not all(isinstance(x, str) for x in (module_hash, adjacency, operations, raw_metrics)):
        raise BenchmarkFileError(f"{where}: hash, adjacency, operations and metrics must be strings")
    if isinstance(epochs, bool) or not isinstance(epochs, int):
        raise BenchmarkFileError(f"{where}: epochs must be an integer, got {epochs!r}")
    try:
        cell = Nb101Cell.from_record(adjacency, operations)
    except ArchStringError as err:
        raise BenchmarkFileError(f"{where} (hash {module_hash}): {err}") from err
    try:
        metrics = decode_model_metrics(base64.b64decode(raw_metrics, validate=True))
    except binascii.Error as err:
        raise BenchmarkFileError(f"{where} (hash {module_hash}): metrics are not base64 ({err})") from err
    except BenchmarkFileError as err:
        raise BenchmarkFileError(f"{where} (hash {module_hash}): bad ModelMetrics message: {err}") from err
    if not metrics.evaluation_data:
        raise BenchmarkFileError(f"{where} (hash {module_hash}): the run has no evaluation")
    return Nb101Record(number, module_hash, epochs, cell, metrics)


def iter_nb101_records(path: str | os.PathLike[str], *, verify_data_crc: bool = False) -> Iterator[Nb101Record]:
    """Every record of the file, parsed, in file order (``iter_tfrecords`` for the CRC checks)."""
    for number, _, data in iter_tfrecords(path, verify_data_crc=verify_data_crc):
        yield parse_record(number, data, Path(path).name)


def read_nb101_tfrecord(path: str | os.PathLike[str], *, epochs: int = 108, include_train: bool = True,
                        check_hashes: bool = True, verify_data_crc: bool = False,
                        reporter: Reporter | None = None) -> SpaceTable:
    """The NB101 table of ``path`` (module docstring), one row per cell, metrics averaged over its runs.

    Args:
        epochs: the training budget to read (records of other budgets are skipped).
        include_train: add ``cifar10_train``.
        check_hashes: check each cell's module hash against ``Nb101Space().canonical`` (about 0.1 ms per cell,
            ~40 s for the 423,624 cells); without it the file's hashes are trusted as canonical forms.
        verify_data_crc: check every record's data CRC too (pure Python CRC32C at ~10 MB/s: about a minute more
            for the 0.5 GB file); the
            length CRC is always checked.
        reporter: hears ``(MB read, MB in the file, "N records")`` about once per MB.

    Raises ``BenchmarkFileError`` naming the record for any malformed, truncated or inconsistent record.
    """
    path = Path(path)
    space = Nb101Space()
    total_mb = max(1, -(-path.stat().st_size // _MB)) if path.is_file() else 1
    sums: dict[str, list[float]] = {}  # hash -> [valid, test, train, time, runs]
    first: dict[str, tuple[str, int]] = {}  # hash -> (arch, params)
    seen_epochs: set[int] = set()
    next_report = 0
    number = 0
    for number, done, data in iter_tfrecords(path, verify_data_crc=verify_data_crc):
        record = parse_record(number, data, path.name)
        seen_epochs.add(record.epochs)
        if reporter is not None and done >= next_report:
            reporter(done // _MB, total_mb, f"{number:,} records")
            next_report = done + _MB
        if record.epochs != epochs:
            continue
        final = record.metrics.evaluation_data[-1]
        h = record.module_hash
        if h not in first:
            first[h] = (_checked_arch(space, record, check_hashes, path.name), record.metrics.trainable_parameters)
            sums[h] = [0.0] * 5
        acc = sums[h]
        acc[0] += final.validation_accuracy
        acc[1] += final.test_accuracy
        acc[2] += final.train_accuracy
        acc[3] += final.training_time
        acc[4] += 1
    if not first:
        found = ", ".join(map(str, sorted(seen_epochs))) or "none"
        raise BenchmarkFileError(f"{path.name}: no run at {epochs} epochs ({number} records; epochs found: {found})")
    if reporter is not None:
        reporter(total_mb, total_mb, f"{number:,} records")
    hashes = list(first)
    runs = [sums[h][4] for h in hashes]
    columns = {"cifar10_valid": [100.0 * sums[h][0] / sums[h][4] for h in hashes],
               "cifar10_test": [100.0 * sums[h][1] / sums[h][4] for h in hashes]}
    if include_train:
        columns["cifar10_train"] = [100.0 * sums[h][2] / sums[h][4] for h in hashes]
    columns["train_time"] = [sums[h][3] / sums[h][4] for h in hashes]
    columns["params"] = [float(first[h][1]) for h in hashes]
    info = {m: MetricInfo(m, "max", "percent") for m in columns if m.startswith("cifar10_")}
    info |= {"train_time": MetricInfo("train_time", "min", "raw"), "params": MetricInfo("params", "min", "raw")}
    lo, hi = int(min(runs)), int(max(runs))
    meta = SpaceTableMeta(
        space=space.name, source=f"nb101-tfrecord:{path.name}", dataset="cifar10", fidelity=f"{epochs} epochs",
        protocol="NAS-Bench-101 (Ying et al. 2019): final evaluation, mean over the runs of each cell",
        metric_info=info, extra={"runs_per_cell": str(lo) if lo == hi else f"{lo}..{hi}", "records": str(number),
                                 "hashes_checked": str(check_hashes).lower()},
    )
    return SpaceTable.from_columns(space, [first[h][0] for h in hashes], hashes, columns, meta)


def _checked_arch(space: Nb101Space, record: Nb101Record, check_hash: bool, source: str) -> str:
    """The record's cell as a spec string, checked valid and (with ``check_hash``) hashing to its module hash."""
    arch = space.to_string(record.cell)
    if not space.is_valid(record.cell):
        raise BenchmarkFileError(f"{source}: record {record.number} (hash {record.module_hash}): {arch} is not a "
                                 "valid NAS-Bench-101 cell")
    if check_hash:
        ours = space.canonical(record.cell)
        if ours != record.module_hash:
            raise BenchmarkFileError(f"{source}: record {record.number}: the file gives hash {record.module_hash} "
                                     f"to {arch}, lso hashes it to {ours}: not the official hash, or a corrupt "
                                     "record")
    return arch


__all__ = ["EvaluationData", "ModelMetrics", "Nb101Record", "decode_model_metrics", "iter_nb101_records",
           "parse_record", "read_nb101_tfrecord"]
