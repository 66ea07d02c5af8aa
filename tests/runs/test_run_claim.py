"""A training run folder is claimed exclusively: of two trainings started into the same --out at once, exactly one
goes on and the other stops with a clear error before writing anything (lso.atomic.create_exclusive)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from lso.atomic import OutputError, check_writable_dir, check_writable_file, create_exclusive, write_json


def test_create_exclusive_has_one_winner(tmp_path: Path) -> None:
    for attempt in range(20):
        path = tmp_path / f"claim{attempt}" / "config.json"
        barrier = threading.Barrier(4)
        outcome: dict[int, str] = {}

        def claim(k: int) -> None:
            barrier.wait()
            try:
                create_exclusive(path, f"writer {k}\n")
                outcome[k] = "won"
            except FileExistsError:
                outcome[k] = "lost"

        threads = [threading.Thread(target=claim, args=(k,)) for k in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [k for k, v in outcome.items() if v == "won"]
        assert len(winners) == 1 and len(outcome) == 4
        assert path.read_text() == f"writer {winners[0]}\n"
        assert sorted(p.name for p in path.parent.iterdir()) == ["config.json"]  # no temp files left


def test_checks_refuse_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(OutputError, match="is a file, not a folder"):
        check_writable_file(tmp_path / "f.txt" / "r.json", ".json")
    with pytest.raises(OutputError, match=r"must be a \.json file"):
        check_writable_file(tmp_path / "r.csv", ".json")
    with pytest.raises(OutputError, match="is a folder"):
        check_writable_file(tmp_path, None)
    with pytest.raises(OutputError, match="is a file"):
        check_writable_dir(tmp_path / "f.txt")
    assert check_writable_dir(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # a check creates nothing
    with pytest.raises(OutputError, match="Permission denied|not permitted"):
        write_json("/sys/lso-claim-test/r.json", {})


def test_a_second_training_into_the_same_folder_stops_cleanly(tmp_path: Path, monkeypatch) -> None:
    """The race: both trainings find the folder empty; the other one's config.json lands between this one's check
    and its claim. This one must stop with a RunError and leave the other's file alone."""
    import lso.train.run as run_module
    from lso.bench import BenchmarkTable
    from lso.space import cell_from_index
    from lso.train import TrainConfig

    table = tmp_path / "toy.parquet"
    BenchmarkTable.from_metrics({cell_from_index(i): {"toy_valid": 50.0 + i % 7} for i in range(50)}).save(table)
    out = tmp_path / "run"
    theirs = '{"config": {}, "metric": "toy_valid", "table": {}}\n'
    checked = run_module.check_run_out

    def check_then_lose_the_race(path, resume):
        checked(path, resume)
        out.mkdir(exist_ok=True)
        (out / "config.json").write_text(theirs)  # the other training claims the folder now

    monkeypatch.setattr(run_module, "check_run_out", check_then_lose_the_race)
    with pytest.raises(run_module.RunError, match="claimed by another training"):
        run_module.train_run(table, "toy_valid", TrainConfig(epochs=1, labels=0), out)
    assert (out / "config.json").read_text() == theirs
    assert sorted(p.name for p in out.iterdir()) == ["config.json"]
