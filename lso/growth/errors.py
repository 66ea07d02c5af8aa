"""The error neuron splitting raises for bad input (unknown layers, wrong shapes, impossible budgets)."""

from __future__ import annotations

from lso.errors import LsoError


class SplittingError(LsoError, ValueError):
    """Bad input to splitting: an unknown module or method, a shape mismatch, a budget below the current size."""
