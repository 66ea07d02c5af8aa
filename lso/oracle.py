"""The oracle contract: ``Evaluation`` (one answer) and the ``Oracle`` protocol (anything that scores a cell).

It sits at the bottom of the package (it needs only ``lso.space``), so that every oracle implements it from its own
layer: ``lso.search.oracle.TableOracle`` (a benchmark table) and ``lso.nets.training_oracle`` (real training).
Query counting, caching and budgets are layered on top (``lso.search.ledger``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from lso.space import Cell


@dataclass(frozen=True)
class Evaluation:
    """One oracle answer, in the metrics' own units.

    Attributes:
        cell: the cell scored.
        signal / report: the two metrics' values (e.g. accuracy in percent, latency in ms).
        maximize: the signal's direction. Searches compare ``score`` (``signal`` for a metric to maximise,
            ``-signal`` for one to minimise), so every method maximises and still finds a latency's minimum.
    """

    cell: Cell
    signal: float
    report: float
    maximize: bool = True

    @property
    def score(self) -> float:
        """What a search maximises: ``signal`` or ``-signal`` by the signal's direction."""
        return self.signal if self.maximize else -self.signal


@runtime_checkable
class Oracle(Protocol):
    """Anything that scores a cell. Implementations: ``TableOracle`` (lookup) and the training oracle."""

    @property
    def signal_name(self) -> str:
        """Name of the metric a search sees, e.g. ``cifar10_valid``."""
        ...

    @property
    def report_name(self) -> str:
        """Name of the metric reported but never shown to the search, e.g. ``cifar10_test``."""
        ...

    def evaluate(self, cell: Cell) -> Evaluation:
        """Score one cell (no counting: budgets are kept by the caller's ledger)."""
        ...


__all__ = ["Evaluation", "Oracle"]
