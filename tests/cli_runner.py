"""Run the ``lso`` CLI in-process, as the console script does, and return its exit status."""

from __future__ import annotations

from lso.cli.main import main


def run_cli(argv: list[str]) -> int:
    """``lso ARGV...``; 0 on success, the ``SystemExit`` code otherwise (2 for bad input)."""
    try:
        main(list(argv))
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0
