"""Energy-aware selection: which neurons to split under a budget on parameters or MACs.

``select_greedy`` is a greedy knapsack (no LP solver is needed, and scipy is not a dependency): candidates with
descent value ``G < 0`` are taken in order of ``-G`` per added cost (``G`` from ``lso.growth.signed``; the loss
changes by about ``eps^2 / 2 * G``), each one only if the EXACT model size after the round (``CostModel.total``,
cross terms included) stays within the budget; candidates that do not fit are skipped and the scan goes on.
``select_random`` is the baseline: neurons in a seeded random order under the same budget rule, ignoring ``G``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lso.growth.cost import CostModel, _check_metric
from lso.growth.errors import SplittingError
from lso.growth.signed import NeuronSplit


@dataclass(frozen=True, eq=False)
class Selection:
    """The chosen splits and the model size before and after them (in ``metric`` units)."""

    splits: tuple[NeuronSplit, ...]
    metric: str
    budget: int
    size_before: int
    size_after: int

    def counts(self) -> dict[str, int]:
        """Neurons split per site."""
        out: dict[str, int] = {}
        for s in self.splits:
            out[s.site] = out.get(s.site, 0) + 1
        return out


def _check_budget(costs: CostModel, budget: int, metric: str) -> int:
    _check_metric(metric)
    current = costs.base[metric]
    if budget < current:
        raise SplittingError(f"budget of {budget} {metric} is below the current size of {current} {metric}")
    return current


def _fill(order: Sequence[NeuronSplit], costs: CostModel, budget: int, metric: str,
          max_splits: int | None) -> tuple[list[NeuronSplit], int]:
    extra: dict[str, int] = {}
    chosen: list[NeuronSplit] = []
    seen: set[tuple[str, int]] = set()
    size = costs.total(extra, metric)
    for cand in order:
        if max_splits is not None and len(chosen) >= max_splits:
            break
        if cand.extra <= 0 or (cand.site, cand.neuron) in seen:
            continue
        if cand.site not in costs.own:
            raise SplittingError(f"candidate names unknown site {cand.site!r}")
        grown = dict(extra)
        grown[cand.site] = grown.get(cand.site, 0) + cand.extra
        new_size = costs.total(grown, metric)
        if new_size <= budget:
            extra, size = grown, new_size
            chosen.append(cand)
            seen.add((cand.site, cand.neuron))
    return chosen, size


def select_greedy(candidates: Sequence[NeuronSplit], costs: CostModel, budget: int, metric: str = "params",
                  max_splits: int | None = None) -> Selection:
    """Greedy knapsack by ``-G / (extra neurons * own cost)`` over candidates with ``G < 0``, under ``budget``."""
    current = _check_budget(costs, budget, metric)

    def ratio(c: NeuronSplit) -> float:
        return -c.value / max(1, c.extra * costs.own[c.site][metric]) if c.site in costs.own else 0.0

    order = sorted((c for c in candidates if c.value < 0), key=ratio, reverse=True)
    chosen, size = _fill(order, costs, budget, metric, max_splits)
    return Selection(splits=tuple(chosen), metric=metric, budget=budget, size_before=current, size_after=size)


def select_random(candidates: Sequence[NeuronSplit], costs: CostModel, budget: int, metric: str = "params",
                  seed: int = 0, max_splits: int | None = None) -> Selection:
    """Random splitting baseline: candidates in a random order (``np.random.default_rng(seed)``), under ``budget``."""
    current = _check_budget(costs, budget, metric)
    rng = np.random.default_rng(seed)
    order = [candidates[i] for i in rng.permutation(len(candidates))]
    chosen, size = _fill(order, costs, budget, metric, max_splits)
    return Selection(splits=tuple(chosen), metric=metric, budget=budget, size_before=current, size_after=size)

