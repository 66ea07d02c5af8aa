"""Saved searches in the workspace: one folder per job, one RESULT.json per method, never two jobs in one folder."""

from __future__ import annotations

import json

import pytest

from lso.report.saved import list_saved, save_search
from lso.search import TableOracle
from lso.search.plan import SearchPlan, run_plan
from lso.train.runs import list_runs


def test_saved_searches_are_listed_newest_first_and_never_share_a_folder(cifar10_table, tmp_path):
    oracle = TableOracle(cifar10_table, "cifar10_valid", "cifar10_test")
    outcome = run_plan(SearchPlan("random", ("rea",), budget=12, seed=3), oracle)
    first, second = save_search(outcome, tmp_path), save_search(outcome, tmp_path)  # the same second
    assert first != second and first.parent == second.parent == tmp_path / "searches"
    saved = list_saved(tmp_path, "searches")
    assert [s.path for s in saved] == sorted([first, second], key=lambda p: p.name, reverse=True)
    assert saved[0].files == ("random.json", "rea.json")
    data = json.loads((first / "rea.json").read_text())
    assert [q["arch"] for q in data["queries"]] == [e.cell.to_string() for e in outcome.results[1].evaluations]
    assert list_runs(tmp_path) == []  # the folders are not mistaken for training runs
    with pytest.raises(ValueError, match="kind"):
        list_saved(tmp_path, "runs")
