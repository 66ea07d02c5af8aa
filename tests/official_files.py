"""Small benchmark files in the official formats, built with the packages' own classes (test helper, not a test).

``write_nb201_pth`` writes a real NAS-Bench-201 ``.pth`` (``torch.save`` of the official top-level dict of
``nas_201_api.ArchResults`` state dicts); ``write_nats_tss`` writes a real NATS-Bench tss folder (``nats_bench``'s
``pickle_save`` of ``meta`` and per-architecture ``ArchResults`` state dicts). Only a few architectures are filled in.
Every value is distinct per (index, dataset, split, seed, epoch), so a reader that mixes them up gets wrong numbers.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from lso.space import MacroConfig, all_cells, flops, num_params

# official dataset name -> (evaluation splits, number of classes)
DATASETS = {
    "cifar10-valid": (("x-valid", "ori-test"), 10),
    "cifar10": (("ori-test",), 10),
    "cifar100": (("x-valid", "x-test", "ori-test"), 100),
    "ImageNet16-120": (("x-valid", "x-test", "ori-test"), 120),
}
_DS_CODE = {"cifar10-valid": 1, "cifar10": 2, "cifar100": 3, "ImageNet16-120": 4}
_SET_CODE = {"train": 0, "x-valid": 1, "ori-test": 2, "x-test": 3}


def seeds(epochs: int) -> tuple[int, ...]:
    """Seeds of the fake runs: one for the 12-epoch budget, two otherwise (as NAS-Bench-201 mostly has)."""
    return (111,) if epochs == 12 else (777, 888)


def accuracy(index: int, dataset: str, setname: str, seed: int, epoch: int, epochs: int) -> float:
    """The accuracy the fake run reports; the last epoch is the one that counts."""
    last = 30.0 if epoch == epochs - 1 else 0.0
    return last + (index % 37) + 0.5 * _DS_CODE[dataset] + 0.125 * _SET_CODE[setname] + 0.01 * (seed % 10) + 0.001 * (epochs == 12)


def expected(index: int, dataset: str, setname: str, epochs: int = 200) -> float:
    """Mean over seeds after the last epoch (what the importer must report)."""
    return float(np.mean([accuracy(index, dataset, setname, s, epochs - 1, epochs) for s in seeds(epochs)]))


def latency_s(index: int, dataset: str) -> float:
    return 0.001 * (1 + index % 5) + 0.0001 * _DS_CODE[dataset]


def _arch_results(module, index: int, epochs: int, numpy_scalars: bool, datasets=DATASETS):
    cell = all_cells()[index]
    arch = cell.to_string()
    results = module.ArchResults(index, arch)
    num = np.float64 if numpy_scalars else float
    for dataset in datasets:
        splits, classes = DATASETS[dataset]
        macro = MacroConfig(num_classes=classes, input_size=16 if dataset == "ImageNet16-120" else 32)
        for seed in seeds(epochs):
            train = {e: num(accuracy(index, dataset, "train", seed, e, epochs)) for e in range(epochs)}
            losses = {e: num(1.0 / (e + 1)) for e in range(epochs)}
            run = module.ResultsCount(
                dataset, None, train, losses,
                num(num_params(cell, macro) / 1e6), num(flops(cell, macro) / 1e6),
                {"name": "infer.tiny", "channel": 16, "num_cells": 5, "arch_str": arch, "class_num": classes},
                seed, epochs, [num(latency_s(index, dataset))],
            )
            accs, eval_losses, times = {}, {}, {}
            for split in splits:
                for e in range(epochs):
                    key = f"{split}@{e}"
                    accs[key] = num(accuracy(index, dataset, split, seed, e, epochs))
                    eval_losses[key] = num(0.5)
                    times[key] = num(0.1)
            run.update_train_info(train, None, losses, {e: 1.0 for e in range(epochs)})
            run.update_eval(accs, eval_losses, times)
            results.update(dataset, seed, run)
    return results.state_dict()


def write_nb201_pth(path: Path, indices, *, numpy_scalars: bool = False, epochs_full: int = 200) -> Path:
    """A NAS-Bench-201 ``.pth`` holding results for ``indices`` only (meta_archs lists all 15,625)."""
    import nas_201_api
    import torch

    infos = {
        int(i): {
            "less": _arch_results(nas_201_api, int(i), 12, numpy_scalars, datasets=("cifar10-valid",)),
            "full": _arch_results(nas_201_api, int(i), epochs_full, numpy_scalars),
        }
        for i in indices
    }
    data = {
        "meta_archs": [c.to_string() for c in all_cells()],
        "arch2infos": infos,
        "evaluated_indexes": sorted(int(i) for i in indices),
    }
    torch.save(data, path)
    return path


def write_nats_tss(folder: Path, indices, *, epochs_full: int = 200) -> Path:
    """A NATS-Bench tss folder (``meta.pickle.pbz2`` + ``{index:06d}.pickle.pbz2``) for ``indices`` only."""
    import nats_bench.api_utils as nats

    folder.mkdir(parents=True, exist_ok=True)
    nats.pickle_save({"meta_archs": [c.to_string() for c in all_cells()], "search_space": "tss"}, str(folder / "meta.pickle"))
    for i in indices:
        data = {"12": _arch_results(nats, int(i), 12, False), "200": _arch_results(nats, int(i), epochs_full, False)}
        nats.pickle_save(data, str(folder / f"{int(i):06d}.pickle"))
    return folder
