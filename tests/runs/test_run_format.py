"""The run folder's format (``lso.runs.format``): each record round-trips, a missing or damaged file gives one clear
``RunFormatError``, the shipped ``benchmarks_data/default_run`` reads, and the old import paths still work."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from lso.errors import LsoError
from lso.runs import (CHECKPOINT_KEYS, LabelSet, RunFormatError, RunLayout, RunMetrics, RunRecord, TableRecord,
                      TrainConfig, claim_run, read_checkpoint, read_labels, read_metrics, read_pseudo_labels,
                      read_record, write_checkpoint, write_labels, write_metrics, write_pseudo_labels)

REPO = Path(__file__).resolve().parents[2]
DEFAULT_RUN = REPO / "benchmarks_data" / "default_run"
CONFIG_KEYS = ["config", "seed", "device", "metric", "table", "versions", "created"]  # as train_run always wrote them


def _record(**changes) -> RunRecord:
    fields = {"config": TrainConfig(epochs=2, hidden=32, icnn_hidden=(16, 8), labels=3, conv="gine", seed=7),
              "metric": "toy_valid", "seed": 7, "device": "cpu",
              "table": TableRecord("/data/toy.parquet", "abc123", 15625),
              "versions": {"torch": "2.0", "lso": "0.1.0"}, "created": "2026-01-02T03:04:05"}
    return RunRecord(**{**fields, **changes})


def _labels() -> LabelSet:
    return LabelSet("toy_valid", np.array([3, 17, 15624], dtype=np.int64), np.array([71.5, 80.25, 90.0]), 80.58, 7.5)


def _metrics() -> RunMetrics:
    return RunMetrics(reconstruction_accuracy=0.9, validity=1.0, uniqueness=0.3, novelty=0.0, quality_protocol="p",
                      uniqueness_prior_strings=0.6, uniqueness_prior_classes=0.31, prior_samples=10, spearman=0.7,
                      kendall=0.5, correlation_cells=6216, spearman_unlabelled_rows=0.72, surrogate_trained=True,
                      predictor_spearman=float("nan"), train_seconds=12.5, encode_seconds=0.25)


@pytest.fixture()
def run(tmp_path: Path) -> RunLayout:
    """A run folder holding a config, labels and metrics written by the format's own writers."""
    layout = RunLayout.at(tmp_path / "run")
    layout.root.mkdir()
    claim_run(layout, _record())
    write_labels(layout, _labels())
    write_metrics(layout, _metrics())
    return layout


# ----- round trips --------------------------------------------------------------------------------------------------
def test_the_run_record_round_trips_with_the_fixed_keys(run: RunLayout):
    assert read_record(run) == _record()
    saved = json.loads(run.config.read_text())
    assert list(saved) == CONFIG_KEYS
    assert list(saved["table"]) == ["path", "checksum", "rows"]
    assert saved["config"] == _record().config.to_dict()
    with pytest.raises(FileExistsError):  # claiming is exclusive: a second training into the folder is refused
        claim_run(run, _record(metric="other"))
    assert read_record(run).metric == "toy_valid"


def test_the_label_set_round_trips(run: RunLayout):
    labels = read_labels(run.root)
    assert labels.metric == "toy_valid" and (labels.mean, labels.std) == (80.58, 7.5)
    assert labels.indices.dtype == np.int64 and labels.indices.tolist() == [3, 17, 15624]
    assert labels.values.tolist() == [71.5, 80.25, 90.0]
    assert list(json.loads(run.labelled.read_text())) == ["metric", "mean", "std", "indices", "values"]


def test_the_metrics_round_trip_with_nan_as_null(run: RunLayout):
    assert json.loads(run.metrics.read_text())["predictor_spearman"] is None
    got, want = read_metrics(run).to_dict(), _metrics().to_dict()
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert (math.isnan(got[key]) and math.isnan(value)) if isinstance(value, float) and math.isnan(value) \
            else got[key] == value, key
    assert run.is_finished() and run.is_run()


def test_checkpoint_and_pseudo_labels_round_trip(run: RunLayout):
    assert read_checkpoint(run) is None and read_pseudo_labels(run) is None
    generator = torch.Generator().manual_seed(0)
    write_checkpoint(run, epoch=2, gvae={"w": torch.ones(2)}, icnn={"v": torch.zeros(1)}, optimiser={"state": {}},
                     generator=generator.get_state(), noise=generator.get_state(), history=[{"epoch": 1}],
                     train_seconds=1.5)
    saved = read_checkpoint(run)
    assert tuple(saved) == CHECKPOINT_KEYS and saved["epoch"] == 2 and torch.equal(saved["gvae"]["w"], torch.ones(2))
    write_pseudo_labels(run, torch.arange(4.0))
    assert torch.equal(read_pseudo_labels(run), torch.arange(4.0))


def test_an_older_record_reads_with_defaults(tmp_path: Path):
    layout = RunLayout.at(tmp_path)
    layout.config.write_text(json.dumps({"config": {"latent_dim": 8, "hidden": 16, "layers": 2, "seed": 4},
                                         "metric": "m"}))
    record = read_record(layout)
    assert record.seed == 4 and record.table is None and record.device == "" and record.versions == {}
    assert record.config.conv == "edge" and record.config.latent_dim == 8


# ----- missing and damaged files ------------------------------------------------------------------------------------
READERS = {"config.json": read_record, "labelled.json": read_labels, "metrics.json": read_metrics}


def _one_error(reader, layout: RunLayout, match: str) -> str:
    with pytest.raises(RunFormatError, match=match) as caught:
        reader(layout)
    message = str(caught.value)
    assert isinstance(caught.value, LsoError) and "\n" not in message and str(layout.root) in message
    return message


@pytest.mark.parametrize("name", sorted(READERS))
def test_a_missing_file_is_one_clear_error(run: RunLayout, name: str):
    (run.root / name).unlink()
    assert _one_error(READERS[name], run, f"it has no {name}").startswith(f"{run.root} is not a")


DAMAGE = {
    "random-bytes": lambda data: b"\x80\x81PK\x03\x04 not json",
    "empty": lambda data: b"",
    "a-list": lambda data: b"[1, 2, 3]",
    "truncated": lambda data: data[: len(data) // 2],
}
DROPS = {"config.json": ["config", "metric"], "labelled.json": ["indices", "mean"], "metrics.json": []}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("name", sorted(READERS))
def test_a_corrupt_file_is_one_clear_error(run: RunLayout, name: str, damage: str):
    path = run.root / name
    path.write_bytes(DAMAGE[damage](path.read_bytes()))
    assert f"{name} is damaged" in _one_error(READERS[name], run, "is damaged")


@pytest.mark.parametrize(("name", "key"), [(n, k) for n, keys in DROPS.items() for k in keys])
def test_a_file_lacking_a_field_is_one_clear_error(run: RunLayout, name: str, key: str):
    path = run.root / name
    data = json.loads(path.read_text())
    del data[key]
    path.write_text(json.dumps(data))
    _one_error(READERS[name], run, "is damaged")


@pytest.mark.parametrize("edit", [
    lambda d: d["config"].pop("latent_dim"),
    lambda d: d["config"].update(bogus=1),
    lambda d: d["config"].update(conv="nope"),
    lambda d: d.update(table=[1]),
])
def test_a_config_with_bad_fields_is_one_clear_error(run: RunLayout, edit):
    data = json.loads(run.config.read_text())
    edit(data)
    run.config.write_text(json.dumps(data))
    _one_error(read_record, run, "config.json is damaged")


@pytest.mark.parametrize("indices", [[0, 15625, 2], [-1, 1, 2], [1, 2]])
def test_labels_outside_the_space_or_without_values_are_refused(run: RunLayout, indices):
    data = json.loads(run.labelled.read_text())
    data["indices"] = indices
    run.labelled.write_text(json.dumps(data))
    _one_error(read_labels, run, "labelled.json is damaged")


def test_a_damaged_checkpoint_is_refused_without_unpickling(run: RunLayout):
    run.checkpoint.write_bytes(b"not a checkpoint")
    _one_error(read_checkpoint, run, "checkpoint.pt is damaged")
    torch.save({"epoch": 1}, run.checkpoint)
    _one_error(read_checkpoint, run, "lacks gvae")
    assert read_checkpoint(run, keys=("epoch",)) == {"epoch": 1}


# ----- the shipped run ----------------------------------------------------------------------------------------------
def test_the_shipped_default_run_reads():
    layout = RunLayout.at(DEFAULT_RUN)
    assert layout.is_run() and layout.is_finished() and read_checkpoint(layout) is None
    record = read_record(layout)
    from lso.bench import BenchmarkTable

    metric = BenchmarkTable.load(REPO / "benchmarks_data" / "default.parquet").default_metric("valid")
    assert record.metric == metric and record.seed == 0 and record.table is not None
    assert layout.table_path(record.table.path) == (REPO / "benchmarks_data" / "default.parquet").resolve()
    assert record.config.conv == "edge"  # the default encoder convolution
    saved = json.loads(layout.config.read_text())
    assert list(saved) == CONFIG_KEYS and saved["config"].items() <= record.config.to_dict().items()
    labels = read_labels(layout)
    assert len(labels) == record.config.labels == 300 and labels.metric == metric
    metrics = read_metrics(layout)
    assert metrics.reconstruction_accuracy > 0.99 and math.isnan(metrics.predictor_spearman)
    assert layout.surrogate_epochs()[0] == 0


def test_the_old_import_paths_still_work():
    from lso import runs, stats
    from lso.oracle import Evaluation, Oracle
    from lso.search import oracle as search_oracle
    from lso.train import RunLayout as train_layout
    from lso.train import config, correlation, labels, layout, metrics

    assert layout.RunLayout is train_layout is runs.RunLayout
    assert config.TrainConfig is runs.TrainConfig and config.ConfigError is runs.ConfigError
    assert labels.LabelSet is runs.LabelSet and metrics.RunMetrics is runs.RunMetrics
    assert metrics.LEGACY_PROTOCOL == runs.LEGACY_PROTOCOL
    assert correlation.spearman is stats.spearman and correlation.kendall is stats.kendall
    assert search_oracle.Evaluation is Evaluation and search_oracle.Oracle is Oracle
