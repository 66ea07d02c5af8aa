"""Writing a run folder's files from their records, each atomically (``lso.atomic``; part of ``lso.runs.format``)."""

from __future__ import annotations

from lso.atomic import create_json_exclusive, save_tensors, torch_save, write_json
from lso.runs.layout import RunRef, as_layout
from lso.runs.records import LabelSet, RunMetrics, RunRecord


def claim_run(run: RunRef, record: RunRecord) -> None:
    """Create the run's ``config.json`` exclusively (``FileExistsError`` when another training claimed it)."""
    create_json_exclusive(as_layout(run).config, record.to_dict())


def write_labels(run: RunRef, labels: LabelSet) -> None:
    write_json(as_layout(run).labelled, labels.to_dict())


def write_metrics(run: RunRef, metrics: RunMetrics) -> None:
    """Write ``metrics.json``: the run is finished from now on."""
    write_json(as_layout(run).metrics, metrics.to_dict())


def write_checkpoint(run: RunRef, *, epoch: int, gvae: dict, icnn: dict, optimiser: dict, generator, noise,
                     history: list, train_seconds: float) -> None:
    """Write ``checkpoint.pt`` (the keys ``CHECKPOINT_KEYS``: plain state dicts and tensors)."""
    torch_save(as_layout(run).checkpoint, {"epoch": epoch, "gvae": gvae, "icnn": icnn, "optimiser": optimiser,
                                           "generator": generator, "noise": noise, "history": history,
                                           "train_seconds": train_seconds})


def write_pseudo_labels(run: RunRef, pseudo_y) -> None:
    """Write ``pseudo_labels.safetensors`` (``pseudo_y [15625]``)."""
    save_tensors(as_layout(run).pseudo_labels, {"pseudo_y": pseudo_y})
