"""Training a cell of any built-in space: the network per space and protocol, determinism, NB201's path, errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.errors import LsoError
from lso.nets.darts_network import DartsNetwork
from lso.spaces.darts_cost import darts_params
from lso.nets.nb101_network import Nb101Network
from lso.nets.network import Network, count_params
from lso.nets.network1d import flops_1d
from lso.nets.protocol import ProtocolError, get_protocol
from lso.nets.space_trainer import (
    darts_layers,
    forward_macs,
    nb101_macro,
    network_for,
    train_space_cell,
)
from lso.nets.trainer import train_cell
from lso.space import Cell, MacroConfig, flops
from lso.spaces import DartsSpace, Nb101Space, Nb201Space, SpaceError
from lso.spaces.nb101_cost import network_params

pytest.importorskip("mnist1d")

from lso.data.datasets import load_dataset  # noqa: E402

TINY = get_protocol("mnist1d-v2").with_(name="tiny", epochs=1, train_samples=64)


@pytest.fixture(scope="module")
def mnist1d():
    return load_dataset("mnist1d", split_seed=0)


def _figures(r) -> tuple:
    return (r.train_acc, r.train_loss, r.valid_acc, r.valid_loss, r.test_acc, r.test_loss)


@pytest.mark.parametrize("space", [Nb101Space(), DartsSpace()], ids=["nb101", "darts"])
def test_a_tiny_protocol_trains_and_same_seed_repeats(space, mnist1d) -> None:
    cell = space.sample(1, np.random.default_rng(2))[0]
    a = train_space_cell(space, cell, TINY, 0, mnist1d)
    b = train_space_cell(space, cell, TINY, 0, mnist1d)
    c = train_space_cell(space, cell, TINY, 1, mnist1d)
    assert _figures(a) == _figures(b)
    assert _figures(a) != _figures(c)
    assert (a.arch, a.dataset, a.protocol, a.seed, a.epochs) == (space.to_string(cell), "mnist1d", "tiny", 0, 1)
    assert 0.0 <= a.valid_acc <= 100.0 and a.valid_loss > 0 and a.train_loss > 0 and a.wall_time_s > 0
    assert a.params == count_params(network_for(space, cell, TINY, mnist1d)) and a.flops > a.params


def test_training_leaves_the_global_rng_alone(mnist1d) -> None:
    space = Nb101Space()
    cell = space.sample(1, np.random.default_rng(0))[0]
    before = torch.get_rng_state()
    train_space_cell(space, cell, TINY, 3, mnist1d)
    assert torch.equal(before, torch.get_rng_state())


def test_protocol_sizes_map_onto_each_space(mnist1d) -> None:
    protocol = TINY.with_(channels=6, cells_per_stage=2)
    nb101 = Nb101Space().sample(1, np.random.default_rng(1))[0]
    macro = nb101_macro(protocol, mnist1d)
    assert (macro.stem_channels, macro.num_stacks, macro.modules_per_stack, macro.in_channels) == (6, 3, 2, 1)
    net = network_for(Nb101Space(), nb101, protocol, mnist1d)
    assert isinstance(net, Nb101Network) and isinstance(net.classifier, torch.nn.Linear)
    assert isinstance(net.features[0][0], torch.nn.Conv1d)  # 1-D layers for a 1-D dataset
    pruned = nb101.pruned()
    # the 1-D count: every k-kernel has k weights, so it sits below the 2-D count of the same macro
    assert count_params(net) < network_params(pruned.matrix, pruned.ops, macro)

    g = DartsSpace().sample(1, np.random.default_rng(1))[0]
    darts = network_for(DartsSpace(), g, protocol, mnist1d)
    assert isinstance(darts, DartsNetwork) and len(darts.cells) == darts_layers(2) == 8  # NB301's depth
    assert sum(c.reduction for c in darts.cells) == 2
    assert count_params(darts) == darts_params(g, 6, 8, 10, 1, dims=1)


def test_nb201_cells_take_the_existing_path(mnist1d) -> None:
    cell = Cell.from_string("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|none~1|avg_pool_3x3~2|")
    a = train_space_cell(Nb201Space(), cell, TINY, 4, mnist1d)
    b = train_cell(cell, TINY, mnist1d, seed=4)
    assert _figures(a) == _figures(b) and (a.arch, a.params, a.flops) == (b.arch, b.params, b.flops)
    assert count_params(network_for(Nb201Space(), cell, TINY, mnist1d)) == b.params


def test_a_cell_of_another_space_is_rejected(mnist1d) -> None:
    nb101 = Nb101Space().sample(1, np.random.default_rng(0))[0]
    with pytest.raises(SpaceError, match="the darts space trains DartsGenotype cells, got Nb101Cell"):
        train_space_cell(DartsSpace(), nb101, TINY, 0, mnist1d)
    with pytest.raises(LsoError, match="the nb201 space trains Cell cells, got Nb101Cell"):
        train_space_cell(Nb201Space(), nb101, TINY, 0, mnist1d)
    with pytest.raises(SpaceError, match="the nb101 space trains Nb101Cell cells, got str"):
        network_for(Nb101Space(), "0|input", TINY, mnist1d)


def test_a_space_without_a_network_and_a_wrong_dataset_are_rejected(mnist1d) -> None:
    class Chain:  # a user's space (as tests/spaces/test_toy_space.py) with no network in lso
        name, cell_type = "chain", tuple

        def to_string(self, cell):
            return "-".join(cell)

    with pytest.raises(SpaceError, match="no network for the chain space"):
        train_space_cell(Chain(), ("conv",), TINY, 0, mnist1d)  # type: ignore[arg-type]
    with pytest.raises(ProtocolError, match="is for dataset 'mnist1d', got data 'digits'"):
        digits = load_dataset("digits")
        train_space_cell(Nb101Space(), Nb101Space().sample(1, np.random.default_rng(0))[0], TINY, 0, digits)


@pytest.mark.parametrize("dims", [1, 2])
def test_forward_macs_agrees_with_nb201s_analytic_flops(dims: int) -> None:
    cell = Cell(("nor_conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_1x1", "nor_conv_3x3", "nor_conv_3x3"))
    macro = MacroConfig(channels=6, cells_per_stage=2, num_classes=7, in_channels=2, input_size=12)
    net = Network(cell, macro, dims=dims).train()
    expected = flops(cell, macro) if dims == 2 else flops_1d(cell, macro)
    assert forward_macs(net, torch.zeros(1, 2, *(12,) * dims)) == expected
    assert net.training  # mode restored
