"""Local search (best improvement with random restarts), as in White et al., "Local search is state of the art
for NAS benchmarks" (2020).

From a random cell, query all 24 one-edge neighbours (those already known are free), move to the best one if it
improves the signal, and restart from a new random cell at a local optimum.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from lso.search.ledger import SPACE_EXHAUSTED
from lso.search.moves import UnseenSampler
from lso.search.registry import SearchContext, SearchMethod


@dataclass(frozen=True)
class LocalSearchConfig:
    """Local search has no knobs beyond budget and seed: full neighbourhood, best improvement, random restarts."""


def run_local_search(config: LocalSearchConfig, context: SearchContext) -> None:
    """Hill-climb with restarts until the budget is spent (``BudgetExhausted`` ends it mid-neighbourhood)."""
    ledger = context.ledger
    rng = random.Random(context.seed)
    sampler = UnseenSampler(rng)
    while not ledger.exhausted:
        start = sampler.draw(ledger)
        if start is None:
            ledger.stop(SPACE_EXHAUSTED)
            return
        cell, score = start, ledger.query(start, "restart").score
        while True:
            neighbours = cell.neighbours()
            rng.shuffle(neighbours)  # query order matters when the budget ends mid-neighbourhood
            scored = [(ledger.query(n, "neighbour").score, n) for n in neighbours]
            best_score, best_cell = max(scored, key=lambda pair: pair[0])
            if best_score <= score:
                break  # local optimum: restart
            cell, score = best_cell, best_score


METHODS = (
    SearchMethod(
        name="ls",
        config_type=LocalSearchConfig,
        runner=run_local_search,
        title="local search",
        description="local search: best of the 24 one-edge neighbours, random restarts",
    ),
)
