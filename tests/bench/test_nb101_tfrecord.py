"""The NAS-Bench-101 TFRecord reader on small files in the official format, encoded here byte by byte.

The encoder below writes what NB101's generator wrote: TFRecord framing (length, masked CRC32C of the length, data,
masked CRC32C of the data) around UTF-8 JSON rows ``[hash, epochs, adjacency bits, ops, base64 ModelMetrics]``,
the protobuf with the field numbers of ``model_metrics.proto``.
"""

from __future__ import annotations

import base64
import json
import random
import struct
from pathlib import Path

import numpy as np
import pytest

from cli_runner import run_cli
from lso.bench import ImportOptions, SpaceTable, import_to_file, read_nb101_tfrecord
from lso.bench.nb101_tfrecord import decode_model_metrics, iter_nb101_records
from lso.bench.tfrecord import crc32c, masked_crc32c
from lso.errors import BenchmarkFileError
from lso.jobs import Reporter
from lso.spaces import Nb101Cell, Nb101Space

SPACE = Nb101Space()
README_OPS = "input,conv1x1-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,conv3x3-bn-relu,maxpool3x3,output"
README_ADJ = "0111010000000100000010000100000000100000010000000"
README_HASH = "28cfc7874f6d200472e1a9dcd8650aa0"  # the official hash of the NB101 README's cell


# ----- a tiny encoder of the official format ------------------------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _double(number: int, x: float) -> bytes:
    return _key(number, 1) + struct.pack("<d", x)


def _bytes(number: int, payload: bytes) -> bytes:
    return _key(number, 2) + _varint(len(payload)) + payload


def _evaluation(epoch: float, time: float, train: float, valid: float, test: float) -> bytes:
    fields = _double(1, epoch) + _double(2, time) + _double(3, train) + _double(4, valid) + _double(5, test)
    return fields + _bytes(6, b"/ckpt/model.ckpt-1") + _key(15, 0) + _varint(7)  # an unknown field is skipped


def metrics_proto(final: tuple[float, float, float, float], params: int, total: float = 1234.5) -> bytes:
    """ModelMetrics with 3 evaluations (start, halfway, final); ``final`` = (time, train, valid, test)."""
    time, train, valid, test = final
    evals = [_evaluation(0.0, 0.0, 0.1, 0.1, 0.1), _evaluation(54.0, time / 2, 0.5, 0.5, 0.5),
             _evaluation(108.0, time, train, valid, test)]
    return b"".join(_bytes(1, e) for e in evals) + _key(2, 0) + _varint(params) + _double(3, total)


def row_json(module_hash: str, epochs: int, adjacency: str, ops: str, metrics: bytes) -> bytes:
    return json.dumps([module_hash, epochs, adjacency, ops, base64.b64encode(metrics).decode()]).encode()


def frame(data: bytes) -> bytes:
    length = struct.pack("<Q", len(data))
    return length + struct.pack("<I", masked_crc32c(length)) + data + struct.pack("<I", masked_crc32c(data))


def record_fields(cell: Nb101Cell) -> tuple[str, str]:
    return "".join(str(x) for row in cell.matrix for x in row), ",".join(cell.ops)


def run_figures(seed: int) -> list[tuple[float, float, float, float]]:
    """3 repeats of (time s, train, valid, test accuracy as fractions)."""
    rng = random.Random(seed)
    return [(rng.uniform(1000, 3000), rng.uniform(0.9, 1.0), rng.uniform(0.8, 0.95), rng.uniform(0.8, 0.95))
            for _ in range(3)]


@pytest.fixture(scope="module")
def cells() -> list[Nb101Cell]:
    sampled = SPACE.sample(4, np.random.default_rng(7))
    return [Nb101Cell.from_record(README_ADJ, README_OPS), *sampled]


def write_file(path: Path, cells: list[Nb101Cell], *, extra: list[bytes] = ()) -> Path:
    blobs = []
    for i, cell in enumerate(cells):
        adjacency, ops = record_fields(cell)
        for run in run_figures(i):
            blobs.append(frame(row_json(SPACE.canonical(cell), 108, adjacency, ops, metrics_proto(run, 1000 + i))))
        blobs.append(frame(row_json(SPACE.canonical(cell), 4, adjacency, ops, metrics_proto((1, .1, .1, .1), 1000 + i))))
    path.write_bytes(b"".join(blobs) + b"".join(frame(e) for e in extra))
    return path


# ----- framing and wire format -------------------------------------------------------------------------------------
def _bitwise_crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 * (crc & 1))
    return crc ^ 0xFFFFFFFF


def test_crc32c_matches_the_check_value_and_a_bitwise_crc() -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value
    data = bytes(random.Random(0).randrange(256) for _ in range(300))
    assert crc32c(data) == _bitwise_crc32c(data)
    crc = crc32c(data)
    assert masked_crc32c(data) == ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def test_model_metrics_decode_every_field_and_skip_unknown_ones() -> None:
    decoded = decode_model_metrics(metrics_proto((2000.5, 0.99, 0.9, 0.89), 2_694_282, total=5000.25))
    assert decoded.trainable_parameters == 2_694_282 and decoded.total_time == 5000.25
    assert [e.current_epoch for e in decoded.evaluation_data] == [0.0, 54.0, 108.0]
    final = decoded.evaluation_data[-1]
    assert (final.training_time, final.train_accuracy, final.validation_accuracy, final.test_accuracy) == (
        2000.5, 0.99, 0.9, 0.89)
    with pytest.raises(BenchmarkFileError, match="wire type"):
        decode_model_metrics(_key(2, 1) + struct.pack("<d", 1.0))  # params as a double
    with pytest.raises(BenchmarkFileError, match="past the end"):
        decode_model_metrics(_key(1, 2) + _varint(50) + b"\x00")


# ----- the reader ----------------------------------------------------------------------------------------------------
def test_round_trip_figures(tmp_path, cells) -> None:
    path = write_file(tmp_path / "nb101.tfrecord", cells)
    reporter = Reporter()
    table = read_nb101_tfrecord(path, reporter=reporter)
    assert len(table) == len(cells) and table.space.name == "nb101"
    assert table.metrics == ("cifar10_valid", "cifar10_test", "cifar10_train", "train_time", "params")
    assert table.frame["canonical"].iloc[0] == README_HASH
    for i, cell in enumerate(cells):
        runs = np.array(run_figures(i))
        assert table.value(cell, "cifar10_valid") == pytest.approx(100 * runs[:, 2].mean())
        assert table.value(cell, "cifar10_test") == pytest.approx(100 * runs[:, 3].mean())
        assert table.value(cell, "cifar10_train") == pytest.approx(100 * runs[:, 1].mean())
        assert table.value(cell, "train_time") == pytest.approx(runs[:, 0].mean())
        assert table.value(cell, "params") == 1000 + i
    assert table.meta.fidelity == "108 epochs" and table.meta.extra["runs_per_cell"] == "3"
    assert table.metric_info("cifar10_valid").scale == "percent" and table.metric_info("params").direction == "min"
    assert reporter.latest is not None and reporter.latest.done == reporter.latest.total
    low = read_nb101_tfrecord(path, epochs=4, include_train=False)
    assert low.value(cells[0], "cifar10_test") == pytest.approx(10.0) and "cifar10_train" not in low.metrics
    records = list(iter_nb101_records(path, verify_data_crc=True))
    assert len(records) == 4 * len(cells) and records[0].module_hash == README_HASH


def _error(path: Path, **kwargs) -> str:
    with pytest.raises(BenchmarkFileError) as info:
        read_nb101_tfrecord(path, **kwargs)
    text = str(info.value)
    assert "\n" not in text
    return text


def test_truncated_file(tmp_path, cells) -> None:
    data = write_file(tmp_path / "full.tfrecord", cells[:2]).read_bytes()
    for cut in (len(data) - 3, len(data) - 30, 5):
        (tmp_path / "cut.tfrecord").write_bytes(data[:cut])
        assert "truncated file" in _error(tmp_path / "cut.tfrecord")


def test_bad_length_crc_and_bad_data_crc(tmp_path, cells) -> None:
    data = bytearray(write_file(tmp_path / "ok.tfrecord", cells[:1]).read_bytes())
    bad_length = bytearray(data)
    bad_length[8] ^= 0xFF
    (tmp_path / "len.tfrecord").write_bytes(bytes(bad_length))
    text = _error(tmp_path / "len.tfrecord")
    assert "record 1 (byte 0)" in text and "CRC of the record length" in text
    first = struct.unpack("<Q", bytes(data[:8]))[0]
    data[12 + first] ^= 0xFF  # the first record's data CRC
    (tmp_path / "data.tfrecord").write_bytes(bytes(data))
    assert len(read_nb101_tfrecord(tmp_path / "data.tfrecord")) == 1  # not checked by default
    assert "CRC of the record data" in _error(tmp_path / "data.tfrecord", verify_data_crc=True)


def test_malformed_json_row(tmp_path, cells) -> None:
    path = write_file(tmp_path / "json.tfrecord", cells[:1], extra=[b'["abc", 108, "01"'])
    assert "record 5: not a NAS-Bench-101 JSON row" in _error(path)
    path = write_file(tmp_path / "shape.tfrecord", cells[:1], extra=[b'{"hash": 1}'])
    assert "record 5: expected [module_hash, epochs, adjacency, operations, metrics]" in _error(path)
    path = write_file(tmp_path / "b64.tfrecord", cells[:1], extra=[json.dumps(["h", 108, "0100", "input,output", "%%"]).encode()])
    assert "record 5 (hash h): metrics are not base64" in _error(path)


def test_unknown_op(tmp_path, cells) -> None:
    adjacency, ops = record_fields(cells[0])
    bad = row_json(README_HASH, 108, adjacency, ops.replace("maxpool3x3", "avgpool3x3"), metrics_proto((1, .9, .9, .9), 5))
    text = _error(write_file(tmp_path / "op.tfrecord", [], extra=[bad]))
    assert text.startswith("op.tfrecord: record 1 (hash ") and "unknown NB101 operation 'avgpool3x3'" in text


def test_hash_mismatch(tmp_path, cells) -> None:
    adjacency, ops = record_fields(cells[1])
    bad = row_json(README_HASH, 108, adjacency, ops, metrics_proto((1, .9, .9, .9), 5))
    text = _error(write_file(tmp_path / "hash.tfrecord", [], extra=[bad]))
    assert f"the file gives hash {README_HASH}" in text and SPACE.canonical(cells[1]) in text
    assert len(read_nb101_tfrecord(tmp_path / "hash.tfrecord", check_hashes=False)) == 1


def test_no_run_at_the_asked_budget(tmp_path, cells) -> None:
    path = write_file(tmp_path / "e.tfrecord", cells[:1])
    assert "no run at 36 epochs" in _error(path, epochs=36) and "epochs found: 4, 108" in _error(path, epochs=36)
    assert "not a file" in _error(tmp_path) and "not found" in _error(tmp_path / "missing.tfrecord")


def test_import_to_file_and_cli(tmp_path, cells, capsys) -> None:
    path = write_file(tmp_path / "nasbench_only108.tfrecord", cells)
    table = import_to_file("nb101-tfrecord", path, tmp_path / "nb101.parquet", ImportOptions())
    back = SpaceTable.load(tmp_path / "nb101.parquet", space="nb101")
    assert back.frame.equals(table.frame) and back.meta == table.meta
    with pytest.raises(BenchmarkFileError, match="4, 12, 36 or 108"):
        import_to_file("nb101-tfrecord", path, tmp_path / "x.parquet", ImportOptions(epochs=200))
    out = tmp_path / "cli.parquet"
    assert run_cli(["bench", "import", "nb101-tfrecord", str(path), "--out", str(out), "--no-progress"]) == 0
    assert "5 cells of the nb101 space" in " ".join(capsys.readouterr().out.split())
    assert run_cli(["bench", "import", "nb101-tfrecord", str(path), "--out", str(out), "--no-progress"]) == 0
    capsys.readouterr()
    assert run_cli(["bench", "info", str(out)]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    assert "5 cells of the nb101 space" in shown and "cifar10_valid" in shown and "params" in shown
    assert run_cli(["bench", "info", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["space"] == "nb101" and summary["cells"] == 5 and set(summary["metrics"]) == set(table.metrics)
    assert run_cli(["bench", "top", str(out), "-m", "cifar10_test", "-k", "2", "--json"]) == 0
    top = json.loads(capsys.readouterr().out)
    assert [r["cifar10_test"] for r in top] == sorted(table.values("cifar10_test"), reverse=True)[:2]
    (tmp_path / "bad.tfrecord").write_bytes(path.read_bytes()[:-2])
    assert run_cli(["bench", "import", "nb101-tfrecord", str(tmp_path / "bad.tfrecord"), "--out",
                    str(tmp_path / "bad.parquet"), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and "truncated file" in err[0]
