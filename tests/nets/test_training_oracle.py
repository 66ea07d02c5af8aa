"""Trainer, training oracle, run cache and builder: determinism, caching by isomorphism, kill-safe resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

pytest.importorskip("sklearn")

from lso.bench import BenchmarkTable  # noqa: E402
from lso.data.datasets import DatasetError, load_dataset  # noqa: E402
from lso.errors import ArchStringError, LsoError  # noqa: E402
from lso.nets.builder import BuildConfig, build_benchmark, representatives  # noqa: E402
from lso.nets.cache import CacheError, RunCache  # noqa: E402
from lso.device import DeviceError, resolve_device  # noqa: E402
from lso.nets.protocol import PROTOCOLS, ProtocolError, TrainProtocol, get_protocol  # noqa: E402
from lso.nets.trainer import train_cell  # noqa: E402
from lso.nets.training_oracle import TrainingOracle  # noqa: E402
from lso.search.oracle import Oracle  # noqa: E402
from lso.space import Cell, all_cells, num_params, unique_ids  # noqa: E402

# Tiny: 2 epochs on 200 digits with C=4, N=1 trains in well under a second.
TINY = TrainProtocol(
    name="tiny", dataset="digits", epochs=2, lr=0.05, batch_size=32, channels=4, cells_per_stage=1,
    seeds=(0,), train_samples=200,
)
GOOD = Cell.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|nor_conv_3x3~2|")
# A and A_TWIN differ only on edge 2<-0, whose node 2 feeds nothing (3<-2 is none): one isomorphism class.
A = Cell.from_string("|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|")
A_TWIN = Cell.from_string("|nor_conv_3x3~0|+|nor_conv_3x3~0|none~1|+|skip_connect~0|nor_conv_1x1~1|none~2|")


@pytest.fixture(scope="module")
def digits():
    return load_dataset("digits")


def test_train_cell_reports_real_figures(digits) -> None:
    r = train_cell(GOOD, TINY.with_(epochs=3, train_samples=400), digits, seed=0, device="cpu")
    assert r.valid_acc > 50.0 and r.test_acc > 50.0  # chance is 10%
    assert 0.0 <= r.train_acc <= 100.0 and r.train_loss > 0 and r.valid_loss > 0
    assert r.params == num_params(GOOD, digits.macro(4, 1))
    assert r.flops > 0 and r.wall_time_s > 0 and r.device.startswith("cpu")
    assert r.arch == GOOD.to_string() and r.seed == 0 and r.epochs == 3


def test_training_is_deterministic_per_seed_and_leaves_global_rng(digits) -> None:
    torch.manual_seed(123)
    before = torch.get_rng_state()
    a = train_cell(A, TINY, digits, seed=5)
    assert torch.equal(torch.get_rng_state(), before)  # the trainer forks the global RNG
    b = train_cell(A, TINY, digits, seed=5)
    c = train_cell(A, TINY, digits, seed=6)
    assert (a.valid_acc, a.test_acc, a.train_loss) == (b.valid_acc, b.test_acc, b.train_loss)
    assert (a.train_loss, a.valid_loss) != (c.train_loss, c.valid_loss)


def test_disconnected_cell_scores_chance(digits) -> None:
    r = train_cell(Cell(("none",) * 6), TINY, digits, seed=0)
    assert r.valid_acc < 20.0


def test_oracle_protocol_names_and_isomorphic_cells_train_once(tmp_path: Path) -> None:
    assert A.canonical() == A_TWIN.canonical() and A != A_TWIN
    assert unique_ids()[all_cells().index(A)] == unique_ids()[all_cells().index(A_TWIN)]
    oracle = TrainingOracle(TINY, cache=tmp_path / "runs.jsonl")
    assert isinstance(oracle, Oracle)
    assert (oracle.signal_name, oracle.report_name) == ("digits_valid", "digits_test")
    first = oracle.evaluate(A)
    second = oracle.evaluate(A_TWIN)
    assert oracle.trained == 1
    assert (first.signal, first.report) == (second.signal, second.report)
    assert second.cell == A_TWIN


def test_cache_persists_resumes_and_survives_a_torn_write(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    oracle = TrainingOracle(TINY, cache=path)
    ev_a, ev_good = oracle.evaluate(A), oracle.evaluate(GOOD)
    assert oracle.trained == 2
    # A kill during the third write leaves half a line: it is dropped, the two finished runs stay.
    with open(path, "a", encoding="utf-8") as fh:
        fh.write('{"key": "half a rec')
    resumed = TrainingOracle(TINY, cache=path)
    assert len(resumed.cache) == 2
    assert resumed.evaluate(A) == ev_a and resumed.evaluate(GOOD) == ev_good
    assert resumed.trained == 0
    assert path.read_text().endswith("\n") and all(json.loads(l) for l in path.read_text().splitlines())
    resumed.evaluate(Cell(("skip_connect",) * 6))
    assert len(RunCache(TINY, path)) == 3


def test_cache_of_another_protocol_or_corrupt_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "runs.jsonl"
    TrainingOracle(TINY, cache=path).evaluate(A)
    with pytest.raises(CacheError, match="written for protocol 'tiny'"):
        RunCache(TINY.with_(epochs=3), path)
    lines = path.read_text().splitlines()
    path.write_text(lines[0] + "\n{broken\n" + lines[1] + "\n")
    with pytest.raises(CacheError, match="line 2 is corrupt"):
        RunCache(TINY, path)
    other = tmp_path / "other.jsonl"
    other.write_text('{"index": 1}\n')
    with pytest.raises(CacheError, match="not an lso training cache"):
        RunCache(TINY, other)


def test_several_seeds_are_averaged(tmp_path: Path, digits) -> None:
    oracle = TrainingOracle(TINY.with_(seeds=(0, 1)), data=digits)
    rec = oracle.record(A)
    assert [r.seed for r in rec.runs] == [0, 1] and oracle.trained == 2
    assert rec.valid_acc == pytest.approx((rec.runs[0].valid_acc + rec.runs[1].valid_acc) / 2)


def test_builder_with_two_workers_fills_every_row_of_trained_classes_and_resumes(tmp_path: Path) -> None:
    out = tmp_path / "bench.parquet"
    config = BuildConfig(TINY, out, workers=2, limit=4)
    report = build_benchmark(config)
    assert report.runs_trained == 4 and report.runs_cached == 0 and not report.complete
    reps = representatives(4)
    ids = unique_ids()
    expected_rows = sum(1 for i in range(len(all_cells())) if ids[i] in {ids[all_cells().index(c)] for c in reps})
    table = BenchmarkTable.load(out)
    assert len(table) == report.rows == expected_rows and table.num_unique == 4
    assert {"digits_train", "digits_valid", "digits_test", "params", "flops", "train_seconds"} <= set(table.metrics)
    # isomorphic rows share their values
    frame = table.frame
    assert (frame.groupby("unique_id")["digits_valid"].nunique() == 1).all()
    # resume: nothing left to train for the same limit; a larger limit trains only the new cells
    again = build_benchmark(config)
    assert again.runs_trained == 0 and again.runs_cached == 4
    more = build_benchmark(BuildConfig(TINY, out, workers=0, limit=5))
    assert more.runs_trained == 1 and BenchmarkTable.load(out).num_unique == 5
    assert table.meta.dataset == "digits" and json.loads(table.meta.extra["protocol"])["name"] == "tiny"


def test_shards_split_a_build_and_their_caches_concatenate(tmp_path: Path) -> None:
    halves = [build_benchmark(BuildConfig(TINY, tmp_path / f"s{k}.parquet", workers=0, limit=5, shard=(k, 2)))
              for k in (0, 1)]
    assert [h.runs_trained for h in halves] == [3, 2]  # cells 0, 2, 4 and 1, 3
    lines = [p.read_text().splitlines() for p in (tmp_path / "s0.runs.jsonl", tmp_path / "s1.runs.jsonl")]
    keys = [{json.loads(line)["key"] for line in part[1:]} for part in lines]
    assert not keys[0] & keys[1]
    merged = tmp_path / "all.runs.jsonl"
    merged.write_text("\n".join(lines[0] + lines[1][1:]) + "\n")  # one header, every run line
    whole = build_benchmark(BuildConfig(TINY, tmp_path / "all.parquet", cache=merged, workers=0, limit=5))
    assert whole.runs_trained == 0 and whole.runs_cached == 5 and BenchmarkTable.load(tmp_path / "all.parquet").num_unique == 5
    with pytest.raises(LsoError, match="0 <= k < n"):
        build_benchmark(BuildConfig(TINY, tmp_path / "x.parquet", workers=0, limit=1, shard=(2, 2)))


def test_test_seeds_give_the_test_figure_from_other_runs(tmp_path: Path, digits) -> None:
    protocol = TINY.with_(seeds=(0, 1), test_seeds=(2,))
    oracle = TrainingOracle(protocol, data=digits)
    rec = oracle.record(A)
    assert [r.seed for r in rec.runs] == [0, 1] and [r.seed for r in rec.test_runs] == [2] and oracle.trained == 3
    assert rec.test_acc == rec.test_runs[0].test_acc  # not the valid runs' own test figure
    assert rec.valid_acc == pytest.approx((rec.runs[0].valid_acc + rec.runs[1].valid_acc) / 2)
    with pytest.raises(ProtocolError, match="disjoint from seeds"):
        TINY.with_(seeds=(0, 1), test_seeds=(1,))
    assert "test_seeds" not in TINY.to_dict() and "replicas" not in TINY.to_dict()  # old caches keep their JSON
    assert TrainProtocol.from_dict(json.loads(protocol.to_json())) == protocol


def test_a_replicas_build_trains_each_seed_group_at_once(tmp_path: Path) -> None:
    protocol = TINY.with_(name="tiny-rep", seeds=(0, 1, 2), test_seeds=(3, 4), replicas=True)
    out = tmp_path / "rep.parquet"
    report = build_benchmark(BuildConfig(protocol, out, workers=0, limit=2))
    assert report.runs_trained == 10 and report.runs_cached == 0
    table = BenchmarkTable.load(out)
    row = table.row(representatives(2)[1])
    assert row["digits_valid"] == pytest.approx(sum(row[f"digits_valid_seed{s}"] for s in (0, 1, 2)) / 3)
    assert row["digits_test"] == pytest.approx((row["digits_test_seed3"] + row["digits_test_seed4"]) / 2)
    assert "digits_test_seed0" not in row and "digits_valid_seed3" not in row
    again = TrainingOracle(protocol, cache=report.cache)  # the oracle reads the build's runs, trains nothing
    assert again.evaluate(representatives(2)[1]).report == pytest.approx(row["digits_test"]) and again.trained == 0
    assert build_benchmark(BuildConfig(protocol, out, workers=0, limit=2)).runs_trained == 0


def test_representatives_cover_the_6466_classes() -> None:
    reps = representatives()
    assert len(reps) == 6466 and len({c.canonical() for c in reps}) == 6466


def test_bad_input_is_named() -> None:
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        TrainingOracle(TINY.with_(dataset="nope")).evaluate(A)
    with pytest.raises(ArchStringError, match="unknown operation 'conv_7x7'"):
        TrainingOracle(TINY).evaluate("|conv_7x7~0|+|none~0|none~1|+|none~0|none~1|none~2|")  # type: ignore[arg-type]
    with pytest.raises(ProtocolError, match="unknown protocol 'fastest'"):
        get_protocol("fastest")
    with pytest.raises(ProtocolError, match="epochs must be >= 1"):
        TINY.with_(epochs=0)
    with pytest.raises(LsoError, match="workers must be >= 0"):
        build_benchmark(BuildConfig(TINY, Path("unused.parquet"), workers=-1))


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised on machines without CUDA")
def test_cuda_absent_is_a_clear_error() -> None:
    with pytest.raises(DeviceError, match="CUDA is not available"):
        resolve_device("cuda")
    with pytest.raises(DeviceError, match="CUDA is not available"):
        TrainingOracle(TINY, device="cuda:0")
    assert resolve_device("auto").type == "cpu"


def test_registered_protocols_are_valid_and_round_trip() -> None:
    for protocol in PROTOCOLS.values():
        assert TrainProtocol.from_dict(json.loads(protocol.to_json())) == protocol


def test_cli_query_and_build(tmp_path: Path, capsys) -> None:
    import typer
    from typer.testing import CliRunner

    from lso.cli.build import add_build_command
    from lso.cli.main import main

    with pytest.raises(SystemExit) as exit_info:
        main(["query", "--dataset", "nope", "--arch", A.to_string()])
    assert exit_info.value.code == 2 and "unknown dataset 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["query", "--dataset", "digits", "--arch", "|nor_conv_3x3~0|+|x~0|none~1|+|none~0|none~1|none~2|"])
    assert exit_info.value.code == 2 and "unknown operation 'x'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["query", "--dataset", "digits", "--arch", A.to_string(), "--device", "cuda"])
    assert exit_info.value.code == 2 and "CUDA" in capsys.readouterr().err

    bench_app = typer.Typer()
    bench_app.command("info")(lambda: None)  # a group with two commands keeps `build` as a subcommand
    add_build_command(bench_app)
    out = tmp_path / "t.parquet"
    result = CliRunner().invoke(
        bench_app, ["build", "--dataset", "digits", "--out", str(out), "--limit", "1", "--workers", "0", "--no-progress"]
    )
    assert result.exit_code == 0, result.output
    assert "1 runs trained now" in result.output and BenchmarkTable.load(out).num_unique == 1
