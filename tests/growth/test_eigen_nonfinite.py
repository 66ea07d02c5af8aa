"""Non-finite eigenpairs in neuron splitting (lso.growth.eigen.finite_eigh): batched float32 ``torch.linalg.eigh``
returns NaN for some rank-deficient splitting matrices on some CPUs (tests/growth/test_stages.py's DEAD cell). Such a
matrix is diagonalised again in float64; a neuron whose pairs stay non-finite is reported and left unsplit, never
silently dropped nor split along NaN directions.

The NaN does not show on every CPU, so ``eigh`` is patched to return it, for float32 batches only, exactly where the
real failure was seen."""

from __future__ import annotations

import copy
import warnings

import pytest
import torch
import torch.nn.functional as F

from lso.growth import GrowthConfig, neuron_splits
from lso.growth.eigen import NonFiniteEigenWarning, extreme_eigenpairs, finite_eigh
from lso.growth.nb201 import GROUPS, NB201Space, network_with_widths
from lso.growth.splitting import eigenpairs_exact
from lso.space import MacroConfig

DEAD = "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"  # node 2 is dead
MACRO = MacroConfig(channels=3, cells_per_stage=2, num_classes=5, in_channels=2, input_size=8)
REAL_EIGH = torch.linalg.eigh


def _rank_deficient(n: int = 6, d: int = 12, rank: int = 2, seed: int = 0) -> torch.Tensor:
    """``n`` symmetric ``d x d`` matrices of rank ``rank`` (float32), like the stage matrices of a dead node."""
    g = torch.Generator().manual_seed(seed)
    A = torch.randn(n, d, rank, generator=g)
    return (A @ A.transpose(1, 2)).float()


@pytest.fixture()
def float32_eigh_nan(monkeypatch):
    """``torch.linalg.eigh`` that, like the failing CPUs, answers NaN for item 1 of a batched float32 call (and for a
    single float32 matrix); float64 calls are exact."""

    def eigh(S, *args, **kwargs):
        vals, vecs = REAL_EIGH(S, *args, **kwargs)
        if S.dtype == torch.float32:
            vals, vecs = vals.clone(), vecs.clone()
            target = (1,) if S.dim() == 3 and S.shape[0] > 1 else (...,)
            vals[target] = float("nan")
            vecs[target] = float("nan")
        return vals, vecs

    monkeypatch.setattr(torch.linalg, "eigh", eigh)


def test_nan_from_batched_float32_eigh_is_recomputed_in_float64(float32_eigh_nan):
    S = _rank_deficient()
    assert not torch.isfinite(torch.linalg.eigh(S)[0][1]).any()  # the patched failure is there
    vals, vecs, bad = finite_eigh(S)
    assert not bad.any() and torch.isfinite(vals).all() and torch.isfinite(vecs).all()
    assert vals.dtype == torch.float32
    exact, _ = REAL_EIGH(S.double())
    torch.testing.assert_close(vals.double(), exact, rtol=1e-4, atol=1e-4)
    # the recomputed vectors are eigenvectors: S v = lambda v
    torch.testing.assert_close(S[1] @ vecs[1], vecs[1] * vals[1], rtol=1e-3, atol=1e-3)


def test_exact_route_eigenpairs_are_finite_and_right(float32_eigh_nan):
    S = _rank_deficient(n=5, d=9, rank=1, seed=3)
    pairs = eigenpairs_exact(S)
    for t in (pairs.lambda_min, pairs.lambda_max, pairs.v_min, pairs.v_max, pairs.residual):
        assert torch.isfinite(t).all()
    exact, _ = REAL_EIGH(S.double())
    torch.testing.assert_close(pairs.lambda_max.double(), exact[:, -1], rtol=1e-4, atol=1e-4)
    assert len([s for s in neuron_splits("stage0", pairs, "s3d2") if s.extra > 0]) > 0


def test_fast_route_survives_nan_from_the_ritz_step(float32_eigh_nan):
    S = _rank_deficient(n=4, d=10, rank=3, seed=5)
    pairs = extreme_eigenpairs(lambda V: torch.einsum("nde,nbe->nbd", S, V), 4, 10, steps=8,
                               generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(pairs.lambda_min).all() and torch.isfinite(pairs.v_max).all()
    exact, _ = REAL_EIGH(S.double())
    torch.testing.assert_close(pairs.lambda_max.double(), exact[:, -1], rtol=1e-3, atol=1e-3)


def test_a_neuron_that_stays_nan_is_reported_and_not_split():
    S = _rank_deficient(n=4, d=6, rank=2)
    S[2, 0, 1] = S[2, 1, 0] = float("nan")  # NaN statistics: no retry can help
    pairs = eigenpairs_exact(S)
    assert torch.isnan(pairs.lambda_min[2]) and torch.isfinite(pairs.lambda_min[[0, 1, 3]]).all()
    with pytest.warns(NonFiniteEigenWarning, match=r"stage1: .*neuron\(s\) 2\b"):
        splits = neuron_splits("stage1", pairs, "s3d2")
    assert len(splits) == 4  # one per neuron: none dropped
    assert splits[2].extra == 0 and splits[2].weights == (1.0,) and torch.isfinite(splits[2].directions).all()
    assert all(torch.isfinite(s.directions).all() for s in splits)


def test_dead_cell_split_keeps_the_function_with_float32_nan(float32_eigh_nan):
    """tests/growth/test_stages.py's [s3d2-DEAD] case with the failure forced: every group still offers splits and the
    split network computes the same function."""
    torch.manual_seed(0)
    net = network_with_widths(DEAD, MACRO, {"stage0": 2, "reduce1": 3, "stage1": 4, "reduce2": 5, "stage2": 6})
    x = torch.randn(16, 2, 8, 8, generator=torch.Generator().manual_seed(1))
    y = torch.randint(0, 5, (16,), generator=torch.Generator().manual_seed(2))
    space = NB201Space()
    config = GrowthConfig(method="s3d", copies=2, route="exact")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteEigenWarning)  # the float64 retry leaves no neuron behind
        cands = space.candidates(net, [(x, y)], F.cross_entropy, config, torch.Generator().manual_seed(0))
    assert all(torch.isfinite(c.directions).all() for c in cands)
    chosen = [c for c in cands if c.extra > 0][::2]
    assert {c.site for c in chosen} == set(GROUPS)
    reference = copy.deepcopy(net).eval()
    space.apply(net, chosen, eps=0.0)
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(x), reference(x), rtol=1e-5, atol=1e-5)
