"""File layout of a training run directory (one place that names every file)::

    RUN/config.json                 TrainConfig, seed, device, metric, table path + checksum, package versions
                                    (a relative table path is relative to RUN: the shipped default run says
                                    ``../default.parquet`` so it works wherever the checkout lies)
    RUN/labelled.json               the labelled sample: official indices, values, standardisation mean/std
    RUN/predictor.safetensors       pseudo-label GNN (when pseudo-labels are on)
    RUN/pseudo_labels.safetensors   its standardised predictions for all 15,625 cells, ``pseudo_y [15625]``
    RUN/checkpoint.pt               resumable state after the last finished epoch (plain state dicts, tensors)
    RUN/history.csv                 one row of EpochStats per epoch
    RUN/surrogates/epoch_XXXX.safetensors   ICNN after epoch XXXX (0000 = initialisation), every k epochs + last
    RUN/gvae.safetensors            final encoder + decoder
    RUN/surrogate.safetensors       final ICNN (with its label scaler buffers)
    RUN/metrics.json                RunMetrics, written last: its presence marks a finished run
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

_SURROGATE = re.compile(r"^epoch_(\d{4,})\.safetensors$")


@dataclass(frozen=True)
class RunLayout:
    """Paths of the files of the run directory ``root``."""

    root: Path

    @classmethod
    def at(cls, root: str | os.PathLike[str]) -> "RunLayout":
        return cls(Path(root))

    @property
    def config(self) -> Path:
        return self.root / "config.json"

    @property
    def labelled(self) -> Path:
        return self.root / "labelled.json"

    @property
    def predictor(self) -> Path:
        return self.root / "predictor.safetensors"

    @property
    def pseudo_labels(self) -> Path:
        return self.root / "pseudo_labels.safetensors"

    @property
    def checkpoint(self) -> Path:
        return self.root / "checkpoint.pt"

    @property
    def history(self) -> Path:
        return self.root / "history.csv"

    @property
    def surrogates(self) -> Path:
        return self.root / "surrogates"

    @property
    def gvae(self) -> Path:
        return self.root / "gvae.safetensors"

    @property
    def surrogate(self) -> Path:
        return self.root / "surrogate.safetensors"

    @property
    def metrics(self) -> Path:
        return self.root / "metrics.json"

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
