"""The DARTS network and ops: analytic parameter count, DARTS's published figure, shapes in 1-D and 2-D."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.errors import LsoError
from lso.spaces.darts_cost import darts_params, reduction_layers
from lso.nets.darts_network import (
    DartsCell,
    DartsNetwork,
    FactorizedReduce,
    darts_op,
)
from lso.nets.network import count_params
from lso.spaces.darts import OPS, DartsGenotype, DartsSpace

DARTS_V2 = DartsGenotype.from_string(
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), "
    "('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])"
)
SIZES = [(8, 5, 10, 1), (5, 4, 3, 2), (4, 1, 7, 3), (6, 8, 10, 3)]  # channels, layers, classes, in_channels


def test_darts_v2_has_the_published_parameter_count() -> None:
    # DARTS's CIFAR-10 evaluation log: "param size = 3.349342MB" (C=36, 20 layers, auxiliary head not counted)
    assert count_params(DartsNetwork(DARTS_V2, 36, 20, 10, 3)) == 3_349_342
    assert darts_params(DARTS_V2, 36, 20, 10, 3) == 3_349_342


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("sizes", SIZES, ids=[str(s) for s in SIZES])
def test_analytic_count_equals_the_torch_count(dims: int, sizes: tuple[int, int, int, int]) -> None:
    genotypes = DartsSpace().sample(6, np.random.default_rng(11)) + [DARTS_V2]
    counts = set()
    for g in genotypes:
        n = count_params(DartsNetwork(g, *sizes, dims=dims))
        assert n == darts_params(g, *sizes, dims=dims), (g, sizes, dims)
        counts.add(n)
    assert len(counts) > 1  # the genotype matters


def test_reduction_cells_sit_at_a_third_and_two_thirds() -> None:
    assert reduction_layers(20) == (6, 13) and reduction_layers(8) == (2, 5) and reduction_layers(5) == (1, 3)
    net = DartsNetwork(DARTS_V2, 4, 8, 10, 3)
    assert [c.reduction for c in net.cells] == [False, False, True, False, False, True, False, False]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("dims", [1, 2])
def test_ops_keep_or_halve_the_resolution(op: str, dims: int) -> None:
    for size, half in ((8, 4), (9, 5)):
        x = torch.randn(2, 4, *(size,) * dims)
        assert darts_op(op, 4, 1, dims)(x).shape == x.shape
        assert darts_op(op, 4, 2, dims)(x).shape == (2, 4, *(half,) * dims)


def test_op_structure_matches_darts() -> None:
    assert isinstance(darts_op("skip_connect", 4, 1), torch.nn.Identity)
    assert isinstance(darts_op("skip_connect", 4, 2), FactorizedReduce)
    ones = torch.ones(1, 1, 5, 5)
    assert torch.allclose(darts_op("avg_pool_3x3", 1, 1)(ones), ones)  # count_include_pad=False
    # sep conv: two depthwise-pointwise pairs; dil conv: one, with dilation 2
    c, k = 6, 5
    assert count_params(darts_op("sep_conv_5x5", c, 1)) == 2 * (c * k * k + c * c + 2 * c)
    dil = darts_op("dil_conv_3x3", c, 1)
    assert dil[1].dilation == (2, 2) and dil[1].groups == c and count_params(dil) == c * 9 + c * c + 2 * c
    assert torch.equal(darts_op("none", 3, 2)(torch.randn(1, 3, 4, 4)), torch.zeros(1, 3, 2, 2))


def test_factorized_reduce_reads_both_phases() -> None:
    fr = FactorizedReduce(1, 2, dims=1).eval()
    for conv in (fr.conv_1, fr.conv_2):
        torch.nn.init.ones_(conv.weight)
    x = torch.arange(1.0, 9.0).view(1, 1, 8)
    out = fr(x)
    scale = fr.bn.weight[:, None] / torch.sqrt(fr.bn.running_var[:, None] + fr.bn.eps)
    expected = torch.stack([x[0, 0, 0::2], x[0, 0, 1::2]])  # even positions, then odd ones
    assert torch.allclose(out[0], expected * scale + fr.bn.bias[:, None])


def test_cell_combines_nodes_per_genotype() -> None:
    # node 2 = skip(s0) + skip(s1), node 3 = skip(node 2) + skip(s0), ...: with identity preprocessing the output
    # is a linear function of the two inputs that the genotype fixes
    edges = (("skip_connect", 0), ("skip_connect", 1), ("skip_connect", 2), ("skip_connect", 0),
             ("skip_connect", 3), ("skip_connect", 1), ("max_pool_3x3", 0), ("skip_connect", 4))
    cell = DartsCell(edges, 3, 3, 3, reduction=False, reduction_prev=False, dims=1).eval()
    cell.preprocess0 = torch.nn.Identity()
    cell.preprocess1 = torch.nn.Identity()
    s0, s1 = torch.randn(2, 3, 7), torch.randn(2, 3, 7)
    n2 = s0 + s1
    n3 = n2 + s0
    n4 = n3 + s1
    n5 = torch.nn.functional.max_pool1d(s0, 3, 1, 1) + n4
    assert torch.allclose(cell(s0, s1), torch.cat([n2, n3, n4, n5], dim=1))


@pytest.mark.parametrize("dims,shape", [(2, (3, 3, 16, 16)), (2, (3, 3, 9, 9)), (1, (3, 1, 40)), (1, (3, 1, 13))])
def test_network_forward_shapes(dims: int, shape: tuple[int, ...]) -> None:
    for g in DartsSpace().sample(2, np.random.default_rng(5)):
        net = DartsNetwork(g, 4, 5, 10, shape[1], dims=dims)
        assert net(torch.randn(*shape)).shape == (3, 10)


def test_none_edges_build_and_count_zero() -> None:
    edges = tuple((("none" if k % 2 else "sep_conv_3x3"), k // 2) for k in range(8))
    g = DartsGenotype(edges, edges)
    assert count_params(DartsNetwork(g, 4, 5, 10, 1, dims=1)) == darts_params(g, 4, 5, 10, 1, dims=1)
    assert DartsNetwork(g, 4, 5, 10, 1, dims=1)(torch.randn(2, 1, 16)).shape == (2, 10)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(LsoError, match="dims 1 or 2"):
        DartsNetwork(DARTS_V2, 4, 5, 10, 3, dims=3)
    with pytest.raises(LsoError, match="layers >= 1"):
        darts_params(DARTS_V2, 4, 0, 10, 3)
    with pytest.raises(LsoError, match="DartsGenotype"):
        DartsNetwork("Genotype(...)", 4, 5, 10, 3)  # type: ignore[arg-type]
    with pytest.raises(LsoError, match="unknown DARTS operation"):
        darts_op("sep_conv_7x7", 4, 1)
