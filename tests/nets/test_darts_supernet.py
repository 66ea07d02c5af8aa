"""The DARTS search model: shapes, the softmax mixture, the parameter split, and DARTS's genotype rule."""

from __future__ import annotations

import pytest
import torch

from lso.errors import ArchStringError
from lso.nets.darts_supernet import NUM_SEARCH_EDGES, SEARCH_EDGES, DartsSupernet, derive_genotype
from lso.spaces import DartsSpace, SpaceError
from lso.spaces.darts import PRIMITIVES, DartsGenotype


def _net(dims: int = 1, seed: int = 0) -> DartsSupernet:
    torch.manual_seed(seed)
    return DartsSupernet(channels=4, layers=5, num_classes=10, in_channels=1, dims=dims)


def test_search_edges_read_every_earlier_node():
    assert NUM_SEARCH_EDGES == 14 and SEARCH_EDGES[:5] == ((2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
    assert all(0 <= src < to for to, src in SEARCH_EDGES) and len(set(SEARCH_EDGES)) == 14


@pytest.mark.parametrize("dims,shape", [(1, (3, 1, 40)), (2, (3, 1, 8, 8))])
def test_forward_mixes_with_softmax_alpha_and_splits_parameters(dims, shape):
    net = _net(dims).eval()
    x = torch.randn(*shape)
    with torch.no_grad():
        net.alpha.copy_(torch.randn(28, 8))
        out = net(x)
        assert out.shape == (3, 10)
        assert torch.allclose(out, net(x, torch.softmax(net.alpha, -1)))
        # Another mixture gives another function: alpha is really used, in both halves.
        w = torch.softmax(net.alpha, -1)
        w2 = w.clone()
        w2[NUM_SEARCH_EDGES:] = torch.softmax(torch.randn(14, 8), -1)
        assert not torch.allclose(out, net(x, w2))
    assert net.arch_parameters() == [net.alpha] and tuple(net.alpha.shape) == (28, 8)
    names = {id(p) for p in net.weight_parameters()}
    assert id(net.alpha) not in names and len(names) == len(list(net.parameters())) - 1
    assert net.reduction == (False, True, False, True, False)  # reductions at layers // 3 and 2 * layers // 3


def test_the_none_op_adds_nothing():
    net = _net().eval()
    x = torch.randn(2, 1, 40)
    w = torch.softmax(torch.randn(28, 8), -1)
    moved = w.clone()
    moved[:, 0] = 5.0  # only the none column changes
    with torch.no_grad():
        assert torch.allclose(net(x, w), net(x, moved))


def _alpha_for(genotype: DartsGenotype) -> torch.Tensor:
    """Logits whose DARTS genotype is ``genotype``: its edges strong, a stronger ``none`` everywhere."""
    alpha = torch.zeros(28, 8)
    alpha[:, 0] = 9.0  # none never counts
    for half, edges in enumerate((genotype.normal, genotype.reduce)):
        for k, (op, src) in enumerate(edges):
            to = 2 + k // 2
            row = half * NUM_SEARCH_EDGES + SEARCH_EDGES.index((to, src))
            alpha[row, PRIMITIVES.index(op)] = 4.0 - 0.1 * (k % 2)  # the first of each node's pair is stronger
    return alpha


def test_derive_is_the_darts_rule():
    space = DartsSpace()
    for seed in range(20):
        g = space.sample(1, torch.Generator().manual_seed(seed))[0]
        derived = derive_genotype(_alpha_for(g))
        assert space.canonical(derived) == space.canonical(g) and derived == g


def test_derived_genotypes_are_always_in_the_space():
    space = DartsSpace()
    gen = torch.Generator().manual_seed(0)
    for _ in range(50):
        g = derive_genotype(3 * torch.randn(28, 8, generator=gen))
        assert space.is_valid(g)


def test_ties_keep_the_lower_input_and_bad_shapes_are_refused():
    g = derive_genotype(torch.zeros(28, 8))
    assert [src for _, src in g.normal] == [0, 1, 0, 1, 0, 1, 0, 1]
    assert {op for op, _ in g.normal + g.reduce} == {PRIMITIVES[1]}  # first non-none op on a tie
    with pytest.raises(ArchStringError, match=r"DARTS alpha must have shape \[28, 8\], got \[6, 5\]"):
        derive_genotype(torch.zeros(6, 5))
    with pytest.raises(SpaceError, match="needs layers >= 1, got 0"):
        DartsSupernet(channels=4, layers=0, num_classes=10, in_channels=1, dims=1)
