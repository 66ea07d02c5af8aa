"""The error of a training run on disk (``lso.train.run``, ``lso.train.quality``)."""

from __future__ import annotations

from lso.errors import LsoError


class RunError(LsoError):
    """A run directory that cannot be written, resumed or read (exists already, unfinished, mismatched)."""
