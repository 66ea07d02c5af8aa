"""Where a run folder's files are: ``RunLayout``, the one place that names them (part of ``lso.runs.format``)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Union

_SURROGATE = re.compile(r"^epoch_(\d{4,})\.safetensors$")


class _RunFile:
    """A read-only attribute of ``RunLayout``: the path of the entry ``name`` directly in the run's root."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __get__(self, layout: RunLayout | None, owner: type | None = None) -> Path:
        if layout is None:  # looked up on the class itself (help(), documentation tools)
            return self  # type: ignore[return-value]
        return layout.root / self.name


@dataclass(frozen=True)
class RunLayout:
    """Paths of the files of the run directory ``root`` (``lso.runs.format``'s docstring says what each holds)."""

    root: Path

    config = _RunFile("config.json")
    labelled = _RunFile("labelled.json")
    predictor = _RunFile("predictor.safetensors")
    pseudo_labels = _RunFile("pseudo_labels.safetensors")
    checkpoint = _RunFile("checkpoint.pt")
    history = _RunFile("history.csv")
    surrogates = _RunFile("surrogates")  # a folder: ``surrogate_at``
    gvae = _RunFile("gvae.safetensors")
    surrogate = _RunFile("surrogate.safetensors")
    metrics = _RunFile("metrics.json")

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> "RunLayout":
        return cls(Path(root))

    @property
    def files(self) -> tuple[Path, ...]:
        """Every file a run may hold directly in ``root`` (the ``surrogates`` folder aside)."""
        return (self.config, self.labelled, self.predictor, self.pseudo_labels, self.checkpoint, self.history,
                self.gvae, self.surrogate, self.metrics)

    def is_run(self) -> bool:
        """True when ``root`` is a folder holding a run's ``config.json`` (finished or not)."""
        return self.root.is_dir() and self.config.is_file()

    def is_finished(self) -> bool:
        """True when the run's ``metrics.json`` (written last) exists."""
        return self.metrics.exists()

    def surrogate_at(self, epoch: int) -> Path:
        """Path of the ICNN saved after ``epoch`` epochs."""
        return self.surrogates / f"epoch_{epoch:04d}.safetensors"

    def surrogate_epochs(self) -> list[int]:
        """Epochs with a saved ICNN, ascending."""
        if not self.surrogates.is_dir():
            return []
        found = (_SURROGATE.match(p.name) for p in self.surrogates.iterdir())
        return sorted(int(m.group(1)) for m in found if m)

    def table_path(self, recorded: str) -> Path | None:
        """The benchmark table a run's ``config.json`` records (``recorded``), a relative one taken from the run
        directory; None when nothing is recorded."""
        if not recorded:
            return None
        path = Path(recorded)
        return path if path.is_absolute() else (self.root / path).resolve()


RunRef = Union[str, os.PathLike[str], RunLayout]
"""A run as the readers and writers take it: its folder, or its ``RunLayout``."""


def as_layout(run: RunRef) -> RunLayout:
    """The ``RunLayout`` of ``run`` (itself when it is one)."""
    return run if isinstance(run, RunLayout) else RunLayout.at(run)
