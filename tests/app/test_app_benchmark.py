"""The Benchmark page (AppTest): metric histogram, top-k table, one cell as a DAG with its metrics and costs."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
TABLE = "NAS-Bench-201 cifar10"

pytestmark = pytest.mark.realdata


@pytest.fixture()
def page(nb201_dir, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("LSO_WORKSPACE", str(tmp_path / "workspace"))
    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=120)
    at.session_state["table"] = TABLE
    at.switch_page("views/benchmark.py").run()
    assert not at.exception, at.exception
    return at


def charts(at) -> dict[str, dict]:
    """The page's plotly figures as JSON, by widget key suffix (bench_hist, bench_graph)."""
    out = {}
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        key = "bench_hist" if spec["data"][0]["type"] == "histogram" else "bench_graph"
        out[key] = spec
    return out


def array(values) -> np.ndarray:
    if isinstance(values, dict):
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
    return np.asarray(values, dtype=float)


def test_page_renders_histogram_top_k_and_the_best_cell(page, cifar10_table):
    assert not page.error
    assert page.selectbox(key="bench_metric").value == "cifar10_valid"
    hist = charts(page)["bench_hist"]
    assert hist["layout"]["xaxis"]["title"]["text"] == "cifar10_valid"
    assert np.allclose(np.sort(array(hist["data"][0]["x"])), np.sort(cifar10_table.values("cifar10_valid")))
    top = page.dataframe[0].value
    assert len(top) == 10 and list(top["arch"]) == list(cifar10_table.top("cifar10_valid", 10)["arch"])
    best, _ = cifar10_table.best("cifar10_valid")
    graph = charts(page)["bench_graph"]
    edges = [t for t in graph["data"] if isinstance(t.get("meta"), dict) and "edge" in t["meta"]]
    assert [t["meta"]["op"] for t in edges] == list(best.ops)
    assert any(f"`{best.to_string()}`" in m.value for m in page.markdown)
    assert "Rank **1**" in " ".join(m.value for m in page.markdown)


def test_changing_the_metric_changes_the_histogram(page, cifar10_table):
    before = charts(page)["bench_hist"]
    page.selectbox(key="bench_metric").select("cifar10_test").run()
    after = charts(page)["bench_hist"]
    assert not page.exception
    assert after["layout"]["xaxis"]["title"]["text"] == "cifar10_test"
    assert not np.array_equal(array(before["data"][0]["x"]), array(after["data"][0]["x"]))
    assert np.allclose(np.sort(array(after["data"][0]["x"])), np.sort(cifar10_table.values("cifar10_test")))
    assert list(page.dataframe[0].value["arch"]) == list(cifar10_table.top("cifar10_test", 10)["arch"])


def test_top_k_and_picking_a_row(page, cifar10_table):
    page.number_input(key="bench_k").set_value(25).run()
    assert len(page.dataframe[0].value) == 25
    page.selectbox(key="bench_pick").select_index(4).run()
    fifth = cifar10_table.top("cifar10_valid", 25).iloc[4]
    assert any(f"**#{fifth['index']}**" in m.value for m in page.markdown)
    assert "Rank **5**" in " ".join(m.value for m in page.markdown)


@pytest.mark.parametrize("text, problem", [
    ("|nor_conv_3x3~0|+|foo~0|none~1|+|none~0|none~1|none~2|", "unknown operation 'foo'"),
    ("|nor_conv_3x3~0|+|none~0|", "expected 3 node groups"),
    ("99999", "out of range"),
])
def test_a_bad_arch_string_gives_an_error_naming_the_problem(page, text, problem):
    page.text_input(key="bench_arch").input(text).run()
    assert not page.exception
    assert len(page.error) == 1 and problem in page.error[0].value
    assert "bench_graph" not in charts(page)


def test_typing_a_cell_draws_it_with_its_metrics_and_costs(page, cifar10_table):
    from lso.space import flops, num_params

    cell = cifar10_table.cells()[1234]
    page.text_input(key="bench_arch").input(f"  {cell.to_string()} ").run()
    assert not page.error and not page.exception
    metrics = {m.label: m.value for m in page.metric}
    assert metrics["NB201 CIFAR-10 params (M)"] == f"{num_params(cell) / 1e6:.3f}"
    assert metrics["NB201 CIFAR-10 FLOPs (M)"] == f"{flops(cell) / 1e6:.1f}"
    row = page.dataframe[1].value
    assert dict(zip(row["column"], row["value"])) == pytest.approx(cifar10_table.row(cell))
    units = dict(zip(row["column"], row["unit"]))  # every column says its unit ("-" where it has none)
    assert units["cifar10_valid"] == "%" and units["params_mb"] == "-"
    hist = charts(page)["bench_hist"]
    assert hist["layout"]["shapes"][0]["x0"] == pytest.approx(cifar10_table.query(cell, "cifar10_valid"))
    page.toggle(key="bench_show_none").set_value(False).run()
    edges = [t for t in charts(page)["bench_graph"]["data"] if isinstance(t.get("meta"), dict) and "edge" in t["meta"]]
    assert len(edges) == sum(op != "none" for op in cell.ops)


def test_a_partial_imported_table_and_a_cell_it_lacks(nb201_dir, tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from lso.bench.table import BenchmarkTable
    from lso.space import cell_from_index

    workspace = tmp_path / "workspace"
    cells = [cell_from_index(i) for i in (3, 30, 300)]
    BenchmarkTable.from_metrics({c: {"acc": 60.0 + i} for i, c in enumerate(cells)}).save(workspace / "part.parquet")
    monkeypatch.setenv("LSO_WORKSPACE", str(workspace))
    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=120)
    at.session_state["table"] = "imported part"
    at.switch_page("views/benchmark.py").run()
    assert not at.exception and not at.error
    assert "3 cells" in at.caption[0].value and "incomplete" in at.caption[0].value
    assert list(at.dataframe[0].value["index"]) == [300, 30, 3]
    at.text_input(key="bench_arch").input("4").run()
    assert not at.exception and any("not in this table" in w.value for w in at.warning)
