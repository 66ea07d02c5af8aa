"""`lso bench build --ray`: the builder's runs on a Ray cluster (a private local instance started by the test)
give the same table as local training; a cluster nobody runs is a clear error, fast."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import numpy as np
import pytest
import torch

from lso.bench import BenchmarkTable
from lso.jobs import Reporter
from lso.nets.builder import BuildConfig, build_benchmark
from lso.nets.protocol import TrainProtocol
from cli_runner import run_cli
from optional_deps import need_ray

pytestmark = pytest.mark.slow

TINY = TrainProtocol(
    name="tiny", dataset="digits", epochs=2, lr=0.05, batch_size=32, channels=4, cells_per_stage=1,
    seeds=(0,), train_samples=200,
)


def test_ray_build_equals_the_local_build_and_resumes(tmp_path: Path) -> None:
    need_ray()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as every Ray actor and local worker trains
    try:
        local = build_benchmark(BuildConfig(TINY, tmp_path / "local.parquet", workers=0, limit=4))
    finally:
        torch.set_num_threads(threads)
    config = BuildConfig(TINY, tmp_path / "ray.parquet", ray="local", limit=4)
    reporter = Reporter()
    on_ray = build_benchmark(config, reporter=reporter)
    assert on_ray.runs_trained == 4 and local.runs_trained == 4
    assert [(e.done, e.total) for e in reporter.events] == [(k, 4) for k in range(5)]  # one report per finished run
    a, b = BenchmarkTable.load(local.table), BenchmarkTable.load(on_ray.table)
    assert len(a) == len(b) > 4
    for metric in ("digits_train", "digits_valid", "digits_test", "params", "flops"):
        assert np.array_equal(a.values(metric), b.values(metric)), metric
    assert b.meta.extra["device"].startswith("ray cluster local:")
    assert json.loads(b.meta.extra["protocol"])["name"] == "tiny"
    again = build_benchmark(config)  # everything cached: Ray is not even started
    assert again.runs_trained == 0 and again.runs_cached == 4


def test_unreachable_cluster_is_a_clear_error(tmp_path: Path, capsys) -> None:
    need_ray()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    out = tmp_path / "t.parquet"
    argv = ["bench", "build", "--dataset", "digits", "--limit", "1", "--ray", f"127.0.0.1:{port}", "--out", str(out),
            "--no-progress"]
    assert run_cli(argv) == 2
    err = capsys.readouterr().err
    assert f"no Ray cluster answers at '127.0.0.1:{port}'" in err and "Traceback" not in err
    assert not out.exists()
