"""Errors the workbench raises for bad input. Each names the problem; the CLI prints them without a traceback."""

from __future__ import annotations

from typing import Any


class LsoError(Exception):
    """Base class of every error lso raises on purpose (bad input, missing files, wrong devices)."""


class ArchStringError(LsoError, ValueError):
    """A malformed architecture string or an unknown operation."""


class BenchmarkFileError(LsoError):
    """A benchmark file that is missing, truncated, corrupt, of the wrong kind, or has wrong columns."""


class MetricError(LsoError, KeyError):
    """A metric name that a table does not have."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it plain.
        return str(self.args[0]) if self.args else ""


def shown(value: Any, limit: int = 80) -> str:
    """``repr(value)`` cut to ``limit`` characters, for one-line error messages."""
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."
