"""Rank correlations: Kendall's tau-b (Knight's O(n log^2 n) method) against the all-pairs definition."""

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


@pytest.mark.parametrize("n", [2, 3, 7, 64, 501])
def test_kendall_equals_the_all_pairs_definition_with_and_without_ties(n):
    rng = np.random.default_rng(n)
    for trial in range(10):
        x = rng.integers(0, 4, n).astype(float) if trial % 2 else rng.normal(size=n)
        y = 0.5 * x + rng.integers(0, 3, n) + (rng.normal(size=n) if trial % 3 == 0 else 0)
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            continue
        assert kendall(x, y) == pytest.approx(_tau_b_all_pairs(x, y), abs=1e-12)


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
