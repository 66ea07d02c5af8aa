"""The NB201 ops and macro network: parameter counts, shapes, the `none` edge, dead-edge skipping."""

from __future__ import annotations

import random

import pytest
import torch

from lso.errors import ArchStringError, LsoError
from lso.nets.network import CellModule, Network, count_params
from lso.nets.ops import ResNetBasicBlock, Zero, make_op
from lso.space import OPS, Cell, MacroConfig, all_cells, num_params

MACROS = [
    MacroConfig(),
    MacroConfig(channels=8, cells_per_stage=1, num_classes=10, in_channels=1, input_size=8),
    MacroConfig(channels=4, cells_per_stage=2, num_classes=3, in_channels=2, input_size=12),
    MacroConfig(channels=6, cells_per_stage=3, num_classes=100, in_channels=3, input_size=16),
]


@pytest.mark.parametrize("macro", MACROS)
def test_param_count_matches_analytic_on_uniform_and_random_cells(macro: MacroConfig) -> None:
    cells = [Cell((op,) * 6) for op in OPS] + random.Random(7).sample(all_cells(), 40)
    for cell in cells:
        assert count_params(Network(cell, macro)) == num_params(cell, macro), (cell, macro)


def test_param_count_nb201_figures() -> None:
    # NAS-Bench-201's params_mb: all-3x3 1.531546 M, all-none/skip/pool 0.073306 M (CIFAR-10, C=16, N=5).
    assert count_params(Network(Cell(("nor_conv_3x3",) * 6))) == 1_531_546
    assert count_params(Network(Cell(("skip_connect",) * 6))) == 73_306


@pytest.mark.parametrize("op", OPS)
def test_ops_keep_shape(op: str) -> None:
    x = torch.randn(2, 5, 7, 7)
    assert make_op(op, 5)(x).shape == x.shape


def test_zero_op_is_zero_and_pool_excludes_padding() -> None:
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(Zero()(x), torch.zeros_like(x))
    ones = torch.ones(1, 1, 4, 4)
    assert torch.allclose(make_op("avg_pool_3x3", 1)(ones), ones)  # count_include_pad=False keeps borders at 1


def test_reduction_block_halves_and_widens() -> None:
    assert ResNetBasicBlock(4, 8)(torch.randn(2, 4, 8, 8)).shape == (2, 8, 4, 4)
    assert ResNetBasicBlock(4, 8, dims=1)(torch.randn(2, 4, 8)).shape == (2, 8, 4)


def test_unknown_op_is_rejected() -> None:
    with pytest.raises(ArchStringError, match="unknown operation 'conv_5x5'"):
        make_op("conv_5x5", 4)


def test_none_edge_contributes_zero() -> None:
    # Node 3 = op(node0) + op(node1) + op(node2); with edges 3<-1 and 3<-2 `none`, the cell is just edge 3<-0.
    torch.manual_seed(0)
    cell = Cell.from_string("|nor_conv_3x3~0|+|nor_conv_1x1~0|nor_conv_3x3~1|+|nor_conv_3x3~0|none~1|none~2|")
    module = CellModule(cell, 4).eval()
    x = torch.randn(2, 4, 6, 6)
    expected = module.edges[3](x)
    assert torch.allclose(module(x), expected)
    assert torch.allclose(module.forward_all(x), expected)


def test_skipping_dead_edges_keeps_the_function() -> None:
    rng = random.Random(3)
    x = torch.randn(3, 4, 6, 6)
    for cell in rng.sample(all_cells(), 30):
        torch.manual_seed(1)
        module = CellModule(cell, 4).eval()
        # Random conv weights and BN scales; BN shifts stay 0. (A conv edge fed by a zero node adds only its BN
        # shift, a learned constant, which NB201's isomorphism and ours count as dead: forward skips it.)
        for name, p in module.named_parameters():
            if name.endswith("weight"):
                torch.nn.init.normal_(p)
        assert torch.allclose(module(x), module.forward_all(x), atol=1e-5), cell


def test_disconnected_cell_outputs_zero_and_network_runs() -> None:
    cell = Cell(("none",) * 6)
    assert torch.equal(CellModule(cell, 3)(torch.randn(1, 3, 4, 4)), torch.zeros(1, 3, 4, 4))
    macro = MACROS[1]
    assert Network(cell, macro)(torch.randn(4, 1, 8, 8)).shape == (4, 10)


@pytest.mark.parametrize("macro", MACROS)
def test_network_output_shape(macro: MacroConfig) -> None:
    net = Network(all_cells()[0], macro)
    out = net(torch.randn(2, macro.in_channels, macro.input_size, macro.input_size))
    assert out.shape == (2, macro.num_classes)


def test_bad_macro_is_rejected() -> None:
    with pytest.raises(LsoError, match="input_size must be at least 4"):
        Network(all_cells()[0], MacroConfig(input_size=2))
    with pytest.raises(LsoError, match="channels must be at least 1"):
        Network(all_cells()[0], MacroConfig(channels=0))
    with pytest.raises(LsoError, match=r"dims 1 or 2\), got dims 3"):
        Network(all_cells()[0], dims=3)
