"""``lso bench build --space nb101|darts --sample N``: a seeded sample of a large space, trained into a SpaceTable."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cli_runner import run_cli
from lso.bench.space_table import SpaceTable
from lso.nets.cache import CacheError, RunCache
from lso.nets.protocol import get_protocol
from lso.nets.space_build import sampled_cells
from lso.spaces import get_space


def build(tmp_path, *extra: str) -> int:
    return run_cli(["bench", "build", "--dataset", "digits", "--protocol", "digits-fast", "--workers", "0",
                    "--no-progress", "--out", str(tmp_path / "nb101.parquet"), *extra])


def test_samples_are_seeded_distinct_and_nested():
    space = get_space("nb101")
    small, large = sampled_cells(space, 5, seed=3), sampled_cells(space, 9, seed=3)
    assert [space.canonical(c) for c in large[:5]] == [space.canonical(c) for c in small]
    assert len({space.canonical(c) for c in large}) == 9
    assert [space.canonical(c) for c in sampled_cells(space, 5, seed=4)] != [space.canonical(c) for c in small]
    assert [space.canonical(c) for c in sampled_cells(space, 9, seed=3, shard=(1, 2))] == \
        [space.canonical(c) for c in large[1::2]]


@pytest.mark.parametrize("space", ["nb101", "darts"])
def test_a_sampled_build_writes_a_space_table_and_resumes(tmp_path, capsys, space):
    assert build(tmp_path, "--space", space, "--sample", "2") == 0
    table = SpaceTable.load(tmp_path / "nb101.parquet")
    assert table.meta.space == space and len(table) == 2
    protocol = get_protocol("digits-fast")
    assert json.loads(table.meta.protocol) == protocol.to_dict()
    expected = [get_space(space).to_string(c) for c in sampled_cells(get_space(space), 2, seed=0)]
    assert table.archs() == expected
    for metric in ("digits_train", "digits_valid", "digits_test"):
        assert np.isfinite(table.values(metric)).all() and table.values(metric).max() <= 100
    assert (table.values("params") > 0).all() and (table.values("flops") > 0).all()
    sheet = json.loads((tmp_path / "nb101.datasheet.json").read_text())
    assert (sheet["space"], sheet["cells"], sheet["sample"], sheet["sample_seed"]) == (space, 2, 2, 0)
    assert sheet["signal_best"] == table.values("digits_valid").max() and sheet["seed_spearman"] is None
    capsys.readouterr()
    assert build(tmp_path, "--space", space, "--sample", "3") == 0  # extends the sample: trains one more cell
    out = capsys.readouterr().out.replace("\n", " ")
    assert "1 runs trained now, 2 from the cache" in out and "nb101.datasheet.json" in out
    assert SpaceTable.load(tmp_path / "nb101.parquet").archs()[:2] == expected
    assert json.loads((tmp_path / "nb101.datasheet.json").read_text())["cells"] == 3


def test_bad_space_builds_are_refused_with_one_clear_line(tmp_path, capsys):
    assert build(tmp_path, "--space", "nb101") != 0
    assert "give --sample N" in capsys.readouterr().err
    assert build(tmp_path, "--sample", "5") != 0
    assert "--sample is for spaces too large" in capsys.readouterr().err
    assert build(tmp_path, "--space", "nb999", "--sample", "5") != 0
    assert "unknown search space" in capsys.readouterr().err
    protocol = get_protocol("digits-fast")
    RunCache(protocol, tmp_path / "nb101.runs.jsonl")  # an NB201 cache where the nb101 build looks for its own
    assert build(tmp_path, "--space", "nb101", "--sample", "2") != 0
    assert "holds runs of the nb201 space, not nb101" in capsys.readouterr().err
    with pytest.raises(CacheError, match="nb201 space"):
        RunCache(protocol, tmp_path / "nb101.runs.jsonl", space="darts")
