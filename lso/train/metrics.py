"""Quality figures of a trained run (names fixed, written to ``metrics.json``).

* ``reconstruction_accuracy``: fraction of all 15,625 cells whose arg-max decode of ``mu`` is the same cell string.

Generation quality, by the field's protocol (arch2vec, D-VAE), recorded in ``quality_protocol``:

* draw ``S = prior_samples`` (10,000) latents from the ENCODINGS' GAUSSIAN ``N(m, C)``, ``m`` and ``C`` the mean and
  covariance of the posterior means ``mu [15625, d]`` of all cells (``z = m + L eps``, ``L L^T = C + jitter I``,
  ``eps ~ N(0, I)`` from a ``torch.Generator`` seeded with the run seed), and decode them;
* ``validity = |valid decodes| / S``;
* ``uniqueness = |distinct isomorphism classes (Cell.canonical()) among the valid decodes| / |valid decodes|``
  (NAS-Bench-201 has 6,466 classes, so with 10,000 samples it is at most 0.6466);
* ``novelty = |valid decodes whose class is not a class of the training cells| / |valid decodes|``. On NAS-Bench-201
  the G-VAE trains on all 15,625 cells, i.e. on every class, so novelty is 0.0 by construction: it is reported for
  the protocol's sake, not as a finding.

The earlier, flattering figures are kept under names that say what they are: ``uniqueness_prior_strings`` (distinct
cell STRINGS among the decodes of ``S`` samples of ``N(0, I)``, divided by ``S``) and ``uniqueness_prior_classes``
(distinct isomorphism classes among the same decodes, divided by ``S``). ``N(0, I)`` is not where the encodings lie,
and distinct strings count isomorphic twins (same function) as different architectures.

Surrogate rank quality, on the UNLABELLED ISOMORPHISM CLASSES COUNTED ONCE (``unlabelled_class_rows``): every class
with a labelled member is left out (its twins' values are the labelled value up to seed noise), and each remaining
class contributes one row (its smallest official index among the rows with a finite table value):

* ``spearman`` / ``kendall``: rank correlation of the surrogate's prediction at ``mu`` with the table metric on those
  rows (NaN when fewer than 2); ``correlation_cells``: the number of classes used;
* ``spearman_unlabelled_rows``: the earlier row-wise figure (every table row that is not itself labelled, twins of
  labelled cells included and each class counted once per member);
* ``predictor_spearman``: the pseudo-label predictor's Spearman by the same class-once rule (NaN without one).

``metrics.json`` files written before this protocol (no ``quality_protocol`` key) are read by ``RunMetrics.from_json``
with their figures under the honest names: their ``uniqueness`` / ``uniqueness_canonical`` become
``uniqueness_prior_strings`` / ``uniqueness_prior_classes``, their row-wise ``spearman`` becomes
``spearman_unlabelled_rows``; the figures they lack are NaN.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Collection, Sequence

import numpy as np
import torch

from lso.data.graphs import CellGraphs
from lso.errors import LsoError
from lso.models.gvae import GVAE
from lso.models.icnn import ICNN
from lso.runs.format import LEGACY_PROTOCOL, RunMetrics  # noqa: F401 - the record of metrics.json (re-exported here)
from lso.space import Cell, all_cells, index_of, unique_ids
from lso.stats import kendall, spearman

JITTER = 1e-6
"""Relative ridge added to the encodings' covariance before its Cholesky: ``C + JITTER * mean(diag C) * I``."""


class QualityError(LsoError):
    """Encodings from which no sampling Gaussian can be estimated (fewer than 2 rows, NaN / infinite entries)."""


@dataclass(frozen=True)
class LatentGaussian:
    """The Gaussian ``N(mean, scale_tril scale_tril^T)`` fitted to encodings; ``mean [d]``, ``scale_tril [d, d]``
    (float64). ``full_covariance`` is False when the Cholesky of the covariance failed and the diagonal of the
    covariance (independent dimensions) was used instead."""

    mean: torch.Tensor
    scale_tril: torch.Tensor
    full_covariance: bool

    def sample(self, count: int, generator: torch.Generator) -> torch.Tensor:
        """``z = mean + eps @ scale_tril^T`` with ``eps ~ N(0, I) [count, d]`` drawn (float32, like ``prior_quality``)
        from ``generator``; returns float32 ``[count, d]``."""
        eps = torch.randn(count, len(self.mean), generator=generator).double()
        return (self.mean + eps @ self.scale_tril.T).float()


def encodings_gaussian(mu: torch.Tensor, jitter: float = JITTER) -> LatentGaussian:
    """Fit ``N(m, C)`` to encodings ``mu [n, d]``: ``m = mean(mu)``, ``C = (mu - m)^T (mu - m) / (n - 1)``.

    ``scale_tril`` is the Cholesky factor of ``C + jitter * mean(diag C) * I``; when that fails (a degenerate
    covariance) it falls back to ``diag(sqrt(diag C))`` with ``full_covariance=False`` (``quality_protocol`` then
    says so). ``QualityError`` for fewer than 2 rows or non-finite entries.
    """
    x = torch.as_tensor(mu).detach().to(device="cpu", dtype=torch.float64)
    if x.dim() != 2 or x.shape[0] < 2:
        raise QualityError(f"the encodings' Gaussian needs encodings [n >= 2, d], got shape {tuple(x.shape)}")
    if not bool(torch.isfinite(x).all()):
        raise QualityError("the encodings have NaN or infinite entries: no Gaussian to sample the decoder from")
    mean = x.mean(dim=0)
    centred = x - mean
    cov = centred.T @ centred / (x.shape[0] - 1)
    scale = float(cov.diagonal().mean()) if float(cov.diagonal().mean()) > 0 else 1.0
    ridge = cov + jitter * scale * torch.eye(cov.shape[0], dtype=torch.float64)
    tril, info = torch.linalg.cholesky_ex(ridge)
    if int(info) == 0 and bool(torch.isfinite(tril).all()):
        return LatentGaussian(mean, tril, True)
    return LatentGaussian(mean, torch.diag(cov.diagonal().clamp_min(0.0).sqrt()), False)


@lru_cache(maxsize=1)
def training_classes() -> frozenset[str]:
    """The isomorphism classes (``Cell.canonical()``) of the cells a G-VAE trains on: all 15,625 NAS-Bench-201
    cells, i.e. all 6,466 classes."""
    return frozenset(c.canonical() for c in all_cells())


def decode_quality(cells: Sequence[Cell], trained_classes: Collection[str]) -> tuple[float, float, float]:
    """``(validity, uniqueness, novelty)`` of ``S = len(cells)`` decodes (module docstring):
    ``|valid| / S``, ``|distinct canonical among valid| / |valid|``, ``|valid not in trained_classes| / |valid|``
    (the last two NaN when nothing is valid; all NaN when ``S = 0``)."""
    if not cells:
        return float("nan"), float("nan"), float("nan")
    classes = [c.canonical() for c in cells if _is_valid(c)]
    validity = len(classes) / len(cells)
    if not classes:
        return validity, float("nan"), float("nan")
    trained = trained_classes if isinstance(trained_classes, (set, frozenset)) else set(trained_classes)
    novel = sum(1 for c in classes if c not in trained)
    return validity, len(set(classes)) / len(classes), novel / len(classes)


@dataclass(frozen=True)
class EncodingsQuality:
    """Result of ``encodings_quality``: the three figures, the number of samples and the protocol string."""

    validity: float
    uniqueness: float
    novelty: float
    samples: int
    protocol: str


@torch.no_grad()
def encodings_quality(gvae: GVAE, mu: torch.Tensor, samples: int, seed: int,
                      trained_classes: Collection[str] | None = None) -> EncodingsQuality:
    """Decode ``samples`` latents drawn from ``encodings_gaussian(mu)`` (``mu [n, d]``, generator seeded ``seed``)
    and score them with ``decode_quality`` against ``trained_classes`` (default ``training_classes()``).

    With the same ``seed`` the draws ``eps`` are those of ``prior_quality``: ``z = m + L eps`` instead of ``eps``.
    """
    gaussian = encodings_gaussian(mu)
    z = gaussian.sample(samples, torch.Generator().manual_seed(seed))
    cells = gvae.decoder.decode(z)
    trained = training_classes() if trained_classes is None else trained_classes
    validity, uniqueness, novelty = decode_quality(cells, trained)
    covariance = "full covariance" if gaussian.full_covariance else "DIAGONAL covariance (Cholesky failed)"
    protocol = f"encodings-gaussian ({covariance}), by isomorphism class, {samples} samples"
    return EncodingsQuality(validity, uniqueness, novelty, samples, protocol)


@torch.no_grad()
def prior_quality(gvae: GVAE, samples: int, seed: int) -> tuple[float, float, float]:
    """The earlier figures on ``samples`` decodes of ``z ~ N(0, I)`` (generator seeded ``seed``):
    ``(|valid| / S, |distinct strings among valid| / S, |distinct classes among valid| / S)``."""
    generator = torch.Generator().manual_seed(seed)
    z = torch.randn(samples, gvae.latent_dim, generator=generator)
    cells = gvae.decoder.decode(z)
    valid = [c for c in cells if _is_valid(c)]
    return (len(valid) / samples, len({c.to_string() for c in valid}) / samples,
            len({c.canonical() for c in valid}) / samples)


def reconstruction_accuracy(mu: torch.Tensor, gvae: GVAE, graphs: CellGraphs) -> float:
    """Fraction of graphs whose decode of ``mu [n, d]`` equals their ops exactly."""
    decoded = gvae.decoder.decode_ops(mu)
    return float((decoded == graphs.ops.to(decoded.device)).all(dim=1).float().mean())


def _is_valid(cell: Cell) -> bool:
    try:
        Cell.from_string(cell.to_string())
        index_of(cell)
    except (KeyError, ValueError):
        return False
    return True


def unlabelled_class_rows(indices: np.ndarray, truth: np.ndarray, labelled: np.ndarray) -> np.ndarray:
    """Rows of a table to correlate on, each unlabelled isomorphism class once.

    ``indices [n]`` official indices of the rows, ``truth [n]`` their table values, ``labelled [m]`` the labelled
    official indices. A row is a candidate when its class (``lso.space.unique_ids``) has no labelled member and its
    value is finite; of each class the candidate with the smallest official index is kept. Returns row positions
    ``[k]`` ascending, ``k`` = the number of classes used.
    """
    indices = np.asarray(indices, dtype=np.int64)
    ids = np.asarray(unique_ids(), dtype=np.int64)
    classes = ids[indices]
    labelled_classes = ids[np.asarray(labelled, dtype=np.int64)]
    candidates = np.flatnonzero(~np.isin(classes, labelled_classes) & np.isfinite(np.asarray(truth, dtype=np.float64)))
    ordered = candidates[np.argsort(indices[candidates], kind="stable")]
    _, first = np.unique(classes[ordered], return_index=True)
    return np.sort(ordered[first])


def rank_correlations(predicted: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """``(spearman, kendall)`` over the entries where ``truth`` and ``predicted`` are finite (NaN below 2)."""
    keep = np.isfinite(truth) & np.isfinite(predicted)
    if keep.sum() < 2:
        return float("nan"), float("nan")
    return spearman(predicted[keep], truth[keep]), kendall(predicted[keep], truth[keep])


@torch.no_grad()
def surrogate_scores(icnn: ICNN, mu: torch.Tensor) -> np.ndarray:
    """The surrogate's predicted metric at ``mu [n, d]``, ``[n]`` float64."""
    return icnn.predict(mu).double().cpu().numpy()
