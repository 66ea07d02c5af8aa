"""A fixed linear 2-D view of the latent space, so every page draws cells and trajectories in the same plane."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Projection:
    """``coords = (z - mean) @ basis``: PCA of a set of latents.

    Attributes:
        mean: ``[d]`` centre of the fitted latents.
        basis: ``[d, 2]`` orthonormal directions (first two principal components).
        explained: ``(r1, r2)`` fraction of the total variance along each direction.
    """

    mean: torch.Tensor
    basis: torch.Tensor
    explained: tuple[float, float]

    @classmethod
    def pca(cls, z: torch.Tensor) -> "Projection":
        """Fit on latents ``z`` of shape ``[n, d]`` (n >= 2, d >= 2). Deterministic: the SVD is exact and each
        component's sign is fixed so that its largest-magnitude entry is positive."""
        if z.dim() != 2 or z.shape[0] < 2 or z.shape[1] < 2:
            raise ValueError(f"PCA needs latents of shape [n>=2, d>=2], got {tuple(z.shape)}")
        z = z.detach().to(torch.float64)
        mean = z.mean(0)
        _, s, vh = torch.linalg.svd(z - mean, full_matrices=False)
        basis = vh[:2].T.clone()
        signs = torch.sign(basis.gather(0, basis.abs().argmax(0, keepdim=True))).squeeze(0)
        basis = basis * torch.where(signs == 0, torch.ones_like(signs), signs)
        var = s.pow(2)
        total = float(var.sum()) or 1.0
        return cls(mean.float(), basis.float(), (float(var[0]) / total, float(var[1]) / total))

    def transform(self, z: torch.Tensor) -> torch.Tensor:
        """``[n, d]`` latents -> ``[n, 2]`` coordinates."""
        return (z.detach().float().to(self.mean.device) - self.mean) @ self.basis

    def lift(self, coords: torch.Tensor) -> torch.Tensor:
        """``[n, 2]`` plane coordinates -> ``[n, d]`` latents on the plane through ``mean`` spanned by ``basis``."""
        return self.mean + coords.float().to(self.mean.device) @ self.basis.T
