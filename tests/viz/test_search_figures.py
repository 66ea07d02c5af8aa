"""lso.viz.search_figures: every point of a search's figures names its cell (hover) and carries its official index
(``customdata``), which is what a click in the app opens."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from lso.bench import BenchmarkTable
from lso.search import TableOracle, run_search
from lso.space import OPS, all_cells, index_of
from lso.viz.search_figures import best_so_far_figure, trajectory_figure


@pytest.fixture(scope="module")
def oracle() -> TableOracle:
    cells = all_cells()
    rng = np.random.default_rng(1)
    weight = dict(zip(OPS, (0.0, 1.0, 2.0, 3.0, 0.5)))
    valid = np.array([sum(weight[op] for op in c.ops) for c in cells]) * 4 + rng.normal(0, 1, len(cells))
    frame = pd.DataFrame({"index": np.arange(len(cells)), "arch": [c.to_string() for c in cells],
                          "syn_valid": valid, "syn_test": valid + rng.normal(0, 1, len(cells))})
    return TableOracle(BenchmarkTable.from_frame(frame), "syn_valid", "syn_test")


def test_best_so_far_points_name_and_index_the_best_cell_at_each_count(oracle):
    result = run_search("random", oracle, budget=25, seed=3)
    fig = best_so_far_figure([result])
    curve = result.best_so_far()
    expected = [index_of(result.evaluations[int(p)].cell) for p in curve.position]
    assert len(set(expected)) > 1  # the best changes during the run, so the ids cannot all be equal by accident
    for trace in fig.data:  # the report line and the signal line
        assert list(trace.customdata) == expected
        k = 10
        best = result.evaluations[int(curve.position[k])]
        assert best.cell.to_string() in trace.hovertext[k] and f"after {k + 1} queries" in trace.hovertext[k]


def test_trajectory_points_carry_the_queried_cells_ids():
    base = go.Figure(go.Scattergl(x=[0, 1], y=[0, 1], mode="markers", customdata=[5, 6]))
    coords = np.arange(20, dtype=float).reshape(10, 2)
    ids = list(range(100, 110))
    fig = trajectory_figure(base, coords, [f"q{k}" for k in range(10)], precharged=3, best=7, ids=ids)
    assert list(fig.data[0].customdata) == [5, 6]  # the map's own cells keep theirs
    assert list(fig.data[1].customdata) == ids[:3] and list(fig.data[2].customdata) == ids[3:]
    assert list(fig.data[3].customdata) == [107]
    with pytest.raises(ValueError, match="one id per queried cell"):
        trajectory_figure(base, coords, [f"q{k}" for k in range(10)], ids=ids[:4])
