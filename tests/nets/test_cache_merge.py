"""Seed groups of replicas (``replica_group``) and merged run caches: a protocol with more seeds reuses the runs of
protocols whose seed groups it contains, and those runs are exactly the ones it would train itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("sklearn")

from lso.bench import BenchmarkTable  # noqa: E402
from lso.nets.builder import BuildConfig, build_benchmark, representatives  # noqa: E402
from lso.nets.cache import CacheError, RunCache  # noqa: E402
from lso.nets.cache_merge import merge_run_caches  # noqa: E402
from lso.nets.protocol import ProtocolError, TrainProtocol, get_protocol  # noqa: E402
from replica_protocols import BOTH, REP, TWIN  # noqa: E402


def test_replica_groups_cut_the_seeds_and_test_seeds() -> None:
    assert BOTH.seed_groups == ((0, 1), (4, 5), (2, 3), (6, 7))
    assert REP.seed_groups == ((0, 1), (2, 3))
    v3 = get_protocol("mnist1d-v3")
    assert v3.seed_groups == (tuple(range(8)), tuple(range(16, 24)), tuple(range(8, 16)), tuple(range(24, 32)))
    assert set(get_protocol("mnist1d-v2").seed_groups) < set(v3.seed_groups)  # v3 reuses every v2 run
    assert "replica_group" not in REP.to_dict()  # caches written before it existed keep their header
    assert TrainProtocol.from_dict(json.loads(BOTH.to_json())) == BOTH
    with pytest.raises(ProtocolError, match="must divide the number of seeds"):
        REP.with_(seeds=(0, 1, 4), replica_group=2)
    with pytest.raises(ProtocolError, match="only set with replicas"):
        REP.with_(replicas=False, replica_group=2)


def test_merged_caches_build_the_larger_protocol_without_training(tmp_path: Path) -> None:
    parts = [build_benchmark(BuildConfig(p, tmp_path / f"{p.name}.parquet", workers=0, limit=2)) for p in (REP, TWIN)]
    merged = tmp_path / "both.runs.jsonl"
    assert merge_run_caches(BOTH, [part.cache for part in parts], merged) == 2 * 8
    report = build_benchmark(BuildConfig(BOTH, tmp_path / "both.parquet", cache=merged, workers=0, limit=2))
    assert report.runs_trained == 0 and report.runs_cached == 16
    row = BenchmarkTable.load(tmp_path / "both.parquet").row(representatives(2)[1])
    assert row["digits_valid"] == pytest.approx(sum(row[f"digits_valid_seed{s}"] for s in (0, 1, 4, 5)) / 4)
    assert row["digits_test"] == pytest.approx(sum(row[f"digits_test_seed{s}"] for s in (2, 3, 6, 7)) / 4)
    # the merged runs are the ones the larger protocol trains itself, figure for figure
    fresh = build_benchmark(BuildConfig(BOTH, tmp_path / "fresh.parquet", workers=0, limit=1))
    mine, theirs = RunCache(BOTH, fresh.cache), RunCache(BOTH, merged)
    key = representatives(1)[0].canonical()
    for seed in BOTH.all_seeds:
        a, b = mine.get(key, seed), theirs.get(key, seed)
        assert a is not None and b is not None
        assert (a.valid_acc, a.test_acc, a.train_loss) == (b.valid_acc, b.test_acc, b.train_loss)


def test_shard_caches_merge_into_one_with_the_cli(tmp_path: Path, capsys) -> None:
    from lso.cli.main import main

    halves = [build_benchmark(BuildConfig(REP, tmp_path / f"s{k}.parquet", workers=0, limit=3, shard=(k, 2)))
              for k in (0, 1)]
    merged = tmp_path / "all.runs.jsonl"
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "merge-runs", str(halves[0].cache), str(halves[1].cache), "--out", str(merged)])
    assert exit_info.value.code == 0 and "12 runs of protocol tiny-rep from 2 cache(s)" in capsys.readouterr().out
    assert build_benchmark(BuildConfig(REP, tmp_path / "all.parquet", cache=merged, workers=0, limit=3)).runs_trained == 0
    for args, error in ((["--out", str(merged)], "exists: merge into a new file"),
                        (["--out", str(tmp_path / "v3.runs.jsonl"), "--protocol", "mnist1d-v3"], "another recipe")):
        with pytest.raises(SystemExit) as exit_info:
            main(["bench", "merge-runs", str(halves[0].cache), *args])
        assert exit_info.value.code == 2 and error in capsys.readouterr().err


def test_a_merge_refuses_runs_the_protocol_would_not_train(tmp_path: Path) -> None:
    source = build_benchmark(BuildConfig(REP, tmp_path / "rep.parquet", workers=0, limit=1)).cache
    with pytest.raises(CacheError, match="exists: merge into a new file"):
        merge_run_caches(REP, [source], source)
    with pytest.raises(CacheError, match=r"seed group\(s\) \(0, 1\), \(2, 3\)"):  # trained as pairs, not alone
        merge_run_caches(REP.with_(name="one", replica_group=1), [source], tmp_path / "x.runs.jsonl")
    with pytest.raises(CacheError, match="another recipe"):
        merge_run_caches(BOTH.with_(lr=0.1), [source], tmp_path / "y.runs.jsonl")
    with pytest.raises(CacheError, match="not an lso training cache"):
        (tmp_path / "junk.jsonl").write_text("hello\n")
        merge_run_caches(BOTH, [tmp_path / "junk.jsonl"], tmp_path / "z.runs.jsonl")
    lines = source.read_text().splitlines()
    changed = json.loads(lines[1])
    changed["result"]["valid_acc"] += 1.0
    (tmp_path / "other.runs.jsonl").write_text("\n".join([lines[0], json.dumps(changed)]) + "\n")
    with pytest.raises(CacheError, match="different runs of"):
        merge_run_caches(REP, [source, tmp_path / "other.runs.jsonl"], tmp_path / "w.runs.jsonl")
    assert not any((tmp_path / f"{n}.runs.jsonl").exists() for n in "xyzw")  # a refused merge writes nothing
