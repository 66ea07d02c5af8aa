"""The table oracle, the query ledger (counting, twins, budget, pre-charged labels) and the result type."""

from __future__ import annotations

import numpy as np
import pytest

from lso.errors import LsoError, MetricError
from lso.search import BudgetExhausted, Evaluation, Oracle, QueryLedger, TableOracle, isomorphism_class
from lso.search.ledger import LabelsExceedBudget
from lso.search.result import SearchResult
from lso.space import Cell, all_cells, unique_ids


class CountingOracle:
    """Wraps an oracle and counts the calls that reach it."""

    def __init__(self, inner: TableOracle) -> None:
        self.inner = inner
        self.calls: list[Cell] = []

    @property
    def signal_name(self) -> str:
        return self.inner.signal_name

    @property
    def report_name(self) -> str:
        return self.inner.report_name

    def evaluate(self, cell: Cell) -> Evaluation:
        self.calls.append(cell)
        return self.inner.evaluate(cell)


@pytest.fixture(scope="module")
def oracle(cifar10_table) -> TableOracle:
    return TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")


def twin_pair() -> tuple[Cell, Cell]:
    """Two different cells with the same function."""
    ids = unique_ids()
    for i, uid in enumerate(ids):
        if uid != i:
            return all_cells()[uid], all_cells()[i]
    raise AssertionError("NB201 has isomorphic cells")


def test_table_oracle_answers_the_table(oracle, cifar10_table):
    cell = Cell.from_string(
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    )
    ev = oracle.evaluate(cell)
    assert ev.cell == cell
    assert ev.signal == pytest.approx(91.6067) and ev.report == pytest.approx(94.3733)
    assert ev.signal == cifar10_table.query(cell, "cifar10_valid")
    assert isinstance(oracle, Oracle) and not oracle.is_oracle_protocol


@pytest.mark.parametrize("signal,report,role", [("cifar10_validx", "cifar10_test", "signal"), ("cifar10_valid", "nope", "report")])
def test_table_oracle_names_a_missing_metric(cifar10_table, signal, report, role):
    with pytest.raises(MetricError, match=f"{role} metric .* not in the benchmark table; it has: .*cifar10_valid"):
        TableOracle(cifar10_table, signal, report)


def test_twins_cost_one_query_and_cache_is_free(oracle):
    a, b = twin_pair()
    assert a != b and a.canonical() == b.canonical()
    counting = CountingOracle(oracle)
    ledger = QueryLedger(counting, budget=5)
    first = ledger.query(a)
    assert ledger.seen(b) and ledger.lookup(b) == first
    again = ledger.query(b)
    assert again == first and ledger.spent == 1 and counting.calls == [a]


def test_budget_is_never_exceeded_and_the_oracle_not_called(oracle):
    counting = CountingOracle(oracle)
    ledger = QueryLedger(counting, budget=3)
    cells = [c for c in all_cells()[:50]]
    distinct = list({isomorphism_class(c): c for c in cells}.values())
    for c in distinct[:3]:
        ledger.query(c)
    assert ledger.exhausted and ledger.remaining == 0
    with pytest.raises(BudgetExhausted, match="budget of 3"):
        ledger.query(distinct[3])
    assert len(counting.calls) == 3 and ledger.spent == 3
    assert ledger.query(distinct[0]).cell == distinct[0]  # cached answers stay free after the budget is spent
    assert [ev.cell for ev in ledger.evaluations] == distinct[:3]  # query order kept


def test_precharged_labels_count_as_queries(oracle):
    counting = CountingOracle(oracle)
    ledger = QueryLedger(counting, budget=10)
    labels = [oracle.evaluate(c) for c in all_cells()[100:104]]
    assert ledger.precharge(labels) == 4
    assert ledger.spent == 4 and ledger.precharged == 4 and counting.calls == []  # given labels were paid already
    ledger.precharge([all_cells()[200]])  # a cell is labelled by the oracle
    assert ledger.spent == 5 and len(counting.calls) == 1
    assert ledger.query(labels[0].cell) == labels[0] and ledger.spent == 5


def test_precharge_that_fills_the_budget_is_refused_and_charges_nothing(oracle):
    ledger = QueryLedger(oracle, budget=10)
    with pytest.raises(LabelsExceedBudget, match="10 labelled cells fill the query budget of 10"):
        ledger.precharge(all_cells()[:10])
    assert ledger.spent == 0
    with pytest.raises(LabelsExceedBudget):  # never swallowed as the runner's "budget spent"
        QueryLedger(oracle, budget=2).precharge(all_cells()[:10])
    assert not issubclass(LabelsExceedBudget, BudgetExhausted)


def test_negative_budget_is_refused(oracle):
    with pytest.raises(LsoError, match="budget must be >= 0"):
        QueryLedger(oracle, budget=-1)


def test_result_json_shape_best_and_curves(oracle):
    evs = tuple(oracle.evaluate(c) for c in all_cells()[:30])
    result = SearchResult(method="x", config=None, seed=1, budget=30, signal_name="cifar10_valid",
                          report_name="cifar10_test", evaluations=evs)
    data = result.to_json()
    assert {"queries", "best", "config"} <= set(data)
    assert [q["arch"] for q in data["queries"]] == [ev.cell.to_string() for ev in evs]
    assert all(set(q) == {"arch", "signal", "report", "source"} for q in data["queries"])
    best = max(evs, key=lambda ev: ev.signal)
    assert data["best"] == {"arch": best.cell.to_string(), "signal": best.signal, "report": best.report}
    curve = result.best_so_far()
    assert len(curve) == 30 and np.all(np.diff(curve.signal) >= 0)
    assert curve.signal[-1] == best.signal and curve.report[-1] == best.report
    signals = np.array([ev.signal for ev in evs])
    np.testing.assert_array_equal(curve.signal, np.maximum.accumulate(signals))
    assert np.isnan(curve.report_at(1000))  # the run never spent 1000 queries: no figure there
    assert curve.report_at(1000, carry=True) == best.report
