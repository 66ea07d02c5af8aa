"""The Refine page (AppTest): a cell is prefilled, a top cell of the table can be picked, a tiny refinement runs in
the background and shows its accuracy-vs-parameters result; the comparison at three budgets draws the library's
figure and table; a bad cell string is an error, not a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lso.bench import BenchmarkTable
from lso.space import Cell

REPO = Path(__file__).resolve().parents[2]


def refine_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=90)
    at.switch_page("views/refine.py").run()
    assert not at.exception and not at.error
    at.sidebar.selectbox(key="table").select("imported toy").run()
    assert not at.exception and not at.error
    return at


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    return found[0] if found else None


def test_refine_page_runs_a_tiny_refinement(toy_workspace: Path):
    at = refine_page()
    arch = at.text_input(key="refine_arch")
    Cell.parse(arch.value)  # prefilled with a valid cell
    assert any("Runs on cpu" in c.value for c in at.caption)
    datasets = next(b for b in at.selectbox if b.label == "Dataset")
    assert "digits" in datasets.options and "cifar10" not in datasets.options  # CIFAR cannot run here
    assert "cifar10 needs" in datasets.help
    assert "mnist1d" in datasets.options  # 1-D signals grow the 1-D network

    toy = BenchmarkTable.load(toy_workspace / "toy.parquet")
    best = toy.best("toy_valid")[0].to_string()
    at.selectbox(key="refine_top").select(best).run()
    assert at.text_input(key="refine_arch").value == best

    at.multiselect[0].set_value(["s2d", "scratch"])
    at.multiselect[1].set_value(["stage1", "reduce2"])  # widths that grow
    at.number_input[0].set_value(1)  # rounds
    next(b for b in at.number_input if b.label == "Seeds").set_value(2)  # mean and spread over seeds 0 and 1
    button(at, "Run refinement").click().run()
    assert not at.exception and not at.error
    deadline = time.monotonic() + 120
    while button(at, "Stop") is not None and time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        assert not at.exception
    assert [s.value for s in at.success] == ["refining on digits: finished"]
    final = at.dataframe[0].value
    assert list(final["method"]) == ["s2d", "scratch"] and list(final["seeds"]) == [2, 2]
    assert "test_std" in final.columns and final["test_std"].notna().all()
    assert (final["params"] > 0).all() and final["test_mean"].between(0, 100).all()
    assert len(at.get("plotly_chart")) == 1 and len(at.get("download_button")) == 1
    widths = at.dataframe[1].value.set_index("method")
    grown = widths.loc["s2d"].iloc[0]  # seed 0; only the chosen groups grew; stage0 stayed at the start width (half of C=8)
    assert grown["stage0"] == 4 and grown["stage1"] + grown["reduce2"] > 8 + 8
    saved = list((toy_workspace / "refinements").iterdir())  # kept in the workspace, listed under the job
    assert len(saved) == 1 and {"results.json", "final.csv"} <= {f.name for f in saved[0].iterdir()}
    assert any(e.label.startswith("Saved refinements in the workspace (1)") for e in at.expander)


def test_refine_page_shows_a_bad_cell_as_an_error(toy_workspace: Path):
    at = refine_page()
    at.text_input(key="refine_arch").input("|nor_conv_3x3~0|+|bogus~0|").run()
    button(at, "Run refinement").click().run()
    assert not at.exception
    assert len(at.error) == 1 and "bogus" in at.error[0].value
    assert button(at, "Stop") is None and not at.success


def test_a_cell_sent_from_another_page_opens_in_the_refine_box(toy_workspace: Path):
    arch = "|nor_conv_1x1~0|+|skip_connect~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|"
    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=90)
    at.session_state["refine_request"] = arch  # what the latent map's "Refine this cell" leaves
    at.switch_page("views/refine.py").run()
    assert not at.exception and at.text_input(key="refine_arch").value == arch
    assert "refine_request" not in at.session_state  # taken once: a later visit keeps the user's own edits


@pytest.mark.slow
def test_refine_page_compares_three_budgets(toy_workspace: Path):
    at = refine_page()
    at.number_input[0].set_value(1)  # rounds
    at.multiselect[1].set_value(["stage2"])  # widths that grow: one group keeps it short
    at.checkbox[0].check()
    button(at, "Run refinement").click().run()
    assert not at.exception and not at.error
    deadline = time.monotonic() + 400
    while button(at, "Stop") is not None and time.monotonic() < deadline:
        time.sleep(1.0)
        at.run()
        assert not at.exception
    assert [s.value for s in at.success] == ["refining on digits at three budgets: finished"]
    figure = at.get("plotly_chart")
    assert len(figure) == 1
    table = at.code[0].value  # the library's table: every method at each of the three budgets
    assert all(m in table for m in ("s3d", "s2d", "random", "s3d-widths", "uniform"))
    assert len([line for line in table.splitlines()[1:] if line.strip()]) == 3 * 5
    saved = list((toy_workspace / "refinements").iterdir())  # kept in the workspace too
    assert len(saved) == 1 and saved[0].name.endswith("digits_budgets")
    assert {"budget_table.csv", "budget_runs.csv"} <= {f.name for f in saved[0].iterdir()}
