"""The settings of one MiLeNAS / first-order DARTS search, and the error its package raises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

from lso.errors import LsoError
from lso.nets.protocol import network_size_problems

VARIANTS: tuple[str, ...] = ("milenas", "darts")
"""The architecture updates ``MilenasConfig.method`` chooses between: ``milenas``, the mixed-level alpha gradient;
``darts``, first-order DARTS (validation gradient only). Not search methods of the registry."""

SEARCH_SPACES: tuple[str, ...] = ("nb201", "darts")
"""The spaces with a supernet: ``nb201`` (``lso.nets.supernet``) and ``darts`` (``lso.nets.darts_supernet``)."""


class MilenasError(LsoError):
    """Invalid MiLeNAS settings or a result file that cannot be read."""


@dataclass(frozen=True)
class MilenasConfig:
    """One differentiable search. Defaults are the MiLeNAS paper's settings and NAS-Bench-201's search model
    (C=16, N=5, batch 64, 50 epochs).

    ``space`` (one of ``SEARCH_SPACES``) chooses the supernet: NB201's (C channels, N cells per stage) or DARTS's
    (C channels, ``3N + 2`` cells, as ``lso.nets.space_trainer.network_for`` builds the DARTS network; DARTS's own
    search model is C=16, N=2).

    Weights: SGD(``w_lr``, momentum ``w_momentum``, weight decay ``w_weight_decay``), the rate annealed per epoch
    by cosine from ``w_lr`` to ``w_lr_min``, gradient norm clipped at ``grad_clip`` (None: no clipping).
    Architecture: Adam(``alpha_lr``, ``alpha_betas``, weight decay ``alpha_weight_decay``). ``lam`` is the
    mixed-level lambda (MiLeNAS only). ``method`` is one of ``VARIANTS``. The dataset's train split (first
    ``train_samples`` examples when set) is halved: first half for the weight step, second half for the architecture
    step.
    """

    dataset: str = "digits"
    method: str = "milenas"
    epochs: int = 50
    seed: int = 0
    lam: float = 1.0
    batch_size: int = 64
    channels: int = 16
    cells_per_stage: int = 5
    w_lr: float = 0.025
    w_lr_min: float = 0.001
    w_momentum: float = 0.9
    w_weight_decay: float = 3e-4
    grad_clip: float | None = 5.0
    alpha_lr: float = 3e-4
    alpha_betas: tuple[float, float] = (0.5, 0.999)
    alpha_weight_decay: float = 1e-3
    split_seed: int = 0
    train_samples: int | None = None
    space: str = "nb201"

    def __post_init__(self) -> None:
        object.__setattr__(self, "alpha_betas", tuple(float(b) for b in self.alpha_betas))
        problems = []
        if self.method not in VARIANTS:
            problems.append(f"method must be one of {', '.join(VARIANTS)}, got {self.method!r}")
        if self.space not in SEARCH_SPACES:
            problems.append(f"space must be one of {', '.join(SEARCH_SPACES)}, got {self.space!r}")
        if self.epochs < 1:
            problems.append(f"epochs must be >= 1, got {self.epochs}")
        problems += network_size_problems(self.batch_size, self.channels, self.cells_per_stage)
        if not (self.w_lr > 0 and 0 <= self.w_lr_min <= self.w_lr):
            problems.append(f"need w_lr > 0 and 0 <= w_lr_min <= w_lr, got {self.w_lr}, {self.w_lr_min}")
        if not self.alpha_lr > 0:
            problems.append(f"alpha_lr must be > 0, got {self.alpha_lr}")
        if len(self.alpha_betas) != 2 or not all(0 <= b < 1 for b in self.alpha_betas):
            problems.append(f"alpha_betas must be two numbers in [0, 1), got {self.alpha_betas}")
        if min(self.w_weight_decay, self.alpha_weight_decay, self.w_momentum) < 0:
            problems.append("weight decays and momentum must be >= 0")
        if self.grad_clip is not None and not self.grad_clip > 0:
            problems.append(f"grad_clip must be > 0 or None, got {self.grad_clip}")
        if self.lam < 0:
            problems.append(f"lam must be >= 0, got {self.lam}")
        if self.train_samples is not None and self.train_samples < 4:
            problems.append(f"train_samples must be >= 4 or None, got {self.train_samples}")
        if problems:
            raise MilenasError("invalid MiLeNAS config: " + "; ".join(problems))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (``alpha_betas`` as a list)."""
        out = asdict(self)
        out["alpha_betas"] = list(self.alpha_betas)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "MilenasConfig":
        """Inverse of ``to_dict``; unknown keys are an error."""
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise MilenasError(f"unknown MiLeNAS config field(s): {', '.join(sorted(unknown))}")
        return cls(**dict(data))
