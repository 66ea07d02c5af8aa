"""BANANAS, the model-based peer: the path encoding, the batched ensemble, and the run in the shared harness."""

from __future__ import annotations

import pytest
import torch

from lso.errors import LsoError
from lso.search.bananas import METHODS, PATH_FEATURES, BananasConfig, Ensemble, fit_ensemble, path_encoding
from lso.search.registry import run_search
from lso.space import Cell

SPEC = METHODS[0]


def test_path_encoding_counts_live_paths():
    assert PATH_FEATURES == 4 + 16 + 16 + 64
    assert path_encoding(Cell(("none",) * 6)).sum() == 0
    assert path_encoding(Cell(("nor_conv_3x3",) * 6)).sum() == 4  # every one of the four paths is live
    # only the direct edge 0->3 alive: one bit, in the first block (paths of length 1)
    direct = path_encoding(Cell(("none", "none", "none", "skip_connect", "none", "none")))
    assert direct.sum() == 1 and direct[:4].tolist() == [1.0, 0.0, 0.0, 0.0]


def test_path_encoding_ignores_edges_on_no_live_path():
    # 1->2 carries a conv, but node 1 gets nothing (0->1 is none): no input-output path uses that edge.
    a = Cell(("none", "skip_connect", "nor_conv_3x3", "skip_connect", "none", "avg_pool_3x3"))
    b = Cell(("none", "skip_connect", "nor_conv_1x1", "skip_connect", "none", "avg_pool_3x3"))
    assert torch.equal(path_encoding(a), path_encoding(b))
    assert not torch.equal(path_encoding(a), path_encoding(a.with_op(5, "nor_conv_3x3")))


def test_ensemble_members_do_not_share_gradients():
    torch.manual_seed(0)
    net = Ensemble(3, [PATH_FEATURES, 8, 1])
    x = torch.rand(5, PATH_FEATURES)
    net(x)[1].sum().backward()  # member 1 only
    for w in net.weights:
        assert w.grad[1].abs().sum() > 0 and w.grad[0].abs().sum() == 0 and w.grad[2].abs().sum() == 0


def test_fit_ensemble_learns_a_linear_signal():
    gen = torch.Generator().manual_seed(0)
    x = (torch.rand(60, PATH_FEATURES, generator=gen) > 0.9).float()
    y = x[:, :10].sum(1)
    y = (y - y.mean()) / y.std()
    net = fit_ensemble(x, y, BananasConfig(epochs=300), seed=0)
    with torch.no_grad():
        assert torch.corrcoef(torch.stack([net(x).mean(0), y]))[0, 1] > 0.9


def test_same_seed_same_trace_within_budget(cifar10_table):
    from lso.search.oracle import TableOracle

    oracle = TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")
    config = BananasConfig(initial=5, batch=3, epochs=30)
    a = run_search(SPEC, oracle, budget=20, seed=4, config=config)
    b = run_search(SPEC, oracle, budget=20, seed=4, config=config)
    assert [e.cell for e in a.evaluations] == [e.cell for e in b.evaluations]
    assert len(a.evaluations) == 20 and a.stopped is None
    assert len({e.cell.canonical() for e in a.evaluations}) == 20  # no query twice (isomorphic twins included)
    assert a.sources[:5] == ("initial",) * 5 and set(a.sources[5:]) == {"predictor"}


def test_bad_config_is_named():
    with pytest.raises(LsoError, match="ensemble"):
        BananasConfig(ensemble=0)
