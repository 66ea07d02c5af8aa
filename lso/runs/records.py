"""The typed records of a run folder's JSON files and their JSON keys (part of ``lso.runs.format``).

``RunRecord`` is ``config.json`` (with ``TableRecord`` inside), ``LabelSet`` is ``labelled.json`` and ``RunMetrics``
is ``metrics.json``; ``CHECKPOINT_KEYS`` is what ``checkpoint.pt`` holds. ``from_dict`` raises ``ValueError`` /
``TypeError`` / ``KeyError`` (``ConfigError`` for a config) naming what is wrong; the readers
(``lso.runs.readers``) turn them into ``RunFormatError``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from lso.runs.config import TrainConfig

LEGACY_PROTOCOL = "legacy (before encodings-gaussian): N(0, I) samples, uniqueness by string over samples"
"""``quality_protocol`` given to a ``metrics.json`` written before ``quality_protocol`` existed."""

CHECKPOINT_KEYS = ("epoch", "gvae", "icnn", "optimiser", "generator", "noise", "history", "train_seconds")
"""What ``checkpoint.pt`` holds (``write_checkpoint``); a resume needs them all."""

NUM_CELLS = 15_625
"""Cells of the NAS-Bench-201 space: label indices lie in ``0..NUM_CELLS - 1``."""

_MODEL_KEYS = ("latent_dim", "hidden", "layers")  # config fields that fix the saved weights' shapes: never defaulted


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

    def are_cells(self) -> bool:
        """True when ``indices`` is a vector of cells of the space (``0..NUM_CELLS - 1``) with one value each."""
        return self.indices.ndim == 1 and self.values.shape == self.indices.shape and (
            not len(self.indices) or bool(0 <= self.indices.min() and self.indices.max() < NUM_CELLS))


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
