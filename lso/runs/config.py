"""The typed training configuration (frozen, recorded in every run's ``config.json``: ``lso.runs.format``).

It lives with the run format, below the models, so that a run's saved record can be read by every layer that
loads one (``lso.models.workbench`` included). ``lso.train.config`` re-exports it. ``CONV_KINDS``, the encoder layer
kinds a config may name, is defined here and used by ``lso.models.layers``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Literal, get_args

from lso.errors import LsoError

ConvKind = Literal["edge", "gine", "gat"]
"""The encoder's message-passing layer kinds (``lso.models.layers`` builds them)."""
CONV_KINDS: tuple[str, ...] = get_args(ConvKind)


class ConfigError(LsoError):
    """A training configuration with a bad value, or one that does not match the run being resumed."""


@dataclass(frozen=True)
class TrainConfig:
    """Joint G-VAE + ICNN training (CR-LSO, Rao et al. 2022), with the values tuned for a 2-core CPU budget.

    The paper trains 200 epochs at lr 1e-4 with hidden 256; a 10x higher lr, hidden 128 and fewer epochs reach the
    same reconstruction in the 120 s budget (see benchmarks/bench_gvae.py).
    """

    epochs: int = 30
    batch_size: int = 256
    lr: float = 2e-3
    latent_dim: int = 16
    hidden: int = 128
    layers: int = 3
    conv: str = "edge"  # the encoder's torch-geometric layer: edge (CR-LSO's), gine or gat (lso.models.layers)
    icnn_hidden: tuple[int, ...] = (64, 64)
    beta: float = 0.005
    surrogate_weight: float = 1.0  # weight of the MSE on the true labels
    surrogate_warmup: int = 3  # surrogate/pseudo weights ramp from 0 linearly over these epochs (VAE first)
    labelled_batch: int = 64  # labelled cells drawn for the surrogate loss at every step
    labels: int = 300  # size of the seeded random labelled sample of the table (0: unsupervised G-VAE)
    pseudo_labels: bool = False  # measured: 300 labels give Spearman 0.854 without, 0.832 with (bench_gvae.py)
    pseudo_weight: float = 1.0  # weight of the MSE on the predictor's pseudo-labels
    predictor_hidden: int = 64
    predictor_steps: int = 400
    predictor_lr: float = 2e-3
    grad_clip: float = 5.0  # max gradient norm of the G-VAE parameters per step
    surrogate_every: int = 5  # save the ICNN every this many epochs (for surfing)
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "icnn_hidden", tuple(int(h) for h in self.icnn_hidden))
        positive = ("epochs", "batch_size", "latent_dim", "hidden", "layers", "labelled_batch", "predictor_hidden",
                    "predictor_steps", "surrogate_every")
        if self.surrogate_warmup < 0:
            raise ConfigError(f"TrainConfig.surrogate_warmup must be >= 0, got {self.surrogate_warmup}")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"TrainConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.labels < 0:
            raise ConfigError(f"TrainConfig.labels must be >= 0, got {self.labels}")
        for name in ("lr", "predictor_lr"):
            if not getattr(self, name) > 0:
                raise ConfigError(f"TrainConfig.{name} must be > 0, got {getattr(self, name)}")
        for name in ("beta", "surrogate_weight", "pseudo_weight"):
            if getattr(self, name) < 0:
                raise ConfigError(f"TrainConfig.{name} must be >= 0, got {getattr(self, name)}")
        if self.conv not in CONV_KINDS:
            raise ConfigError(f"TrainConfig.conv must be one of {', '.join(CONV_KINDS)}, got {self.conv!r}")
        if not self.icnn_hidden or min(self.icnn_hidden) < 1:
            raise ConfigError(f"TrainConfig.icnn_hidden needs at least one positive width, got {self.icnn_hidden}")

    @property
    def uses_pseudo_labels(self) -> bool:
        """Pseudo-labels need labelled cells to train the predictor on."""
        return self.pseudo_labels and self.labels > 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["icnn_hidden"] = list(self.icnn_hidden)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"unknown TrainConfig fields: {', '.join(unknown)}")
        return cls(**data)

    def differences(self, other: "TrainConfig") -> list[str]:
        """Names of the fields whose values differ."""
        return [f.name for f in fields(self) if getattr(self, f.name) != getattr(other, f.name)]
