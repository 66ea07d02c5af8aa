"""NAS-Bench-101 cells: the spec string, pruning, the official hash, validity, sampling, enumeration, parameters.

Published facts checked here:
* the NB101 README's Inception-like cell has the official hash 28cfc7874f6d200472e1a9dcd8650aa0 (the hash that
  google-research's functional_equivalence tests pair with that spec), and the official API returns it stored as
  the isomorphic ``STORED`` spec below with 2,694,282 trainable parameters (API printout in
  gary9987/tensorflow-get-started, NAS_BENCH_101.md);
* the space holds 423,624 unique cells (NB101 paper and README).
"""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from lso.errors import ArchStringError, LsoError
from lso.spaces import Nb101Cell, Nb101Space, SearchSpace, get_space
from lso.spaces.nb101 import NUM_UNIQUE
from lso.spaces.nb101_cost import vertex_channels
from lso.spaces.nb101_graph import (
    brute_force_form,
    enumerate_graphs,
    full_dag_bitmasks,
    hash_matrix,
    matrix_from_bits,
)

SPACE = Nb101Space()
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
README = ("0111010/0000001/0000001/0000100/0000001/0000001/0000000"
          f"|input/{C1}/{C3}/{C3}/{C3}/{MP}/output")
STORED = f"0111100/0000001/0000001/0000001/0000010/0000001/0000000|input/{C3}/{C1}/{MP}/{C3}/{C3}/output"
README_HASH = "28cfc7874f6d200472e1a9dcd8650aa0"


def cell(rows: list[str], ops: list[str]) -> Nb101Cell:
    return Nb101Cell(tuple(tuple(int(c) for c in r) for r in rows), ("input", *ops, "output"))


def test_spec_string_round_trips_and_reads_commas():
    c = SPACE.parse(README)
    assert SPACE.to_string(c) == README and SPACE.parse(SPACE.to_string(c)) == c
    assert c.num_vertices == 7 and c.num_edges == 9 and c.ops[1] == C1
    assert SPACE.parse("  " + README.replace(f"/{C1}/", f",{C1},") + " ") == c
    ops = f"input,{C1},{C3},{C3},{C3},{MP},output"
    assert Nb101Cell.from_record("0111010000000100000010000100000000100000010000000", ops) == c


@pytest.mark.parametrize("bad, says", [
    ("", "expected 'rows|ops'"),
    ("0111010/0000001", "expected 'rows|ops'"),
    ("01x/001/000|input/maxpool3x3/output", "not 0/1 digits"),
    ("010/001|input/maxpool3x3/output", "square"),
    ("010/101/000|input/maxpool3x3/output", "upper triangular"),
    ("010/001/000|input/output", "needs 3 operations"),
    ("010/001/000|input/conv5x5/output", "unknown NB101 operation 'conv5x5'"),
    ("010/001/000|maxpool3x3/input/output", "first operation must be 'input'"),
    ("0|input", "at least 2 vertices"),
])
def test_malformed_specs_raise_one_clear_line(bad, says):
    with pytest.raises(ArchStringError) as err:
        SPACE.parse(bad)
    assert isinstance(err.value, LsoError) and says in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ArchStringError):
        Nb101Cell.from_record("0101", "input,maxpool3x3,output")  # 4 digits for 3 ops


def test_pruning_removes_islands_and_dangling_vertices():
    # vertex 2 is an island (no in-edge), vertex 3 hangs off it: both go
    island = cell(["01000", "00001", "00010", "00000", "00000"], [C3, C1, MP])
    assert island.pruned() == cell(["010", "001", "000"], [C3])
    # vertex 1 has no way to the output: dangling
    dangling = cell(["0110", "0000", "0001", "0000"], [C3, MP])
    assert dangling.pruned() == cell(["010", "001", "000"], [MP])
    assert SPACE.canonical(dangling) == SPACE.canonical(dangling.pruned())
    # no input -> output path at all
    apart = cell(["0100", "0000", "0001", "0000"], [C3, C1])
    assert apart.pruned() is None and not SPACE.is_valid(apart)
    with pytest.raises(ArchStringError, match="no path from input to output"):
        SPACE.canonical(apart)


def test_readme_cell_has_the_official_hash_and_parameter_count():
    readme, stored = SPACE.parse(README), SPACE.parse(STORED)
    assert readme != stored and readme.pruned() == readme  # nothing to prune: a different labelling, same graph
    assert SPACE.canonical(readme) == SPACE.canonical(stored) == README_HASH
    assert SPACE.num_params(readme) == SPACE.num_params(stored) == 2_694_282
    assert vertex_channels(readme.matrix, 128, 128) == [128, 32, 32, 32, 32, 32, 128]


def test_hash_separates_the_tricky_non_isomorphic_pairs():
    chain = ((0, 1, 0, 0, 0), (0, 0, 1, 0, 0), (0, 0, 0, 1, 0), (0, 0, 0, 0, 1), (0, 0, 0, 0, 0))
    assert hash_matrix(chain, [-1, 1, 0, 0, -2]) != hash_matrix(chain, [-1, 0, 0, 1, -2])  # needs the own hash
    skip = ((0, 1, 0, 1), (0, 0, 1, 0), (0, 0, 0, 1), (0, 0, 0, 0))
    assert hash_matrix(skip, [-1, 1, 0, -2]) != hash_matrix(skip, [-1, 0, 1, -2])  # needs edge directions
    diamond = ((0, 1, 1, 0), (0, 0, 0, 1), (0, 0, 0, 1), (0, 0, 0, 0))
    assert hash_matrix(diamond, [-1, 1, 2, -2]) == hash_matrix(diamond, [-1, 2, 1, -2])  # a relabelling


def test_hash_is_invariant_to_any_renumbering_of_interior_vertices():
    rng = np.random.default_rng(0)
    for c in SPACE.sample(100, rng):
        n = c.num_vertices
        perm = [0, *(1 + rng.permutation(n - 2)), n - 1]  # new vertex i is old vertex perm[i]
        matrix = tuple(tuple(c.matrix[perm[a]][perm[b]] for b in range(n)) for a in range(n))
        labels = [c.labels[perm[a]] for a in range(n)]
        assert hash_matrix(matrix, labels) == SPACE.canonical(c)


def test_validity_is_judged_on_the_pruned_cell():
    dense = cell(["0111111", "0011111", "0001111", "0000111", "0000011", "0000001", "0000000"], [C3] * 5)
    assert dense.num_edges == 21 and not SPACE.is_valid(dense)
    # 10 edges as written, 9 once the dead vertex 5 (no out-edge) and its edge are pruned
    pruned_ok = cell(["0100011", "0010001", "0001001", "0000101", "0000001", "0000000", "0000000"], [C3, C1, MP, C3, MP])
    assert pruned_ok.num_edges == 10 and pruned_ok.pruned().num_edges == 9 and SPACE.is_valid(pruned_ok)
    assert not SPACE.is_valid(cell(["010000000", "001000000", "000100000", "000010000", "000001000", "000000100",
                                    "000000010", "000000001", "000000000"], [C3] * 7))  # 9 vertices


def test_small_enumerations_agree_with_brute_force_isomorphism():
    found = enumerate_graphs(max_vertices=5)
    assert found.unique_up_to == {2: 1, 3: 7, 4: 91, 5: 2_532} and found.total == 3_364
    assert _hash_and_brute_force_classes(5) == (2_532, 2_532, 2_532)


def _hash_and_brute_force_classes(max_vertices: int) -> tuple[int, int, int]:
    hashes, forms, pairs = set(), set(), set()
    for vertices in range(2, max_vertices + 1):
        for bits in full_dag_bitmasks(vertices, 9):
            m = matrix_from_bits(bits, vertices)
            for interior in itertools.product(range(3), repeat=vertices - 2):
                labels = (-1, *interior, -2)
                pair = (hash_matrix(m, labels), brute_force_form(m, labels))
                hashes.add(pair[0])
                forms.add(pair[1])
                pairs.add(pair)
    return len(hashes), len(forms), len(pairs)


@pytest.mark.slow
def test_hash_classes_are_isomorphism_classes_up_to_six_vertices():
    # equal counts of hashes, brute-force forms and (hash, form) pairs: the hash neither splits nor merges a class
    assert _hash_and_brute_force_classes(6) == (64_542, 64_542, 64_542)


@pytest.mark.slow
def test_full_enumeration_gives_the_published_423624_cells():
    cells = SPACE.enumerate()
    assert len(cells) == NUM_UNIQUE == 423_624
    hashes = {SPACE.canonical(c): c for c in cells[-2000:] + cells[:2000]}
    assert len(hashes) == 4000 and all(SPACE.is_valid(c) for c in hashes.values())
    # the representative of the README cell's class is the spec the official dataset stores for it
    assert SPACE.parse(STORED) in cells


def test_sampling_is_seeded_valid_and_pruned():
    a = SPACE.sample(2000, np.random.default_rng(5))
    assert a == SPACE.sample(2000, np.random.default_rng(5)) and a != SPACE.sample(2000, np.random.default_rng(6))
    assert SPACE.sample(5, torch.Generator().manual_seed(2)) == SPACE.sample(5, torch.Generator().manual_seed(2))
    assert all(SPACE.is_valid(c) and c.pruned() == c for c in a)
    assert {op for c in a for op in c.ops[1:-1]} == {C3, C1, MP}
    # near-uniform over the 423,624 classes: 2,000 uniform draws would give ~1,995 distinct, 7-vertex cells 85%
    assert len({SPACE.canonical(c) for c in a}) > 1_950
    assert 0.8 < np.mean([c.num_vertices == 7 for c in a]) < 0.9


def test_the_matrix_sampler_is_the_biased_baseline_one():
    sampler = Nb101Space(sampler="matrix")
    a = sampler.sample(2000, np.random.default_rng(5))
    assert a == sampler.sample(2000, np.random.default_rng(5)) and all(SPACE.is_valid(c) and c.pruned() == c for c in a)
    assert len({SPACE.canonical(c) for c in a}) < 1_000 and np.mean([c.num_vertices == 7 for c in a]) < 0.02
    with pytest.raises(LsoError, match="unknown NB101 sampler"):
        Nb101Space(sampler="uniform")


def test_graph_tensors_are_the_pruned_cell():
    g = SPACE.graph_tensors(SPACE.parse(README))
    assert g.num_nodes == 7 and g.num_edges == 9 and g.edge_ops.tolist() == [0] * 9
    assert [SPACE.node_labels[i] for i in g.node_ops] == ["input", C1, C3, C3, C3, MP, "output"]
    assert g.adjacency.tolist() == [list(r) for r in SPACE.parse(README).matrix]
    dead = cell(["0110", "0000", "0001", "0000"], [C3, MP])
    assert SPACE.graph_tensors(dead).num_nodes == 3


def test_protocol_registry_and_missing_costs():
    assert isinstance(SPACE, SearchSpace) and get_space("nb101") is get_space("NB101")
    with pytest.raises(NotImplementedError, match="FLOPs"):
        SPACE.flops(SPACE.parse(README))
