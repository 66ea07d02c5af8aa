"""Straight paths between two latents, decoded along the way: what the decoder makes of the space between cells."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from lso.models.workbench import LatentModel
from lso.space import Cell


@dataclass(frozen=True)
class LatentPath:
    """``k`` points ``z(t) = (1 - t) z_start + t z_end`` with their decodes and surrogate scores.

    Attributes:
        t: ``[k]`` positions in [0, 1], ascending (first 0, last 1).
        z: ``[k, d]`` latents.
        cells: the ``k`` decoded cells (always valid).
        predicted: ``[k]`` surrogate score ``LatentModel.predict(z)`` (table units of the run's metric).
    """

    t: torch.Tensor
    z: torch.Tensor
    cells: tuple[Cell, ...]
    predicted: torch.Tensor

    def __len__(self) -> int:
        return len(self.cells)

    def changes(self) -> list[bool]:
        """Per point: True when its decode differs from the previous point's (the first point is True)."""
        return [i == 0 or c != self.cells[i - 1] for i, c in enumerate(self.cells)]

    def distinct_cells(self) -> list[Cell]:
        """The decoded cells in order of first appearance along the path, without repeats."""
        seen: dict[Cell, None] = {}
        for c in self.cells:
            seen.setdefault(c, None)
        return list(seen)


def straight_path(model: LatentModel, z_start: torch.Tensor, z_end: torch.Tensor, steps: int) -> LatentPath:
    """Decode ``steps`` evenly spaced points on the segment from ``z_start`` to ``z_end`` (each ``[d]``).

    ``steps >= 2``; both ends are included, so ``cells[0]`` is the decode of ``z_start`` and ``cells[-1]`` of
    ``z_end``.
    """
    if steps < 2:
        raise ValueError(f"a path needs at least 2 points, got steps={steps}")
    z_start = torch.as_tensor(z_start, dtype=torch.float32).reshape(-1).to(model.device)
    z_end = torch.as_tensor(z_end, dtype=torch.float32).reshape(-1).to(model.device)
    if z_start.shape != z_end.shape or z_start.numel() != model.latent_dim:
        raise ValueError(f"path ends must both be latents of size {model.latent_dim}, got "
                         f"{tuple(z_start.shape)} and {tuple(z_end.shape)}")
    t = torch.linspace(0.0, 1.0, steps, device=model.device)
    z = (1 - t)[:, None] * z_start + t[:, None] * z_end
    return LatentPath(t=t, z=z, cells=tuple(model.decode(z)), predicted=model.predict(z))


def cell_path(model: LatentModel, start: Cell | str, end: Cell | str, steps: int) -> LatentPath:
    """``straight_path`` between the encodings (posterior means) of two cells."""
    z = model.encode([start, end])
    return straight_path(model, z[0], z[1], steps)
