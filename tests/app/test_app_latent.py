"""The Latent space page (AppTest) on the tiny run: map, decoded path, landscape along it and over the plane."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.realdata


def open_page(timeout: float = 180):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=timeout)
    at.session_state["table"] = "NAS-Bench-201 cifar10"
    at.switch_page("views/latent.py").run()
    assert not at.exception, at.exception
    return at


@pytest.fixture()
def page(app_workspace):
    at = open_page()
    assert at.selectbox(key="latent_run").value == "tiny"
    return at


def figures(at) -> list[dict]:
    """Plotly figures in page order: latent map, plane landscape, path profile."""
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def array(values) -> np.ndarray:
    if isinstance(values, dict):
        data = np.frombuffer(base64.b64decode(values["bdata"]), dtype=np.dtype(values["dtype"]))
        shape = values.get("shape")
        return data.reshape([int(n) for n in str(shape).split(",")]) if shape else data
    return np.asarray(values, dtype=float)


def path_table(at):
    return next(d.value for d in at.dataframe if "decoded cell" in d.value.columns)


def test_page_renders_map_path_and_landscapes(page, app_workspace):
    from lso.models.workbench import LatentModel
    from lso.space import Cell

    assert not page.error
    map_fig, land_fig, profile = figures(page)
    assert sum(len(array(t["x"])) for t in map_fig["data"][:-1]) == 5000  # the default sample
    assert "5,000 of 15,625" in " ".join(c.value for c in page.caption)
    assert array(land_fig["data"][0]["z"]).shape == (50, 50)
    table = path_table(page)
    assert len(table) == 12
    cells = [Cell.from_string(a) for a in table["decoded cell"]]
    model = LatentModel.load(app_workspace / "tiny")
    ends = [_cell(page.text_input(key=k).value) for k in ("latent_start", "latent_end")]
    assert [cells[0], cells[-1]] == model.decode(model.encode(ends))
    assert f"{len(set(cells))} distinct cells in 12 points" in page.subheader[0].value
    assert len(array(profile["data"][0]["y"])) == 12
    assert map_fig["data"][-1]["name"] == "path" and len(array(map_fig["data"][-1]["x"])) == 12


def _cell(text: str):
    from lso.space import Cell, cell_from_index

    return cell_from_index(int(text)) if text.strip().isdigit() else Cell.from_string(text)


def test_path_and_landscape_widgets_act(page, app_workspace):
    from lso.models.workbench import LatentModel
    from lso.space import cell_from_index

    page.number_input(key="latent_steps").set_value(5).run()
    assert len(path_table(page)) == 5 and len(array(figures(page)[2]["data"][0]["x"])) == 5
    page.slider(key="latent_resolution").set_value(20).run()
    assert array(figures(page)[1]["data"][0]["z"]).shape == (20, 20)
    page.text_input(key="latent_end").input("0").run()
    assert not page.exception
    model = LatentModel.load(app_workspace / "tiny")
    assert path_table(page)["decoded cell"].iloc[-1] == str(model.decode(model.encode([cell_from_index(0)]))[0])
    page.select_slider(key="latent_count").set_value(1000).run()
    assert sum(len(array(t["x"])) for t in figures(page)[0]["data"][:-1]) == 1000


def test_colour_metric_changes_the_map(page):
    before = figures(page)[0]["data"][-2]
    page.selectbox(key="latent_metric").select("cifar10_test").run()
    after = figures(page)[0]["data"][-2]
    assert after["marker"]["colorbar"]["title"]["text"] == "cifar10_test"
    assert not np.array_equal(array(before["marker"]["color"]), array(after["marker"]["color"]))


def test_a_bad_path_end_gives_an_error_and_no_path(page):
    page.text_input(key="latent_start").input("|skip_connect~0|+|oops|").run()
    assert not page.exception
    assert len(page.error) == 1 and "Path start" in page.error[0].value and "malformed" in page.error[0].value
    assert not page.subheader and len(figures(page)) == 2


def test_missing_training_table_falls_back_to_the_picked_table(app_workspace):
    config = app_workspace / "tiny" / "config.json"
    saved = json.loads(config.read_text())
    saved["table"]["path"] = str(app_workspace / "gone.csv")
    config.write_text(json.dumps(saved))
    at = open_page()
    assert any("is missing" in w.value for w in at.warning)
    assert len(figures(at)) == 3


def test_no_run_says_how_to_get_one(app_workspace, monkeypatch):
    monkeypatch.setenv("LSO_DEFAULT_RUN", str(app_workspace / "no_default_run"))
    shutil.rmtree(app_workspace / "tiny")
    at = open_page()
    assert not at.error and any("No trained run yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_a_click_on_the_map_names_the_cell_whatever_trace_it_hit(page):
    import sys

    sys.path.insert(0, str(REPO / "app"))
    from common.latent import clicked_cells

    map_fig = figures(page)[0]
    traces = map_fig["data"][:-1]  # the cells (grey "not in table" first when any); the path has no ids
    assert all("customdata" in t for t in traces) and "customdata" not in map_fig["data"][-1]
    ids = np.concatenate([array(t["customdata"]) for t in traces])
    assert len(ids) == len(set(ids.tolist())) == 5000  # every drawn cell carries its own official index
    event = {"selection": {"points": [{"curve_number": 1, "point_index": 0, "customdata": 1234},
                                      {"curve_number": 2, "point_index": 3}]}}  # the second: a path point
    assert clicked_cells(event) == [1234] and clicked_cells(None) == []
