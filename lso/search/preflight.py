"""Checks before a search spends anything: a budget that leaves room beyond the run's labels, and a run that was
trained on the table and metric the search uses.

A latent method starts from a training run. Its labels are charged as queries, so a budget at or below the number
of labels would search nothing and return the labels as its "result". A run trained on another table (digits
searching CIFAR-10), on another metric, or on the very metric the search reports, hands the search a surrogate
that knows the wrong thing (or the answer); that is refused unless the caller overrides it, and the override is
recorded with the result. A run trained with ``--labels 0`` learned no metric values, so only the budget applies.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lso.errors import LsoError
from lso.space import Cell, cell_from_index
from lso.runs.format import RunLayout, read_labels, read_record


class RunMismatchError(LsoError):
    """A training run used with a table or metric other than the ones it was trained on."""


@dataclass(frozen=True)
class RunProvenance:
    """What a training run was trained on (its ``config.json`` and ``labelled.json``).

    Attributes:
        run_dir: the run directory.
        metric: the label metric the surrogate learned.
        table_checksum: the data checksum of the table it was trained on ("" when not recorded).
        labels: official indices of its labelled cells (each one is charged as a query).
    """

    run_dir: Path
    metric: str
    table_checksum: str
    labels: tuple[int, ...]

    def label_cells(self) -> list[Cell]:
        """The labelled cells, in the run's order."""
        return [cell_from_index(i) for i in self.labels]


def read_provenance(run_dir: str | Path) -> RunProvenance:
    """Read a run's metric, table checksum and labels (``lso.runs.format``); ``LsoError`` naming the file when it is
    not a run's (``RunFormatError``: missing or damaged)."""
    layout = RunLayout.at(run_dir)
    if not layout.root.is_dir():
        raise LsoError(f"run directory not found: {layout.root}")
    record = read_record(layout)
    labels = read_labels(layout)
    checksum = record.table.checksum if record.table else ""
    return RunProvenance(layout.root, record.metric, checksum, tuple(int(i) for i in labels.indices))


def budget_problem(budget: int, labels: int) -> str | None:
    """Why ``budget`` leaves a search starting from ``labels`` labelled cells nothing to search, or None."""
    if labels and budget <= labels:
        return (f"a budget of {budget} queries leaves the search nothing: the run's {labels} labelled cells are "
                f"charged first (every label is a query). Raise the budget above {labels}, or use a run trained "
                "with fewer labels (--labels 0 trains an unsupervised G-VAE)")
    return None


@dataclass(frozen=True)
class RunCheck:
    """The outcome of ``check_run``: the mismatches found and whether the caller overrode them."""

    problems: tuple[str, ...] = ()
    overridden: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"problems": list(self.problems), "overridden": self.overridden}


def run_mismatches(provenance: RunProvenance, signal: str, report: str, table_checksum: str | None) -> list[str]:
    """The reasons a run does not fit a search on ``signal``/``report`` over the table with ``table_checksum``
    (None: the oracle has no table, e.g. real training). Empty for an unsupervised run (no labels)."""
    if not provenance.labels:
        return []
    found = []
    if table_checksum is not None and provenance.table_checksum and provenance.table_checksum != table_checksum:
        found.append(f"run {provenance.run_dir.name} was trained on another table (checksum "
                     f"{provenance.table_checksum[:12]}..., this table {table_checksum[:12]}...)")
    if provenance.metric == report and signal != report:
        found.append(f"run {provenance.run_dir.name} was trained on {report!r}, the metric the search reports: its "
                     "surrogate was fitted to the figure it would be judged by")
    elif provenance.metric != signal:
        found.append(f"run {provenance.run_dir.name} was trained on {provenance.metric!r}, not on the search signal "
                     f"{signal!r}")
    return found


def check_run(provenance: RunProvenance, signal: str, report: str, table_checksum: str | None, *,
              allow_mismatch: bool = False) -> RunCheck:
    """``RunCheck`` of a run against a search; raises ``RunMismatchError`` on a mismatch unless ``allow_mismatch``."""
    problems = tuple(run_mismatches(provenance, signal, report, table_checksum))
    if problems and not allow_mismatch:
        raise RunMismatchError("; ".join(problems) + ". Train a run on this table and signal, or pass "
                               "--allow-run-mismatch to search anyway (recorded in the result)")
    return RunCheck(problems, bool(problems))
