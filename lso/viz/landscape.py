"""The surrogate's landscape on the 2-D PCA plane of the latent space: ``predict(lift(x, y))`` on a grid."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from lso.models.workbench import LatentModel
from lso.viz.projection import Projection


@dataclass(frozen=True)
class PlaneLandscape:
    """Surrogate scores on a ``[gy, gx]`` grid of the plane: ``scores[j, i] = predict(lift((xs[i], ys[j])))``.

    Attributes:
        xs: ``[gx]`` ascending PC-1 coordinates.
        ys: ``[gy]`` ascending PC-2 coordinates.
        scores: ``[gy, gx]`` float64 surrogate scores (table units of the run's metric).
    """

    xs: np.ndarray
    ys: np.ndarray
    scores: np.ndarray


def padded_range(values: np.ndarray, margin: float = 0.05, quantile: float = 0.0) -> tuple[float, float]:
    """``(lo, hi)`` covering ``values`` ``[n]`` (from the ``quantile`` to the ``1 - quantile`` quantile), widened by
    ``margin`` of its width on each side. A constant input gives a width of 1."""
    values = np.asarray(values, dtype=np.float64).reshape(-1)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        raise ValueError("padded_range needs at least one finite value")
    lo, hi = (np.quantile(values, [quantile, 1 - quantile]) if quantile > 0 else (values.min(), values.max()))
    width = float(hi - lo) or 1.0
    return float(lo) - margin * width, float(hi) + margin * width


def plane_grid(x_range: tuple[float, float], y_range: tuple[float, float],
               resolution: int) -> tuple[np.ndarray, np.ndarray, torch.Tensor]:
    """``xs [gx]``, ``ys [gy]`` (``gx = gy = resolution``) and the grid points ``[gy * gx, 2]`` in row-major order
    (``points[j * gx + i] = (xs[i], ys[j])``)."""
    if resolution < 2:
        raise ValueError(f"a grid needs resolution >= 2, got {resolution}")
    if not (x_range[0] < x_range[1] and y_range[0] < y_range[1]):
        raise ValueError(f"grid ranges must be increasing, got x {x_range} and y {y_range}")
    xs = np.linspace(*x_range, resolution)
    ys = np.linspace(*y_range, resolution)
    gx, gy = np.meshgrid(xs, ys)
    points = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], axis=1), dtype=torch.float32)
    return xs, ys, points


def plane_landscape(model: LatentModel, projection: Projection, x_range: tuple[float, float],
                    y_range: tuple[float, float], resolution: int = 60, batch: int = 4096) -> PlaneLandscape:
    """Evaluate the surrogate on a ``resolution x resolution`` grid of the plane of ``projection``.

    Grid points are lifted to latents with ``projection.lift`` (on the plane through the latents' mean) and scored
    with ``model.predict`` in batches of ``batch``.
    """
    xs, ys, points = plane_grid(x_range, y_range, resolution)
    z = projection.lift(points).to(model.device)
    scores = torch.cat([model.predict(z[i:i + batch]) for i in range(0, len(z), batch)])
    return PlaneLandscape(xs=xs, ys=ys, scores=scores.double().cpu().numpy().reshape(len(ys), len(xs)))


def off_plane_distance(projection: Projection, z: torch.Tensor) -> torch.Tensor:
    """``[n]`` Euclidean distance of latents ``z`` ``[n, d]`` to the projection's plane."""
    z = z.detach().float().to(projection.mean.device)
    return (z - projection.lift(projection.transform(z))).norm(dim=1)
