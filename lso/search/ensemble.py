"""An ensemble of ICNN surrogates on the latent space: the uncertainty of CR-LSO.

``E`` input-convex networks (``lso.models.icnn.ICNN``), each with its own seeded initialisation and, per refit, its
own bootstrap resample of the queried pairs ``(z_i, y_i)``. Every member keeps ``W^h >= 0`` (projection after each
optimiser step), so each member's score ``s_e(z)`` is concave, and so is the ensemble mean
``mu(z) = (1/E) sum_e s_e(z)`` (a mean of concave functions): the ascent on ``mu`` keeps CR-LSO's guarantee. The
spread ``sigma(z) = std_e s_e(z)`` is what the acquisition (``lso.search.acquisition``) adds to ``mu``.

Members are warm-started across rounds (a refit continues from the previous round's weights), as CR-LSO fine-tunes
its single surrogate; the label scaler ``(y - mean) / std`` is reset from the queried scores at every refit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

import torch
from torch.nn import functional as F

from lso.errors import LsoError
from lso.models.icnn import ICNN
from lso.search.latent_model import LatentSearchModel
from lso.search.registry import SearchContext
from lso.space import Cell

if TYPE_CHECKING:
    from lso.search.gradient import Ascent, CRLSOConfig


class SurrogateEnsemble:
    """``members`` ICNNs ``R^d -> R`` on one device; ``predictions(z) [E, n]``, ``mean``, ``grad`` of the mean."""

    def __init__(self, latent_dim: int, hidden: Sequence[int], members: int, *, seed: int,
                 device: torch.device | str = "cpu") -> None:
        if members < 1:
            raise LsoError(f"an ensemble needs at least 1 member, got {members}")
        self.device = torch.device(device)
        self.members: list[ICNN] = []
        with torch.random.fork_rng(devices=[]):
            for k in range(members):
                torch.manual_seed(int(seed) * 1009 + k)  # distinct, reproducible initialisations
                self.members.append(ICNN(latent_dim, tuple(hidden)).to(self.device).eval())

    def __len__(self) -> int:
        return len(self.members)

    def is_convex(self) -> bool:
        """True when every member's constrained weights are non-negative (each ``f_e`` convex by construction)."""
        return all(m.is_convex() for m in self.members)

    def fit(self, z: torch.Tensor, y: torch.Tensor, *, steps: int, lr: float, generator: torch.Generator,
            bootstrap: bool = True) -> list[float]:
        """Refit every member on ``(z [m, d], y [m])`` (``y`` what the search maximises), full batch Adam with the
        projection after each step. With ``bootstrap`` each member sees its own resample (drawn from ``generator``)
        of the ``m`` pairs with replacement. Returns each member's final mean squared error (standardised units)."""
        z = z.detach().to(self.device, torch.float32)
        y = torch.as_tensor(y, dtype=torch.float32).reshape(-1).to(self.device)
        if len(z) != len(y) or len(y) == 0:
            raise LsoError(f"ensemble fit needs one score per latent, got {len(z)} latents and {len(y)} scores")
        mean, std = float(y.mean()), float(y.std()) if len(y) > 1 else 1.0
        samples = []
        for member in self.members:
            member.set_scaler(mean, std)
            idx = (torch.randint(0, len(y), (len(y),), generator=generator) if bootstrap and len(y) > 1
                   else torch.arange(len(y))).to(self.device)
            samples.append((z[idx], member.standardise(y[idx])))
        params = [p for m in self.members for p in m.parameters()]
        optimiser = torch.optim.Adam(params, lr=lr)
        for member in self.members:
            member.train()
        losses = [0.0] * len(self.members)
        for _ in range(steps):
            optimiser.zero_grad(set_to_none=True)
            terms = [F.mse_loss(-m(zs), ts) for m, (zs, ts) in zip(self.members, samples)]
            torch.stack(terms).sum().backward()  # members share no parameter: each gets its own gradient
            optimiser.step()
            for m in self.members:
                m.project_()
            losses = [float(t.detach()) for t in terms]
        for member in self.members:
            member.eval()
        return losses

    @torch.no_grad()
    def predictions(self, z: torch.Tensor) -> torch.Tensor:
        """Every member's score ``[E, n]`` at latents ``z [n, d]`` (label units)."""
        z = z.to(self.device, torch.float32)
        return torch.stack([m.predict(z) for m in self.members])

    def mean(self, z: torch.Tensor) -> torch.Tensor:
        """``mu(z)`` ``[n]``, concave in ``z``."""
        return self.predictions(z).mean(0)

    def grad(self, z: torch.Tensor) -> torch.Tensor:
        """``d mu / d z`` ``[n, d]``."""
        z = z.detach().to(self.device, torch.float32).requires_grad_(True)
        with torch.enable_grad():
            mu = torch.stack([m.predict(z) for m in self.members]).mean(0)
            (grad,) = torch.autograd.grad(mu.sum(), z)
        return grad


class EnsembleModel:
    """A ``LatentSearchModel`` whose surrogate is the ensemble mean: ``base``'s encoder and decoder, ``ensemble``'s
    ``mu`` for ``predict``/``grad`` (what the ascent climbs) and ``predictions_cells`` for the acquisition."""

    def __init__(self, base: LatentSearchModel, ensemble: SurrogateEnsemble) -> None:
        self.base = base
        self.ensemble = ensemble
        self.device = base.device

    @property
    def latent_dim(self) -> int:
        return self.base.latent_dim

    def encode(self, cells: Sequence[Cell | str]) -> torch.Tensor:
        return self.base.encode(cells)

    def decode(self, z: torch.Tensor) -> list[Cell]:
        return self.base.decode(z)

    def predict(self, z: torch.Tensor) -> torch.Tensor:
        return self.ensemble.mean(z)

    def predict_cells(self, cells: Sequence[Cell | str]) -> torch.Tensor:
        return self.predict(self.encode(cells))

    def predictions_cells(self, cells: Sequence[Cell | str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Member scores ``[E, n]`` at the cells' encodings, and the encodings ``[n, d]``."""
        z = self.encode(cells)
        return self.ensemble.predictions(z), z

    def grad(self, z: torch.Tensor) -> torch.Tensor:
        return self.ensemble.grad(z)

    def fit_surrogate(self, z: torch.Tensor, y: torch.Tensor, steps: int = 200, lr: float = 1e-3,
                      **kwargs: Any) -> list[float]:
        """Refit the ensemble (``generator`` in ``kwargs`` draws the bootstraps; default seed 0)."""
        generator = kwargs.get("generator") or torch.Generator().manual_seed(0)
        return self.ensemble.fit(z, y, steps=steps, lr=lr, generator=generator,
                                 bootstrap=kwargs.get("bootstrap", True))

    def with_surrogate(self, surrogate: Any) -> "LatentSearchModel":
        raise LsoError("an ensemble model has no single surrogate to swap (surfing uses LatentModel)")


def run_ensemble(model: LatentSearchModel, config: "CRLSOConfig", context: SearchContext) -> None:
    """CR-LSO with ``config.ensemble`` ICNN surrogates: refit all each round (own seed, own bootstrap), climb the
    ensemble mean, choose the batch by the acquisition (``gradient.select``)."""
    from lso.search.gradient import plain_ascent, queried_pairs, search_loop  # the loop is CR-LSO's own

    hidden = tuple(getattr(model, "config", {}).get("icnn_hidden", (64, 64)))
    view = EnsembleModel(model, SurrogateEnsemble(model.latent_dim, hidden, config.ensemble, seed=context.seed,
                                                  device=model.device))
    generator = torch.Generator().manual_seed(int(context.seed) + 7919)  # bootstraps, apart from the ascent noise

    def refit(round_: int) -> Ascent:
        z, y = queried_pairs(model, context.ledger)
        view.fit_surrogate(z, y, steps=config.finetune_steps, lr=config.finetune_lr, generator=generator,
                           bootstrap=config.bootstrap)
        return plain_ascent(config)

    search_loop(view, config, context, refit)
