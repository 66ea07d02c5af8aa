"""What a latent search needs from a model: the seam between CR-LSO / surfing and the G-VAE + ICNN.

As BoTorch's ``Model`` is for its acquisition functions, ``LatentSearchModel`` is the small protocol the latent
methods are written against; ``lso.models.workbench.LatentModel`` implements it (so would a model of another search
space, or a test double). Shapes: ``n`` cells, ``m`` queried pairs, ``d`` latent dimensions.
"""

from __future__ import annotations

from typing import Any, Protocol, Sequence, runtime_checkable

import torch

from lso.space import Cell


@runtime_checkable
class LatentSearchModel(Protocol):
    """Encoder, decoder and a concave surrogate score ``s(z)`` that the search maximises."""

    device: torch.device

    @property
    def latent_dim(self) -> int:
        """``d``."""
        ...

    def encode(self, cells: Sequence[Cell | str]) -> torch.Tensor:
        """Posterior means ``[n, d]`` of ``cells``."""
        ...

    def decode(self, z: torch.Tensor) -> list[Cell]:
        """The cell of each latent ``z [n, d]`` (always valid)."""
        ...

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """Surrogate score ``s(z)`` ``[n]`` (higher is better)."""
        ...

    def predict_cells(self, cells: Sequence[Cell | str]) -> torch.Tensor:
        """``s`` at the cells' encodings, ``[n]``."""
        ...

    def grad(self, z: torch.Tensor) -> torch.Tensor:
        """``d s / d z`` ``[n, d]``."""
        ...

    def fit_surrogate(self, z: torch.Tensor, y: torch.Tensor, steps: int = 200, lr: float = 1e-3, **kwargs: Any) -> Any:
        """Refit ``s`` to the pairs ``(z [m, d], y [m])`` (``y`` is what the search maximises), keeping it concave."""
        ...

    def with_surrogate(self, surrogate: Any) -> "LatentSearchModel":
        """The same encoder and decoder with another surrogate (surfing's sequence)."""
        ...
