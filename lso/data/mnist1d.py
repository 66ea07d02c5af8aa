"""MNIST-1D (Greydanus 2020), generated offline from the ``mnist1d`` package's templates.

``mnist1d.data.make_dataset`` draws 5,000 signals of 40 samples (10 classes, 500 each) from 10 hand-written
templates with random padding, translation, scale, shear and noise. Its ``get_dataset`` downloads a pickle by
default, so this module calls ``make_dataset`` with the package's default arguments (seed 42) directly: nothing
is downloaded. ``make_dataset`` seeds and draws from Python's and NumPy's global RNGs; their states are saved
and restored around the call, so loading leaves the caller's global RNGs as they were.

Split (a pure function of ``split_seed``): the package's own 4,000 / 1,000 train/test division is kept; the
4,000 are split 75% / 25%, seeded and stratified, into 3,000 train and 1,000 valid; the 1,000 are the test split.
``x`` is ``[n, 1, 40]`` float32, standardised with the train split's mean and standard deviation.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from lso.errors import LsoError

SEQ_LEN = 40
"""Samples per MNIST-1D signal (the package's ``final_seq_length``)."""


def generate_mnist1d() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The package's default MNIST-1D: ``(x_train [4000, 40], y_train, x_test [1000, 40], y_test)``, offline.

    Raises:
        LsoError: when the ``mnist1d`` package is not installed (``pip install 'lso[mnist1d]'``).
    """
    try:
        from mnist1d.data import get_dataset_args, make_dataset
    except ImportError as err:
        raise LsoError("the MNIST-1D dataset needs the mnist1d package: pip install 'lso[mnist1d]'") from err

    py_state, np_state = random.getstate(), np.random.get_state()
    try:
        data = make_dataset(get_dataset_args())
    finally:
        random.setstate(py_state)
        np.random.set_state(np_state)
    return (
        np.asarray(data["x"], dtype=np.float32), np.asarray(data["y"], dtype=np.int64),
        np.asarray(data["x_test"], dtype=np.float32), np.asarray(data["y_test"], dtype=np.int64),
    )


def standardised_1d(signals: np.ndarray, train_idx: np.ndarray) -> torch.Tensor:
    """``[n, L] -> [n, 1, L]`` float32, ``(x - mean) / std`` with the statistics of the rows ``train_idx``."""
    x = signals.astype(np.float32)
    mean = x[train_idx].mean()
    std = x[train_idx].std() + 1e-6
    return torch.from_numpy((x - mean) / std)[:, None, :]
