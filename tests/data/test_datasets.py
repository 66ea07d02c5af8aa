"""Offline datasets: the digits split is seeded, stratified, disjoint, standardised on train; the registry."""

from __future__ import annotations

import pytest
import torch

pytest.importorskip("sklearn")

from lso.data.datasets import DATASETS, DatasetError, dataset_names, load_dataset  # noqa: E402


def test_digits_split_sizes_and_shapes() -> None:
    data = load_dataset("digits")
    assert data.sizes() == (898, 449, 450)
    assert sum(data.sizes()) == 1797
    assert data.train.x.shape == (898, 1, 8, 8) and data.train.x.dtype == torch.float32
    assert data.train.y.dtype == torch.int64
    assert (data.num_classes, data.in_channels, data.input_size) == (10, 1, 8)
    macro = data.macro(channels=8, cells_per_stage=1)
    assert (macro.in_channels, macro.input_size, macro.num_classes) == (1, 8, 10)


def test_digits_split_is_stratified_and_standardised_on_train() -> None:
    data = load_dataset("digits")
    for split in (data.valid, data.test):
        counts = torch.bincount(split.y, minlength=10)
        assert counts.min() >= 42 and counts.max() <= 47  # about 45 per class
    assert abs(float(data.train.x.mean())) < 1e-4
    assert abs(float(data.train.x.std()) - 1.0) < 1e-3


def test_digits_splits_are_disjoint() -> None:
    data = load_dataset("digits")
    rows = [tuple(v.tolist()) for s in (data.train, data.valid, data.test) for v in s.x.flatten(1)]
    # digits has a few duplicate images; disjoint index sets keep the duplicate count equal to the full set's
    from sklearn.datasets import load_digits

    full = {tuple(r) for r in load_digits().data.tolist()}
    assert len(set(rows)) == len(full)
    assert len(rows) == 1797


def test_split_is_deterministic_per_seed_and_changes_with_it() -> None:
    a, b, c = load_dataset("digits", 0), load_dataset("digits", 0), load_dataset("digits", 1)
    assert torch.equal(a.train.x, b.train.x) and torch.equal(a.test.y, b.test.y)
    assert not torch.equal(a.train.y, c.train.y)


def test_registry_lists_datasets_and_rejects_unknown() -> None:
    assert {"digits", "cifar10", "cifar100"} <= set(dataset_names())
    for name in ("digits", "mnist1d"):  # a spec's dims is what its loaded data says, without loading it
        assert DATASETS[name].dims == load_dataset(name).spatial_dims
    assert dataset_names() == tuple(DATASETS)
    with pytest.raises(DatasetError, match="unknown dataset 'mnist9'.*digits"):
        load_dataset("mnist9")


def test_cifar_without_torchvision_or_root_is_a_clear_error() -> None:
    try:
        import torchvision  # noqa: F401
    except ImportError:
        with pytest.raises(DatasetError, match="needs torchvision"):
            load_dataset("cifar10")
    else:
        with pytest.raises(DatasetError, match="data-root|cannot read"):
            load_dataset("cifar10")


def test_dataset_problem_says_what_stands_in_the_way_without_loading():
    from lso.data.datasets import dataset_problem

    assert dataset_problem("digits") is None
    assert dataset_problem("nope") == "unknown dataset 'nope'"
    assert "files" in dataset_problem("cifar10") or "torchvision" in dataset_problem("cifar10")
