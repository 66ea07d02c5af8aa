"""Free priors for a search's initial set: zero-cost proxies, honestly costed.

A prior scores ``pool`` unseen random cells without querying any of them; the search then queries the ``initial``
best-scored ones instead of ``initial`` plain random cells. Priors (``lso.nets.proxies``):

- ``params``: the cell's parameter count (closed form, ``lso.space.num_params``; Spearman 0.76 with CIFAR-10 test on
  NB201, ``lso bench proxies``): costs microseconds.
- ``synflow``: synaptic flow of the network at initialisation (data-free): builds the network and runs one
  backward pass per cell.

The seconds spent are measured and returned, so a caller reports them beside the query count (they are also inside
the search's overhead, which ``run_search`` times).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from lso.errors import LsoError
from lso.search.ledger import QueryLedger
from lso.search.moves import UnseenSampler
from lso.space import Cell, num_params

PRIORS: tuple[str, ...] = ("none", "params", "synflow")


@dataclass(frozen=True)
class PriorPick:
    """The cells a prior picked, best first, the pool it scored and the seconds it took."""

    cells: tuple[Cell, ...]
    pool: int
    seconds: float


def prior_scores(cells: list[Cell], prior: str, seed: int) -> list[float]:
    """The prior ``prior`` of each cell (higher is read as better)."""
    if prior == "params":
        return [float(num_params(c)) for c in cells]
    if prior == "synflow":
        from lso.nets.proxy_study import NOISE, proxy_batch, score_cell

        batch = proxy_batch(NOISE, 2, seed)
        return [score_cell(c, batch, ("synflow",), seed).scores["synflow"] for c in cells]
    raise LsoError(f"unknown prior {prior!r}; known: {', '.join(PRIORS)}")


def pick_initial(ledger: QueryLedger, sampler: UnseenSampler, prior: str, *, wanted: int, pool: int,
                 seed: int) -> PriorPick:
    """The ``wanted`` best of ``max(pool, wanted)`` unseen, pairwise non-isomorphic random cells by ``prior``
    (none queried here). Ties keep the draw order."""
    start = time.perf_counter()
    drawn: dict[str, Cell] = {}
    while len(drawn) < max(pool, wanted):
        cell = sampler.draw(ledger)
        if cell is None:
            break
        drawn.setdefault(cell.canonical(), cell)
    cells = list(drawn.values())
    scores = prior_scores(cells, prior, seed)
    order = sorted(range(len(cells)), key=lambda i: -scores[i])[:wanted]
    return PriorPick(tuple(cells[i] for i in order), len(cells), time.perf_counter() - start)
