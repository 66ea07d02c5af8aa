"""A training run on disk: ``train_run`` trains (or resumes) and writes the run directory (its files and records:
``lso.runs.format``).

Reproducibility: every random draw comes from generators seeded by ``TrainConfig.seed`` (labelled sample
``default_rng(seed)``, model init ``manual_seed(seed)`` in a forked RNG, shuffling ``seed + 1``, noise ``seed + 2``,
predictor ``seed + 3``, the metrics' samples, of the encodings' Gaussian and of N(0, I), ``seed``). A resumed run
restores the generators' states, so it ends with the same weights as an uninterrupted one. All files are written
atomically. The figures of ``metrics.json`` are measured by ``lso.train.quality``.
"""

from __future__ import annotations

import csv
import io
import platform
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from lso.atomic import check_writable_dir, save_tensors, write_text
from lso.bench import BenchmarkTable
from lso.data.graphs import all_graphs
from lso.device import resolve_device
from lso.jobs import Reporter
from lso.runs.config import TrainConfig
from lso.runs.format import (LabelSet, RunFormatError, RunLayout, RunMetrics, RunRecord, TableRecord, claim_run,
                             read_checkpoint, read_pseudo_labels, read_record, write_checkpoint, write_labels,
                             write_metrics, write_pseudo_labels)
from lso.train.errors import RunError
from lso.train.fit import EpochStats, Targets, TrainState, fit, new_state
from lso.train.labels import sample_labels
from lso.train.pseudo import fit_predictor, predict_all
from lso.train.quality import measure_quality, predictor_spearman


@dataclass(frozen=True)
class RunResult:
    """What ``train_run`` leaves: the run folder, its config, metrics, loss history and the epoch it resumed from."""

    run_dir: Path
    config: TrainConfig
    metric: str
    metrics: RunMetrics
    history: tuple[EpochStats, ...]
    resumed_from: int


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide the numbers of a run."""
    import pandas
    import safetensors
    import torch_geometric

    import lso

    return {"python": platform.python_version(), "torch": torch.__version__, "torch_geometric": torch_geometric.__version__,
            "numpy": np.__version__, "pandas": pandas.__version__, "safetensors": safetensors.__version__,
            "lso": getattr(lso, "__version__", "0.1.0")}


def train_run(
    table_path: str | Path,
    metric: str,
    config: TrainConfig,
    out: str | Path,
    *,
    device: str | torch.device = "cpu",
    resume: bool = False,
    after_checkpoint: Callable[[TrainState], None] | None = None,
    reporter: Reporter | None = None,
) -> RunResult:
    """Train G-VAE + ICNN on all NB201 cells with labels from ``table_path``'s ``metric``; write the run to ``out``.

    ``resume=True`` continues an interrupted run in ``out`` (same table, metric and config required).
    ``after_checkpoint(state)`` is called after each epoch's checkpoint is on disk (a hook, e.g. to copy it away).
    ``reporter`` (``lso.jobs``) gets ``(epoch, config.epochs, message, **losses)`` after each checkpoint (the epoch's
    ``EpochStats``), and raises ``Cancelled`` on a stop request: the run directory is then an unfinished run that
    ``resume=True`` continues from its last finished epoch.
    """
    dev = resolve_device(device)
    table = BenchmarkTable.load(table_path)
    table.require_metric(metric)
    layout = RunLayout.at(out)
    check_run_out(layout.root, resume)
    if reporter is not None:
        reporter(0, config.epochs, "preparing the graphs and the labelled sample")
    labels = sample_labels(table, metric, config.labels, config.seed)  # a bad count fails before the folder is claimed
    if resume:
        _check_same(layout, table, metric, config)
    else:
        _claim(layout, RunRecord(config=config, metric=metric, seed=config.seed, device=str(dev),
                                 table=TableRecord(str(Path(table_path).resolve()), table.meta.checksum, len(table)),
                                 versions=package_versions(), created=time.strftime("%Y-%m-%dT%H:%M:%S")))

    if not resume or not layout.labelled.exists():
        write_labels(layout, labels)
    graphs = all_graphs(dev)
    started = time.perf_counter()
    pseudo_y = _pseudo_labels(layout, graphs, labels, config, resume) if config.uses_pseudo_labels else None

    state = new_state(config, dev)
    if len(labels):
        state.icnn.set_scaler(labels.mean, labels.std)
    prior_seconds = 0.0
    if resume:
        prior_seconds = _load_checkpoint(layout, state, dev)
    else:
        save_tensors(layout.surrogate_at(0), state.icnn.state_dict())
    resumed_from = state.epoch
    if reporter is not None and resumed_from:
        reporter(resumed_from, config.epochs, f"resumed after epoch {resumed_from}")
    targets = Targets(torch.as_tensor(labels.indices, dtype=torch.long),
                      torch.as_tensor(labels.standardised(), dtype=torch.float32), pseudo_y)

    def checkpoint(s: TrainState) -> None:
        if s.epoch % config.surrogate_every == 0 or s.epoch == config.epochs:
            save_tensors(layout.surrogate_at(s.epoch), s.icnn.state_dict())
        write_text(layout.history, _history_csv(s.history))
        elapsed = prior_seconds + time.perf_counter() - started
        write_checkpoint(layout, epoch=s.epoch, gvae=s.gvae.state_dict(), icnn=s.icnn.state_dict(),
                         optimiser=s.optimiser.state_dict(), generator=s.generator.get_state(),
                         noise=s.noise.get_state(), history=[asdict(h) for h in s.history], train_seconds=elapsed)
        if after_checkpoint is not None:
            after_checkpoint(s)

    fit(state, graphs, targets, config, checkpoint=checkpoint, reporter=reporter)
    if reporter is not None:
        reporter(state.epoch, config.epochs, "evaluating: reconstruction, prior samples, rank correlation")
    train_seconds = prior_seconds + time.perf_counter() - started
    save_tensors(layout.gvae, state.gvae.state_dict())
    save_tensors(layout.surrogate, state.icnn.state_dict())
    write_text(layout.history, _history_csv(state.history))

    metrics = measure_quality(state.gvae, state.icnn, graphs, table, metric, labels, config.seed, train_seconds,
                              predictor_spearman=predictor_spearman(pseudo_y, table, metric, labels))
    write_metrics(layout, metrics)
    return RunResult(layout.root, config, metric, metrics, tuple(state.history), resumed_from)


def _pseudo_labels(layout: RunLayout, graphs, labels: LabelSet, config: TrainConfig, resume: bool) -> torch.Tensor:
    saved = read_pseudo_labels(layout) if resume else None
    if saved is not None:
        return saved.to(graphs.ops.device)
    generator = torch.Generator().manual_seed(config.seed + 3)
    rows = torch.as_tensor(labels.indices, dtype=torch.long, device=graphs.ops.device)
    y = torch.as_tensor(labels.standardised(), dtype=torch.float32)
    predictor = fit_predictor(graphs, rows, y, hidden=config.predictor_hidden, steps=config.predictor_steps,
                              lr=config.predictor_lr, generator=generator)
    pseudo_y = predict_all(predictor, graphs)
    save_tensors(layout.predictor, predictor.state_dict())
    write_pseudo_labels(layout, pseudo_y)
    return pseudo_y


def check_run_out(out: str | Path, resume: bool) -> None:
    """Refuse, before any work, an ``out`` that ``train_run`` cannot use: a file, an unwritable place, a finished
    run, an unfinished run without ``resume`` (or a damaged one with it), or a folder that holds something else.

    Raises:
        RunError: naming the problem (``lso.atomic.OutputError`` for a place that cannot be written).
    """
    layout = RunLayout.at(out)
    if layout.root.exists() and not layout.root.is_dir():
        raise RunError(f"run directory {layout.root} is a file")
    check_writable_dir(layout.root, what="run directory")
    if resume:
        if not layout.config.exists():
            raise RunError(f"cannot resume: {layout.root} has no config.json (start a new run without --resume)")
        if layout.metrics.exists():
            raise RunError(f"cannot resume: the run in {layout.root} has finished (metrics.json exists)")
        _saved_record(layout)
        _read_checkpoint(layout, torch.device("cpu"))
        return
    if layout.metrics.exists():
        raise RunError(f"{layout.root} already holds a finished run; choose another --out")
    if layout.config.exists():
        raise RunError(f"{layout.root} holds an unfinished run; pass --resume to continue it or choose another --out")
    if layout.root.is_dir() and any(layout.root.iterdir()):
        raise RunError(f"{layout.root} is not empty and holds no run; a new run needs a new or empty folder "
                       "(choose another --out)")


def _claim(layout: RunLayout, record: RunRecord) -> None:
    """Create the run: its ``config.json`` is created exclusively, so of two trainings started into the same
    folder at once exactly one goes on; the other stops here, before writing anything."""
    try:
        claim_run(layout, record)
    except FileExistsError as err:
        raise RunError(f"{layout.root} was claimed by another training while this one started (its config.json "
                       "appeared); choose another --out") from err


def _saved_record(layout: RunLayout) -> RunRecord:
    """The run's ``config.json`` record, with its table; ``RunError`` otherwise."""
    try:
        record = read_record(layout)
    except RunFormatError as err:
        raise RunError(f"cannot resume: {err}") from err
    if record.table is None:
        raise RunError(f"cannot resume: config.json in {layout.root} is damaged (it lacks the run's table)")
    return record


def _check_same(layout: RunLayout, table: BenchmarkTable, metric: str, config: TrainConfig) -> None:
    saved = _saved_record(layout)
    diff = saved.config.differences(config)
    if diff:
        raise RunError(f"cannot resume {layout.root}: config differs in {', '.join(diff)} (resume with the same settings)")
    if saved.metric != metric:
        raise RunError(f"cannot resume {layout.root}: it was trained on metric {saved.metric!r}, not {metric!r}")
    if saved.table is None or saved.table.checksum != table.meta.checksum:
        raise RunError(f"cannot resume {layout.root}: the benchmark table differs from the one it was started with")


def _read_checkpoint(layout: RunLayout, device: torch.device) -> dict | None:
    """The checkpoint's plain state (``lso.runs.format.read_checkpoint``); None when there is none."""
    try:
        return read_checkpoint(layout, device)
    except RunFormatError as err:
        raise RunError(f"cannot resume: {err}") from err


def _load_checkpoint(layout: RunLayout, state: TrainState, device: torch.device) -> float:
    saved = _read_checkpoint(layout, device)
    if saved is None:
        return 0.0  # interrupted before the first epoch ended: start over (the epoch-0 files are rewritten)
    try:
        state.gvae.load_state_dict(saved["gvae"])
        state.icnn.load_state_dict(saved["icnn"])
        state.optimiser.load_state_dict(saved["optimiser"])
        state.generator.set_state(saved["generator"].cpu())
        state.noise.set_state(saved["noise"].cpu())
        state.epoch = int(saved["epoch"])
        state.history = [EpochStats(**h) for h in saved["history"]]
        return float(saved["train_seconds"])
    except (RuntimeError, KeyError, TypeError, ValueError, AttributeError) as err:
        raise RunError(f"cannot resume: checkpoint {layout.checkpoint} does not fit this run's models "
                       f"({_brief(err)})") from err


def _brief(err: BaseException, words: int = 16) -> str:
    """``Type: the first words of the message`` on one line."""
    parts = str(err).split()
    detail = " ".join(parts[:words]) + (" ..." if len(parts) > words else "")
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


def _history_csv(history: list[EpochStats]) -> str:
    buffer = io.StringIO()
    names = [f.name for f in fields(EpochStats)]
    writer = csv.DictWriter(buffer, fieldnames=names, lineterminator="\n")
    writer.writeheader()
    for row in history:
        writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in asdict(row).items()})
    return buffer.getvalue()


def read_history(path: str | Path) -> list[EpochStats]:
    """The ``EpochStats`` rows of a ``history.csv``."""
    with open(path, newline="", encoding="utf-8") as handle:
        return [EpochStats(**{k: (int(v) if k == "epoch" else float(v)) for k, v in row.items()})
                for row in csv.DictReader(handle)]


__all__ = ["RunError", "RunResult", "check_run_out", "package_versions", "read_history", "train_run"]
