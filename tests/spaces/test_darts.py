"""The DARTS / NAS-Bench-301 space: the genotype string of the DARTS code, canonical form, validity, sampling."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from lso.errors import ArchStringError, LsoError
from lso.spaces import (
    DartsGenotype,
    DartsSpace,
    SearchSpace,
    SpaceTooLargeError,
    get_space,
)
from lso.spaces.darts import PRIMITIVES, num_genotypes

SPACE = DartsSpace()
# The DARTS genotype as published in the DARTS code (quark0/darts, cnn/genotypes.py), printed by str(Genotype).
DARTS = ("Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), ('sep_conv_3x3', 1), "
         "('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 2)], normal_concat=[2, 3, 4, 5], "
         "reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), "
         "('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])")


def genotype(normal, reduce=None) -> DartsGenotype:
    return DartsGenotype(tuple(normal), tuple(reduce if reduce is not None else normal))


def test_the_published_string_round_trips():
    g = SPACE.parse(DARTS)
    assert SPACE.to_string(g) == DARTS and SPACE.parse(SPACE.to_string(g)) == g
    assert g.normal[0] == ("sep_conv_3x3", 1) and g.reduce[7] == ("avg_pool_3x3", 0)
    # what DARTS's search prints (range concat, other spacing and quotes) reads as the same genotype
    printed = DARTS.replace("normal_concat=[2, 3, 4, 5]", "normal_concat=range(2, 6)").replace("'", '"').replace(", (", ",(")
    assert SPACE.parse("  " + printed + "\n") == g


@pytest.mark.parametrize("bad, says", [
    ("Genotype(normal=[])", "missing field normal_concat"),
    ("genotype" + DARTS[8:], "expected Genotype("),
    (DARTS.replace("sep_conv_3x3', 1)", "conv_7x1_1x7', 1)", 1), "unknown DARTS operation 'conv_7x1_1x7'"),
    (DARTS.replace("('skip_connect', 2)]", "('skip_connect', 5)]", 1), "enters node 5 from node 5"),
    (DARTS.replace("('sep_conv_3x3', 0), ('skip_connect', 2)]", "('skip_connect', 2)]"), "has 8 edges (2 per node), got 7"),
    (DARTS.replace("reduce_concat=[2, 3, 4, 5]", "reduce_concat=[4, 5, 6]"), "this space concatenates nodes [2, 3, 4, 5]"),
    (DARTS.replace("('max_pool_3x3', 1)", "('max_pool_3x3' 1)", 1), "is not ('op', input)"),
    (DARTS.replace("normal_concat", "normal_cat"), "unexpected field"),
    (DARTS[:-1] + ", normal=[])", "given twice"),
    (DARTS.replace("[2, 3", "[[2, 3", 1), "unbalanced brackets"),
    ("__import__('os').system('true')", "expected Genotype("),  # parsed, never evaluated
])
def test_malformed_genotypes_raise_one_clear_line(bad, says):
    with pytest.raises(ArchStringError) as err:
        SPACE.parse(bad)
    assert isinstance(err.value, LsoError) and says in str(err.value) and "\n" not in str(err.value)


CELL_A = [("sep_conv_3x3", 0), ("sep_conv_5x5", 1), ("max_pool_3x3", 0), ("avg_pool_3x3", 1),
          ("skip_connect", 2), ("dil_conv_3x3", 3), ("sep_conv_3x3", 4), ("skip_connect", 2)]
# node 2 and node 3 exchanged (their users follow), and the inputs of node 4 and node 5 listed the other way round
CELL_B = [("max_pool_3x3", 0), ("avg_pool_3x3", 1), ("sep_conv_3x3", 0), ("sep_conv_5x5", 1),
          ("dil_conv_3x3", 2), ("skip_connect", 3), ("skip_connect", 3), ("sep_conv_3x3", 4)]


def test_canonical_form_ignores_input_order_and_node_numbering():
    a, b = genotype(CELL_A), genotype(CELL_B)
    assert a != b and SPACE.canonical(a) == SPACE.canonical(b)
    swapped = list(CELL_A)
    swapped[0], swapped[1] = swapped[1], swapped[0]
    assert SPACE.canonical(genotype(swapped)) == SPACE.canonical(a)


def test_canonical_form_separates_different_functions():
    a = genotype(CELL_A)
    other_source = list(CELL_A)
    other_source[4] = ("skip_connect", 3)  # node 4 now reads node 3 twice over: a different graph
    moved_op = list(CELL_A)
    moved_op[4], moved_op[5] = ("dil_conv_3x3", 2), ("skip_connect", 3)  # ops exchanged between the two inputs
    inputs_swapped = [(op, 1 - src if src < 2 else src) for op, src in CELL_A]  # c_{k-2} and c_{k-1} differ
    forms = {SPACE.canonical(g) for g in (a, genotype(other_source), genotype(moved_op), genotype(inputs_swapped))}
    assert len(forms) == 4
    other = SPACE.parse(DARTS).reduce
    assert SPACE.canonical(DartsGenotype(a.normal, other)) != SPACE.canonical(DartsGenotype(other, a.normal))


def test_validity_of_the_nb301_space():
    assert SPACE.is_valid(SPACE.parse(DARTS)) and SPACE.is_valid(genotype(CELL_A))
    with_none = list(CELL_A)
    with_none[3] = ("none", 1)
    assert not SPACE.is_valid(genotype(with_none))  # 'none' parses (DARTS's PRIMITIVES[0]) but is not in the space
    same_input = list(CELL_A)
    same_input[1] = ("sep_conv_5x5", 0)
    assert not SPACE.is_valid(genotype(same_input))  # a node's two edges come from two different nodes


def test_sampling_is_seeded_uniform_and_valid():
    a = SPACE.sample(500, np.random.default_rng(11))
    assert a == SPACE.sample(500, np.random.default_rng(11)) and a != SPACE.sample(500, np.random.default_rng(12))
    assert SPACE.sample(3, torch.Generator().manual_seed(0)) == SPACE.sample(3, torch.Generator().manual_seed(0))
    assert all(SPACE.is_valid(g) for g in a) and len({SPACE.canonical(g) for g in a}) == 500
    ops = [op for g in a for op, _ in g.normal + g.reduce]
    counts = np.array([ops.count(op) for op in PRIMITIVES[1:]])
    assert "none" not in ops and counts.min() > 0.8 * len(ops) / 7  # 8,000 edges, ~1,143 per op
    node5_inputs = [src for g in a for _, src in g.normal[6:8]]
    assert set(node5_inputs) == {0, 1, 2, 3, 4}


def test_graph_tensors_layout():
    g = SPACE.graph_tensors(SPACE.parse(DARTS))
    assert g.num_nodes == 14 == SPACE.max_nodes and g.num_edges == 24
    assert SPACE.edge_labels[int(g.edge_ops[0])] == "sep_conv_3x3" and g.edge_index[:, 0].tolist() == [0, 2]
    concat = SPACE.edge_labels.index("concat")
    assert (g.edge_ops == concat).sum() == 8 and set(g.edge_index[1, g.edge_ops == concat].tolist()) == {6, 13}
    assert bool((g.edge_index[0] < g.edge_index[1]).all())  # topological numbering
    assert g.edge_index[1].tolist() == sorted(g.edge_index[1].tolist())


def test_the_space_cannot_be_listed_and_counts_its_networks_parameters():
    assert num_genotypes() == (180 * 7**8) ** 2  # ~1.08e18
    with pytest.raises(SpaceTooLargeError, match="sample it"):
        SPACE.enumerate()
    assert SPACE.num_params(SPACE.parse(DARTS)) == 871_786  # DARTS V1 in NB301's network (C=32, 8 cells)
    assert SPACE.num_params(SPACE.parse(DARTS), channels=36, layers=20) == 3_169_414
    assert isinstance(SPACE, SearchSpace) and get_space("darts") is get_space("DARTS")
