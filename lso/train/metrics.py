"""Quality figures of a trained run (names fixed, written to ``metrics.json``).

* ``reconstruction_accuracy``: fraction of all 15,625 cells whose arg-max decode of ``mu`` is the same cell string.
* ``validity`` / ``uniqueness``: arch2vec's protocol on 10,000 samples ``z ~ N(0, I)``: validity is the fraction of
  decodes that are valid NAS-Bench-201 cells; uniqueness the fraction of DISTINCT CELL STRINGS among them (the
  decoder's output space is strings; ``uniqueness_canonical`` also counts distinct isomorphism classes).
* ``spearman`` / ``kendall``: rank correlation of the surrogate's prediction at ``mu`` with the table metric on the
  cells of the table that are not labelled (NaN when the table gives fewer than 2 such cells).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
import torch

from lso.data.graphs import CellGraphs
from lso.models.gvae import GVAE
from lso.models.icnn import ICNN
from lso.space import Cell, index_of
from lso.train.correlation import kendall, spearman


@dataclass(frozen=True)
class RunMetrics:
    """The figures of ``metrics.json``."""

    reconstruction_accuracy: float
    validity: float
    uniqueness: float
    uniqueness_canonical: float
    prior_samples: int
    spearman: float
    kendall: float
    correlation_cells: int
    surrogate_trained: bool
    predictor_spearman: float
    train_seconds: float
    encode_seconds: float

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, path: str | Path) -> "RunMetrics":
        """Read ``metrics.json`` (``null`` is read back as NaN)."""
        data = json.loads(Path(path).read_text())
        return cls(**{f.name: (float("nan") if data.get(f.name) is None else data[f.name]) for f in fields(cls)})


def reconstruction_accuracy(mu: torch.Tensor, gvae: GVAE, graphs: CellGraphs) -> float:
    """Fraction of graphs whose decode of ``mu [n, d]`` equals their ops exactly."""
    decoded = gvae.decoder.decode_ops(mu)
    return float((decoded == graphs.ops.to(decoded.device)).all(dim=1).float().mean())


def prior_quality(gvae: GVAE, samples: int, seed: int) -> tuple[float, float, float]:
    """``(validity, uniqueness by string, uniqueness by canonical form)`` of ``samples`` decodes of N(0, I)."""
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, gvae.latent_dim, generator=generator)
    cells = gvae.decoder.decode(z)
    valid = [c for c in cells if _is_valid(c)]
    validity = len(valid) / samples
    uniqueness = len({c.to_string() for c in valid}) / samples
    canonical = len({c.canonical() for c in valid}) / samples
    return validity, uniqueness, canonical


def _is_valid(cell: Cell) -> bool:
    try:
        Cell.from_string(cell.to_string())
        index_of(cell)
    except (KeyError, ValueError):
        return False
    return True


def rank_correlations(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """``(spearman, kendall)`` over the entries where ``truth`` is finite."""
    keep = np.isfinite(truth) & np.isfinite(predicted)
    if keep.sum() < 2:
        return float("nan"), float("nan")
    return spearman(predicted[keep], truth[keep]), kendall(predicted[keep], truth[keep])


@torch.no_grad()
def surrogate_scores(icnn: ICNN, mu: torch.Tensor) -> np.ndarray:
    """The surrogate's predicted metric at ``mu [n, d]``, ``[n]`` float64."""
    return icnn.predict(mu).double().cpu().numpy()


