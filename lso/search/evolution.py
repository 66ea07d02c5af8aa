"""Regularized evolution (Real et al., AAAI 2019): aging evolution with tournament selection.

Start with ``population_size`` random cells. Each step: sample ``sample_size`` members uniformly, take the best by
signal as parent, query a one-edge mutation of it that was never queried (mutate again otherwise), add the child
and remove the oldest member.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass

from lso.errors import LsoError
from lso.search.ledger import SPACE_EXHAUSTED
from lso.search.moves import UnseenSampler, mutate_unseen
from lso.oracle import Evaluation
from lso.search.registry import SearchContext, SearchMethod


@dataclass(frozen=True)
class EvolutionConfig:
    """Knobs of regularized evolution. Defaults: population 20, tournament sample 5 (NAS-Bench-201 convention)."""

    population_size: int = 20
    sample_size: int = 5

    def __post_init__(self) -> None:
        if self.population_size < 1:
            raise LsoError(f"population_size must be >= 1, got {self.population_size}")
        if not 1 <= self.sample_size <= self.population_size:
            raise LsoError(f"sample_size must be in 1..population_size ({self.population_size}), got {self.sample_size}")


def run_evolution(config: EvolutionConfig, context: SearchContext) -> None:
    """Run aging evolution until the budget is spent. Labels pre-charged on the ledger seed the population."""
    ledger = context.ledger
    rng = random.Random(context.seed)
    sampler = UnseenSampler(rng)
    # Labels the run already holds are the freshest knowledge: they enter the population first (oldest first).
    population: deque[Evaluation] = deque(ledger.evaluations[-config.population_size :], maxlen=config.population_size)
    while len(population) < config.population_size and not ledger.exhausted:
        cell = sampler.draw(ledger)
        if cell is None:
            ledger.stop(SPACE_EXHAUSTED)
            return
        population.append(ledger.query(cell, "initial"))
    while not ledger.exhausted:
        members = rng.sample(range(len(population)), min(config.sample_size, len(population)))
        parent = max((population[i] for i in sorted(members)), key=lambda ev: ev.score)
        child = mutate_unseen(parent.cell, ledger, rng, sampler)
        if child is None:
            ledger.stop(SPACE_EXHAUSTED)
            return
        population.append(ledger.query(child, "mutation"))  # maxlen drops the oldest member


METHODS = (
    SearchMethod(
        name="rea",
        config_type=EvolutionConfig,
        runner=run_evolution,
        title="regularized evolution",
        description="regularized evolution: population 20, sample 5, one-edge mutation, no repeats",
    ),
)
