"""The record of one MiLeNAS / DARTS search (``RESULT.json``): per-epoch figures, alpha and cell history, the oracle's
score of the derived cell, and its JSON reader and writer."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

import torch

from lso.atomic import write_json
from lso.oracle import Evaluation
from lso.search.milenas.collapse import is_collapsed, parameter_free_edges
from lso.search.milenas.config import MilenasConfig, MilenasError
from lso.space import Cell
from lso.spaces import get_space
from lso.spaces.darts import DartsGenotype


@dataclass(frozen=True)
class SearchEpoch:
    """One search epoch: running mean loss / accuracy (percent) of the supernet on the weight half (``train``)
    and the architecture half (``val``), the weight learning rate used, and the epoch's seconds."""

    epoch: int
    train_loss: float
    train_acc: float
    val_loss: float
    val_acc: float
    w_lr: float
    seconds: float


@dataclass(frozen=True)
class MilenasResult:
    """One search run.

    ``alpha_history[e]`` is ``alpha`` (logits; NB201 ``[6][5]``, DARTS ``[28][8]``) after epoch ``e`` with entry 0 the
    initial value, so it has ``epochs + 1`` entries, as has ``cell_history`` (the derived cell at each; a ``Cell``
    or, for ``config.space == "darts"``, a ``DartsGenotype``); ``epoch_stats`` has one
    ``SearchEpoch`` per epoch. ``evaluation`` is the oracle's answer for ``cell`` (None when no oracle was given).
    ``search_seconds`` excludes the oracle.
    """

    config: MilenasConfig
    cell: Cell | DartsGenotype
    evaluation: Evaluation | None
    signal_name: str | None
    report_name: str | None
    alpha_history: tuple[tuple[tuple[float, ...], ...], ...]
    cell_history: tuple[Cell | DartsGenotype, ...]
    epoch_stats: tuple[SearchEpoch, ...]
    search_seconds: float
    oracle_seconds: float
    device: str
    torch_version: str = torch.__version__

    @property
    def seed(self) -> int:
        return self.config.seed

    @property
    def wall_seconds(self) -> float:
        """Search plus oracle seconds."""
        return self.search_seconds + self.oracle_seconds

    @property
    def parameter_free_edges(self) -> int:
        """Number of the derived cell's edges (NB201: 6, DARTS: 16) carrying a parameter-free op."""
        return parameter_free_edges(self.cell)

    @property
    def collapsed(self) -> bool:
        """True when every edge of the derived cell is parameter-free (the DARTS failure on NB201)."""
        return is_collapsed(self.cell)

    def to_dict(self) -> dict[str, Any]:
        """The ``RESULT.json`` fields (their names are read by other tools: keep them)."""
        ev = self.evaluation
        space = get_space(self.config.space)
        return {
            "method": self.config.method,
            "space": self.config.space,
            "seed": self.seed,
            "arch": space.to_string(self.cell),
            "signal_name": self.signal_name,
            "report_name": self.report_name,
            "signal": None if ev is None else ev.signal,
            "report": None if ev is None else ev.report,
            "parameter_free_edges": self.parameter_free_edges,
            "collapsed": self.collapsed,
            "search_seconds": self.search_seconds,
            "oracle_seconds": self.oracle_seconds,
            "wall_seconds": self.wall_seconds,
            "device": self.device,
            "torch_version": self.torch_version,
            "config": self.config.to_dict(),
            "alpha_history": [[list(row) for row in alpha] for alpha in self.alpha_history],
            "cell_history": [space.to_string(c) for c in self.cell_history],
            "epoch_stats": [asdict(e) for e in self.epoch_stats],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MilenasResult":
        """Inverse of ``to_dict``.

        Raises:
            MilenasError: for a missing field or a value of the wrong kind.
        """
        try:
            config = MilenasConfig.from_dict(data["config"])
            space = get_space(config.space)
            cell = space.parse(data["arch"])
            evaluation = None if data["signal"] is None else Evaluation(cell, float(data["signal"]), float(data["report"]))
            return cls(
                config=config,
                cell=cell,
                evaluation=evaluation,
                signal_name=data["signal_name"],
                report_name=data["report_name"],
                alpha_history=tuple(tuple(tuple(float(v) for v in row) for row in a) for a in data["alpha_history"]),
                cell_history=tuple(space.parse(s) for s in data["cell_history"]),
                epoch_stats=tuple(SearchEpoch(**e) for e in data["epoch_stats"]),
                search_seconds=float(data["search_seconds"]),
                oracle_seconds=float(data["oracle_seconds"]),
                device=str(data["device"]),
                torch_version=str(data.get("torch_version", "")),
            )
        except (KeyError, TypeError, ValueError) as err:
            raise MilenasError(f"not a MiLeNAS result: {err!r}") from err

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write ``to_dict()`` as JSON atomically."""
        return write_json(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> "MilenasResult":
        """Read a file written by ``save``.

        Raises:
            MilenasError: for a file that cannot be read or is not a MiLeNAS result.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise MilenasError(f"cannot read MiLeNAS result {path}: {err}") from err
        return cls.from_dict(data)
