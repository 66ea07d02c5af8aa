"""The NAS-Bench-201 cell space against the real tables: strings, official index order, isomorphism, cost."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lso.errors import ArchStringError
from lso.space import OPS, Cell, MacroConfig, all_cells, cell_from_index, flops, index_of, num_cells, num_params, unique_ids

CONV3 = "nor_conv_3x3"


def _real_tables(nb201_dir) -> list:
    paths = sorted(nb201_dir.glob("*.csv"))
    assert len(paths) == 4, paths
    return paths


def test_all_official_strings_round_trip(test200_table) -> None:
    strings = test200_table.frame["arch"].tolist()
    assert len(strings) == len(set(strings)) == 15_625
    for s in strings:
        assert Cell.from_string(s).to_string() == s


def test_index_mapping_agrees_with_every_real_table(nb201_dir) -> None:
    official = [c.to_string() for c in all_cells()]
    for path in _real_tables(nb201_dir):
        frame = pd.read_csv(path, usecols=["index", "arch"])
        assert len(frame) == 15_625, path.name
        assert [official[i] for i in frame["index"]] == frame["arch"].tolist(), path.name
        sample = frame.sample(200, random_state=0)
        assert [index_of(a) for a in sample["arch"]] == sample["index"].tolist(), path.name


def test_enumeration_is_the_whole_space_once() -> None:
    cells = all_cells()
    assert num_cells() == len(cells) == len(set(cells)) == 5**6
    for i in (0, 1, 777, 15_624):
        assert index_of(cell_from_index(i)) == i
    with pytest.raises(ArchStringError, match="out of range"):
        cell_from_index(15_625)


def test_unique_cells_are_6466() -> None:
    assert len({c.canonical() for c in all_cells()}) == 6_466
    ids = unique_ids()
    assert len(set(ids)) == 6_466
    # The id is the smallest official index of the class: each id points at itself and at an isomorphic cell.
    cells = all_cells()
    for i in range(0, 15_625, 311):
        assert ids[ids[i]] == ids[i] <= i
        assert cells[ids[i]].is_isomorphic(cells[i])


def test_canonical_partition_equals_the_official_nats_bench_unique_str(tmp_path) -> None:
    """``Cell.canonical`` groups the 15,625 cells exactly as NATS-Bench's own ``NATStopology.get_unique_str`` does
    (``TopologyStructure.to_unique_str(consider_zero=True)``), called through a real API object over a tss folder
    whose meta lists every architecture in official order: same classes (a bijection of labels), 6,466 of each."""
    import nats_bench
    from official_files import write_nats_tss

    api = nats_bench.create(str(write_nats_tss(tmp_path / "NATS-tss-v1_0-3ffb9-simple", [])), "tss",
                            fast_mode=True, verbose=False)
    cells = all_cells()
    assert len(api) == len(cells) == 15_625
    official = [api.get_unique_str(i) for i in range(len(api))]
    ours = [c.canonical() for c in cells]
    ours_to_official, official_to_ours = {}, {}
    for o, u in zip(ours, official):
        assert ours_to_official.setdefault(o, u) == u, f"lso class {o!r} splits under the official function"
        assert official_to_ours.setdefault(u, o) == o, f"official class {u!r} splits under Cell.canonical"
    assert len(ours_to_official) == len(official_to_ours) == len(set(official)) == 6_466
    assert ours == official  # the strings themselves coincide too (lso follows the official convention)


def test_disconnected_cells_score_chance_in_real_table(test200_table) -> None:
    """A disconnected cell outputs zeros: the real table gives exactly chance accuracy for those 341 cells only."""
    assert test200_table.num_unique == 6_466
    frame = test200_table.frame
    dead = np.array([c.is_disconnected for c in test200_table.cells()])
    assert dead.sum() == 341
    assert (frame["cifar10_test"][dead] == 10.0).all()
    assert (frame["cifar100_test"][dead] == 1.0).all()
    assert (frame["cifar10_test"][~dead] > 40.0).all()


@pytest.mark.parametrize(
    ("arch", "live", "disconnected"),
    [
        # all ops on: every edge is live
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", (1, 1, 1, 1, 1, 1), False),
        # node 3 only fed by node 0: the conv into node 1 leads nowhere, node 2 has no input, 3<-2 carries zeros
        ("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|", (0, 0, 0, 1, 0, 0), False),
        # output fed by node 2 only, node 2 fed by node 1 only
        ("|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|none~1|skip_connect~2|", (1, 0, 1, 0, 0, 1), False),
        # nothing reaches node 3
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|none~0|none~1|none~2|", (0, 0, 0, 0, 0, 0), True),
        ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", (0, 0, 0, 0, 0, 0), True),
    ],
)
def test_dead_edges_by_hand(arch: str, live: tuple, disconnected: bool) -> None:
    cell = Cell.from_string(arch)
    assert cell.live_edges() == tuple(bool(x) for x in live)
    assert cell.dead_edges() == tuple(not x for x in live)
    assert cell.is_disconnected is disconnected


def test_isomorphism_by_hand() -> None:
    a = Cell.from_string("|skip_connect~0|+|none~0|nor_conv_3x3~1|+|none~0|none~1|skip_connect~2|")
    b = Cell.from_string("|skip_connect~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|skip_connect~2|")
    assert a.is_isomorphic(b)  # node 1 = node 0 through the skip, so conv(1) == conv(0)
    c = b.with_op(1, "nor_conv_1x1")
    assert not a.is_isomorphic(c)
    # changing a dead edge keeps the function
    d = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|nor_conv_3x3~2|")
    assert d.is_isomorphic(d.with_op(0, "avg_pool_3x3"))
    assert not d.is_isomorphic(d.with_op(3, "nor_conv_1x1"))


def test_neighbours() -> None:
    cell = cell_from_index(123)
    nbrs = cell.neighbours()
    assert len(nbrs) == len(set(nbrs)) == 24
    assert all(sum(x != y for x, y in zip(n.ops, cell.ops)) == 1 for n in nbrs)


def test_params_agree_with_params_mb(cifar10_table) -> None:
    ours = np.array([num_params(c) / 1e6 for c in cifar10_table.cells()])
    theirs = cifar10_table.values("params_mb")
    diff = np.abs(ours - theirs)
    exact = int((diff < 5e-7).sum())
    # 15,421 rows agree to the table's 6 decimals; the other 204 differ by multiples of a third of one conv op's
    # parameters (an artefact of the source table). Largest difference: 0.162027 MB.
    assert exact >= 15_421
    assert diff.max() == pytest.approx(0.162027, abs=1e-6)
    assert num_params(Cell(("nor_conv_3x3",) * 6)) / 1e6 == pytest.approx(cifar10_table.query(Cell(("nor_conv_3x3",) * 6), "params_mb"), abs=5e-7)


def test_flops_nb201_convention() -> None:
    assert flops(Cell((CONV3,) * 6)) / 1e6 == pytest.approx(220.11969, abs=1e-6)
    assert flops(Cell(("none",) * 6)) / 1e6 == pytest.approx(7.78305, abs=1e-6)
    # more classes: only the classifier grows (64 * 90 weights + 90 biases more for CIFAR-100)
    assert num_params(Cell(("none",) * 6), MacroConfig(num_classes=100)) - num_params(Cell(("none",) * 6)) == 64 * 90 + 90


@pytest.mark.parametrize(
    ("arch", "match"),
    [
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|", "3 node groups"),
        ("|nor_conv_3x3~0|+|nor_conv_3x3~0|+|none~0|none~1|none~2|", "needs 2 incoming"),
        ("|conv_5x5~0|+|none~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'conv_5x5'"),
        ("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|", "should come from node 0"),
        ("|none0|+|none~0|none~1|+|none~0|none~1|none~2|", "not of the form op~i"),
        ("none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "must be"),
        ("", "3 node groups"),
    ],
)
def test_parse_errors_name_the_problem(arch: str, match: str) -> None:
    with pytest.raises(ArchStringError, match=match):
        Cell.from_string(arch)


def test_cell_rejects_bad_ops() -> None:
    with pytest.raises(ArchStringError, match="unknown operation"):
        Cell(("none",) * 5 + ("conv",))
    with pytest.raises(ArchStringError, match="6 edges"):
        Cell(("none",) * 5)
    with pytest.raises(ArchStringError, match="out of range"):
        Cell.from_indices([0, 1, 2, 3, 4, 5])
    assert Cell.from_indices([0, 1, 2, 3, 4, 0]).ops == OPS + ("none",)
