"""Cost of the splitting values (fast route) against one training epoch, on the small CNN (issue 6 target:
"the splitting-value computation costs no more than one training epoch").

Data: scikit-learn's digits when installed, else a synthetic offline set (10 classes of smooth random 16x16
templates plus noise, seeded). Both are tiny; the point is the ratio of the two costs on the same network.

    .venv/bin/python benchmarks/bench_splitting.py                    # CPU
    .venv/bin/python benchmarks/bench_splitting.py --device cuda      # GPU
    .venv/bin/python benchmarks/bench_splitting.py --widths 64,128 --value-samples 512 --steps 8
"""

from __future__ import annotations

import argparse
import time

import torch
import torch.nn.functional as F

from lso.growth import collect_statistics, eigenpairs_exact, eigenpairs_fast, splitting_matrices
from lso.growth.small_nets import SmallCNN
from lso.growth.splitting import second_derivative_of


def dataset(n: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, str]:
    try:
        from sklearn.datasets import load_digits  # optional

        d = load_digits()
        x = torch.tensor(d.images, dtype=torch.float32)[:, None] / 16.0
        return x, torch.tensor(d.target), "sklearn digits (8x8)"
    except ImportError:
        g = torch.Generator().manual_seed(seed)
        templates = F.avg_pool2d(torch.randn(10, 1, 20, 20, generator=g), 5, stride=1)  # smooth 16x16 patterns
        y = torch.randint(0, 10, (n,), generator=g)
        x = templates[y] + 0.5 * torch.randn(n, 1, 16, 16, generator=g)
        return x, y, f"synthetic ({n} x 1x16x16, 10 classes)"


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--widths", default="32,64")
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--value-samples", type=int, default=512, help="samples for the splitting statistics")
    parser.add_argument("--steps", type=int, default=8, help="block products S V per site (fast route)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise SystemExit("CUDA asked for but not available")
    torch.manual_seed(args.seed)
    x, y, name = dataset(args.samples, args.seed)
    x, y = x.to(device), y.to(device)
    widths = tuple(int(w) for w in args.widths.split(","))
    net = SmallCNN(1, widths, 10).to(device)
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    batches = [(x[i:i + args.batch], y[i:i + args.batch]) for i in range(0, len(x), args.batch)]
    vb = [(x[i:i + args.batch], y[i:i + args.batch]) for i in range(0, args.value_samples, args.batch)]
    sd = second_derivative_of(net.act1)  # ReLU: the softplus(beta=3) stand-in

    def epoch() -> float:
        net.train()
        for xb, yb in batches:
            loss = F.cross_entropy(net(xb), yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.detach())

    def values(route: str) -> tuple[float, float, dict]:
        sync(device)
        t0 = time.perf_counter()
        stats = collect_statistics(net, net.sites(), vb, F.cross_entropy, sd)
        sync(device)
        t1 = time.perf_counter()
        pairs = {}
        for site, st in stats.items():
            if route == "fast":
                pairs[site] = eigenpairs_fast(st, steps=args.steps, generator=torch.Generator().manual_seed(0))
            else:
                pairs[site] = eigenpairs_exact(splitting_matrices(st))
        sync(device)
        return t1 - t0, time.perf_counter() - t1, pairs

    epoch()  # warm-up (and a trained-ish network)
    epoch()
    t_epoch, t_stats, t_eig, t_exact = [], [], [], []
    for _ in range(args.repeats):
        sync(device)
        t0 = time.perf_counter()
        loss = epoch()
        sync(device)
        t_epoch.append(time.perf_counter() - t0)
        s, e, fast = values("fast")
        t_stats.append(s)
        t_eig.append(e)
        s2, e2, exact = values("exact")
        t_exact.append(s2 + e2)
    med = lambda v: sorted(v)[len(v) // 2]  # noqa: E731
    dims = {s: int(fast[s].v_min.shape[1]) for s in fast}
    errs = {s: float(((fast[s].lambda_min - exact[s].lambda_min).abs().max()
                      / exact[s].lambda_max.abs().max().clamp_min(1e-30))) for s in fast}
    print(f"device {device}, data {name}, SmallCNN widths {widths}, params "
          f"{sum(p.numel() for p in net.parameters())}, last train loss {loss:.3f}")
    print(f"one training epoch ({len(x)} samples, batch {args.batch}): {med(t_epoch) * 1000:.1f} ms")
    print(f"fast splitting values ({args.value_samples} samples, {args.steps} products/site, d = {dims}): "
          f"{(med(t_stats) + med(t_eig)) * 1000:.1f} ms = statistics {med(t_stats) * 1000:.1f} ms + eigenpairs "
          f"{med(t_eig) * 1000:.1f} ms  -> {(med(t_stats) + med(t_eig)) / med(t_epoch):.2f} epochs")
    print(f"exact route (form S, eigh): {med(t_exact) * 1000:.1f} ms -> {med(t_exact) / med(t_epoch):.2f} epochs")
    print(f"fast vs exact lambda_min, max error / max|lambda|: {errs}")


if __name__ == "__main__":
    main()
