"""Search progress and Stop (run_search's reporter, run_plan), the queries' CSV export, the best cell's standing
and the search figures, on a synthetic complete table (no real data needed)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from lso.bench import BenchmarkTable
from lso.errors import LsoError
from lso.jobs import Cancelled, Reporter
from lso.search import Evaluation, TableOracle, isomorphism_class, run_search
from lso.search.export import COLUMNS, export_filename, queries_csv, queries_frame
from lso.search.plan import SearchPlan, run_plan
from lso.search.standing import standing
from lso.space import OPS, all_cells
from lso.viz.search_figures import best_so_far_figure, live_figure, trajectory_figure

BASELINES = ("random", "rea", "ls")


@pytest.fixture(scope="module")
def table() -> BenchmarkTable:
    """All 15,625 cells; ``valid`` rewards convolutions, ``test`` = valid + noise (a smooth, searchable space)."""
    cells = all_cells()
    rng = np.random.default_rng(0)
    weight = {op: w for op, w in zip(OPS, (0.0, 1.0, 2.0, 3.0, 0.5))}
    valid = np.array([sum(weight[op] for op in c.ops) for c in cells]) * 4 + rng.normal(0, 1, len(cells))
    frame = pd.DataFrame({"index": np.arange(len(cells)), "arch": [c.to_string() for c in cells],
                          "syn_valid": valid, "syn_test": valid + rng.normal(0, 1, len(cells))})
    return BenchmarkTable.from_frame(frame)


@pytest.fixture(scope="module")
def oracle(table) -> TableOracle:
    return TableOracle(table, "syn_valid", "syn_test")


def arches(result) -> list[str]:
    return [ev.cell.to_string() for ev in result.evaluations]


def stop_after(n: int) -> Reporter:
    """A reporter whose user presses Stop when the n-th query is reported."""
    reporter = Reporter(on_event=lambda event: reporter.cancel() if event.done >= n else None)
    return reporter


@pytest.mark.parametrize("method", BASELINES)
def test_reporter_gets_one_report_per_query_out_of_the_budget(oracle, method):
    reporter = Reporter()
    result = run_search(method, oracle, budget=40, seed=3, reporter=reporter)
    events = reporter.events
    assert result.num_queries == 40
    assert [e.done for e in events] == list(range(1, 41))
    assert {e.total for e in events} == {40} and events[-1].fraction == 1.0
    signals = [ev.signal for ev in result.evaluations]
    assert [e.figures["best_signal"] for e in events] == pytest.approx(list(np.maximum.accumulate(signals)))
    assert method in events[0].message and "40" in events[0].message


@pytest.mark.parametrize("method", BASELINES)
def test_same_seed_same_trace_with_and_without_a_reporter(oracle, method):
    plain = run_search(method, oracle, budget=60, seed=11)
    reported = run_search(method, oracle, budget=60, seed=11, reporter=Reporter())
    assert arches(plain) == arches(reported)
    assert arches(plain) != arches(run_search(method, oracle, budget=60, seed=12))


@pytest.mark.parametrize("method", BASELINES)
def test_stop_ends_the_search_early_with_a_valid_partial_trace(oracle, method):
    reporter = stop_after(15)
    partial = run_search(method, oracle, budget=80, seed=5, reporter=reporter)
    full = run_search(method, oracle, budget=80, seed=5)
    assert reporter.cancel_requested
    assert partial.num_queries == 15 and len(reporter.events) == 15
    assert arches(partial) == arches(full)[:15]  # the prefix of the run it interrupted
    assert len({isomorphism_class(ev.cell) for ev in partial.evaluations}) == 15
    assert partial.best.signal == max(ev.signal for ev in partial.evaluations)
    assert partial.to_json()["num_queries"] == 15


def test_stop_during_precharged_labels_counts_them(oracle):
    labels = tuple({isomorphism_class(c): Evaluation(c, 1.0, 1.0) for c in all_cells()[:40]}.values())
    assert len(labels) > 3
    reporter = stop_after(3)
    result = run_search("random", oracle, budget=50, seed=0, precharge=labels, reporter=reporter)
    assert result.num_queries == 3 and result.precharged == 3


def test_labels_beyond_the_budget_still_raise(oracle):
    labels = tuple(Evaluation(c, 1.0, 1.0) for c in all_cells()[:30])
    with pytest.raises(LsoError, match="30 labelled cells are charged first"):
        run_search("random", oracle, budget=2, seed=0, precharge=labels, reporter=Reporter())


def test_plan_runs_baselines_with_one_progress_count(oracle):
    reporter = Reporter()
    outcome = run_plan(SearchPlan("rea", ("random", "ls", "rea"), budget=30, seed=2), oracle, reporter=reporter)
    assert [r.method for r in outcome.results] == ["rea", "random", "ls"] and not outcome.stopped
    assert all(r.num_queries == 30 and r.seed == 2 for r in outcome.results)
    assert [e.done for e in reporter.events] == list(range(1, 91))
    assert {e.total for e in reporter.events} == {90}
    assert arches(outcome.results[1]) == arches(run_search("random", oracle, budget=30, seed=2))
    figure = live_figure(reporter.events, "syn_valid")
    assert [t.name for t in figure.data] == ["rea", "random", "ls"]
    assert all(len(t.x) == 30 for t in figure.data)
    assert list(figure.data[0].y) == pytest.approx(list(outcome.results[0].best_so_far().signal))


def test_plan_stop_keeps_the_partial_run_and_skips_the_rest(oracle):
    reporter = stop_after(40)  # the 10th query of the second run
    outcome = run_plan(SearchPlan("random", ("rea", "ls"), budget=30, seed=0), oracle, reporter=reporter)
    assert outcome.stopped
    assert [r.num_queries for r in outcome.results] == [30, 10]


def test_plan_refuses_a_latent_method_without_a_run(oracle):
    with pytest.raises(LsoError, match="training run"):
        run_plan(SearchPlan("random", ("crlso",), budget=10, seed=0), oracle)


def test_a_stop_asked_before_the_start_ends_at_the_first_report(oracle):
    reporter = Reporter()
    reporter.cancel()
    result = run_search("rea", oracle, budget=10, seed=0, reporter=reporter)
    assert result.num_queries == 1 and result.best is not None  # the query in flight is kept, then it stops
    with pytest.raises(Cancelled):
        reporter(0, 1)


def test_csv_export_lists_the_queried_cells_in_order(oracle):
    a = run_search("rea", oracle, budget=25, seed=1)
    b = run_search("random", oracle, budget=10, seed=1)
    text = queries_csv([a, b])
    frame = pd.read_csv(io.StringIO(text))
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 35
    rea = frame[frame.method == "rea"]
    assert list(rea.order) == list(range(1, 26)) and list(rea.arch) == arches(a)
    assert list(rea.signal) == pytest.approx([ev.signal for ev in a.evaluations])
    assert list(rea.best_signal_so_far) == pytest.approx(list(np.maximum.accumulate(rea.signal)))
    assert rea.best_report_so_far.iloc[-1] == pytest.approx(a.best.report)
    assert not rea.label.any()
    assert queries_frame([a]).equals(queries_frame([a]))
    assert export_filename(a) == "search_rea_seed1_syn_valid_syn_test.csv"


def test_precharged_rows_are_marked_as_labels(oracle):
    labels = tuple(oracle.evaluate(c) for c in all_cells()[100:103])
    result = run_search("random", oracle, budget=8, seed=0, precharge=labels)
    frame = queries_frame([result])
    assert list(frame.label) == [True] * 3 + [False] * 5


def test_standing_ranks_the_best_cell_in_its_table(table, oracle):
    best_cell, best_value = table.best("syn_valid")
    top = standing(oracle.evaluate(best_cell), table, "syn_valid", "syn_test")
    assert top.signal_rank == 1 and top.signal == best_value and top.rows == 15625
    result = run_search("random", oracle, budget=20, seed=0)
    s = standing(result.best, table, "syn_valid", "syn_test")
    values = table.values("syn_valid")
    assert s.signal_rank == 1 + int(np.sum(values > result.best.signal)) > 1
    assert 1 <= s.report_rank <= 15625 and s.best_report == pytest.approx(table.values("syn_test").max())


def test_best_so_far_figure_draws_each_run(oracle, table):
    labels = tuple(oracle.evaluate(c) for c in all_cells()[:5])
    runs = [run_search("random", oracle, budget=20, seed=0, precharge=labels), run_search("rea", oracle, budget=20,
                                                                                          seed=0)]
    optimum = oracle.evaluate(table.best("syn_valid")[0])
    fig = best_so_far_figure(runs, optimum)
    assert len(fig.data) == 4
    assert list(fig.data[0].y) == pytest.approx(list(runs[0].best_so_far().report))
    assert list(fig.data[3].y) == pytest.approx(list(runs[1].best_so_far().signal))
    assert len(fig.layout.shapes) == 2  # the first run's label line and the optimum line
    assert "ORACLE" not in fig.layout.title.text
    assert fig.layout.yaxis.title.text == "syn_test / syn_valid"  # no "%" unless the metrics say so
    from lso.bench.metric_info import MetricInfo

    pct = MetricInfo("syn", "max", "percent")
    assert best_so_far_figure(runs, optimum, signal_info=pct, report_info=pct).layout.yaxis.title.text.endswith("(%)")
    latency = MetricInfo("latency_ms", "min", "raw")
    assert "%" not in best_so_far_figure(runs, signal_info=latency, report_info=pct).layout.yaxis.title.text


def test_trajectory_figure_adds_labels_path_and_best(oracle):
    import plotly.graph_objects as go

    base = go.Figure(go.Scattergl(x=[0, 1], y=[0, 1], mode="markers"))
    coords = np.arange(20, dtype=float).reshape(10, 2)
    fig = trajectory_figure(base, coords, [f"q{k}" for k in range(10)], precharged=3, best=7, name="rea")
    assert len(base.data) == 1  # the base is not modified
    names = [t.name for t in fig.data[1:]]
    assert names == ["run's labels", "rea", "best found"]
    assert list(fig.data[1].x) == [0, 2, 4] and list(fig.data[2].x) == list(coords[3:, 0])
    assert list(fig.data[3].x) == [14.0]
    with pytest.raises(ValueError):
        trajectory_figure(base, coords, ["only one"])


def test_compare_reports_runs_done_and_stops_between_runs(table):
    from lso.search.compare import CompareConfig, compare_methods

    config = CompareConfig(methods=("random", "rea"), seeds=(0, 1), budgets=(15,), signal="syn_valid",
                           report="syn_test", target=30.0)
    reporter = Reporter()
    comparison = compare_methods(table, config, reporter=reporter)
    assert [(e.done, e.total) for e in reporter.events] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert reporter.events[2].message == "rea seed 0"
    assert [(r.method, r.seed) for r in comparison.results] == [("random", 0), ("random", 1), ("rea", 0), ("rea", 1)]
    plain = compare_methods(table, config)
    assert [arches(r) for r in plain.results] == [arches(r) for r in comparison.results]
    stopping = Reporter(on_event=lambda event: stopping.cancel() if event.done == 2 else None)
    with pytest.raises(Cancelled):
        compare_methods(table, config, reporter=stopping)
    assert [e.done for e in stopping.events] == [0, 1, 2]  # the third run never started


def test_comparison_curves_and_files(table, tmp_path):
    import json

    from lso.report.search import write_comparison
    from lso.search.compare import CompareConfig, compare_methods
    from lso.viz.search_figures import comparison_curves_figure

    config = CompareConfig(methods=("random", "rea"), seeds=(0, 1, 2), budgets=(10, 20), signal="syn_valid",
                           report="syn_test", target=30.0)
    comparison = compare_methods(table, config)
    fig = comparison_curves_figure(comparison)
    assert [t.name for t in fig.data if t.showlegend is not False] == ["random", "rea"]  # a band and a median each
    assert len(fig.data) == 4 and fig.data[0].fill == "toself"
    median = comparison.curves_frame().query("method == 'rea'").groupby("queries").best_report.median()
    assert list(fig.data[3].y) == pytest.approx(list(median))
    assert fig.layout.yaxis.title.text == "syn_test"
    files = write_comparison(comparison, tmp_path / "cmp")
    assert sorted(p.name for p in (tmp_path / "cmp").iterdir()) == [
        "best_so_far.html", "comparison.csv", "comparison.json", "comparison.md", "curves.csv"]
    saved = json.loads(files.summary_json.read_text())
    assert saved["config"]["methods"] == ["random", "rea"] and len(saved["summaries"]) == 2
