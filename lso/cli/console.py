"""The one Rich console every CLI command prints through."""

from __future__ import annotations

from rich.console import Console


def make_console() -> Console:
    """A console that never hard-wraps prose (paths and figures stay on one line, whatever the terminal width)
    and does not colour numbers, so output reads the same in a terminal, a log and a test."""
    return Console(soft_wrap=True, highlight=False)
