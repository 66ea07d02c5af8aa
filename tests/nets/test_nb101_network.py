"""The NAS-Bench-101 network: parameter counts against the analytic (benchmark) count, shapes in 1-D and 2-D."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.errors import LsoError
from lso.nets.nb101_network import Nb101Module, Nb101Network
from lso.nets.network import count_params
from lso.spaces.nb101 import Nb101Cell, Nb101Space
from lso.spaces.nb101_cost import Nb101Macro, network_params

INCEPTION = Nb101Cell.from_string(
    "0111010/0000001/0000001/0000100/0000001/0000001/0000000"
    "|input/conv1x1-bn-relu/conv3x3-bn-relu/conv3x3-bn-relu/conv3x3-bn-relu/maxpool3x3/output"
)
SMALL = Nb101Macro(stem_channels=6, num_stacks=2, modules_per_stack=2, num_classes=4, in_channels=2)
ONE_D = Nb101Macro(stem_channels=8, num_stacks=3, modules_per_stack=1, num_classes=10, in_channels=1)


def _cells() -> list[Nb101Cell]:
    # both samplers: "graphs" gives mostly 6-7 vertex cells, "matrix" small ones (2-4 vertices)
    return (Nb101Space().sample(8, np.random.default_rng(3))
            + Nb101Space(sampler="matrix").sample(8, np.random.default_rng(4)))


@pytest.mark.parametrize("macro", [Nb101Macro(), SMALL], ids=["benchmark", "small"])
def test_param_count_equals_the_analytic_count(macro: Nb101Macro) -> None:
    cells = _cells()
    assert len({c.num_vertices for c in cells}) >= 4  # the sample covers several cell sizes
    for cell in cells:
        pruned = cell.pruned()
        assert count_params(Nb101Network(cell, macro)) == network_params(pruned.matrix, pruned.ops, macro), cell


def test_inception_cell_has_the_benchmarks_parameter_count() -> None:
    # NB101's README: the Inception-like cell's trainable_parameters is 2,694,282 (CIFAR-10, stem 128, 3x3 cells)
    assert count_params(Nb101Network(INCEPTION)) == 2_694_282


def test_dead_vertices_are_pruned_before_building() -> None:
    # vertex 2 (a conv3x3) feeds nothing: the network is the pruned 3-vertex cell's
    cell = Nb101Cell(((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0), (0, 0, 0, 0)),
                     ("input", "conv1x1-bn-relu", "conv3x3-bn-relu", "output"))
    pruned = cell.pruned()
    assert pruned.num_vertices == 3
    assert count_params(Nb101Network(cell, SMALL)) == count_params(Nb101Network(pruned, SMALL))


@pytest.mark.parametrize("dims,shape,out_size", [(2, (3, 2, 9, 9), 5), (1, (3, 1, 40), 10), (1, (3, 1, 13), 4)])
def test_forward_shapes_and_resolution(dims: int, shape: tuple[int, ...], out_size: int) -> None:
    macro = SMALL if dims == 2 else ONE_D
    stacks = macro.num_stacks
    for cell in _cells()[::3]:
        net = Nb101Network(cell, macro, dims=dims)
        x = torch.randn(*shape)
        assert net(x).shape == (shape[0], macro.num_classes)
        features = net.features(x)  # before pooling: widest channels, resolution halved (rounded up) per stack
        assert features.shape[1] == macro.stem_channels * 2 ** (stacks - 1)
        assert features.shape[2:] == (out_size,) * dims


def test_module_truncates_wider_predecessors_and_concatenates_feeders() -> None:
    # feeders 1, 2, 3 split 10 output channels 4, 3, 3; vertex 2 reads vertex 1 (4 channels) cut to its 3
    m = ((0, 1, 0, 1, 0), (0, 0, 1, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0))
    cell = Nb101Cell(m, ("input", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3", "output"))
    module = Nb101Module(cell, 5, 10, dims=2).eval()
    assert module.widths == [5, 4, 3, 3, 10]
    assert set(module.proj) == {"1", "3"} and module.out_proj is None
    x = torch.randn(2, 5, 6, 6)
    v1 = module.ops["1"](module.proj["1"](x))
    v2 = module.ops["2"](v1[:, :3])
    v3 = module.ops["3"](module.proj["3"](x))
    assert torch.allclose(module(x), torch.cat([v1, v2, v3], dim=1))


def test_input_to_output_cell_is_a_projection() -> None:
    cell = Nb101Cell(((0, 1), (0, 0)), ("input", "output"))
    module = Nb101Module(cell, 3, 7, dims=1)
    assert module.out_proj is not None and len(module.ops) == 0
    assert module(torch.randn(2, 3, 11)).shape == (2, 7, 11)
    assert count_params(Nb101Network(cell, SMALL)) == network_params(cell.matrix, cell.ops, SMALL)


def test_input_feeding_output_adds_a_projection_to_the_concat() -> None:
    m = ((0, 1, 1), (0, 0, 1), (0, 0, 0))
    module = Nb101Module(Nb101Cell(m, ("input", "conv3x3-bn-relu", "output")), 4, 6, dims=2)
    x = torch.randn(2, 4, 3, 3)
    module.eval()
    expected = module.ops["1"](module.proj["1"](x)) + module.out_proj(x)
    assert torch.allclose(module(x), expected)


def test_bad_cells_and_sizes_are_rejected() -> None:
    disconnected = Nb101Cell(((0, 1, 0), (0, 0, 0), (0, 0, 0)), ("input", "conv3x3-bn-relu", "output"))
    with pytest.raises(LsoError, match="no path from input to output"):
        Nb101Network(disconnected)
    with pytest.raises(LsoError, match="dims 1 or 2"):
        Nb101Network(INCEPTION, SMALL, dims=3)
    with pytest.raises(LsoError, match="stem_channels must be at least 1"):
        Nb101Network(INCEPTION, Nb101Macro(stem_channels=0))
    with pytest.raises(LsoError, match="Nb101Cell"):
        Nb101Network("not a cell", SMALL)  # type: ignore[arg-type]
