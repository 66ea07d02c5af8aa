"""The run's quality figures by the field's protocol: encodings' Gaussian samples, uniqueness and novelty by
isomorphism class, rank correlations on unlabelled classes counted once, old metrics.json files, the shipped run."""

from __future__ import annotations

import json
import math
import shutil
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from lso.atomic import write_json
from lso.bench import BenchmarkTable
from lso.data.graphs import all_graphs
from lso.models.gvae import GVAE
from lso.models.icnn import ICNN
from lso.space import Cell, all_cells, unique_ids
from lso.train.labels import LabelSet
from lso.train import metrics as metrics_module
from lso.train.metrics import (LEGACY_PROTOCOL, QualityError, RunMetrics, decode_quality, encodings_gaussian,
                               encodings_quality, rank_correlations, training_classes, unlabelled_class_rows)
from lso.train.quality import _unlabelled, _unlabelled_rows, measure_quality, predictor_spearman, reevaluate

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "benchmarks_data" / "default_run"


def _classes() -> dict[int, list[int]]:
    """Official indices per isomorphism class id, ascending."""
    members: dict[int, list[int]] = defaultdict(list)
    for index, cls in enumerate(unique_ids()):
        members[cls].append(index)
    return members


def _twins(count: int) -> list[Cell]:
    """``count`` distinct cell strings of one isomorphism class."""
    big = next(m for m in _classes().values() if len(m) >= count)
    cells = all_cells()
    return [cells[i] for i in big[:count]]


# ----- generation quality ----------------------------------------------------------------------------------------
def test_uniqueness_counts_isomorphism_classes_not_strings():
    twins = _twins(4)
    other = next(c for c in all_cells() if not c.is_isomorphic(twins[0]))
    cells = twins + [other]
    assert len({c.to_string() for c in cells}) == 5  # five distinct strings ...
    validity, uniqueness, novelty = decode_quality(cells, training_classes())
    assert validity == 1.0 and uniqueness == pytest.approx(2 / 5)  # ... but two architectures
    assert novelty == 0.0  # every class is a training class on NAS-Bench-201
    _, _, novel = decode_quality(cells, {other.canonical()})
    assert novel == pytest.approx(4 / 5)


class _StubDecoder:
    """Decodes every latent to one of a few fixed twins and records the latents it was given."""

    def __init__(self, cells: list[Cell]) -> None:
        self.cells = cells
        self.seen: list[torch.Tensor] = []

    def decode(self, z: torch.Tensor) -> list[Cell]:
        self.seen.append(z.clone())
        return [self.cells[i % len(self.cells)] for i in range(len(z))]


class _StubGVAE:
    def __init__(self, latent_dim: int, cells: list[Cell]) -> None:
        self.latent_dim = latent_dim
        self.decoder = _StubDecoder(cells)


def _far_encodings(n: int = 4000, d: int = 3) -> torch.Tensor:
    """Encodings centred at (50, -30, 20), correlated, far from N(0, I)."""
    g = torch.Generator().manual_seed(7)
    base = torch.randn(n, d, generator=g, dtype=torch.float64)
    mix = torch.tensor([[2.0, 0.0, 0.0], [1.5, 0.5, 0.0], [0.0, 0.3, 0.1]], dtype=torch.float64)
    return (base @ mix.T + torch.tensor([50.0, -30.0, 20.0], dtype=torch.float64)).float()


def test_samples_come_from_the_encodings_gaussian_not_the_prior():
    mu = _far_encodings()
    gvae = _StubGVAE(3, _twins(3))
    quality = encodings_quality(gvae, mu, 20_000, seed=0)
    (z,) = gvae.decoder.seen
    assert z.shape == (20_000, 3) and z.dtype == torch.float32
    assert torch.allclose(z.double().mean(0), mu.double().mean(0), atol=0.1)
    cov_mu, cov_z = torch.cov(mu.double().T), torch.cov(z.double().T)
    assert torch.allclose(cov_z, cov_mu, rtol=0.05, atol=0.02)  # the correlations are kept, not only the spread
    assert quality.validity == 1.0 and quality.uniqueness == pytest.approx(1 / 20_000)  # three twins: one class
    assert quality.novelty == 0.0 and quality.samples == 20_000
    assert quality.protocol.startswith("encodings-gaussian (full covariance), by isomorphism class")
    again = _StubGVAE(3, _twins(3))
    encodings_quality(again, mu, 20_000, seed=0)
    assert torch.equal(again.decoder.seen[0], z)  # seeded
    other = _StubGVAE(3, _twins(3))
    encodings_quality(other, mu, 20_000, seed=1)
    assert not torch.equal(other.decoder.seen[0], z)


def test_encodings_gaussian_falls_back_to_the_diagonal_and_rejects_bad_encodings(monkeypatch):
    mu = _far_encodings()
    mu[:, 2] = 5.0  # a constant dimension: singular covariance
    assert encodings_gaussian(mu).full_covariance  # the jitter makes it positive definite
    fallback = encodings_gaussian(mu, jitter=0.0)
    assert not fallback.full_covariance
    assert torch.allclose(fallback.scale_tril, torch.diag(torch.cov(mu.double().T).diagonal().sqrt()))
    assert "full covariance" in encodings_quality(_StubGVAE(3, _twins(2)), mu, 10, seed=0).protocol
    monkeypatch.setattr(metrics_module, "encodings_gaussian", lambda x: encodings_gaussian(x, jitter=0.0))
    diagonal = encodings_quality(_StubGVAE(3, _twins(2)), mu, 10, seed=0)
    assert "DIAGONAL covariance (Cholesky failed)" in diagonal.protocol
    with pytest.raises(QualityError, match="n >= 2"):
        encodings_gaussian(mu[:1])
    bad = mu.clone()
    bad[3, 1] = float("nan")
    with pytest.raises(QualityError, match="NaN"):
        encodings_gaussian(bad)


# ----- rank correlation on unlabelled classes, once each --------------------------------------------------------------
def _synthetic_case():
    """A table of three multi-member classes and one singleton; class A has a labelled member (not its first)."""
    members = [m for m in _classes().values() if len(m) >= 3]
    a, b, c = members[0][:3], members[1][:3], members[2][:3]
    single = next(m for m in _classes().values() if len(m) == 1)
    rows = sorted(a + b + c + single)
    cells = all_cells()
    values = np.linspace(70.0, 90.0, len(rows))
    frame = pd.DataFrame({"index": rows, "arch": [cells[i].to_string() for i in rows], "cifar10_valid": values})
    table = BenchmarkTable.from_frame(frame)
    labels = LabelSet("cifar10_valid", np.array([a[1]]), np.array([values[rows.index(a[1])]]), 80.0, 1.0)
    return table, labels, a, b, c, single


def test_rank_rows_exclude_twins_of_labelled_cells_and_count_each_class_once():
    table, labels, a, b, c, single = _synthetic_case()
    rows = unlabelled_class_rows(table.indices(), table.values("cifar10_valid"), labels.indices)
    kept = set(table.indices()[rows].tolist())
    assert kept == {b[0], c[0], single[0]}  # no member of A (a[0] < a[1] is a twin of the labelled a[1])
    scores = np.arange(15625, dtype=np.float64)
    predicted, truth, indices = _unlabelled(scores, table, "cifar10_valid", labels)
    assert indices.tolist() == sorted(kept) and len(truth) == 3 and predicted.tolist() == indices.tolist()
    old = _unlabelled_rows(scores, table, "cifar10_valid", labels)[2]
    assert len(old) == len(table) - 1 and a[0] in old  # the earlier rule kept twins, each class several times


def test_class_rule_picks_the_smallest_index_with_a_finite_value():
    members = next(m for m in _classes().values() if len(m) >= 3)[:3]
    cells = all_cells()
    frame = pd.DataFrame({"index": members, "arch": [cells[i].to_string() for i in members],
                          "cifar10_valid": [float("nan"), 80.0, 81.0]})
    table = BenchmarkTable.from_frame(frame, allow_nan=True)
    rows = unlabelled_class_rows(table.indices(), table.values("cifar10_valid"), np.zeros(0, dtype=np.int64))
    assert table.indices()[rows].tolist() == [members[1]]


def test_predictor_spearman_counts_unlabelled_classes_once():
    table, labels, a, b, c, single = _synthetic_case()
    truth = dict(zip(table.indices().tolist(), table.values("cifar10_valid").tolist()))
    pseudo = torch.zeros(15625)
    for index, value in truth.items():
        pseudo[index] = value
    for index in a + b[1:] + c[1:]:  # twins of labelled cells and second members: ranked backwards
        pseudo[index] = -truth[index]
    assert predictor_spearman(pseudo, table, "cifar10_valid", labels) == pytest.approx(1.0)
    row_wise = rank_correlations(*_unlabelled_rows(pseudo.double().numpy(), table, "cifar10_valid", labels)[:2])[0]
    assert row_wise < 0.5  # the earlier rule would have mixed in the twins
    assert math.isnan(predictor_spearman(None, table, "cifar10_valid", labels))


def test_measure_quality_fills_every_field_by_the_new_rules():
    table, labels, a, b, c, single = _synthetic_case()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        gvae, icnn = GVAE(4, 8, 1), ICNN(4, (8,))
    m = measure_quality(gvae, icnn, all_graphs(), table, "cifar10_valid", labels, seed=0, train_seconds=1.5)
    assert m.correlation_cells == 3 and m.surrogate_trained and m.train_seconds == 1.5
    assert 0 < m.uniqueness <= 1 and m.novelty == 0.0 and m.validity == 1.0
    assert m.quality_protocol == "encodings-gaussian (full covariance), by isomorphism class, 10000 samples"
    assert 0 < m.uniqueness_prior_classes <= m.uniqueness_prior_strings <= 1
    assert math.isfinite(m.spearman) and math.isfinite(m.spearman_unlabelled_rows) and math.isnan(m.predictor_spearman)


# ----- metrics.json ------------------------------------------------------------------------------------------------
OLD_FILE = {"reconstruction_accuracy": 1.0, "validity": 1.0, "uniqueness": 0.6627, "uniqueness_canonical": 0.3083,
            "prior_samples": 10000, "spearman": 0.7388908688924224, "kendall": 0.5479530510425932,
            "correlation_cells": 15325, "surrogate_trained": True, "predictor_spearman": None,
            "train_seconds": 82.44094065600075, "encode_seconds": 0.4533450790004281}


def test_an_old_metrics_json_loads_with_its_figures_under_honest_names(tmp_path):
    path = tmp_path / "metrics.json"
    path.write_text(json.dumps({**OLD_FILE, "some_future_or_past_key": 3}))
    m = RunMetrics.from_json(path)
    assert m.quality_protocol == LEGACY_PROTOCOL
    assert m.uniqueness_prior_strings == 0.6627 and m.uniqueness_prior_classes == 0.3083
    assert m.uniqueness_canonical == 0.3083  # the old attribute name still reads (deprecated alias)
    assert m.spearman_unlabelled_rows == pytest.approx(0.7389, abs=1e-4)
    for name in ("uniqueness", "novelty", "spearman", "kendall", "correlation_cells", "predictor_spearman"):
        assert math.isnan(getattr(m, name)), name  # the old file has no figure by the new rules
    assert m.validity == 1.0 and m.train_seconds == pytest.approx(82.44, abs=0.01)
    minimal = tmp_path / "minimal.json"
    minimal.write_text(json.dumps({"validity": 1.0}))
    assert math.isnan(RunMetrics.from_json(minimal).train_seconds)


def test_a_new_metrics_json_round_trips(tmp_path):
    m = RunMetrics(reconstruction_accuracy=1.0, validity=1.0, uniqueness=0.31, novelty=0.0,
                   quality_protocol="encodings-gaussian (full covariance), by isomorphism class, 10000 samples",
                   uniqueness_prior_strings=0.66, uniqueness_prior_classes=0.30, prior_samples=10000, spearman=0.7,
                   kendall=0.5, correlation_cells=6216, spearman_unlabelled_rows=0.74, surrogate_trained=True,
                   predictor_spearman=float("nan"), train_seconds=80.0, encode_seconds=0.5)
    write_json(tmp_path / "metrics.json", m.to_dict())
    data = json.loads((tmp_path / "metrics.json").read_text())
    assert "uniqueness_canonical" not in data and data["predictor_spearman"] is None
    back = RunMetrics.from_json(tmp_path / "metrics.json")
    assert math.isnan(back.predictor_spearman)
    assert {k: v for k, v in back.to_dict().items() if k != "predictor_spearman"} == \
        {k: v for k, v in m.to_dict().items() if k != "predictor_spearman"}


def test_the_shipped_run_metrics_are_recomputed_by_the_new_rules(tmp_path):
    shipped = json.loads((SHIPPED / "metrics.json").read_text())
    assert shipped["quality_protocol"].startswith("encodings-gaussian") and "uniqueness_canonical" not in shipped
    shutil.copytree(SHIPPED, tmp_path / "default_run")
    shutil.copy(SHIPPED.parent / "default.parquet", tmp_path / "default.parquet")  # config.json: ../default.parquet
    again = reevaluate(tmp_path / "default_run", write=True).to_dict()
    assert json.loads((tmp_path / "default_run" / "metrics.json").read_text())["uniqueness"] == again["uniqueness"]
    expected = RunMetrics.from_json(SHIPPED / "metrics.json").to_dict()
    assert set(expected) == set(shipped) == set(again)
    for name, value in expected.items():
        if name == "encode_seconds":
            continue
        if isinstance(value, float) and math.isnan(value):
            assert math.isnan(again[name]), name
        elif isinstance(value, float):
            assert again[name] == pytest.approx(value, abs=1e-6), name
        else:
            assert again[name] == value, name
