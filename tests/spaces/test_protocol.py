"""The protocol's shared pieces: the registry, generators, graph tensors."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.errors import LsoError
from lso.spaces import (
    SPACES,
    CellGraph,
    SearchSpace,
    SpaceError,
    get_space,
    make_graph,
    numpy_rng,
)


def test_registry_lists_the_three_spaces():
    assert list(SPACES) == ["nb201", "nb101", "darts"]
    assert all(isinstance(space, SearchSpace) and space.name == name for name, space in SPACES.items())
    with pytest.raises(SpaceError, match="unknown search space 'nb301'; known spaces: nb201, nb101, darts"):
        get_space("nb301")
    with pytest.raises(TypeError):
        SPACES["mine"] = SPACES["nb201"]  # read-only


def test_every_space_round_trips_its_samples_and_gives_well_formed_graphs():
    for space in SPACES.values():
        cells = space.sample(20, np.random.default_rng(0))
        assert len(cells) == 20 and all(isinstance(c, space.cell_type) for c in cells)
        assert all(space.parse(space.to_string(c)) == c for c in cells)
        for c in cells:
            g = space.graph_tensors(c)
            assert isinstance(g, CellGraph) and g.num_nodes <= space.max_nodes
            assert g.edge_index.dtype == torch.long and g.edge_index.shape == (2, g.num_edges)
            assert int(g.node_ops.max()) < len(space.node_labels) and int(g.edge_ops.max()) < len(space.edge_labels)
            assert bool((g.edge_index[0] < g.edge_index[1]).all())
        assert space.sample(0, np.random.default_rng(0)) == []


def test_generators_come_in_never_from_global_state():
    torch.manual_seed(0)
    np.random.seed(0)
    a = numpy_rng(torch.Generator().manual_seed(7)).integers(0, 10**9, size=5)
    torch.manual_seed(1)
    np.random.seed(1)
    b = numpy_rng(torch.Generator().manual_seed(7)).integers(0, 10**9, size=5)
    assert a.tolist() == b.tolist()
    gen = np.random.default_rng(3)
    assert numpy_rng(gen) is gen
    for bad in (3, None, "seed"):
        with pytest.raises(SpaceError, match="numpy.random.Generator or a torch.Generator"):
            numpy_rng(bad)
    with pytest.raises(LsoError, match="sample size"):
        get_space("darts").sample(-1, np.random.default_rng(0))


def test_make_graph_orders_edges_by_target_then_source():
    g = make_graph([0, 1, 2], [(1, 2, 5), (0, 2, 4), (0, 1, 3)])
    assert g.edge_index.tolist() == [[0, 0, 1], [1, 2, 2]] and g.edge_ops.tolist() == [3, 4, 5]
    assert g.adjacency.tolist() == [[0, 1, 1], [0, 0, 1], [0, 0, 0]]
    empty = make_graph([0], [])
    assert empty.edge_index.shape == (2, 0) and empty.num_edges == 0
