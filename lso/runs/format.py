"""The training run folder: the ONE module that knows its file names, JSON keys and how to read and write them.

``lso.train.run.train_run`` writes a run, everything else (the run listing, the latent searches' preflight,
``LatentModel.load``, the CLI's ``--run`` checks, the demo, the app) reads it through the typed records below::

    RUN/config.json                 RunRecord: TrainConfig, seed, device, metric, table path + checksum + rows,
                                    package versions, created (a relative table path is relative to RUN: the
                                    shipped default run says ``../default.parquet`` so it works wherever the
                                    checkout lies)
    RUN/labelled.json               LabelSet: the labelled sample's official indices, values, mean/std
    RUN/predictor.safetensors       pseudo-label GNN (when pseudo-labels are on)
    RUN/pseudo_labels.safetensors   its standardised predictions for all 15,625 cells, ``pseudo_y [15625]``
    RUN/checkpoint.pt               resumable state after the last finished epoch (plain state dicts, tensors)
    RUN/history.csv                 one row of EpochStats per epoch
    RUN/surrogates/epoch_XXXX.safetensors   ICNN after epoch XXXX (0000 = initialisation), every k epochs + last
    RUN/gvae.safetensors            final encoder + decoder
    RUN/surrogate.safetensors       final ICNN (with its label scaler buffers)
    RUN/metrics.json                RunMetrics, written last: its presence marks a finished run

File names and JSON field names are fixed (other tools read them). Readers raise ``RunFormatError`` (an
``LsoError``), one line naming the folder or file: ``... it has no labelled.json`` for a missing file,
``... labelled.json is damaged: ...`` for one that is unreadable or lacks what the record needs. Older runs
(``benchmarks_data/default_run``: no ``conv`` in its config) read with the defaults of the fields they lack.
"""

from __future__ import annotations

import json
import os
import re
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from lso.atomic import create_json_exclusive, save_tensors, torch_save, write_json
from lso.errors import LsoError
from lso.runs.config import ConfigError, TrainConfig

_SURROGATE = re.compile(r"^epoch_(\d{4,})\.safetensors$")

LEGACY_PROTOCOL = "legacy (before encodings-gaussian): N(0, I) samples, uniqueness by string over samples"
"""``quality_protocol`` given to a ``metrics.json`` written before ``quality_protocol`` existed."""

CHECKPOINT_KEYS = ("epoch", "gvae", "icnn", "optimiser", "generator", "noise", "history", "train_seconds")
"""What ``checkpoint.pt`` holds (``write_checkpoint``); a resume needs them all."""

NUM_CELLS = 15_625
"""Cells of the NAS-Bench-201 space: label indices lie in ``0..NUM_CELLS - 1``."""

_MODEL_KEYS = ("latent_dim", "hidden", "layers")  # config fields that fix the saved weights' shapes: never defaulted


class RunFormatError(LsoError):
    """A run folder's file that is missing, unreadable or damaged (the message names it)."""


# ----- where the files are ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RunLayout:
    """Paths of the files of the run directory ``root``."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> "RunLayout":
        return cls(Path(root))

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def labelled(self) -> Path:
        return self.root / "labelled.json"

    @property
    def predictor(self) -> Path:
        return self.root / "predictor.safetensors"

    @property
    def pseudo_labels(self) -> Path:
        return self.root / "pseudo_labels.safetensors"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def surrogates(self) -> Path:
        return self.root / "surrogates"

    @property
    def gvae(self) -> Path:
        return self.root / "gvae.safetensors"

    @property
    def surrogate(self) -> Path:
        return self.root / "surrogate.safetensors"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file a run may hold directly in ``root`` (the ``surrogates`` folder aside)."""
        return (self.config, self.labelled, self.predictor, self.pseudo_labels, self.checkpoint, self.history,
                self.gvae, self.surrogate, self.metrics)

    def is_run(self) -> bool:
        """True when ``root`` is a folder holding a run's ``config.json`` (finished or not)."""
        return self.root.is_dir() and self.config.is_file()

    def is_finished(self) -> bool:
        """True when the run's ``metrics.json`` (written last) exists."""
        return self.metrics.exists()

    def surrogate_at(self, epoch: int) -> Path:
        """Path of the ICNN saved after ``epoch`` epochs."""
        return self.surrogates / f"epoch_{epoch:04d}.safetensors"

    def surrogate_epochs(self) -> list[int]:
        """Epochs with a saved ICNN, ascending."""
        if not self.surrogates.is_dir():
            return []
        found = (_SURROGATE.match(p.name) for p in self.surrogates.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def table_path(self, recorded: str) -> Path | None:
        """The benchmark table a run's ``config.json`` records (``recorded``), a relative one taken from the run
        directory; None when nothing is recorded."""
        if not recorded:
            return None
        path = Path(recorded)
        return path if path.is_absolute() else (self.root / path).resolve()


# ----- the records --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TableRecord:
    """The benchmark table a run was trained on, as ``config.json`` records it: ``path`` ("" when not recorded;
    a relative one is relative to the run folder, ``RunLayout.table_path``), data ``checksum`` ("" when not
    recorded) and ``rows`` (None when not recorded)."""

    path: str = ""
    checksum: str = ""
    rows: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "checksum": self.checksum, "rows": self.rows}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TableRecord":
        rows = data.get("rows")
        return cls(str(data.get("path") or ""), str(data.get("checksum") or ""), None if rows is None else int(rows))


@dataclass(frozen=True)
class RunRecord:
    """A run's ``config.json``: what it was trained with and on.

    ``table`` is None in a record without one (a resume refuses such a run); ``seed`` defaults to
    ``config.seed``, ``device`` / ``created`` to "" and ``versions`` to {} in records that lack them.
    """

    config: TrainConfig
    metric: str
    seed: int
    device: str = ""
    table: TableRecord | None = None
    versions: Mapping[str, str] = field(default_factory=dict)
    created: str = ""

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"config": self.config.to_dict(), "seed": self.seed, "device": self.device,
                                "metric": self.metric}
        if self.table is not None:
            data["table"] = self.table.to_dict()
        data["versions"] = dict(self.versions)
        data["created"] = self.created
        return data

    @classmethod
    def from_dict(cls, data: Any) -> "RunRecord":
        """The record of a parsed ``config.json``; ``ValueError`` / ``TypeError`` / ``ConfigError`` naming what is
        wrong (``read_record`` turns them into ``RunFormatError``)."""
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        if not isinstance(data.get("config"), dict) or not isinstance(data.get("metric"), str):
            raise ValueError('it lacks the run\'s "config" or "metric"')
        missing = [k for k in _MODEL_KEYS if k not in data["config"]]
        if missing:
            raise ValueError(f"its config lacks {', '.join(missing)}")
        config = TrainConfig.from_dict(data["config"])
        table = data.get("table")
        if table is not None and not isinstance(table, dict):
            raise ValueError('its "table" is not an object')
        versions = data.get("versions") or {}
        if not isinstance(versions, dict):
            raise ValueError('its "versions" is not an object')
        return cls(config=config, metric=data["metric"], seed=int(data.get("seed", config.seed)),
                   device=str(data.get("device", "")), table=None if table is None else TableRecord.from_dict(table),
                   versions={str(k): str(v) for k, v in versions.items()}, created=str(data.get("created", "")))


@dataclass(frozen=True)
class LabelSet:
    """A run's ``labelled.json``: ``indices`` official indices ``[m]`` (sorted), ``values`` their metric ``[m]``,
    and ``mean``/``std`` of the values (the ICNN's label standardisation; 0/1 when empty)."""

    metric: str
    indices: np.ndarray
    values: np.ndarray
    mean: float
    std: float

    def __len__(self) -> int:
        return len(self.indices)

    def standardised(self) -> np.ndarray:
        """``(values - mean) / std``, ``[m]``."""
        return (self.values - self.mean) / self.std

    def to_dict(self) -> dict:
        return {"metric": self.metric, "mean": self.mean, "std": self.std,
                "indices": [int(i) for i in self.indices], "values": [float(v) for v in self.values]}

    @classmethod
    def from_dict(cls, data: dict) -> "LabelSet":
        return cls(data["metric"], np.asarray(data["indices"], dtype=np.int64),
                   np.asarray(data["values"], dtype=np.float64), float(data["mean"]), float(data["std"]))


@dataclass(frozen=True)
class RunMetrics:
    """A run's ``metrics.json`` (the figures' meanings: ``lso.train.metrics``)."""

    reconstruction_accuracy: float
    validity: float
    uniqueness: float
    novelty: float
    quality_protocol: str
    uniqueness_prior_strings: float
    uniqueness_prior_classes: float
    prior_samples: int
    spearman: float
    kendall: float
    correlation_cells: int
    spearman_unlabelled_rows: float
    surrogate_trained: bool
    predictor_spearman: float
    train_seconds: float
    encode_seconds: float

    @property
    def uniqueness_canonical(self) -> float:
        """Deprecated alias of ``uniqueness_prior_classes`` (the old field name; not written to ``metrics.json``)."""
        return self.uniqueness_prior_classes

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, path: str | Path) -> "RunMetrics":
        """Read ``metrics.json``: ``null`` and missing figures are NaN, unknown keys are ignored, and a file written
        before ``quality_protocol`` existed has its figures moved to the names that say what they are
        (``lso.train.metrics``' docstring)."""
        return cls.from_dict(json.loads(Path(path).read_text()))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunMetrics":
        """``from_json`` on an already parsed ``metrics.json`` object."""
        data = dict(data)
        if "quality_protocol" not in data:
            legacy = {"uniqueness_prior_strings": data.get("uniqueness"),
                      "uniqueness_prior_classes": data.get("uniqueness_canonical"),
                      "spearman_unlabelled_rows": data.get("spearman"), "quality_protocol": LEGACY_PROTOCOL}
            for old in ("uniqueness", "novelty", "spearman", "kendall", "correlation_cells", "predictor_spearman"):
                data.pop(old, None)  # their meaning changed: not readable under the new names
            data.update(legacy)
        values: dict[str, Any] = {}
        for f in fields(cls):
            value = data.get(f.name)
            if f.name == "quality_protocol":
                values[f.name] = "" if value is None else str(value)
            else:
                values[f.name] = float("nan") if value is None else value
        return cls(**values)


# ----- reading ------------------------------------------------------------------------------------------------------
def _missing(layout: RunLayout, path: Path, finished: bool = False) -> RunFormatError:
    what = "a finished training run" if finished else "a training run"
    return RunFormatError(f"{layout.root} is not {what} (lso train --out): it has no {path.name}")


def _damaged(path: Path, detail: str) -> RunFormatError:
    detail = re.sub(r"\s+", " ", detail).strip()
    return RunFormatError(f"{path} is damaged: {detail} (re-train the run, or restore the file)")


def _brief(err: BaseException, words: int = 16) -> str:
    """``Type: the first words of the message`` on one line (torch and pickle errors run over many lines)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    detail = next((line for line in lines if "mismatch" in line or "Missing" in line or "Unexpected" in line),
                  lines[0] if lines else "")
    parts = detail.split()
    detail = " ".join(parts[:words]) + (" ..." if len(parts) > words else "")
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


def _read_object(layout: RunLayout, path: Path, *, finished: bool = False) -> dict:
    if not path.is_file():
        raise _missing(layout, path, finished)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # UnicodeDecodeError is a ValueError
        raise _damaged(path, f"not readable JSON ({_brief(err)})") from err
    if not isinstance(data, dict):
        raise _damaged(path, "not a JSON object")
    return data


def read_record(run: str | os.PathLike[str] | RunLayout) -> RunRecord:
    """The ``RunRecord`` of a run's ``config.json``; ``RunFormatError`` when it is missing or damaged."""
    layout = _layout(run)
    data = _read_object(layout, layout.config)
    try:
        return RunRecord.from_dict(data)
    except (ConfigError, TypeError, ValueError) as err:
        raise _damaged(layout.config, str(err) if isinstance(err, LsoError) else _brief(err).split(": ", 1)[-1]) \
            from err


def read_labels(run: str | os.PathLike[str] | RunLayout) -> LabelSet:
    """The ``LabelSet`` of a run's ``labelled.json`` (indices checked to be cells of the space, one value each);
    ``RunFormatError`` when it is missing or damaged."""
    layout = _layout(run)
    data = _read_object(layout, layout.labelled)
    try:
        labels = LabelSet.from_dict(data)
    except (KeyError, TypeError, ValueError) as err:
        raise _damaged(layout.labelled, f"missing or bad {_brief(err)}") from err
    if labels.indices.ndim != 1 or labels.values.shape != labels.indices.shape or (
            len(labels.indices) and not (0 <= labels.indices.min() and labels.indices.max() < NUM_CELLS)):
        raise _damaged(layout.labelled, f"its indices are not cells of the space (0..{NUM_CELLS - 1}), one value each")
    return labels


def read_metrics(run: str | os.PathLike[str] | RunLayout) -> RunMetrics:
    """The ``RunMetrics`` of a finished run's ``metrics.json`` (older files read as ``RunMetrics.from_dict``
    says); ``RunFormatError`` when it is missing or damaged."""
    layout = _layout(run)
    data = _read_object(layout, layout.metrics, finished=True)
    try:
        return RunMetrics.from_dict(data)
    except (TypeError, ValueError) as err:
        raise _damaged(layout.metrics, _brief(err)) from err


def read_checkpoint(run: str | os.PathLike[str] | RunLayout, device: Any = "cpu", *,
                    keys: tuple[str, ...] = CHECKPOINT_KEYS) -> dict | None:
    """The plain state of a run's ``checkpoint.pt`` (read with ``weights_only``: nothing in it is unpickled), None
    when there is none; ``RunFormatError`` when it is unreadable, lacks one of ``keys`` or has states of the wrong
    types."""
    import pickle

    import torch

    layout = _layout(run)
    path = layout.checkpoint
    if not path.exists():
        return None
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of foreign files: they fail below
            warnings.simplefilter("ignore")
            saved = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError, TypeError, AttributeError,
            ImportError, IndexError, KeyError) as err:
        raise _damaged(path, f"unreadable or not a plain checkpoint, refused without unpickling it ({_brief(err)})") \
            from err
    missing = [k for k in keys if not isinstance(saved, dict) or k not in saved]
    if missing:
        raise _damaged(path, f"not an lso training checkpoint: it lacks {', '.join(missing)}")
    if any(k in saved and not isinstance(saved[k], dict) for k in ("gvae", "icnn")) or not isinstance(
            saved.get("history", []), list):
        raise _damaged(path, "its states have the wrong types")
    return saved


def read_pseudo_labels(run: str | os.PathLike[str] | RunLayout):
    """The pseudo-labels ``pseudo_y [15625]`` (a CPU tensor) of a run trained with them, None without."""
    from safetensors.torch import load_file

    layout = _layout(run)
    if not layout.pseudo_labels.exists():
        return None
    return load_file(str(layout.pseudo_labels))["pseudo_y"]


# ----- writing (all atomic) -----------------------------------------------------------------------------------------
def claim_run(run: str | os.PathLike[str] | RunLayout, record: RunRecord) -> None:
    """Create the run's ``config.json`` exclusively (``FileExistsError`` when another training claimed it)."""
    create_json_exclusive(_layout(run).config, record.to_dict())


def write_labels(run: str | os.PathLike[str] | RunLayout, labels: LabelSet) -> None:
    write_json(_layout(run).labelled, labels.to_dict())


def write_metrics(run: str | os.PathLike[str] | RunLayout, metrics: RunMetrics) -> None:
    """Write ``metrics.json``: the run is finished from now on."""
    write_json(_layout(run).metrics, metrics.to_dict())


def write_checkpoint(run: str | os.PathLike[str] | RunLayout, *, epoch: int, gvae: dict, icnn: dict, optimiser: dict,
                     generator, noise, history: list, train_seconds: float) -> None:
    """Write ``checkpoint.pt`` (the keys ``CHECKPOINT_KEYS``: plain state dicts and tensors)."""
    torch_save(_layout(run).checkpoint, {"epoch": epoch, "gvae": gvae, "icnn": icnn, "optimiser": optimiser,
                                         "generator": generator, "noise": noise, "history": history,
                                         "train_seconds": train_seconds})


def write_pseudo_labels(run: str | os.PathLike[str] | RunLayout, pseudo_y) -> None:
    save_tensors(_layout(run).pseudo_labels, {"pseudo_y": pseudo_y})


def _layout(run: str | os.PathLike[str] | RunLayout) -> RunLayout:
    return run if isinstance(run, RunLayout) else RunLayout.at(run)


__all__ = ["CHECKPOINT_KEYS", "LEGACY_PROTOCOL", "LabelSet", "RunFormatError", "RunLayout", "RunMetrics", "RunRecord",
           "TableRecord", "claim_run", "read_checkpoint", "read_labels", "read_metrics", "read_pseudo_labels",
           "read_record", "write_checkpoint", "write_labels", "write_metrics", "write_pseudo_labels"]
