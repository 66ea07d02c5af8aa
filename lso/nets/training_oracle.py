"""The training oracle: answers "what is this cell's score" by training it, with a persistent cache.

Isomorphic cells (same ``Cell.canonical()``; in another space, the same ``space.canonical``) share one set of
runs. ``signal`` is the validation accuracy and ``report`` the test accuracy, each the mean over the protocol's seeds
(percent; the test figure over its ``test_seeds`` when it has them: other runs), named ``<dataset>_valid`` and
``<dataset>_test`` like the columns of a benchmark table, so a complete cache is a table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from statistics import fmean
from typing import Any

import torch

from lso.data.datasets import ImageDataset, load_dataset
from lso.nets.cache import RunCache
from lso.device import resolve_device
from lso.nets.protocol import TrainProtocol
from lso.nets.space_trainer import train_space_cell
from lso.nets.trainer import TrainResult
from lso.oracle import Evaluation
from lso.space import Cell
from lso.spaces import get_space


@dataclass(frozen=True)
class CellRecord:
    """All runs of one cell under one protocol (one per seed of ``seeds``) and their means (percent);
    ``test_runs`` are the runs of ``test_seeds`` (empty when the protocol has none: the test figure is then the
    mean over ``runs``)."""

    cell: Any
    runs: tuple[TrainResult, ...]
    test_runs: tuple[TrainResult, ...] = ()

    @property
    def train_acc(self) -> float:
        return fmean(r.train_acc for r in self.runs)

    @property
    def valid_acc(self) -> float:
        return fmean(r.valid_acc for r in self.runs)

    @property
    def test_acc(self) -> float:
        return fmean(r.test_acc for r in (self.test_runs or self.runs))

    @property
    def wall_time_s(self) -> float:
        """Total training seconds over the seeds (test seeds included)."""
        return sum(r.wall_time_s for r in self.runs + self.test_runs)


class TrainingOracle:
    """An ``Oracle`` (see ``lso.search.oracle``) that trains cells with ``protocol``.

    Args:
        protocol: the training recipe (dataset, network size, optimiser, seeds...).
        cache: JSON-lines cache file (created if absent, resumed if present); None keeps results in memory only.
        device: ``auto``, ``cpu`` or ``cuda[:k]``, resolved once here (a missing CUDA raises ``DeviceError``).
        data: the loaded dataset, to share one copy; loaded from the registry when None.
        data_root: folder of dataset files, for datasets that need one (CIFAR).
        space: the search space of the cells (a registry name): ``nb201`` (``Cell``), or ``nb101`` / ``darts``,
            whose cells are trained one seed at a time by ``lso.nets.space_trainer.train_space_cell``.

    Raises:
        SpaceError: for an unknown space.
        CacheError: for a cache of another protocol or space.
    """

    def __init__(
        self,
        protocol: TrainProtocol,
        cache: str | os.PathLike[str] | None = None,
        device: str | torch.device = "cpu",
        data: ImageDataset | None = None,
        data_root: str | os.PathLike[str] | None = None,
        space: str = "nb201",
    ) -> None:
        self.protocol = protocol
        self.space = get_space(space)
        self.device = resolve_device(device)
        self._cache = RunCache(protocol, cache, space=self.space.name)
        self._data = data
        self._data_root = data_root
        self.trained = 0  # runs trained by this instance (cache hits excluded)

    @property
    def signal_name(self) -> str:
        return f"{self.protocol.dataset}_valid"

    @property
    def report_name(self) -> str:
        return f"{self.protocol.dataset}_test"

    @property
    def cache(self) -> RunCache:
        """The run cache (read it, e.g. to count finished runs)."""
        return self._cache

    @property
    def data(self) -> ImageDataset:
        """The dataset, loaded on first use."""
        if self._data is None:
            self._data = load_dataset(self.protocol.dataset, self.protocol.split_seed, self._data_root)
        return self._data

    def _parse(self, cell: Any) -> Any:
        if self.space.name == "nb201":
            return Cell.parse(cell)
        return self.space.parse(cell) if isinstance(cell, str) else cell

    def lookup(self, cell: Any) -> CellRecord | None:
        """The cached record of ``cell`` (a cell of the space or its string) when every seed is cached, else None
        (never trains)."""
        cell = self._parse(cell)
        key = self.space.canonical(cell)
        runs = [self._cache.get(key, s) for s in self.protocol.all_seeds]
        if any(r is None for r in runs):
            return None
        k = len(self.protocol.seeds)
        return CellRecord(cell, tuple(runs[:k]), tuple(runs[k:]))  # type: ignore[arg-type]

    def record(self, cell: Any) -> CellRecord:
        """All runs of ``cell``, training (and caching) the seeds not cached yet."""
        cell = self._parse(cell)
        key = self.space.canonical(cell)
        grouped = self.protocol.replicas and self.space.name == "nb201"  # replicas train NB201 networks only
        for group in self.protocol.seed_groups if grouped else ((s,) for s in self.protocol.all_seeds):
            if any(self._cache.get(key, seed) is None for seed in group):
                results = self._train(cell, group, grouped)
                for run in results:
                    self._cache.put(key, run)
                self.trained += len(results)
        record = self.lookup(cell)
        assert record is not None  # every seed is cached now
        return record

    def _train(self, cell: Any, group: tuple[int, ...], grouped: bool) -> list[TrainResult]:
        """The runs of ``group``'s seeds: one grouped network of replicas, or one run of its single seed."""
        if grouped:
            from lso.nets.replicas import train_replicas

            return train_replicas(cell, self.protocol, self.data, group, self.device)
        return [train_space_cell(self.space, cell, self.protocol, group[0], self.data, self.device)]

    def evaluate(self, cell: Any) -> Evaluation:
        """Mean validation (signal) and test (report) accuracy over the protocol's seeds, in percent."""
        rec = self.record(cell)
        return Evaluation(cell=rec.cell, signal=rec.valid_acc, report=rec.test_acc)
