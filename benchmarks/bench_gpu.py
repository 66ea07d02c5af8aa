"""Every ``--device cuda`` path of lso in one command, each beside the same settings on the CPU (a ratio).

    .venv/bin/python benchmarks/bench_gpu.py [--out out/gpu] [--keep]

Runs the real CLI (a subprocess per step, as a user would) on small settings, first with ``--device cpu`` then
``--device cuda``: G-VAE + ICNN training (``lso train``), a CR-LSO search from that run (``lso search``), one cell
trained by the oracle (``lso query``), a small benchmark build (``lso bench build --limit``), S3D refinement
(``lso refine``) and MiLeNAS (``lso milenas``). Prints wall seconds per step on each device, the CPU/GPU ratio, and
the step's figure on each device (they should agree up to run-to-run noise). Meant to finish in under 5 minutes
on one GPU; run it whenever a session is lent one. Without CUDA it fails with one clear line (exit 2).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"


@dataclass(frozen=True)
class Step:
    """One CLI call; ``argv`` may hold ``{dev}`` and ``{out}``; ``figure(out_dir, dev)`` reads its headline figure."""

    name: str
    argv: tuple[str, ...]
    figure: object


def _json(path: Path) -> dict:
    return json.loads(path.read_text())


def _query_figure(cache: Path) -> str:
    """The test accuracy of the cell ``lso query`` trained (its run cache's last record)."""
    result = json.loads(cache.read_text().strip().splitlines()[-1])["result"]
    return f"test {result['test_acc']:.2f}"


def steps(table: str) -> list[Step]:
    """The CUDA paths, smallest settings that still exercise them."""
    return [
        Step("train (G-VAE + ICNN, 5 epochs, 100 labels)",
             ("train", "--bench", table, "--labels", "100", "--epochs", "5", "--seed", "0", "--device", "{dev}",
              "--out", "{out}/run_{dev}", "--no-progress"),
             lambda out, dev: f"recon {_json(out / f'run_{dev}' / 'metrics.json')['reconstruction_accuracy']:.4f}"),
        Step("search (crlso, 200 queries)",
             ("search", "--run", "{out}/run_{dev}", "--bench", table, "--method", "crlso", "--budget", "200",
              "--seed", "0", "--device", "{dev}", "--out", "{out}/search_{dev}.json"),
             lambda out, dev: f"best {_json(out / f'search_{dev}.json')['best']['report']:.3f}"),
        Step("query (one cell, digits-fast)",
             ("query", "--dataset", "digits", "--arch", ARCH, "--seed", "0", "--device", "{dev}",
              "--cache", "{out}/query_{dev}.jsonl"),
             lambda out, dev: _query_figure(out / f"query_{dev}.jsonl")),
        Step("bench build (8 unique cells)",
             ("bench", "build", "--dataset", "digits", "--protocol", "digits-fast", "--limit", "8", "--device", "{dev}",
              "--workers", "0", "--out", "{out}/build_{dev}.parquet", "--no-progress"),
             lambda out, dev: "8 cells"),
        Step("refine (s3d, 2 rounds)",
             ("refine", "--arch", ARCH, "--method", "s3d", "--rounds", "2", "--seed", "0", "--device", "{dev}",
              "--out", "{out}/refine_{dev}.json", "--no-progress"),
             lambda out, dev: f"test {_json(out / f'refine_{dev}.json')['rounds'][-1]['test_accuracy']:.2f}"),
        Step("milenas (5 epochs)",
             ("milenas", "--epochs", "5", "--seed", "0", "--device", "{dev}", "--out", "{out}/milenas_{dev}.json",
              "--no-progress"),
             lambda out, dev: f"derived cell scores {_json(out / f'milenas_{dev}.json')['report']:.2f}"),
    ]


def run_step(lso: list[str], step: Step, out: Path, dev: str) -> tuple[float, str]:
    argv = [*lso, *(a.format(dev=dev, out=out) for a in step.argv)]
    start = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return wall, "FAILED: " + " | ".join(tail)
    try:
        return wall, step.figure(out, dev)
    except (OSError, KeyError, ValueError) as err:
        return wall, f"no figure ({err})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out/gpu"))
    parser.add_argument("--keep", action="store_true", help="keep the outputs of the last run")
    parser.add_argument("--cpu-only", action="store_true", help="check the steps on the CPU alone (no GPU needed)")
    args = parser.parse_args()
    import torch

    if not args.cpu_only and not torch.cuda.is_available():
        print("error: no CUDA device here: bench_gpu.py measures the --device cuda paths and needs a GPU",
              file=sys.stderr)
        sys.exit(2)
    from lso.bench.default import default_table_path

    table = str(default_table_path())
    lso = [sys.executable, "-m", "lso.cli.main"]  # the CLI of the lso this Python imports (installed or not)
    if args.out.exists() and not args.keep:
        shutil.rmtree(args.out)
    args.out.mkdir(parents=True, exist_ok=True)
    gpu = "none (--cpu-only)" if args.cpu_only else torch.cuda.get_device_name(0)
    print(f"GPU: {gpu}; torch {torch.__version__}; table {table}")
    print("| step | cpu s | cuda s | cpu/cuda | cpu figure | cuda figure |")
    print("| --- | ---: | ---: | ---: | --- | --- |")
    total = time.perf_counter()
    for step in steps(table):
        cpu_s, cpu_fig = run_step(lso, step, args.out, "cpu")
        gpu_s, gpu_fig = (float("nan"), "-") if args.cpu_only else run_step(lso, step, args.out, "cuda")
        print(f"| {step.name} | {cpu_s:.1f} | {gpu_s:.1f} | {cpu_s / gpu_s:.2f} | {cpu_fig} | {gpu_fig} |", flush=True)
    print(f"\ntotal {time.perf_counter() - total:.0f} s")


if __name__ == "__main__":
    main()
