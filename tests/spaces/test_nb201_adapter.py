"""The NB201 space behind the protocol is lso.space exactly: strings, canonical forms, enumeration, graphs, cost."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.data.graphs import graphs_from_ops, ops_of
from lso.errors import ArchStringError, LsoError
from lso.space import Cell, all_cells, flops, num_params, unique_ids
from lso.spaces import Nb201Space, SearchSpace, SpaceError, get_space

SPACE = Nb201Space()
ARCH = "|nor_conv_3x3~0|+|none~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_1x1~1|none~2|"


def test_enumeration_and_classes_are_those_of_lso_space():
    cells = SPACE.enumerate()
    assert cells == all_cells() and len(cells) == 15_625
    canon = [SPACE.canonical(c) for c in cells]
    assert canon == [c.canonical() for c in all_cells()]
    assert len(set(canon)) == 6_466 == len(set(unique_ids()))


def test_every_string_round_trips_and_parses_as_lso_space_does():
    for cell in all_cells():
        text = SPACE.to_string(cell)
        assert text == cell.to_string() and SPACE.parse(text) == cell


@pytest.mark.parametrize("bad", ["", "|nor_conv_3x3~0|", ARCH.replace("avg_pool_3x3", "conv_9x9"), ARCH.replace("~1|+", "~0|+", 1)])
def test_malformed_strings_raise_one_line_lso_errors(bad):
    with pytest.raises(ArchStringError) as err:
        SPACE.parse(bad)
    assert isinstance(err.value, LsoError) and "\n" not in str(err.value)


def test_graph_tensors_match_the_forward_half_of_lso_data_graphs():
    cell = Cell.from_string(ARCH)
    g = SPACE.graph_tensors(cell)
    batch = graphs_from_ops(ops_of([cell]))
    assert g.node_ops.tolist() == [0, 1, 2, 3] and g.num_edges == 6
    assert torch.equal(g.edge_index, batch.edge_index[:, :6])
    assert torch.equal(g.edge_ops, batch.edge_attr[:6, :5].argmax(1))
    assert g.edge_ops.tolist() == list(cell.indices)  # 'none' edges kept, as lso.data.graphs does
    assert g.adjacency.sum() == 6 and torch.equal(g.adjacency, torch.triu(torch.ones(4, 4, dtype=torch.long), 1))


def test_sizes_delegate_to_lso_space():
    cell = Cell.from_string(ARCH)
    assert SPACE.num_params(cell) == num_params(cell) and SPACE.flops(cell) == flops(cell)
    all_conv = SPACE.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|")
    assert SPACE.flops(all_conv) == 220_119_690  # NB201: 220.12 M for all-conv3x3 on CIFAR-10
    with pytest.raises(SpaceError):
        SPACE.num_params(ARCH)  # a string is not a cell


def test_sampling_is_seeded_and_spreads_over_the_space():
    a = SPACE.sample(500, np.random.default_rng(3))
    assert a == SPACE.sample(500, np.random.default_rng(3))
    assert a != SPACE.sample(500, np.random.default_rng(4))
    assert SPACE.sample(20, torch.Generator().manual_seed(1)) == SPACE.sample(20, torch.Generator().manual_seed(1))
    assert all(SPACE.is_valid(c) for c in a) and len(set(a)) > 480  # 500 draws from 15,625 rarely repeat
    ops = np.array([c.indices for c in a])
    assert set(np.unique(ops)) == {0, 1, 2, 3, 4}


def test_registry_and_protocol():
    assert get_space("nb201") is get_space(" NB201 ") and isinstance(SPACE, SearchSpace)
