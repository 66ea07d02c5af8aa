"""Offline image-classification datasets with a fixed, seeded train/valid/test split, and their registry.

A dataset is loaded whole into memory as tensors (these datasets are small; CIFAR is 0.7 GB as float32):
``x`` is ``[n, channels, size, size]`` float32, standardised with statistics of the train split only, and ``y``
is ``[n]`` int64 class ids. The split is a pure function of ``split_seed``: the same seed gives the same split on
every machine.

Registered datasets:

- ``digits``: scikit-learn's handwritten digits (1,797 images, 8x8 grayscale, 10 classes; ships inside
  scikit-learn, no download). Stratified split 50% / 25% / 25% (898 / 449 / 450 images).
- ``mnist1d``: MNIST-1D (Greydanus 2020), 5,000 1-D signals of 40 samples, 10 classes, generated offline by the
  ``mnist1d`` package (``lso.data.mnist1d``). ``x`` is ``[n, 1, 40]`` (a 1-D dataset: ``input_size`` is the
  signal length and the network is ``lso.nets.network1d``). Split 3,000 train / 1,000 valid (seeded, stratified,
  from the package's 4,000 train signals) / 1,000 test (the package's test signals).
- ``cifar10`` / ``cifar100``: via torchvision, when installed, from files already under ``root`` (no download
  unless asked). As NAS-Bench-201's ``cifar10-valid``: the official train set is split half train, half valid
  (seeded, stratified) and the official test set is the test split.
"""

from __future__ import annotations

import importlib.util

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Callable, Mapping

import numpy as np
import torch

from lso.errors import LsoError
from lso.space import MacroConfig


class DatasetError(LsoError):
    """An unknown dataset, a missing optional package, or dataset files that are not there."""


@dataclass(frozen=True)
class Split:
    """One split: images ``x`` ``[n, C, S, S]`` float32 and labels ``y`` ``[n]`` int64."""

    x: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def head(self, n: int) -> "Split":
        """The first ``n`` examples (the split is already shuffled, so this is a seeded random subset)."""
        return Split(self.x[:n], self.y[:n])

    def to(self, device: torch.device | str) -> "Split":
        """The split on ``device``."""
        return Split(self.x.to(device), self.y.to(device))


@dataclass(frozen=True)
class ImageDataset:
    """A dataset with its three splits and what the network needs to know about it."""

    name: str
    train: Split
    valid: Split
    test: Split
    num_classes: int
    in_channels: int
    input_size: int
    split_seed: int
    source: str

    def macro(self, channels: int = 16, cells_per_stage: int = 5) -> MacroConfig:
        """The NB201 macro network sized for this dataset."""
        return MacroConfig(
            channels=channels,
            cells_per_stage=cells_per_stage,
            num_classes=self.num_classes,
            in_channels=self.in_channels,
            input_size=self.input_size,
        )

    @property
    def spatial_dims(self) -> int:
        """2 for images ``[n, C, S, S]``, 1 for signals ``[n, C, L]`` (``mnist1d``)."""
        return int(self.train.x.dim()) - 2

    def sizes(self) -> tuple[int, int, int]:
        """Number of train, valid and test examples."""
        return len(self.train), len(self.valid), len(self.test)


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: name, one-line description, and ``load(split_seed, root) -> ImageDataset``."""

    name: str
    description: str
    load: Callable[[int, Path | None], ImageDataset]
    needs: str = ""  # optional package it needs (its pip name), for the error message
    module: str = ""  # the import name of ``needs`` when it differs from the pip name
    needs_files: bool = False  # read from a folder of its files (``root``), not generated or shipped
    dims: int = 2  # 2: images [n, C, S, S]; 1: signals [n, C, L] (its loaded data's ``spatial_dims``)


def _stratified_split(labels: np.ndarray, fractions: tuple[float, ...], seed: int) -> list[np.ndarray]:
    """Index arrays, one per fraction, each holding that fraction of every class; order shuffled by ``seed``."""
    rng = np.random.default_rng(seed)
    parts: list[list[np.ndarray]] = [[] for _ in fractions]
    bounds = np.cumsum(fractions)
    for cls in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == cls))
        cuts = np.round(bounds * len(members)).astype(int)
        start = 0
        for k, stop in enumerate(cuts):
            parts[k].append(members[start:stop])
            start = stop
    return [rng.permutation(np.concatenate(p)) for p in parts]


def _standardised(images: np.ndarray, train_idx: np.ndarray) -> torch.Tensor:
    """``(x - mean_c) / std_c`` with per-channel statistics of the train split; ``images`` is ``[n, C, S, S]``."""
    x = images.astype(np.float32)
    mean = x[train_idx].mean(axis=(0, 2, 3), keepdims=True)
    std = x[train_idx].std(axis=(0, 2, 3), keepdims=True) + 1e-6
    return torch.from_numpy((x - mean) / std)


def _splits(x: torch.Tensor, y: np.ndarray, parts: list[np.ndarray]) -> list[Split]:
    labels = torch.from_numpy(y.astype(np.int64))
    return [Split(x[torch.from_numpy(p)], labels[torch.from_numpy(p)]) for p in parts]


def _load_digits(split_seed: int, root: Path | None) -> ImageDataset:
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise DatasetError("dataset 'digits' needs scikit-learn: pip install scikit-learn") from err
    bunch = load_digits()
    images = np.asarray(bunch.images, dtype=np.float32)[:, None] / 16.0  # [1797, 1, 8, 8], pixel values 0..16
    labels = np.asarray(bunch.target)
    parts = _stratified_split(labels, (0.5, 0.25, 0.25), split_seed)
    train, valid, test = _splits(_standardised(images, parts[0]), labels, parts)
    return ImageDataset(
        "digits", train, valid, test, num_classes=10, in_channels=1, input_size=8, split_seed=split_seed,
        source="scikit-learn load_digits (UCI optdigits test set, 1,797 images)",
    )


def _load_mnist1d(split_seed: int, root: Path | None) -> ImageDataset:
    try:
        from lso.data.mnist1d import SEQ_LEN, generate_mnist1d, standardised_1d

        x_train, y_train, x_test, y_test = generate_mnist1d()
    except ImportError as err:
        raise DatasetError("dataset 'mnist1d' needs the mnist1d package: pip install mnist1d") from err
    signals = np.concatenate([x_train, x_test])
    labels = np.concatenate([y_train, y_test])
    train_idx, valid_idx = _stratified_split(y_train, (0.75, 0.25), split_seed)
    parts = [train_idx, valid_idx, np.arange(len(y_train), len(labels))]
    train, valid, test = _splits(standardised_1d(signals, train_idx), labels, parts)
    return ImageDataset(
        "mnist1d", train, valid, test, num_classes=10, in_channels=1, input_size=SEQ_LEN, split_seed=split_seed,
        source="mnist1d package make_dataset (default args, seed 42), generated offline",
    )


def _load_cifar(name: str, num_classes: int, split_seed: int, root: Path | None) -> ImageDataset:
    try:
        import torchvision
    except ImportError as err:
        raise DatasetError(f"dataset {name!r} needs torchvision: pip install torchvision") from err
    if root is None:
        raise DatasetError(f"dataset {name!r} needs --data-root: the folder holding the torchvision {name} files")
    cls = torchvision.datasets.CIFAR10 if num_classes == 10 else torchvision.datasets.CIFAR100
    try:
        official_train = cls(str(root), train=True, download=False)
        official_test = cls(str(root), train=False, download=False)
    except RuntimeError as err:  # torchvision raises RuntimeError for missing or corrupt files
        raise DatasetError(f"cannot read {name} under {root}: {err}") from err
    images = np.concatenate([official_train.data, official_test.data]).transpose(0, 3, 1, 2)  # [60000, 3, 32, 32]
    labels = np.concatenate([np.asarray(official_train.targets), np.asarray(official_test.targets)])
    n_train = len(official_train.targets)
    train_idx, valid_idx = _stratified_split(labels[:n_train], (0.5, 0.5), split_seed)
    parts = [train_idx, valid_idx, np.arange(n_train, len(labels))]
    train, valid, test = _splits(_standardised(images / 255.0, train_idx), labels, parts)
    return ImageDataset(
        name, train, valid, test, num_classes=num_classes, in_channels=3, input_size=32, split_seed=split_seed,
        source=f"torchvision {cls.__name__} (official train halved into train/valid; official test)",
    )


DATASETS: Mapping[str, DatasetSpec] = MappingProxyType(
    {
        "digits": DatasetSpec(
            "digits", "scikit-learn digits: 1,797 8x8 grayscale images, 10 classes, split 50/25/25", _load_digits,
            needs="scikit-learn", module="sklearn",
        ),
        "mnist1d": DatasetSpec(
            "mnist1d", "MNIST-1D: 5,000 1-D signals of 40 samples, 10 classes, generated offline, 3,000/1,000/1,000",
            _load_mnist1d, needs="mnist1d", dims=1,
        ),
        "cifar10": DatasetSpec(
            "cifar10", "CIFAR-10 via torchvision: 32x32 RGB, 10 classes, train 25k / valid 25k / test 10k",
            lambda seed, root: _load_cifar("cifar10", 10, seed, root), needs="torchvision", needs_files=True,
        ),
        "cifar100": DatasetSpec(
            "cifar100", "CIFAR-100 via torchvision: 32x32 RGB, 100 classes, train 25k / valid 25k / test 10k",
            lambda seed, root: _load_cifar("cifar100", 100, seed, root), needs="torchvision", needs_files=True,
        ),
    }
)
"""The dataset registry (read-only). Add a dataset by adding a ``DatasetSpec`` whose loader follows the split rules."""


def dataset_names() -> tuple[str, ...]:
    """Names of the registered datasets."""
    return tuple(DATASETS)


def dataset_problem(name: str, root: str | Path | None = None) -> str | None:
    """Why dataset ``name`` cannot be loaded here (an unknown name, a missing package, no folder of its files), or
    None when nothing stands in the way; cheap: nothing is loaded."""
    spec = DATASETS.get(name)
    if spec is None:
        return f"unknown dataset {name!r}"
    if spec.needs and importlib.util.find_spec(spec.module or spec.needs) is None:
        return f"needs {spec.needs} (pip install {spec.needs})"
    if spec.needs_files and root is None:
        return "needs a folder of its files (--data-root in the CLI)"
    return None


def load_dataset(name: str, split_seed: int = 0, root: str | Path | None = None) -> ImageDataset:
    """Load registered dataset ``name`` with the split drawn by ``split_seed``.

    Raises:
        DatasetError: for an unknown name (the message lists the known ones), a missing optional package, or
            missing files under ``root``.
    """
    spec = DATASETS.get(name)
    if spec is None:
        raise DatasetError(f"unknown dataset {name!r}; known datasets: {', '.join(DATASETS)}")
    return spec.load(int(split_seed), Path(root) if root is not None else None)
