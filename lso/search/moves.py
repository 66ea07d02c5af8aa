"""Seeded moves in the NAS-Bench-201 cell space that skip what a search already queried.

Both moves treat a cell and its isomorphic twins as one point (``QueryLedger.seen``), so a search built from them
never spends a query twice.
"""

from __future__ import annotations

import random

from lso.search.ledger import QueryLedger
from lso.space import Cell, all_cells


class UnseenSampler:
    """Draws cells uniformly at random without replacement over the 15,625 cells, skipping already-seen classes.

    One seeded shuffle of the whole space, read front to back: the same seed gives the same sequence.
    """

    def __init__(self, rng: random.Random) -> None:
        self._order = list(all_cells())
        rng.shuffle(self._order)
        self._next = 0

    def draw(self, ledger: QueryLedger) -> Cell | None:
        """The next cell whose isomorphism class the ledger has not seen; None when every class was seen."""
        while self._next < len(self._order):
            cell = self._order[self._next]
            self._next += 1
            if not ledger.seen(cell):
                return cell
        return None


def mutate_unseen(
    parent: Cell, ledger: QueryLedger, rng: random.Random, sampler: UnseenSampler, *, max_walk: int = 50
) -> Cell | None:
    """A one-edge mutation of ``parent`` that was not queried yet ("mutate again when already queried").

    Rejection sampling over the 24 one-edge neighbours until an unseen one comes up is the same as drawing
    uniformly among the unseen neighbours, which is what this does. When all 24 were seen, it walks on through a
    random (seen) neighbour, up to ``max_walk`` steps, and finally falls back to an unseen random cell.
    Returns None only when every cell of the space was seen.
    """
    current = parent
    for _ in range(max_walk):
        neighbours = current.neighbours()
        unseen = [c for c in neighbours if not ledger.seen(c)]
        if unseen:
            return unseen[rng.randrange(len(unseen))]
        current = neighbours[rng.randrange(len(neighbours))]
    return sampler.draw(ledger)
