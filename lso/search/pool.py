"""Search on a pool: a finite, scored set of cells of any ``SearchSpace`` (issue 18), and two baselines on it.

Where a space is too large to train every cell (NB101: 423,624 classes; DARTS: ~10^18 genotypes) a benchmark built
here is a seeded sample of cells with their scores (``lso bench build --space ... --sample N``), or an imported
table. A search then runs on that pool, as searches on arch2vec's or BANANAS's pools do: it may query only cells of
the pool, each isomorphism class once (rows are unique by ``space.canonical``). The figure of a search at budget
``b`` is the report (test) score of the cell with the best signal (valid) among its first ``b`` queries.

* ``random_on_pool``: the pool in a seeded random order.
* ``rea_on_pool``: regularized evolution (population 20, tournament 5). A mutation of a parent is one of the
  unqueried pool cells closest to it in graph features (Hamming distance of ``cell_features``; ties drawn by the
  seed): on a sparse pool a one-edit mutation would almost never land on a scored cell, and the nearest one is the
  pool's own notion of "one edit away".

CR-LSO on a pool is ``lso.search.pool_crlso``; the comparison over methods, budgets and seeds
``lso.search.pool_compare``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lso.errors import LsoError
from lso.seeds import check_seed
from lso.spaces import SearchSpace


class PoolError(LsoError):
    """A pool that cannot be searched (empty, mismatched lengths, NaN scores, duplicates) or a bad budget."""


def cell_features(space: SearchSpace, cell: object) -> np.ndarray:
    """0/1 features of a cell's graph, ``[max_nodes * |node_labels| + max_nodes^2 * |edge_labels|]`` (uint8).

    Node ``i``'s label one-hot at block ``i``; edge ``s -> t`` with label ``l`` sets entry ``(s, t, l)``. The Hamming
    distance between two cells' features counts the node labels and labelled edges in which they differ.
    """
    graph = space.graph_tensors(cell)
    n, nl, el = space.max_nodes, len(space.node_labels), len(space.edge_labels)
    nodes = np.zeros((n, nl), dtype=np.uint8)
    nodes[np.arange(graph.num_nodes), graph.node_ops.numpy()] = 1
    edges = np.zeros((n, n, el), dtype=np.uint8)
    src, dst = graph.edge_index.numpy()
    edges[src, dst, graph.edge_ops.numpy()] = 1
    return np.concatenate([nodes.ravel(), edges.ravel()])


@dataclass(frozen=True)
class Pool:
    """The cells a search may query and their scores.

    Attributes:
        space: the cells' space.
        cells: ``n`` cells, unique by ``space.canonical``.
        signal: ``[n]`` what the search maximises (validation accuracy).
        report: ``[n]`` what it reports (test accuracy, from independent runs where the table has them).
        name: where the pool came from (a table path), for figures.
    """

    space: SearchSpace
    cells: tuple
    signal: np.ndarray
    report: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        n = len(self.cells)
        if n == 0:
            raise PoolError("the pool is empty: a search needs at least one scored cell")
        for label, values in (("signal", self.signal), ("report", self.report)):
            if np.shape(values) != (n,):
                raise PoolError(f"the pool's {label} has shape {np.shape(values)}, expected ({n},): one per cell")
            if not np.isfinite(values).all():
                raise PoolError(f"the pool's {label} has NaN or infinite values")
        keys = [self.space.canonical(c) for c in self.cells]
        if len(set(keys)) != n:
            raise PoolError(f"the pool holds isomorphic cells ({n - len(set(keys))} duplicate(s) by canonical form): "
                            "keep one row per class")
        object.__setattr__(self, "signal", np.asarray(self.signal, dtype=np.float64))
        object.__setattr__(self, "report", np.asarray(self.report, dtype=np.float64))
        object.__setattr__(self, "_keys", {k: i for i, k in enumerate(keys)})
        object.__setattr__(self, "_features", np.stack([cell_features(self.space, c) for c in self.cells]))

    def __len__(self) -> int:
        return len(self.cells)

    @property
    def features(self) -> np.ndarray:
        """``[n, f]`` uint8, ``cell_features`` of every cell."""
        return self._features

    def row_of(self, cell: object) -> int | None:
        """The row of ``cell``'s isomorphism class, or None when the pool lacks it."""
        return self._keys.get(self.space.canonical(cell))

    def check_budget(self, budget: int) -> int:
        if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
            raise PoolError(f"a search budget must be an integer >= 1, got {budget!r}")
        return min(int(budget), len(self))


@dataclass(frozen=True)
class PoolTrace:
    """One search on a pool: the rows it queried, in order, and why (``initial``, ``mutation``, ``latent``...)."""

    method: str
    seed: int
    rows: tuple[int, ...]
    sources: tuple[str, ...]

    def incumbent(self, pool: Pool, budget: int) -> int:
        """The row with the best signal among the first ``budget`` queries (the first such on ties)."""
        first = np.asarray(self.rows[: max(1, budget)])
        return int(first[int(np.argmax(pool.signal[first]))])

    def best_report(self, pool: Pool, budget: int) -> float:
        """The report score of ``incumbent(pool, budget)``: the figure of the search at that budget."""
        return float(pool.report[self.incumbent(pool, budget)])


class PoolLedger:
    """Queries on a pool: each row once, at most ``budget``; records the order and the source of each."""

    def __init__(self, pool: Pool, budget: int) -> None:
        self.pool, self.budget = pool, pool.check_budget(budget)
        self.rows: list[int] = []
        self.sources: list[str] = []
        self.queried = np.zeros(len(pool), dtype=bool)

    @property
    def exhausted(self) -> bool:
        return len(self.rows) >= self.budget

    def query(self, row: int, source: str) -> float:
        """Spend one query on ``row``; returns its signal."""
        if self.queried[row]:
            raise PoolError(f"row {row} was queried already (a search queries each class once)")
        if self.exhausted:
            raise PoolError(f"the budget of {self.budget} queries is spent")
        self.queried[row] = True
        self.rows.append(int(row))
        self.sources.append(source)
        return float(self.pool.signal[row])

    def unqueried(self) -> np.ndarray:
        return np.flatnonzero(~self.queried)

    def trace(self, method: str, seed: int) -> PoolTrace:
        return PoolTrace(method, seed, tuple(self.rows), tuple(self.sources))


def random_on_pool(pool: Pool, budget: int, seed: int) -> PoolTrace:
    """Random search: the first ``budget`` rows of a seeded permutation of the pool."""
    rng = np.random.default_rng(check_seed(seed))
    ledger = PoolLedger(pool, budget)
    for row in rng.permutation(len(pool))[: ledger.budget]:
        ledger.query(int(row), "random")
    return ledger.trace("random", seed)


def nearest_unqueried(pool: Pool, ledger: PoolLedger, row: int, rng: np.random.Generator) -> int | None:
    """An unqueried row at the smallest Hamming distance from ``row``'s features (ties drawn by ``rng``)."""
    free = ledger.unqueried()
    if len(free) == 0:
        return None
    distance = (pool.features[free] != pool.features[row]).sum(axis=1)
    closest = free[distance == distance.min()]
    return int(rng.choice(closest))


def rea_on_pool(pool: Pool, budget: int, seed: int, population_size: int = 20, sample_size: int = 5) -> PoolTrace:
    """Regularized evolution (Real et al. 2019) on the pool; mutation = ``nearest_unqueried`` (module docstring)."""
    if not 1 <= sample_size <= population_size:
        raise PoolError(f"REA needs 1 <= sample_size <= population_size, got {sample_size} and {population_size}")
    rng = np.random.default_rng(check_seed(seed))
    ledger = PoolLedger(pool, budget)
    population: deque[int] = deque(maxlen=population_size)
    for row in rng.permutation(len(pool))[: min(population_size, ledger.budget)]:
        ledger.query(int(row), "initial")
        population.append(int(row))
    while not ledger.exhausted:
        members = rng.choice(len(population), size=min(sample_size, len(population)), replace=False)
        parent = max((population[i] for i in sorted(members)), key=lambda r: pool.signal[r])
        child = nearest_unqueried(pool, ledger, parent, rng)
        if child is None:
            break
        ledger.query(child, "mutation")
        population.append(child)  # maxlen drops the oldest member
    return ledger.trace("rea", seed)


def pool_of(space: SearchSpace, cells: Sequence, signal: Sequence[float], report: Sequence[float],
            name: str = "") -> Pool:
    """A ``Pool`` from plain sequences (a convenience for notebooks and tests)."""
    return Pool(space, tuple(cells), np.asarray(signal, dtype=np.float64), np.asarray(report, dtype=np.float64), name)
