"""lso.train.runs (list, name, resume, delete runs) and train_run's progress reports, stop and resume.

Runs here train on a small synthetic table (300 cells), so the end-of-run metrics are quick to compute."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from safetensors.torch import load_file

from lso.bench import BenchmarkTable
from lso.jobs import Cancelled, ProgressEvent, Reporter
from lso.space import cell_from_index
from lso.train import TrainConfig, train_run
from lso.train.fit import EpochStats
from lso.train.runs import RunsError, delete_run, list_runs, new_run_dir, read_run, resume_run, side_by_side

TINY = TrainConfig(epochs=3, batch_size=2048, hidden=16, icnn_hidden=(8,), labels=20, labelled_batch=16, latent_dim=4,
                   surrogate_every=2, seed=3)


@pytest.fixture(scope="module")
def toy_table(tmp_path_factory) -> Path:
    """300 cells with a made-up metric ``toy_valid`` (no real benchmark needed)."""
    path = tmp_path_factory.mktemp("tables") / "toy.parquet"
    BenchmarkTable.from_metrics({cell_from_index(i): {"toy_valid": 50.0 + (i * 37 % 101) / 4} for i in range(300)}
                                ).save(path)
    return path


@pytest.fixture(scope="module")
def finished_run(toy_table: Path, tmp_path_factory) -> Path:
    """An uninterrupted run of ``TINY``."""
    out = tmp_path_factory.mktemp("runs") / "straight"
    train_run(toy_table, "toy_valid", TINY, out)
    return out


def test_stopped_run_resumes_to_the_same_weights(toy_table: Path, finished_run: Path, tmp_path: Path):
    def stop_after_first_epoch(event: ProgressEvent) -> None:
        if event.done == 1 and "loss" in event.figures:
            reporter.cancel()

    reporter = Reporter(on_event=stop_after_first_epoch)
    run = tmp_path / "stopped"
    with pytest.raises(Cancelled):
        train_run(toy_table, "toy_valid", TINY, run, reporter=reporter)
    epochs = [e for e in reporter.events if "loss" in e.figures]
    assert [(e.done, e.total) for e in epochs] == [(1, 3)]
    assert set(epochs[0].figures) == {f for f in EpochStats.__dataclass_fields__ if f != "epoch"}
    info = read_run(run)
    assert not info.complete and info.epochs_done == 1 and info.epochs == 3 and info.metrics == {}
    assert (run / "checkpoint.pt").exists() and not (run / "metrics.json").exists()

    resumed = Reporter()
    result = resume_run(run, reporter=resumed)
    assert result.resumed_from == 1 and len(result.history) == 3
    assert [e.done for e in resumed.events if "loss" in e.figures] == [2, 3]
    info = read_run(run)
    assert info.complete and info.epochs_done == 3 and 0.0 <= info.metrics["validity"] <= 1.0
    straight, again = load_file(str(finished_run / "gvae.safetensors")), load_file(str(run / "gvae.safetensors"))
    assert straight.keys() == again.keys()
    assert all(bool((straight[k] == again[k]).all()) for k in straight)


def test_list_runs_reads_runs_and_skips_other_folders(finished_run: Path, tmp_path: Path):
    import shutil

    root = tmp_path / "ws"
    shutil.copytree(finished_run, root / "b_done")
    unfinished = root / "a_unfinished"
    shutil.copytree(finished_run, unfinished)
    (unfinished / "metrics.json").unlink()
    (root / "notes").mkdir()
    (root / "junk").mkdir()
    (root / "junk" / "config.json").write_text("{not json")
    (root / "other").mkdir()
    (root / "other" / "config.json").write_text(json.dumps({"something": 1}))
    (root / "table.parquet").write_bytes(b"x")
    config = json.loads((unfinished / "config.json").read_text())
    config["created"] = "2000-01-01T00:00:00"  # older than the finished copy
    (unfinished / "config.json").write_text(json.dumps(config))

    runs = list_runs(root)
    assert [r.name for r in runs] == ["b_done", "a_unfinished"]
    done, old = runs
    assert done.complete and not old.complete
    assert (done.metric, done.labels, done.seed, done.epochs, done.epochs_done, done.latent_dim) == \
        ("toy_valid", 20, 3, 3, 3, 4)
    assert Path(done.table).name == "toy.parquet"
    assert set(done.metrics) == {"reconstruction_accuracy", "validity", "uniqueness", "spearman", "kendall",
                                 "train_seconds"}
    row = old.row()
    assert row["run"] == "a_unfinished" and row["status"].startswith("unfinished")
    assert list_runs(tmp_path / "absent") == []

    side = side_by_side(runs)  # one column per run, one row per field; an unfinished run's metrics read "-"
    assert list(side) == ["field", "b_done", "a_unfinished"] and "run" not in side["field"]
    spearman = side["field"].index("spearman")
    assert side["a_unfinished"][spearman] == "-" and side["b_done"][spearman] == f"{done.metrics['spearman']:.4g}"
    assert side["b_done"][side["field"].index("seed")] == "3"


def test_new_run_dir_checks_the_name(tmp_path: Path):
    assert new_run_dir(tmp_path, "c10_s0.v2") == tmp_path / "c10_s0.v2"
    for bad in ("", "../escape", "a/b", ".hidden", "x" * 81, "sp ace"):
        with pytest.raises(RunsError):
            new_run_dir(tmp_path, bad)
    (tmp_path / "taken").mkdir()
    with pytest.raises(RunsError, match="exists already"):
        new_run_dir(tmp_path, "taken")


def test_delete_run_removes_only_run_folders_inside_the_root(finished_run: Path, tmp_path: Path):
    import shutil

    root = tmp_path / "ws"
    run = root / "run"
    shutil.copytree(finished_run, run)
    outside = tmp_path / "outside_run"
    shutil.copytree(finished_run, outside)
    (root / "plain").mkdir()
    (root / "plain" / "data.txt").write_text("user data")
    os.symlink(outside, root / "link")

    refusals = {
        outside: "not a folder inside the workspace",
        root / "run" / ".." / ".." / "outside_run": "not a folder inside the workspace",
        root: "not a folder inside the workspace",
        root / "link": "symbolic link",
        root / "plain": "no config.json",
        root / "missing": "not a folder",
    }
    for path, reason in refusals.items():
        with pytest.raises(RunsError, match=reason):
            delete_run(path, root)
    (run / "my_notes.txt").write_text("keep me")
    with pytest.raises(RunsError, match="my_notes.txt"):
        delete_run(run, root)
    (run / "surrogates" / "extra.bin").write_bytes(b"1")
    with pytest.raises(RunsError, match="surrogates/extra.bin"):
        delete_run(run, root)
    assert outside.is_dir() and (root / "plain" / "data.txt").exists() and (run / "my_notes.txt").exists()

    (run / "my_notes.txt").unlink()
    (run / "surrogates" / "extra.bin").unlink()
    (run / ".history.csv.abc123.tmp").write_text("")  # a temp file of an interrupted atomic write
    delete_run(run, root)
    assert not run.exists() and outside.is_dir() and (outside / "metrics.json").exists()
    assert [r.name for r in list_runs(root)] == []


def test_resume_refuses_a_finished_run_and_a_lost_table(finished_run: Path, tmp_path: Path):
    import shutil

    from lso.train.run import RunError

    with pytest.raises(RunError, match="has finished"):
        resume_run(finished_run)
    run = tmp_path / "moved"
    shutil.copytree(finished_run, run)
    (run / "metrics.json").unlink()
    config = json.loads((run / "config.json").read_text())
    config["table"]["path"] = str(tmp_path / "gone.parquet")
    (run / "config.json").write_text(json.dumps(config))
    with pytest.raises(RunsError, match="is not there any more"):
        resume_run(run)


def test_training_curves_show_the_used_loss_terms(finished_run: Path):
    from lso.train.run import read_history
    from lso.viz.train_figures import event_rows, history_rows, training_curves

    rows = history_rows(read_history(finished_run / "history.csv"))
    fig = training_curves(rows)
    names = [t.name for t in fig.data]
    assert names[0] == "loss" and names[-1] == "recon_acc"
    assert "pseudo" not in names and "surrogate" in names  # pseudo-labels are off, 20 labels train the ICNN
    assert list(fig.data[0].x) == [1, 2, 3]
    events = [ProgressEvent(0, 3, "preparing"), ProgressEvent(1, 3, "epoch 1", {k: v for k, v in rows[0].items()
                                                                               if k != "epoch"})]
    assert event_rows(events) == [rows[0]]
