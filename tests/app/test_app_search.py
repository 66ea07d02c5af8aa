"""The Search page in Streamlit's AppTest: inputs, a background search with baselines, results, CSV, Stop."""

from __future__ import annotations

import json

import io
from pathlib import Path

import pandas as pd
import pytest

pytestmark = pytest.mark.realdata

REPO = Path(__file__).resolve().parents[2]
TABLE = "NAS-Bench-201 cifar10"
JOB = "search_job"


@pytest.fixture()
def downloads(monkeypatch) -> list[tuple[str | None, bytes]]:
    """(file name, bytes) of every file the app hands to the media storage (download buttons)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    seen: list[tuple[str | None, bytes]] = []
    original = MemoryMediaFileStorage.load_and_get_id

    def spy(self, path_or_data, mimetype, kind, filename=None):
        data = path_or_data if isinstance(path_or_data, bytes) else str(path_or_data).encode()
        seen.append((filename, data))
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", spy)
    return seen


def label_count(run_dir: Path) -> int:
    """Queries a run's labels cost: one per labelled cell, twins included."""
    from lso.search.preflight import read_provenance

    return len(read_provenance(run_dir).labels)


def open_page(nb201_dir):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=120)
    at.run()
    at.switch_page("views/search.py").run()
    at.sidebar.selectbox(key="table").set_value(TABLE).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def page_job():
    """The search job on the workspace's job board (as every session of the app sees it)."""
    import sys

    return sys.modules["common.jobs_view"].current_job(JOB)  # the app's own module, imported by the page run


def run_search(at, method: str, budget: int, baselines: list[str]):
    """Set the inputs, press Run, wait for the job and draw the results."""
    at.selectbox(key="search_method").set_value(method).run()
    at.number_input(key="search_budget").set_value(budget)
    at.multiselect(key="search_baselines").set_value(baselines)
    at.button(key="search_start").click().run()
    job = page_job()
    assert job.wait(120) == "done", job.error
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    return job.result


def last_csv(downloads) -> pd.DataFrame:
    names = [name for name, _ in downloads if name and name.endswith(".csv")]
    assert names, "no CSV was offered for download"
    data = next(data for name, data in reversed(downloads) if name == names[-1])
    return pd.read_csv(io.StringIO(data.decode()))


def test_page_renders_with_a_run_and_defaults(app_workspace, nb201_dir):
    at = open_page(nb201_dir)
    assert at.selectbox(key="search_signal").value == "cifar10_valid"
    assert at.selectbox(key="search_report").value == "cifar10_test"
    assert at.selectbox(key="search_method").value == "crlso"  # a run exists, so the latent method is offered first
    assert at.selectbox(key="search_run").value == "tiny"
    labels = label_count(app_workspace / "tiny")
    assert at.number_input(key="search_budget").value == labels + 100  # the default leaves room beyond the labels
    assert "random" in at.multiselect(key="search_baselines").value
    assert any(f"{labels} labelled cells are charged first" in c.value for c in at.caption)
    assert not at.button(key="search_start").disabled
    for budget in (50, labels):  # a budget at or below the labels would search nothing: refused with the reason
        at.number_input(key="search_budget").set_value(budget).run()
        assert any("leaves the search nothing" in w.value for w in at.warning)
        assert at.button(key="search_start").disabled
    at.number_input(key="search_budget").set_value(labels + 1).run()
    assert not at.button(key="search_start").disabled
    at.selectbox(key="search_run").set_value("(none)").run()
    assert at.button(key="search_start").disabled  # crlso cannot start without a run
    assert not at.exception


def test_run_picker_opens_on_the_best_run_that_fits_the_table(app_workspace, nb201_dir):
    import shutil

    bad = app_workspace / "a_bad"  # alphabetically first, trained on this table, but a poor surrogate
    shutil.copytree(app_workspace / "tiny", bad)
    metrics = json.loads((bad / "metrics.json").read_text())
    (bad / "metrics.json").write_text(json.dumps({**metrics, "spearman": -0.05}))
    at = open_page(nb201_dir)
    box = at.selectbox(key="search_run")
    assert box.value == "tiny"
    # the shipped run (trained on the embedded table) does not fit NB201: offered after the fitting runs
    shipped = json.loads((REPO / "benchmarks_data" / "default_run" / "metrics.json").read_text())["spearman"]
    assert box.options[0] == "(none)" and box.options[1].startswith(f"tiny (Spearman {metrics['spearman']:.2f}, ")
    assert box.options[2].startswith("a_bad (Spearman -0.05, ")
    assert box.options[3].startswith(f"default run (shipped) (Spearman {shipped:.2f}, ")


def test_random_search_with_a_baseline_shows_curves_map_and_csv(app_workspace, nb201_dir, downloads):
    at = open_page(nb201_dir)
    outcome = run_search(at, "random", 30, ["rea"])
    assert [r.method for r in outcome.results] == ["random", "rea"]
    saved = list((app_workspace / "searches").iterdir())  # every finished search is kept in the workspace
    assert len(saved) == 1 and sorted(f.name for f in saved[0].iterdir()) == ["random.json", "rea.json"]
    first_query = json.loads((saved[0] / "rea.json").read_text())["queries"][0]["arch"]
    assert first_query == outcome.results[1].evaluations[0].cell.to_string()
    assert at.get("plotly_chart") and len(at.get("plotly_chart")) == 2  # curves and the trajectory map
    assert at.get("download_button")[0].label.startswith("Download")
    assert any(m.label == "cifar10_test" for m in at.metric)
    frame = last_csv(downloads)
    assert len(frame) == 60 and set(frame.method) == {"random", "rea"}
    random_rows = frame[frame.method == "random"]
    assert list(random_rows.arch) == [ev.cell.to_string() for ev in outcome.main.evaluations]
    assert list(random_rows.order) == list(range(1, 31))
    at.radio(key="search_traj").set_value("rea").run()  # the other run's trajectory
    assert not at.exception


def test_several_seeds_draw_median_bands_and_keep_the_first_seed_details(app_workspace, nb201_dir):
    at = open_page(nb201_dir)
    at.number_input(key="search_seeds").set_value(3)
    at.number_input(key="search_seed").set_value(5)
    outcome = run_search(at, "random", 25, ["rea"])
    assert [(r.method, r.seed) for r in outcome.results] == [("random", 5), ("rea", 5)]
    comparison = page_job().context["comparison"]
    assert comparison.config.seeds == (5, 6, 7) and len(comparison.results) == 6
    assert len(at.get("plotly_chart")) == 3  # the bands over seeds, the first seed's curves, its trajectory map
    assert any("the first seed (5)" in c.value for c in at.caption)


def test_found_cells_are_offered_on_the_refine_page(app_workspace, nb201_dir):
    at = open_page(nb201_dir)
    outcome = run_search(at, "random", 20, ["rea"])
    at.switch_page("views/refine.py").run()
    assert not at.exception, [e.value for e in at.exception]
    found = at.selectbox(key="refine_found")
    assert len(found.options) == 2 and found.options[0].startswith("random (")
    found.select(found.options[0]).run()
    assert at.text_input(key="refine_arch").value == outcome.main.best.cell.to_string()


def test_latent_search_charges_the_run_labels_and_draws_its_trajectory(app_workspace, nb201_dir, downloads):
    at = open_page(nb201_dir)
    labels = label_count(app_workspace / "tiny")  # 60 labels, each one query: the rest is the search's own
    assert labels == 60
    outcome = run_search(at, "crlso", 80, ["random"])
    main = outcome.main
    assert main.method == "crlso" and main.num_queries == 80 and main.precharged == labels
    assert len(at.get("plotly_chart")) == 2
    frame = last_csv(downloads)
    crlso = frame[frame.method == "crlso"]
    assert len(crlso) == 80 and crlso.label.sum() == labels and not crlso.label.iloc[labels:].any()
    assert crlso.best_signal_so_far.iloc[-1] == pytest.approx(main.best.signal)
    shown = at.code[0].value
    assert shown == main.best.cell.to_string()


def test_stop_ends_a_long_search_with_partial_results(app_workspace, nb201_dir):
    at = open_page(nb201_dir)
    at.selectbox(key="search_method").set_value("crlso").run()
    at.number_input(key="search_budget").set_value(5000)
    at.multiselect(key="search_baselines").set_value(["random"])
    at.button(key="search_start").click().run()
    job = page_job()
    try:
        assert job.running
        assert not at.exception, [e.value for e in at.exception]
        at.button(key=f"{JOB}:stop").click().run()
        assert job.wait(60) == "done"
    finally:
        job.cancel()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert job.result.stopped and len(job.result.results) == 1
    assert 0 < job.result.main.num_queries < 5000
    assert any("Stopped" in w.value for w in at.warning)
