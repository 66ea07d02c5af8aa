"""Rank correlations of two ``[n]`` arrays, from ``scipy.stats``: Spearman's rho and Kendall's tau-b.

* ``spearman``: ``rho = Pearson(rank(x), rank(y))`` with average ranks for ties (``scipy.stats.spearmanr``);
* ``kendall``: ``tau_b = (C - D) / sqrt((n0 - n1)(n0 - n2))``, ``C`` / ``D`` the concordant / discordant pairs,
  ``n0 = n(n-1)/2`` all pairs, ``n1`` / ``n2`` the pairs tied in x / in y (``scipy.stats.kendalltau``, variant
  ``"b"``, O(n log n)).

Both return a Python float, NaN when ``n < 2``, when either array is constant (the statistic is undefined) or when
an input holds NaN; both raise ``ValueError`` unless ``x`` and ``y`` are 1-D of one length.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def _pair(x: np.ndarray, y: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray] | None:
    """``x``, ``y`` as float64 ``[n]`` arrays, or None when the rank correlation is undefined (NaN)."""
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"{name} needs two 1-D arrays of one length, got {x.shape} and {y.shape}")
    if len(x) < 2 or not np.ptp(x) > 0 or not np.ptp(y) > 0:  # too short, constant, or NaN inside
        return None
    return x, y


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rho of two ``[n]`` arrays: ``Pearson(rank(x), rank(y))``, ties get average ranks; NaN when
    either is constant (or ``n < 2``, or a NaN is present)."""
    pair = _pair(x, y, "spearman")
    return float("nan") if pair is None else float(stats.spearmanr(*pair).statistic)


def kendall(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall's tau-b of two ``[n]`` arrays, ``(C - D) / sqrt((n0 - n1)(n0 - n2))`` (module docstring); NaN when
    either is constant (or ``n < 2``, or a NaN is present)."""
    pair = _pair(x, y, "kendall")
    return float("nan") if pair is None else float(stats.kendalltau(*pair, variant="b").statistic)
