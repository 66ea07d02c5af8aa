"""MNIST-1D offline, the 1-D NB201 network, and the MNIST-1D protocols."""

from __future__ import annotations

import random
import socket

import numpy as np
import pytest
import torch

from lso.data.datasets import load_dataset
from lso.nets.network import Network, count_params
from lso.nets.network1d import Network1d, flops_1d, num_params_1d
from lso.nets.ops import make_op
from lso.nets.protocol import PROTOCOLS, TrainProtocol, get_protocol
from lso.nets.trainer import train_cell
from lso.space import OPS, Cell, MacroConfig, all_cells

pytest.importorskip("mnist1d")

MACRO = MacroConfig(channels=8, cells_per_stage=1, num_classes=10, in_channels=1, input_size=40)


@pytest.fixture(scope="module")
def offline_data(request: pytest.FixtureRequest):
    """MNIST-1D loaded with every socket connection refused: generation must not download."""
    original = socket.socket.connect

    def refuse(*args, **kwargs):
        raise AssertionError("mnist1d tried to use the network")

    socket.socket.connect = refuse  # type: ignore[method-assign]
    try:
        state = np.random.get_state()
        data = load_dataset("mnist1d", split_seed=0)
        after = np.random.get_state()
    finally:
        socket.socket.connect = original  # type: ignore[method-assign]
    assert all(np.array_equal(a, b) for a, b in zip(state[1:2], after[1:2])), "global NumPy RNG was changed"
    return data


def test_mnist1d_loads_offline_with_seeded_split(offline_data) -> None:
    d = offline_data
    assert d.name == "mnist1d" and d.spatial_dims == 1 and d.input_size == 40 and d.in_channels == 1
    assert d.sizes() == (3001, 999, 1000)
    assert d.train.x.shape == (3001, 1, 40) and d.train.x.dtype == torch.float32
    assert d.test.y.dtype == torch.int64 and set(d.train.y.unique().tolist()) == set(range(10))
    assert abs(float(d.train.x.mean())) < 1e-4 and abs(float(d.train.x.std()) - 1.0) < 1e-3
    again = load_dataset("mnist1d", split_seed=0)
    assert torch.equal(again.train.x, d.train.x) and torch.equal(again.valid.y, d.valid.y)
    other = load_dataset("mnist1d", split_seed=1)
    assert not torch.equal(other.train.y, d.train.y)
    assert torch.equal(other.test.y, d.test.y)  # the test split is the package's own, whatever the seed


@pytest.mark.parametrize("op", OPS)
def test_1d_ops_keep_shape(op: str) -> None:
    x = torch.randn(2, 5, 11)
    assert make_op(op, 5, dims=1)(x).shape == x.shape


def test_1d_network_builds_for_every_op_and_dead_cell() -> None:
    dead = Cell.from_string("|none~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|nor_conv_3x3~2|")
    for cell in [Cell((op,) * 6) for op in OPS] + [dead] + random.Random(3).sample(all_cells(), 20):
        net = Network1d(cell, MACRO)
        assert net(torch.randn(3, 1, 40)).shape == (3, 10)
        assert count_params(net) == num_params_1d(cell, MACRO)
        assert flops_1d(cell, MACRO) > 0
    assert count_params(Network1d(dead, MACRO)) == count_params(Network1d(dead, MACRO))


def test_1d_network_is_the_network_with_dims_1() -> None:
    cell = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    torch.manual_seed(5)
    a = Network1d(cell, MACRO)
    torch.manual_seed(5)
    b = Network(cell, MACRO, dims=1)
    assert isinstance(a, Network) and a.state_dict().keys() == b.state_dict().keys()
    assert all(torch.equal(a.state_dict()[k], b.state_dict()[k]) for k in a.state_dict())


def test_1d_network_trains_one_step_deterministically(offline_data) -> None:
    protocol = get_protocol("mnist1d-fast").with_(name="tiny", epochs=1, train_samples=64)
    cell = "|nor_conv_3x3~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|skip_connect~0|none~1|nor_conv_3x3~2|"
    a = train_cell(cell, protocol, offline_data, seed=0)
    b = train_cell(cell, protocol, offline_data, seed=0)
    assert a.valid_acc == b.valid_acc and a.params == b.params == num_params_1d(cell, MACRO)
    assert 0.0 <= a.test_acc <= 100.0 and a.flops == flops_1d(cell, MACRO)


def test_mnist1d_protocols_are_registered_and_round_trip() -> None:
    names = [n for n, p in PROTOCOLS.items() if p.dataset == "mnist1d"]
    assert "mnist1d-fast" in names
    for name in names:
        p = get_protocol(name)
        assert TrainProtocol.from_dict(p.to_dict()) == p
        assert TrainProtocol.from_dict(p.to_dict()).to_json() == p.to_json()
