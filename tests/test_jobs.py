"""lso.jobs (threaded jobs: result, cancel, failure) and the progress reports of ``refine`` / ``compare_refine``."""

from __future__ import annotations

import threading

import pytest

from lso.errors import LsoError
from lso.jobs import Cancelled, Job, JobBoard, JobBusyError, ProgressEvent, RelayReporter, Reporter

CELL = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"


def test_job_finishes_with_its_result_and_events():
    def work(report: Reporter) -> int:
        report(1, 2, "half", loss=0.5)
        report(2, 2, "all", loss=0.25)
        return 42

    job = Job("sum", work)
    assert job.wait(10) == "done"
    assert job.result == 42 and job.error is None and not job.running
    events = job.reporter.events
    assert [(e.done, e.total, e.message) for e in events] == [(1, 2, "half"), (2, 2, "all")]
    assert events[-1].figures == {"loss": 0.25} and events[-1].fraction == 1.0
    assert job.describe() == {"name": "sum", "state": "done", "fraction": 1.0, "message": "all", "error": None}


def test_cancelled_job_ends_cancelled_at_its_next_report():
    reported, go = threading.Event(), threading.Event()
    steps: list[int] = []

    def work(report: Reporter) -> str:
        report(1, 3, "first")
        steps.append(1)
        reported.set()
        go.wait(10)
        report(2, 3, "second")  # raises Cancelled: the stop was asked before it
        steps.append(2)
        return "never"

    job = Job("slow", work)
    assert reported.wait(10)
    assert job.running
    job.cancel()
    go.set()
    assert job.wait(10) == "cancelled"
    assert steps == [1] and job.result is None and job.error is None
    assert job.reporter.cancel_requested


@pytest.mark.parametrize(("error", "expected"), [(LsoError("table xyz is missing"), "table xyz is missing"),
                                                 (ValueError("boom"), "ValueError: boom")])
def test_failed_job_keeps_the_message(error, expected):
    def work(report: Reporter) -> None:
        report(0, 1, "starting")
        raise error

    job = Job("bad", work)
    assert job.wait(10) == "failed"
    assert job.error.startswith(expected)
    # LsoError messages stay as they are; other exceptions carry their traceback for a bug report.
    assert ("Traceback" in job.error) == (not isinstance(error, LsoError))


def _blocking(gate: threading.Event):
    def work(report: Reporter) -> str:
        report(0, 1, "waiting")
        gate.wait(10)
        return "done"

    return work


def test_board_keeps_one_running_job_per_key_and_guards_held_folders(tmp_path):
    board, gate = JobBoard(), threading.Event()
    run = tmp_path / "run1"
    job = board.start("train", "training run1", _blocking(gate), holds=(run,), context=("inputs",))
    assert board.get("train") is job and job.context == ("inputs",)
    with pytest.raises(JobBusyError, match="training run1 is still running"):
        board.start("train", "again", _blocking(gate))
    # another kind of job may run, but not on the folder being written (the same path spelled another way too)
    with pytest.raises(JobBusyError, match="is writing"):
        board.start("resume", "resume run1", _blocking(gate), holds=(tmp_path / "." / "run1",))
    other = board.start("search", "search", _blocking(gate))
    assert board.holder(run) is job and board.holder(tmp_path / "run2") is None
    board.dismiss("train")  # a running job is not forgotten
    assert board.get("train") is job
    gate.set()
    assert job.wait(10) == "done" and other.wait(10) == "done"
    assert board.holder(run) is None  # ended: the folder is free again
    board.dismiss("train")
    assert board.get("train") is None and board.get("search") is other
    assert board.start("train", "next", _blocking(gate), holds=(run,)).wait(10) == "done"


def test_progress_event_fraction_is_clipped():
    assert ProgressEvent(5, 4).fraction == 1.0
    assert ProgressEvent(-1, 4).fraction == 0.0
    assert ProgressEvent(3, 0).fraction == 0.0
    assert ProgressEvent(1, 4).fraction == 0.25


def test_relay_reporter_forwards_transformed_events_and_shares_the_stop():
    parent = Reporter()
    part = RelayReporter(parent, lambda e: (10 + e.done, 20, f"part 2: {e.message}", {"best": e.figures["x"]}))
    part(3, 10, "three", x=1.5)
    assert [(e.done, e.total, e.message, dict(e.figures)) for e in parent.events] == [(13, 20, "part 2: three",
                                                                                         {"best": 1.5})]
    parent.cancel()
    with pytest.raises(Cancelled):
        part.check()
    with pytest.raises(Cancelled):
        part(4, 10, "four", x=2.0)


def test_refine_reports_every_round_with_params_and_accuracy():
    from lso.growth.refine import RefineConfig, refine

    reporter = Reporter()
    result = refine(RefineConfig(CELL, "digits", "s2d", rounds=2, seed=0), device="cpu", reporter=reporter)
    rounds = [e for e in reporter.events if "params" in e.figures]
    assert [e.done for e in rounds] == [0, 1, 2] and {e.total for e in reporter.events} == {2}
    assert [int(e.figures["params"]) for e in rounds] == [r.params for r in result.rounds]
    assert [e.figures["test_accuracy"] for e in rounds] == pytest.approx([r.test_accuracy for r in result.rounds])
    assert rounds[-1].figures["params"] > rounds[0].figures["params"]


def test_compare_refine_counts_over_runs_and_stops_at_the_next_report():
    from lso.growth.refine import RefineConfig, compare_refine

    config = RefineConfig(CELL, "digits", rounds=1)
    reporter = Reporter()
    comparison = compare_refine(config, methods=("random", "scratch"), seeds=(0,), device="cpu", reporter=reporter)
    events = reporter.events
    assert {e.total for e in events} == {4}  # 2 runs x (1 round + the starting network)
    assert [e.done for e in events] == sorted(e.done for e in events) and events[-1].done == 4
    figured = [e for e in events if "params" in e.figures]
    assert [int(e.figures["run"]) for e in figured] == [0, 0, 1, 1]
    assert figured[-1].figures["params"] == comparison.results[("scratch", 0)].final.params

    def stop_after_first_round(event: ProgressEvent) -> None:
        if "params" in event.figures:
            stopping.cancel()

    stopping = Reporter(on_event=stop_after_first_round)
    with pytest.raises(Cancelled):
        compare_refine(config, methods=("random", "scratch"), seeds=(0,), device="cpu", reporter=stopping)
    assert [e.done for e in stopping.events if "params" in e.figures] == [1]


def test_refine_points_group_reports_by_run():
    from lso.viz.refine_figures import refine_points, refine_progress_figure

    events = [ProgressEvent(0, 4, "start", {"run": 0.0}),
              ProgressEvent(1, 4, "r0", {"run": 0.0, "params": 10.0, "test_accuracy": 50.0}),
              ProgressEvent(2, 4, "r1", {"run": 0.0, "params": 20.0, "test_accuracy": 60.0}),
              ProgressEvent(3, 4, "r0", {"run": 1.0, "params": 10.0, "test_accuracy": 55.0})]
    assert refine_points(events) == {0: [(10.0, 50.0), (20.0, 60.0)], 1: [(10.0, 55.0)]}
    fig = refine_progress_figure(events, ["s3d (seed 0)", "scratch (seed 0)"])
    assert [t.name for t in fig.data] == ["s3d (seed 0)", "scratch (seed 0)"]
    assert list(fig.data[0].y) == [50.0, 60.0]
