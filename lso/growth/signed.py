"""Descent values and copies of a split: S2D and signed splitting S3D (Wu, Ye, Lei, Lee, Liu 2020).

A neuron ``theta`` is replaced by ``m`` copies ``theta + eps delta_j`` with output weights ``w_j`` under

    sum_j w_j = 1,   sum_j |w_j| <= c,   ||delta_j|| <= 1,   sum_j w_j delta_j = 0,

which changes the loss by ``(eps^2 / 2) sum_j w_j delta_j^T S delta_j + O(eps^3)``. The descent value ``G`` is the
minimum of that sum; a neuron is worth splitting only when ``G < 0``. With ``k = (c - 1) / (c + 1)``:

* ``"s2d"`` (two positive copies, c = 1): ``G = lambda_min``; ``w = (1/2, 1/2)``, ``delta = (v_min, -v_min)``.
* ``"s3d2"`` (two copies, signed): ``G_2 = min(lambda_min, -k lambda_max)``; the signed pair is
  ``w = ((c+1)/2, (1-c)/2)``, ``delta = (k v_max, v_max)``; where ``lambda_min <= -k lambda_max`` the S2D pair wins.
* ``"s3d4"`` (four copies, signed): ``G_4 = ((c+1)/2) min(lambda_min, 0) - ((c-1)/2) max(lambda_max, 0)``,
  weights ``(c+1)/4`` at ``+-v_min`` and ``(1-c)/4`` at ``+-v_max``. A pair whose eigenvalue has the wrong sign
  gets ``delta = 0``, and the two identical copies are merged into one (so 3 copies, or 2).

``G_4`` is a lower bound for ANY number of copies: ``sum_j w_j delta_j^T S delta_j >= sum_{w_j>0} w_j
min(lambda_min,0) + sum_{w_j<0} w_j max(lambda_max,0)`` with ``sum_{w>0} w = (1 + sum|w|)/2``. With negative weights a
neuron whose ``S`` is positive definite (S2D-stable) still descends through ``lambda_max``. Checked against brute
force in ``tests/growth/test_splitting.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lso.growth.eigen import warn_nonfinite
from lso.growth.errors import SplittingError
from lso.growth.splitting import Eigenpairs

RULES = ("s2d", "s3d2", "s3d4")


@dataclass(frozen=True, eq=False)
class NeuronSplit:
    """How to split one neuron.

    Attributes:
        site: site name.
        neuron: neuron index within the site.
        weights: ``(w_1, ..., w_m)`` output weights of the copies (copy 1 takes the neuron's place).
        directions: ``[m, d]`` directions ``delta_j``.
        value: descent value ``G`` (loss change ~ ``eps^2 / 2 * value``); NaN for random splits.
    """

    site: str
    neuron: int
    weights: tuple[float, ...]
    directions: torch.Tensor
    value: float

    @property
    def extra(self) -> int:
        """Neurons added by this split: ``m - 1``."""
        return len(self.weights) - 1


def _check(rule: str, c: float) -> None:
    if rule not in RULES:
        raise SplittingError(f"unknown splitting rule {rule!r}; use one of {', '.join(RULES)}")
    if not c >= 1.0:
        raise SplittingError(f"signed-weight bound c must be >= 1 (sum |w_j| <= c), got {c}")


def descent_values(lambda_min: torch.Tensor, lambda_max: torch.Tensor, rule: str, c: float = 2.0) -> torch.Tensor:
    """``G`` per neuron, ``[out]`` from ``lambda_min, lambda_max`` ``[out]`` (module docstring for the formulas)."""
    _check(rule, c)
    k = (c - 1.0) / (c + 1.0)
    if rule == "s2d":
        return lambda_min.clone()
    if rule == "s3d2":
        return torch.minimum(lambda_min, -k * lambda_max)
    return 0.5 * (c + 1.0) * lambda_min.clamp_max(0.0) - 0.5 * (c - 1.0) * lambda_max.clamp_min(0.0)


def _copies(lmin: float, lmax: float, vmin: torch.Tensor, vmax: torch.Tensor, rule: str,
            c: float) -> tuple[tuple[float, ...], torch.Tensor]:
    k = (c - 1.0) / (c + 1.0)
    if rule == "s2d" or (rule == "s3d2" and lmin <= -k * lmax):
        return (0.5, 0.5), torch.stack([vmin, -vmin])
    if rule == "s3d2":
        return ((c + 1.0) / 2.0, (1.0 - c) / 2.0), torch.stack([k * vmax, vmax])
    zero = torch.zeros_like(vmin)
    weights: list[float] = []
    dirs: list[torch.Tensor] = []
    for w, v, active in (((c + 1.0) / 4.0, vmin, lmin < 0.0), ((1.0 - c) / 4.0, vmax, lmax > 0.0)):
        if w == 0.0:  # c = 1: no negative copies
            continue
        if active:
            weights += [w, w]
            dirs += [v, -v]
        else:  # this pair cannot descend: delta = 0, and its two identical copies merge into one
            weights.append(2.0 * w)
            dirs.append(zero)
    if len(weights) <= 2 and all(not bool(d.any()) for d in dirs):
        return (1.0,), zero[None]  # G = 0: nothing to gain, the neuron stays as it is
    return tuple(weights), torch.stack(dirs)


def neuron_splits(site: str, pairs: Eigenpairs, rule: str, c: float = 2.0) -> list[NeuronSplit]:
    """One ``NeuronSplit`` per neuron of a site (including non-descending ones, ``value >= 0``)."""
    values = descent_values(pairs.lambda_min, pairs.lambda_max, rule, c)
    finite = (torch.isfinite(pairs.lambda_min) & torch.isfinite(pairs.lambda_max) & torch.isfinite(pairs.v_min).all(1)
              & torch.isfinite(pairs.v_max).all(1))
    splits = []
    for i in range(values.shape[0]):
        if not bool(finite[i]):  # reported below; the neuron stays as it is (one copy, no direction)
            splits.append(NeuronSplit(site=site, neuron=i, weights=(1.0,),
                                      directions=torch.zeros_like(pairs.v_min[i])[None], value=float("nan")))
            continue
        w, d = _copies(float(pairs.lambda_min[i]), float(pairs.lambda_max[i]), pairs.v_min[i], pairs.v_max[i],
                       rule, c)
        splits.append(NeuronSplit(site=site, neuron=i, weights=w, directions=d, value=float(values[i])))
    warn_nonfinite(site, torch.nonzero(~finite).flatten().tolist())
    return splits


def random_splits(site: str, width: int, dim: int, generator: torch.Generator, *,
                  dtype: torch.dtype = torch.float32) -> list[NeuronSplit]:
    """The random-splitting baseline: every neuron gets the S2D pair along a random unit direction (value NaN)."""
    v = torch.randn(width, dim, generator=generator, dtype=dtype)
    v = v / v.norm(dim=1, keepdim=True)
    return [NeuronSplit(site=site, neuron=i, weights=(0.5, 0.5), directions=torch.stack([v[i], -v[i]]),
                        value=float("nan")) for i in range(width)]


def split_value(S: torch.Tensor, split: NeuronSplit) -> float:
    """``sum_j w_j delta_j^T S delta_j`` for one neuron's ``S`` [d, d] (the realised descent of a split)."""
    d = split.directions.to(S.dtype)
    w = torch.tensor(split.weights, dtype=S.dtype)
    return float((w * torch.einsum("jd,de,je->j", d, S, d)).sum())
