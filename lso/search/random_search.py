"""Random search: query cells drawn uniformly at random, never the same cell (or an isomorphic twin) twice."""

from __future__ import annotations

import random
from dataclasses import dataclass

from lso.search.ledger import SPACE_EXHAUSTED
from lso.search.moves import UnseenSampler
from lso.search.registry import SearchContext, SearchMethod


@dataclass(frozen=True)
class RandomSearchConfig:
    """Random search has no knobs beyond the budget and seed given to the harness."""


def run_random_search(config: RandomSearchConfig, context: SearchContext) -> None:
    """Query uniformly drawn unseen cells until the budget is spent (or the space is exhausted)."""
    ledger = context.ledger
    sampler = UnseenSampler(random.Random(context.seed))
    while not ledger.exhausted:
        cell = sampler.draw(ledger)
        if cell is None:
            ledger.stop(SPACE_EXHAUSTED)
            return
        ledger.query(cell, "random")


METHODS = (
    SearchMethod(
        name="random",
        config_type=RandomSearchConfig,
        runner=run_random_search,
        title="random search",
        description="random search: uniform cells without repeats",
    ),
)
