"""The training runs of a workspace folder: list them, name a new one, resume one, delete one (safely).

A run directory is a folder holding a ``config.json`` written by ``train_run`` (``lso.runs.format``); it is complete
once ``metrics.json`` exists. ``delete_run`` removes only such a folder, inside the given root, holding nothing but
the files ``train_run`` writes: anything else (a user's notes, search results put inside it) makes it refuse.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import torch

from lso.errors import LsoError
from lso.jobs import Reporter
from lso.runs.format import RunFormatError, RunLayout, RunRecord, read_metrics, read_record

KEY_METRICS = ("reconstruction_accuracy", "validity", "uniqueness", "spearman", "kendall", "train_seconds")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")
_TEMP = re.compile(r"^\..+\.tmp$")  # lso.atomic's temporary files, left by an interrupted write


class RunsError(LsoError):
    """A run that cannot be listed, created, resumed or deleted as asked (the message names the folder)."""


@dataclass(frozen=True)
class RunInfo:
    """One run directory as listed: its settings from ``config.json`` and key figures from ``metrics.json``.

    ``table`` is the path of the benchmark table the run was trained on (a relative record resolved from the run
    directory, ``RunLayout.table_path``; "" when none is recorded).

    ``epochs`` is the configured number, ``epochs_done`` the rows of ``history.csv``; ``metrics`` holds the
    ``KEY_METRICS`` found (empty while the run is unfinished; NaN where the file has null).
    """

    path: Path
    metric: str
    table: str
    epochs: int
    epochs_done: int
    labels: int
    seed: int
    latent_dim: int
    created: str
    complete: bool
    metrics: Mapping[str, float] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.name

    def row(self) -> dict[str, Any]:
        """A flat dict for a table view: name, status, settings and key metrics."""
        status = "complete" if self.complete else f"unfinished ({self.epochs_done}/{self.epochs} epochs)"
        return {"run": self.name, "status": status, "metric": self.metric, "table": Path(self.table).name,
                "epochs": self.epochs, "labels": self.labels, "seed": self.seed, "latent_dim": self.latent_dim,
                "created": self.created, **{k: self.metrics.get(k, float("nan")) for k in KEY_METRICS}}


def side_by_side(runs: list[RunInfo]) -> dict[str, list[str]]:
    """Several runs' settings and ``KEY_METRICS`` as columns, one row per field (``"field"`` names the row, then
    one column per run, named after it), so that runs compare on one screen instead of a wide table. Values are
    text (numbers to 4 significant digits, "-" for a missing metric): a column mixes settings and metrics."""
    def text(value: Any) -> str:
        if isinstance(value, float):
            return "-" if value != value else f"{value:.4g}"
        return str(value)

    rows = [r.row() for r in runs]
    fields = [k for k in (rows[0] if rows else {}) if k != "run"]
    return {"field": fields, **{row["run"]: [text(row[k]) for k in fields] for row in rows}}


def read_run(path: str | Path) -> RunInfo:
    """The ``RunInfo`` of one run directory; ``RunsError`` when it is not one (no or unreadable config.json)."""
    layout = RunLayout.at(path)
    record = _run_record(layout)
    config = record.config
    metrics: dict[str, float] = {}
    if layout.is_finished():
        try:
            data = read_metrics(layout).to_dict()
        except RunFormatError as err:
            raise RunsError(str(err)) from err
        metrics = {k: float(data[k]) for k in KEY_METRICS}
    done = 0
    if layout.history.exists():
        done = max(0, len(layout.history.read_text(encoding="utf-8").strip().splitlines()) - 1)
    table = layout.table_path(record.table.path if record.table else "")
    return RunInfo(path=layout.root, metric=record.metric, table=str(table) if table else "",
                   epochs=config.epochs, epochs_done=done, labels=config.labels, seed=config.seed,
                   latent_dim=config.latent_dim, created=record.created,
                   complete=layout.is_finished(), metrics=metrics)


def list_runs(root: str | Path) -> list[RunInfo]:
    """The run directories directly inside ``root``, newest first (folders that are not runs are skipped)."""
    folder = Path(root)
    if not folder.is_dir():
        return []
    runs = []
    for child in folder.iterdir():
        if not child.is_symlink() and RunLayout.at(child).is_run():
            try:
                runs.append(read_run(child))
            except RunsError:
                continue
    return sorted(runs, key=lambda r: (r.created, r.name), reverse=True)


def new_run_dir(root: str | Path, name: str) -> Path:
    """``root / name`` for a new run: ``name`` is 1-80 letters, digits, ``_ . -`` and the folder must not exist."""
    if not _NAME.match(name):
        raise RunsError(f"run name {name!r} is not allowed: use 1-80 letters, digits, '_', '.' or '-', starting "
                        "with a letter or digit")
    path = Path(root) / name
    if path.exists():
        raise RunsError(f"{path} exists already: choose another run name")
    return path


def resume_run(path: str | Path, *, device: str | torch.device = "cpu", reporter: Reporter | None = None):
    """Continue the unfinished run in ``path`` with its own table, metric and config (``train_run(resume=True)``);
    returns its ``RunResult``."""
    from lso.train.run import train_run

    layout = RunLayout.at(path)
    record = _run_record(layout)
    table = layout.table_path(record.table.path if record.table else "")
    if table is None or not table.exists():
        raise RunsError(f"cannot resume {layout.root}: its benchmark table {table!r} is not there any more")
    return train_run(table, record.metric, record.config, layout.root, device=device, resume=True,
                     reporter=reporter)


def delete_run(path: str | Path, root: str | Path) -> None:
    """Remove the run directory ``path``, which must lie inside ``root`` (module docstring); ``RunsError`` otherwise.

    Refuses: ``root`` itself or anything outside it, a symbolic link, a folder without a readable run
    ``config.json``, and a folder holding any file ``train_run`` does not write (nothing is deleted then).
    """
    given = Path(path)
    base = Path(root).resolve()
    if given.is_symlink():
        raise RunsError(f"refusing to delete {given}: it is a symbolic link")
    target = given.resolve()
    if target == base or base not in target.parents:
        raise RunsError(f"refusing to delete {given}: it is not a folder inside the workspace {base}")
    if not target.is_dir():
        raise RunsError(f"refusing to delete {given}: it is not a folder")
    layout = RunLayout.at(target)
    _run_record(layout)
    strangers = _unknown_files(layout)
    if strangers:
        shown = ", ".join(strangers[:5]) + (f" and {len(strangers) - 5} more" if len(strangers) > 5 else "")
        raise RunsError(f"refusing to delete {given}: it holds files a training run does not write ({shown}); "
                        "move them out first")
    shutil.rmtree(target)


def _run_record(layout: RunLayout) -> RunRecord:
    """The run's ``config.json`` record (``RunsError`` if missing or not a training run's)."""
    try:
        return read_record(layout)
    except RunFormatError as err:
        raise RunsError(str(err)) from err


def _unknown_files(layout: RunLayout) -> list[str]:
    """Entries of the run folder that ``train_run`` does not write (relative names)."""
    known = {p.name for p in layout.files}
    unknown = []
    for entry in sorted(layout.root.iterdir()):
        if entry.name == layout.surrogates.name and entry.is_dir() and not entry.is_symlink():
            saved = {layout.surrogate_at(e).name for e in layout.surrogate_epochs()}
            unknown += [f"{entry.name}/{e.name}" for e in sorted(entry.iterdir())
                        if not (e.is_file() and (e.name in saved or _TEMP.match(e.name)))]
        elif not (entry.is_file() and not entry.is_symlink() and (entry.name in known or _TEMP.match(entry.name))):
            unknown.append(entry.name)
    return unknown


__all__ = ["KEY_METRICS", "RunInfo", "RunsError", "delete_run", "list_runs", "new_run_dir", "read_run", "resume_run",
           "side_by_side"]
