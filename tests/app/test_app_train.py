"""The Train page (AppTest): train a tiny run in the background, list it, stop one, delete one; sessions stay apart.

Trainings use a small synthetic table put in the workspace (the page lists workspace Parquet tables as
``imported NAME``), so they take seconds."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import pytest
from streamlit.testing.v1 import AppTest


REPO = Path(__file__).resolve().parents[2]


def train_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "app/main.py"), default_timeout=90)
    at.switch_page("views/train.py").run()
    assert not at.exception
    return at


def run_until(at: AppTest, done: Callable[[AppTest], bool], timeout: float = 120.0) -> None:
    """Rerun the page every 0.5 s (as the page's polling fragment does) until ``done(at)``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        at.run()
        assert not at.exception
        if done(at):
            return
    pytest.fail("the background job did not end in time")


def button(at: AppTest, label: str):
    found = [b for b in at.button if b.label == label]
    return found[0] if found else None


def fill_form(at: AppTest, name: str, epochs: int) -> None:
    at.sidebar.selectbox(key="table").select("imported toy").run()
    values = {"Epochs": epochs, "Labelled cells": 20, "Latent dimension": 4, "Hidden width (encoder, decoder)": 16,
              "Batch size": 2048}
    for box in at.number_input:
        if box.label in values:
            box.set_value(values[box.label])
    at.text_input[0].input(name)


def test_train_page_trains_lists_and_deletes_a_run(toy_workspace: Path):
    at = train_page()
    assert any("No runs" in i.value for i in at.info)
    fill_form(at, "page_run", epochs=2)
    button(at, "Start training").click().run()
    assert not at.error and button(at, "Stop") is not None
    run_until(at, lambda a: button(a, "Stop") is None)
    assert [s.value for s in at.success] == ["training page_run: finished"]
    assert (toy_workspace / "page_run" / "metrics.json").exists()
    listed = at.dataframe[0].value
    assert list(listed["run"]) == ["page_run"] and list(listed["status"]) == ["complete"]
    assert at.selectbox(key="train_open_run").value == "page_run"
    assert len(at.get("plotly_chart")) >= 1  # the finished job's curves and the run's history
    charts = len(at.get("plotly_chart"))
    at.multiselect(key="train_compare").set_value(["page_run"]).run()
    assert not at.exception and len(at.get("plotly_chart")) == charts + 1  # the overlay of the chosen runs
    side = next(d.value for d in at.dataframe if "field" in d.value.columns)  # settings and metrics side by side
    assert list(side.columns) == ["field", "page_run"]
    figures = dict(zip(side["field"], side["page_run"]))
    assert figures["epochs"] == "2" and figures["status"] == "complete" and figures["reconstruction_accuracy"] != "-"

    button(at, "Yes, delete page_run").click().run()
    assert not at.exception and not at.error
    assert not (toy_workspace / "page_run").exists()
    assert any("No runs" in i.value for i in at.info)


def test_a_reload_finds_the_running_job_and_stop_leaves_a_resumable_run(toy_workspace: Path):
    at = train_page()
    fill_form(at, "stopped", epochs=400)
    button(at, "Start training").click().run()
    checkpoint = toy_workspace / "stopped" / "checkpoint.pt"
    run_until(at, lambda a: checkpoint.exists())

    other = train_page()  # a reload (or a second tab): a new session of the same workspace
    assert button(other, "Stop") is not None, "the running job is lost on reload"
    assert any("training stopped" in p.text for p in other.get("progress"))
    assert button(other, "Start training").disabled and button(at, "Start training").disabled
    assert other.selectbox(key="train_open_run").value == "stopped"
    assert button(other, "Resume training") is None  # the run being written can be neither resumed...
    assert any("being written by" in c.value for c in other.caption)  # ...nor deleted (the popover is disabled)

    button(other, "Stop").click().run()  # Stop works from the other session too
    run_until(at, lambda a: button(a, "Stop") is None)
    assert [w.value for w in at.warning] == ["training stopped: stopped"]
    assert not (toy_workspace / "stopped" / "metrics.json").exists()
    row = at.dataframe[0].value.iloc[0]
    assert row["run"] == "stopped" and row["status"].startswith("unfinished")
    assert button(at, "Resume training") is not None


@pytest.mark.realdata
def test_train_page_opens_an_existing_run(app_workspace: Path):
    at = train_page()
    assert at.selectbox(key="train_open_run").value == "tiny"
    assert not at.error
    assert len(at.get("plotly_chart")) == 1  # history curves of the tiny run
    assert any("cifar10_valid" in m.value for m in at.markdown)
    assert button(at, "Resume training") is None  # it is complete
