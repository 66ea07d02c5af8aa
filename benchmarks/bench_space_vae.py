"""Figures of the per-space G-VAE (NB101, DARTS) against issue 18's targets, on this machine.

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_space_vae.py --space nb101|darts \\
        [--train 50000] [--heldout 5000] [--epochs 20] [--seed 0] [--save out/space_vae_nb101.safetensors]

Trains a ``SpaceVAE`` (``lso.models.space_vae``) on ``--train`` unique sampled cells and prints reconstruction on
``--heldout`` other unique cells (exact match of the canonical form), validity and uniqueness of ``--prior`` decodes
of z ~ N(0, I), the loss per epoch and the times (wall times depend on the shared CPU's load).
Targets (issue 18): trained on 50,000 cells, reconstruction >= 0.99 on 5,000 held-out, validity >= 0.99,
uniqueness >= 0.5.
"""

from __future__ import annotations

import argparse
import time

from lso.device import resolve_device
from lso.jobs import ProgressEvent, Reporter
from lso.models.space_vae import SpaceVAEConfig, save_space_vae
from lso.models.space_vae_train import train_space_vae

TARGETS = {"reconstruction": 0.99, "validity": 0.99, "uniqueness": 0.5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--space", choices=("nb101", "darts"), required=True)
    parser.add_argument("--train", type=int, default=50_000)
    parser.add_argument("--heldout", type=int, default=5_000)
    parser.add_argument("--epochs", type=int, default=SpaceVAEConfig.epochs)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latent-dim", type=int, default=SpaceVAEConfig.latent_dim)
    parser.add_argument("--hidden", type=int, default=SpaceVAEConfig.hidden)
    parser.add_argument("--beta", type=float, default=SpaceVAEConfig.beta)
    parser.add_argument("--lr", type=float, default=SpaceVAEConfig.lr)
    parser.add_argument("--batch-size", type=int, default=SpaceVAEConfig.batch_size)
    parser.add_argument("--readout", choices=("dense", "sum"), default=SpaceVAEConfig.readout)
    parser.add_argument("--prior", type=int, default=10_000, help="prior samples for validity and uniqueness")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--save", default=None, help="write the trained model here (safetensors)")
    args = parser.parse_args()
    config = SpaceVAEConfig(
        space=args.space, latent_dim=args.latent_dim, hidden=args.hidden, beta=args.beta, lr=args.lr,
        batch_size=args.batch_size, epochs=args.epochs, readout=args.readout,
    )
    print(f"config: {config}")
    start = time.perf_counter()

    def show(event: ProgressEvent) -> None:
        print(f"epoch {event.done}/{event.total}  loss {event.figures['loss']:.3f}  {event.time_s:.0f} s", flush=True)

    model, r = train_space_vae(
        config, train=args.train, heldout=args.heldout, seed=args.seed, device=resolve_device(args.device),
        prior_samples=args.prior, reporter=Reporter(show),
    )
    wall = time.perf_counter() - start
    if args.save:
        save_space_vae(model, args.save)
    print("epoch losses: " + " ".join(f"{x:.3f}" for x in r.epoch_losses))
    print(f"space {r.space}  seed {r.seed}  train cells {r.train_cells}  held-out cells {r.heldout_cells}  epochs {r.epochs}")
    for name, target in TARGETS.items():
        value = getattr(r, name)
        print(f"{name:15s} {value:.4f}  (target >= {target}: {'met' if value >= target else 'NOT met'})")
    print(f"{'train recon':15s} {r.train_reconstruction:.4f}  (on {min(r.train_cells, max(args.heldout, 1))} training cells)")
    print(f"prior samples   {r.prior_samples}")
    print(f"train seconds   {r.train_seconds:.1f}  (training loop only)")
    print(f"wall seconds    {wall:.1f}  (sampling, training, metrics)")


if __name__ == "__main__":
    main()
