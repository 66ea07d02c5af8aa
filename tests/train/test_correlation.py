"""Rank correlations (``scipy.stats`` underneath) against their definitions: Kendall's tau-b by the all-pairs sum,
Spearman's rho as Pearson's r of average ranks; NaN and error behaviour."""

from __future__ import annotations

import numpy as np
import pytest

from lso.train.correlation import kendall, spearman


def _tau_b_all_pairs(x: np.ndarray, y: np.ndarray) -> float:
    sx = np.sign(x[:, None] - x[None, :])
    sy = np.sign(y[:, None] - y[None, :])
    n = len(x)
    pairs = n * (n - 1) / 2
    tx, ty = ((sx == 0).sum() - n) / 2, ((sy == 0).sum() - n) / 2
    return float((sx * sy).sum() / 2 / np.sqrt((pairs - tx) * (pairs - ty)))


def _average_ranks(v: np.ndarray) -> np.ndarray:
    """1-based ranks, tied entries sharing the mean of their positions (all-pairs counting)."""
    less = (v[None, :] < v[:, None]).sum(1)
    equal = (v[None, :] == v[:, None]).sum(1)
    return less + (equal + 1) / 2


def _samples(n: int):
    rng = np.random.default_rng(n)
    for trial in range(10):
        x = rng.integers(0, 4, n).astype(float) if trial % 2 else rng.normal(size=n)
        y = 0.5 * x + rng.integers(0, 3, n) + (rng.normal(size=n) if trial % 3 == 0 else 0)
        if np.ptp(x) > 0 and np.ptp(y) > 0:
            yield x, y


@pytest.mark.parametrize("n", [2, 3, 7, 64, 501])
def test_kendall_equals_the_all_pairs_definition_with_and_without_ties(n):
    for x, y in _samples(n):
        assert kendall(x, y) == pytest.approx(_tau_b_all_pairs(x, y), abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 7, 64, 501])
def test_spearman_equals_pearson_of_average_ranks_with_and_without_ties(n):
    for x, y in _samples(n):
        assert spearman(x, y) == pytest.approx(np.corrcoef(_average_ranks(x), _average_ranks(y))[0, 1], abs=1e-12)


def test_kendall_extremes_and_errors():
    assert kendall(np.arange(10.0), np.arange(10.0) ** 3) == pytest.approx(1.0)
    assert kendall(np.arange(10.0), -np.arange(10.0)) == pytest.approx(-1.0)
    assert np.isnan(kendall(np.ones(5), np.arange(5.0)))
    with pytest.raises(ValueError, match="one length"):
        kendall(np.arange(3.0), np.arange(4.0))


def test_spearman_is_pearson_of_average_ranks():
    x = np.array([1.0, 2.0, 2.0, 3.0, 10.0])
    y = np.array([5.0, 6.0, 7.0, 8.0, 9.0])
    rx = np.array([1, 2.5, 2.5, 4, 5])
    assert spearman(x, y) == pytest.approx(np.corrcoef(rx, np.arange(1, 6))[0, 1])
    assert np.isnan(spearman(np.ones(4), np.arange(4.0)))


@pytest.mark.parametrize("f", [spearman, kendall])
def test_undefined_cases_are_nan_without_warnings_and_bad_shapes_raise(f, recwarn):
    assert np.isnan(f(np.arange(4.0), np.full(4, 2.0)))  # constant y
    assert np.isnan(f(np.array([1.0]), np.array([2.0])))  # n < 2
    assert np.isnan(f(np.array([]), np.array([])))
    assert np.isnan(f(np.array([1.0, np.nan, 3.0]), np.arange(3.0)))  # NaN propagates
    assert isinstance(f([1, 2, 3], [3, 1, 2]), float)  # lists and ints accepted, a Python float back
    assert not recwarn.list
    with pytest.raises(ValueError, match="one length"):
        f(np.arange(3.0), np.arange(4.0))
    with pytest.raises(ValueError, match="1-D"):
        f(np.ones((3, 2)), np.ones((3, 2)))
