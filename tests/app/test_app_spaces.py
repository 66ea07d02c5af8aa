"""The Other spaces page (AppTest): a space table's summary and top cells, a tiny pool comparison (random, REA,
CR-LSO) run as a background job to its figure, table, download and saved files; and the NAS-Bench-201 pages'
table picker, which must not offer a space table."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from lso.bench import BenchmarkTable, SpaceTable, SpaceTableMeta
from lso.bench.space_datasheet import space_datasheet
from lso.report.pool import POOL_OUTPUTS
from lso.search.pool_run import PoolSearchConfig, run_pool_comparison
from lso.space import cell_from_index
from lso.spaces import get_space, sample_unique

REPO = Path(__file__).resolve().parents[2]
SPACE_LABEL = "imported nb101toy"
JOB = "spaces_job"


def toy_space_table() -> SpaceTable:
    """150 sampled NB101 cells; ``toy_valid`` / ``toy_test``: a function of the cell (3x3 convolutions and edges
    raise it) plus independent noise, so the two metrics agree on the ranking only roughly."""
    space, rng = get_space("nb101"), np.random.default_rng(0)
    rows = []
    for cell in sample_unique(space, 150, rng):
        base = 85.0 + 1.5 * sum(op == "conv3x3-bn-relu" for op in cell.ops) + 0.4 * sum(map(sum, cell.matrix))
        rows.append((cell, {"toy_valid": base + rng.normal(0, 1), "toy_test": base + rng.normal(0, 1)}))
    return SpaceTable.from_rows("nb101", rows, SpaceTableMeta(space="nb101", dataset="toy", source="test"))


@pytest.fixture()
def space_workspace(tmp_path: Path, monkeypatch) -> Path:
    """A workspace holding a space table (``nb101toy.parquet``) beside a small NAS-Bench-201 table (``toy``)."""
    root = tmp_path / "workspace"
    toy_space_table().save(root / "nb101toy.parquet")
    BenchmarkTable.from_metrics({cell_from_index(i): {"toy_valid": 50.0 + (i * 37 % 101) / 4} for i in range(300)}
                                ).save(root / "toy.parquet")
    monkeypatch.setenv("LSO_WORKSPACE", str(root))
    return root


def frame_with(at: AppTest, column: str) -> pd.DataFrame:
    """The one data frame shown with ``column`` (AppTest does not expose a data frame's key)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def spaces_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=60)
    at.switch_page("views/spaces.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_lists_space_tables_and_shows_the_summary(space_workspace: Path):
    at = spaces_page()
    picker = at.selectbox(key="spaces_table")
    assert SPACE_LABEL in picker.options and "imported toy" not in picker.options  # NB201 tables are not offered
    picker.select(SPACE_LABEL).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Space"] == "nb101" and shown["Cells"] == "150" and shown["Dataset"] == "toy"
    sheet = space_datasheet(SpaceTable.load(space_workspace / "nb101toy.parquet"))
    assert shown["Valid vs test (Spearman)"] == f"{sheet.signal_report_spearman:.3f}" and 0.5 < sheet.signal_report_spearman < 1
    assert shown["Best by valid: its test"] == f"{sheet.best_by_signal_report:.2f}" and shown["Seed vs seed (Spearman)"] == "-"
    metrics = frame_with(at, "direction")
    assert set(metrics["metric"]) == {"toy_valid", "toy_test"} and set(metrics["direction"]) == {"max"}
    table = SpaceTable.load(space_workspace / "nb101toy.parquet")
    assert at.selectbox(key="spaces_rank").value == "toy_valid"  # the validation metric the searches see
    top = frame_with(at, "arch")
    expected = table.top("toy_valid", 10)
    assert list(top["arch"]) == list(expected["arch"]) and top["toy_valid"].is_monotonic_decreasing
    assert np.allclose(top["toy_valid"], table.values("toy_valid")[np.argsort(-table.values("toy_valid"))[:10]])
    assert all(table.contains(table.space.parse(a)) for a in top["arch"])  # official NB101 spec strings
    assert at.selectbox(key="spaces_signal").value == "toy_valid" and at.selectbox(key="spaces_report").value == "toy_test"


def test_page_runs_a_tiny_comparison_and_saves_it(space_workspace: Path):
    at = spaces_page()
    at.selectbox(key="spaces_table").select(SPACE_LABEL).run()
    at.number_input(key="spaces_seeds").set_value(2)
    at.text_input(key="spaces_budgets").input("10,20")
    at.number_input(key="spaces_vae_train").set_value(200)
    at.number_input(key="spaces_vae_epochs").set_value(1)
    at.button(key="spaces_start").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    job = sys.modules["common.jobs_view"].current_job(JOB)  # the app's own module, imported by the page run
    assert job.wait(60) == "done", job.error
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.exception or at.error]
    assert [s.value for s in at.success] == ["searches on 150 nb101 cells: finished"]
    assert any("Space G-VAE: 200 cells, 1 epochs" in c.value for c in at.caption)
    assert len(at.get("plotly_chart")) == 1 and len(at.get("download_button")) == 1
    frame = frame_with(at, "report_mean")
    assert list(frame["method"]) == ["random", "random", "rea", "rea", "crlso", "crlso"]
    assert list(frame["budget"]) == [10, 20] * 3 and (frame["seeds"] == 2).all()
    assert (frame["report_mean"] <= frame["pool_best_report"] + 1e-9).all()
    # the page ran what the library runs: random and REA (no training) give the same figures from Python
    table = SpaceTable.load(space_workspace / "nb101toy.parquet")
    ours = run_pool_comparison(table, PoolSearchConfig(methods=("random", "rea"), seeds=(0, 1), budgets=(10, 20)))
    assert np.allclose(frame["report_mean"][:4], ours.comparison.frame()["report_mean"])
    saved = list((space_workspace / "searches").iterdir())  # kept in the workspace, listed with the searches
    assert len(saved) == 1 and saved[0].name.endswith("_pool_nb101")
    assert set(POOL_OUTPUTS) <= {f.name for f in saved[0].iterdir()}
    on_disk = pd.read_csv(saved[0] / "pool_comparison.csv")
    assert np.allclose(on_disk["report_mean"], frame["report_mean"])
    assert any(e.label.startswith("Saved searches in the workspace (1)") for e in at.expander)


def test_nb201_pages_do_not_offer_space_tables(space_workspace: Path):
    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=60)
    at.switch_page("views/benchmark.py").run()
    assert not at.exception, [e.value for e in at.exception]
    options = at.sidebar.selectbox(key="table").options
    assert "imported toy" in options and SPACE_LABEL not in options
    # a path to an NB201 table on the Other spaces page is an error line, not a traceback
    at.switch_page("views/spaces.py").run()
    at.selectbox(key="spaces_table").select("another file...").run()
    at.text_input(key="spaces_path").input(str(space_workspace / "toy.parquet")).run()
    assert not at.exception and len(at.error) == 1 and "not an lso space table" in at.error[0].value
    assert not [b for b in at.button if b.label == "Compare searches"]  # the page stopped before the inputs


def test_the_table_pickers_do_not_load_torch():
    """Telling space tables apart reads a schema only: the Benchmark page's imports never wait for torch."""
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, 'app'); import common.data; "
            "from lso.bench.space_table_file import is_space_table_file; print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO)
    assert out.stdout.strip() == "False", out.stderr
