"""``LatentModel``: a trained G-VAE + ICNN loaded from a run directory, for notebooks and the latent searches.

    from lso.models.workbench import LatentModel
    model = LatentModel.load("runs/c10_s0")            # device="cpu" by default
    z = model.encode(["|nor_conv_3x3~0|+|...|", ...])   # mu, [n, 16]
    cells = model.decode(z)                            # list[Cell], always valid
    acc = model.predict(z)                             # surrogate score in table units (e.g. % accuracy), [n]
    g = model.grad(z)                                  # d predict / d z, [n, 16] (ascent direction)
    model.fit_surrogate(z_queried, y_queried, steps=200, lr=1e-3)   # fine-tune the ICNN, convexity kept
    for epoch in model.surrogate_epochs():             # ICNNs saved along training, smoothest (0) first
        m_t = model.with_surrogate(epoch)              # same G-VAE, that ICNN: for surfing

The score is concave in ``z`` (``predict = y_mean - y_std * f(z)`` with ``f`` an ICNN, ``lso.models.icnn``).
Note that the ICNNs saved at epoch ``t`` were trained jointly with the encoder of epoch ``t``; on the final latent
space the early ones are smooth concave functions of ``z`` rather than fitted surrogates. For a surfing sequence
fitted on the final latent space use ``fit_surrogate(..., reset=True, snapshot_every=k)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import torch
from safetensors.torch import load_file

from lso.data.graphs import all_graphs, graphs_from_ops, ops_of
from lso.errors import LsoError
from lso.models.decoder import check_latents
from lso.models.gvae import GVAE
from lso.models.icnn import ICNN, SurrogateFit, check_fit_inputs, fit_icnn
from lso.runs.format import RunFormatError, RunLayout, read_record
from lso.space import Cell


class RunLoadError(LsoError):
    """A run directory that lacks a file needed to load the model, or holds an unreadable one."""


class LatentModel:
    """Encoder, decoder and surrogate of one run, on one device. All tensors returned live on ``self.device``."""

    def __init__(self, gvae: GVAE, surrogate: ICNN, *, run_dir: Path | None = None, config: dict | None = None,
                 metric: str = "", device: torch.device | str = "cpu") -> None:
        self.device = torch.device(device)
        self.gvae = gvae.to(self.device).eval()
        self.surrogate = surrogate.to(self.device).eval()
        self.run_dir = run_dir
        self.config = dict(config or {})
        self.metric = metric

    # ----- loading ----------------------------------------------------------------------------------------------
    @classmethod
    def load(cls, run_dir: str | os.PathLike[str], device: torch.device | str = "cpu") -> "LatentModel":
        """Load the final G-VAE and ICNN of a finished run (``lso train ... --out RUN_DIR``)."""
        from lso.device import resolve_device

        layout = RunLayout.at(run_dir)
        for path in (layout.config, layout.gvae, layout.surrogate):
            if not path.exists():
                raise RunLoadError(f"{layout.root} is not a finished training run: {path.name} is missing")
        try:
            record = read_record(layout)
        except RunFormatError as err:
            raise RunLoadError(str(err)) from err
        config = record.config.to_dict()
        dev = resolve_device(device)
        gvae = GVAE(config["latent_dim"], config["hidden"], config["layers"], config["conv"])
        gvae.load_state_dict(_read(layout.gvae))
        return cls(gvae, _icnn(config, _read(layout.surrogate)), run_dir=layout.root, config=config,
                   metric=record.metric, device=dev)

    @property
    def latent_dim(self) -> int:
        return self.gvae.latent_dim

    def surrogate_epochs(self) -> list[int]:
        """Epochs with a saved ICNN in the run directory, ascending (0 = the initialisation)."""
        return RunLayout.at(self.run_dir).surrogate_epochs() if self.run_dir else []

    def load_surrogate(self, epoch: int) -> ICNN:
        """The ICNN saved after ``epoch`` epochs (a new module on ``self.device``)."""
        if self.run_dir is None:
            raise RunLoadError("this model was not loaded from a run directory: no saved surrogates")
        path = RunLayout.at(self.run_dir).surrogate_at(epoch)
        if not path.exists():
            raise RunLoadError(f"no surrogate saved at epoch {epoch}; saved epochs: {self.surrogate_epochs()}")
        return _icnn(self.config, _read(path)).to(self.device).eval()

    def with_surrogate(self, surrogate: int | ICNN) -> "LatentModel":
        """A model sharing this G-VAE with another ICNN: a saved epoch (int) or a module (e.g. a fit snapshot)."""
        icnn = self.load_surrogate(surrogate) if isinstance(surrogate, int) else surrogate
        return LatentModel(self.gvae, icnn, run_dir=self.run_dir, config=self.config, metric=self.metric,
                           device=self.device)

    # ----- encode / decode ----------------------------------------------------------------------------------------
    @torch.no_grad()
    def encode(self, cells: Sequence[Cell | str]) -> torch.Tensor:
        """Posterior means ``mu`` of cells (Cells or official strings), ``[n, d]``."""
        return self.gvae.encode_mean(graphs_from_ops(ops_of(cells).to(self.device)))

    @torch.no_grad()
    def encode_all(self) -> torch.Tensor:
        """``mu`` of all 15,625 cells in official index order, ``[15625, d]``."""
        return self.gvae.encode_mean(all_graphs(self.device))

    @torch.no_grad()
    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder logits ``[n, 6, 5]`` (slot x op, ``lso.space.OPS`` order) for latents ``[n, d]``."""
        return self.gvae.decoder(self._latents(z))

    def decode(self, z: torch.Tensor) -> list[Cell]:
        """Latents ``[n, d]`` (or one ``[d]``) -> cells, always valid. NaN/inf raise ``LatentError``."""
        return self.gvae.decoder.decode(self._latents(z))

    # ----- surrogate ------------------------------------------------------------------------------------------------
    @torch.no_grad()
    def predict(self, z: torch.Tensor) -> torch.Tensor:
        """Surrogate score (table units, e.g. % accuracy) at latents ``[n, d]`` -> ``[n]``; concave in ``z``."""
        return self.surrogate.predict(self._latents(z))

    def predict_cells(self, cells: Sequence[Cell | str]) -> torch.Tensor:
        """Surrogate score of cells at their encodings, ``[n]``."""
        return self.predict(self.encode(cells))

    def grad(self, z: torch.Tensor) -> torch.Tensor:
        """Gradient of ``predict`` w.r.t. ``z``, ``[n, d]`` (rows independent: the ascent direction per latent)."""
        z = self._latents(z).detach().requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad(self.surrogate.predict(z).sum(), z)
        return grad

    def fit_surrogate(self, z: torch.Tensor, y: torch.Tensor, steps: int = 200, lr: float = 1e-3, *,
                      reset: bool = False, rescale: bool | None = None, snapshot_every: int = 0,
                      seed: int = 0) -> SurrogateFit:
        """Fine-tune the ICNN in place on pairs ``(z [m, d], y [m])`` (``y`` in table units), full batch, Adam.

        Loss ``mean((-f(z) - (y - y_mean) / y_std)^2)``; ``project_()`` after every step keeps ``f`` convex.
        ``reset``: start from a fresh ICNN initialised with ``torch.manual_seed(seed)`` (forked RNG).
        ``rescale``: set ``y_mean``/``y_std`` from ``y`` first (default: only when the ICNN never saw labels,
        e.g. a ``--labels 0`` run). ``snapshot_every > 0``: keep copies of the ICNN every that many steps (surfing).
        """
        z = self._latents(z).detach()
        y = check_fit_inputs(z, y, steps, lr)  # before a reset, so a bad call leaves the surrogate as it was
        if reset:
            old = self.surrogate
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                self.surrogate = ICNN(self.latent_dim, _hidden(self.config)).to(self.device)
            self.surrogate.load_state_dict({**self.surrogate.state_dict(),
                                            **{k: old.state_dict()[k] for k in ("y_mean", "y_std", "fitted")}})
        return fit_icnn(self.surrogate, z, y, steps=steps, lr=lr, rescale=rescale, snapshot_every=snapshot_every)

    def _latents(self, z: torch.Tensor) -> torch.Tensor:
        return check_latents(z, self.latent_dim).to(device=self.device, dtype=torch.float32)


def _hidden(config: dict) -> tuple[int, ...]:
    return tuple(config.get("icnn_hidden", (64, 64)))


def _icnn(config: dict, state: dict[str, torch.Tensor]) -> ICNN:
    icnn = ICNN(config["latent_dim"], _hidden(config))
    icnn.load_state_dict(state)
    return icnn.eval()


def _read(path: Path) -> dict[str, torch.Tensor]:
    try:
        return load_file(str(path))
    except Exception as err:  # safetensors raises its own error types for truncated/corrupt files
        raise RunLoadError(f"cannot read {path}: {err}") from err
