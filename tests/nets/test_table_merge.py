"""Merged tables: a protocol with more seeds per cell is the union of built tables of protocols whose seed groups
it trains (a shipped table and shards of the missing seeds), figure for figure the table a build of it gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("sklearn")

from lso.bench import BenchmarkTable  # noqa: E402
from lso.nets.builder import BuildConfig, build_benchmark  # noqa: E402
from lso.nets.cache_merge import merge_run_caches  # noqa: E402
from lso.nets.protocol import get_protocol  # noqa: E402
from lso.nets.table_merge import TableMergeError, merge_tables  # noqa: E402
from replica_protocols import BOTH, REP, TWIN  # noqa: E402

CELLS = 4


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> dict[str, Path]:
    """REP on 4 cells, TWIN in two shards of 2 cells, and BOTH built from their merged run caches."""
    root = tmp_path_factory.mktemp("merge")
    rep = build_benchmark(BuildConfig(REP, root / "rep.parquet", workers=0, limit=CELLS))
    shards = [build_benchmark(BuildConfig(TWIN, root / f"twin{k}.parquet", workers=0, limit=CELLS, shard=(k, 2)))
              for k in (0, 1)]
    merge_run_caches(BOTH, [rep.cache] + [s.cache for s in shards], root / "both.runs.jsonl")
    both = build_benchmark(BuildConfig(BOTH, root / "both.parquet", cache=root / "both.runs.jsonl", workers=0,
                                       limit=CELLS))
    assert both.runs_trained == 0
    return {"rep": rep.table, "twin0": shards[0].table, "twin1": shards[1].table, "both": both.table}


def _load(built: dict[str, Path], *names: str) -> list[BenchmarkTable]:
    return [BenchmarkTable.load(built[n]) for n in names]


def test_merged_shards_equal_the_build_of_the_larger_protocol(built) -> None:
    merged = merge_tables(BOTH, _load(built, "rep", "twin0", "twin1"))
    (direct,) = _load(built, "both")
    assert merged.dropped == 0 and len(merged.table) == len(direct) > CELLS  # isomorphic cells share a class's row
    ours, theirs = merged.table.frame, direct.frame
    assert list(ours.columns) == list(theirs.columns)
    exact = [c for c in ours.columns if c not in ("digits_train", "train_seconds")]
    pd.testing.assert_frame_equal(ours[exact], theirs[exact], check_exact=True)
    # per-run train figures are not stored: the mean of the two tables' means is the build's mean up to rounding
    np.testing.assert_allclose(ours["digits_train"], theirs["digits_train"], rtol=1e-12)
    np.testing.assert_allclose(ours["train_seconds"], theirs["train_seconds"], rtol=1e-9)
    assert merged.table.meta.extra["protocol"] == direct.meta.extra["protocol"]
    assert "tiny-rep-extra" in merged.table.meta.extra["merged_from"]


def test_cells_missing_a_seed_are_left_out_and_counted(built) -> None:
    merged = merge_tables(BOTH, _load(built, "rep", "twin0"))  # shard 1's cells lack seeds 4-7
    (rep, twin0) = _load(built, "rep", "twin0")
    assert set(merged.table.frame["index"]) == set(twin0.frame["index"])
    assert merged.dropped == len(rep) - len(twin0) > 0
    with pytest.raises(TableMergeError, match="no cell has a figure for every seed"):
        merge_tables(BOTH, _load(built, "rep"))


def test_a_merge_refuses_tables_the_protocol_would_not_build(built, tmp_path: Path) -> None:
    rep, twin0 = _load(built, "rep", "twin0")
    with pytest.raises(TableMergeError, match=r"seed group\(s\) \(0, 1\), \(2, 3\)"):  # trained as pairs, not alone
        merge_tables(REP.with_(name="one", replica_group=1), [rep])
    with pytest.raises(TableMergeError, match="another recipe"):
        merge_tables(BOTH.with_(lr=0.1), [rep, twin0])
    frame = twin0.frame.drop(columns="unique_id")
    frame.loc[0, "digits_valid_seed4"] += 1.0
    clash = BenchmarkTable.from_frame(frame, twin0.meta)
    with pytest.raises(TableMergeError, match="different valid figures of seed 4"):
        merge_tables(BOTH, [rep, twin0, clash], ["rep", "twin0", "clash"])
    frame = twin0.frame.drop(columns="unique_id")
    frame.loc[0, "params"] += 1
    with pytest.raises(TableMergeError, match="another params"):
        merge_tables(BOTH, [rep, BenchmarkTable.from_frame(frame, twin0.meta)])
    imported = BenchmarkTable.load(Path(__file__).parents[2] / "benchmarks_data" / "default.parquet")
    with pytest.raises(TableMergeError, match="another recipe"):  # the shipped mnist1d table is not a digits one
        merge_tables(BOTH, [rep, imported])
    bare = BenchmarkTable.from_frame(rep.frame.drop(columns="unique_id"))
    with pytest.raises(TableMergeError, match="records no training protocol"):
        merge_tables(BOTH, [bare])


def test_the_cli_writes_a_new_table_and_never_replaces_one(built, tmp_path: Path, capsys, monkeypatch) -> None:
    from lso.cli import merge_tables as command
    from lso.cli.main import main

    monkeypatch.setattr(command, "get_protocol", lambda name: BOTH if name == BOTH.name else get_protocol(name))
    out = tmp_path / "both.parquet"
    sources = [str(built[n]) for n in ("rep", "twin0")]
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "merge-tables", *sources, "--protocol", BOTH.name, "--out", str(out)])
    assert exit_info.value.code == 0
    said = capsys.readouterr().out
    assert f"rows of protocol {BOTH.name} from 2 table(s)" in said and "left out (some seed missing)" in said
    assert BenchmarkTable.load(out).meta.extra["protocol"] == BOTH.to_json()
    for args, error in ((["--protocol", BOTH.name], "exists: merge into a new file"),
                        (["--protocol", "mnist1d-v3"], "another recipe")):
        target = out if "exists" in error else tmp_path / "v3.parquet"
        with pytest.raises(SystemExit) as exit_info:
            main(["bench", "merge-tables", *sources, *args, "--out", str(target)])
        assert exit_info.value.code == 2 and error in capsys.readouterr().err
    assert not (tmp_path / "v3.parquet").exists()


def test_the_default_build_script_shards_cover_every_class_once() -> None:
    """benchmarks/build_default.sh trains mnist1d-v3-extra in shards of mixed size (0/8, then sixteenths)."""
    import re

    from lso.nets.builder import representatives

    script = (Path(__file__).parents[2] / "benchmarks" / "build_default.sh").read_text()
    names = re.search(r"for name in ([0-9/ ]+); do", script).group(1).split()
    keys = [cell.canonical() for name in names
            for cell in representatives(shard=tuple(int(x) for x in name.split("/")))]  # type: ignore[arg-type]
    assert len(keys) == len(set(keys)) == len(representatives()) == 6466
