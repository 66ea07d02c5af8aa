"""What a trained G-VAE + ICNN is worth: the figures of a run's ``metrics.json`` (formulas: ``lso.train.metrics``),
measured when ``train_run`` ends (``measure_quality``) or again, by the current rules, for a finished run
(``reevaluate``)."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from lso.bench import BenchmarkTable
from lso.data.graphs import CellGraphs, all_graphs
from lso.models.gvae import GVAE
from lso.models.icnn import ICNN
from lso.runs.format import (LabelSet, RunFormatError, RunLayout, RunMetrics, TableRecord, read_labels, read_metrics,
                             read_pseudo_labels, read_record, write_metrics)
from lso.train.errors import RunError
from lso.train.metrics import (encodings_quality, prior_quality, rank_correlations, reconstruction_accuracy,
                                surrogate_scores, unlabelled_class_rows)

PRIOR_SAMPLES = 10_000


def measure_quality(gvae: GVAE, icnn: ICNN, graphs: CellGraphs, table: BenchmarkTable, metric: str, labels: LabelSet,
                    seed: int, train_seconds: float, predictor_spearman: float = float("nan")) -> RunMetrics:
    """The figures of ``metrics.json`` for a G-VAE and its ICNN (``lso.train.metrics`` gives the formulas).

    ``graphs``: all 15,625 cells (the G-VAE's training set; ``mu [15625, d]`` is encoded from them). Generation
    quality samples ``PRIOR_SAMPLES`` latents from the encodings' Gaussian (generator seeded ``seed``); the earlier
    N(0, I) figures use the same seed. Rank correlations use the unlabelled classes of ``table`` once each.
    """
    gvae.eval()
    icnn.eval()
    start = time.perf_counter()
    mu = gvae.encode_mean(graphs)
    encode_seconds = time.perf_counter() - start
    quality = encodings_quality(gvae, mu, PRIOR_SAMPLES, seed)
    _, prior_strings, prior_classes = prior_quality(gvae, PRIOR_SAMPLES, seed)
    scores = surrogate_scores(icnn, mu)
    predicted, truth, _ = _unlabelled(scores, table, metric, labels)
    rho, tau = rank_correlations(predicted, truth)
    rows_rho = rank_correlations(*_unlabelled_rows(scores, table, metric, labels)[:2])[0]
    return RunMetrics(
        reconstruction_accuracy=reconstruction_accuracy(mu, gvae, graphs),
        validity=quality.validity, uniqueness=quality.uniqueness, novelty=quality.novelty,
        quality_protocol=quality.protocol, uniqueness_prior_strings=prior_strings,
        uniqueness_prior_classes=prior_classes, prior_samples=PRIOR_SAMPLES,
        spearman=rho, kendall=tau, correlation_cells=len(truth), spearman_unlabelled_rows=rows_rho,
        surrogate_trained=bool(len(labels)), predictor_spearman=predictor_spearman,
        train_seconds=train_seconds, encode_seconds=encode_seconds)


def reevaluate(run_dir: str | Path, *, write: bool = False, device: str | torch.device = "cpu") -> RunMetrics:
    """Recompute the ``metrics.json`` figures of the finished run in ``run_dir`` by the current rules.

    Loads the saved G-VAE and final ICNN (``LatentModel.load``), the run's table (``config.json``'s record, a
    relative path taken from the run directory; its checksum must match), ``labelled.json`` and, when present, the
    pseudo-labels; ``train_seconds`` is kept from the old ``metrics.json`` (NaN without one), ``encode_seconds`` is
    timed again (after one warm-up encoding). ``write=True`` replaces ``metrics.json`` (atomically). ``RunError``
    when a file is missing or the table differs.
    """
    from lso.models.workbench import LatentModel

    layout = RunLayout.at(run_dir)
    for path in (layout.config, layout.labelled, layout.gvae, layout.surrogate):
        if not path.exists():
            raise RunError(f"cannot re-evaluate {layout.root}: {path.name} is missing")
    try:
        record = read_record(layout)
        labels = read_labels(layout)
    except RunFormatError as err:
        raise RunError(f"cannot re-evaluate: {err}") from err
    recorded = record.table or TableRecord()
    table_path = layout.table_path(recorded.path)
    if table_path is None or not table_path.exists():
        raise RunError(f"cannot re-evaluate {layout.root}: its benchmark table {table_path} is not there")
    table = BenchmarkTable.load(table_path)
    if recorded.checksum and table.meta.checksum != recorded.checksum:
        raise RunError(f"cannot re-evaluate {layout.root}: {table_path} is not the table it was trained on "
                       "(checksum differs)")
    metric = record.metric
    table.require_metric(metric)
    model = LatentModel.load(layout.root, device=device)
    graphs = all_graphs(model.device)
    model.gvae.encode_mean(graphs)  # warm-up, so that encode_seconds times the encoding, not first-call set-up
    pseudo_y = read_pseudo_labels(layout)
    old_seconds = float("nan")
    if layout.is_finished():
        try:
            old_seconds = read_metrics(layout).train_seconds
        except RunFormatError as err:
            raise RunError(f"cannot re-evaluate: {err}") from err
    metrics = measure_quality(model.gvae, model.surrogate, graphs, table, metric, labels, record.seed,
                              old_seconds, predictor_spearman=predictor_spearman(pseudo_y, table, metric, labels))
    if write:
        write_metrics(layout, metrics)
    return metrics


def predictor_spearman(pseudo_y: torch.Tensor | None, table: BenchmarkTable, metric: str, labels: LabelSet) -> float:
    """Spearman of the pseudo-labels ``pseudo_y [15625]`` on the unlabelled classes counted once (NaN without)."""
    if pseudo_y is None:
        return float("nan")
    predicted, truth, _ = _unlabelled(pseudo_y.cpu().double().numpy(), table, metric, labels)
    return rank_correlations(predicted, truth)[0]


def _unlabelled(scores_all: np.ndarray, table: BenchmarkTable, metric: str, labels: LabelSet):
    """``(predicted [k], truth [k], official indices [k])`` on the unlabelled classes of ``table`` counted once
    (``lso.train.metrics.unlabelled_class_rows``); ``scores_all [15625]`` in official index order."""
    indices = table.indices()
    values = table.values(metric)
    rows = unlabelled_class_rows(indices, values, labels.indices)
    return scores_all[indices[rows]], values[rows], indices[rows]


def _unlabelled_rows(scores_all: np.ndarray, table: BenchmarkTable, metric: str, labels: LabelSet):
    """The earlier row-wise selection: every row that is not itself labelled (twins of labelled cells included)."""
    indices = table.indices()
    keep = ~np.isin(indices, labels.indices)
    return scores_all[indices[keep]], table.values(metric)[keep], indices[keep]
