"""Bad inputs through the CLI: every one must end with exit status 2 and exactly one ``error:`` line on stderr,
never a traceback, and must leave every file that was there before exactly as it was (bytes and mtime).

Each case runs in a fresh workspace holding a small benchmark table, a copy of the session's tiny training run, an
unrelated CSV and JSON file, and (unless we run as root, whom permissions do not stop) a read-only folder. Most
cases run in-process (``run_cli``); a handful go through the real console script to catch import-time tracebacks.
Settings are tiny everywhere, so that a wrongly accepted input finishes quickly and fails its case instead of
hanging the suite.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest

from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[2]
LSO = REPO / ".venv" / "bin" / "lso"
ROOT = os.geteuid() == 0 if hasattr(os, "geteuid") else False
HUGE_SEED = str(2**32)  # one past the largest seed (lso.cli.checks.SEED_MAX)
READ_ONLY = "/sys/lso-fuzz"  # sysfs refuses new entries even to root
NB201_CSV = REPO.parent / "shared" / "benchmarks" / "nb201" / "nb201_cifar10.csv"  # read only, never an output


# ----- the workspace -------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def base_table(nb201_dir: Path, tmp_path_factory) -> Path:
    """The NB201 CIFAR-10 table as Parquet (metrics cifar10_valid / cifar10_test), written once."""
    from lso.bench import BenchmarkTable

    path = tmp_path_factory.mktemp("fuzz-table") / "table.parquet"
    BenchmarkTable.load(nb201_dir / "nb201_cifar10.csv").save(path)
    return path


@pytest.fixture()
def ws(tmp_path: Path, base_table: Path, tiny_run: Path) -> Path:
    """A fresh workspace: table.parquet, run/ (finished tiny run), other.csv, note.json, sub/, ro/ (read-only)."""
    root = tmp_path / "ws"
    root.mkdir()
    shutil.copy2(base_table, root / "table.parquet")
    shutil.copytree(tiny_run, root / "run")
    (root / "other.csv").write_text("name,value\nkeep,1\n")
    (root / "note.json").write_text('{"note": "not a result"}\n')
    (root / "sub").mkdir()
    (root / "sub" / "keep.txt").write_text("keep me\n")
    (root / "ro").mkdir()
    os.chmod(root / "ro", 0o555)
    yield root
    os.chmod(root / "ro", 0o755)


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """``{relative path: (mtime_ns, bytes)}`` of every file under ``root``."""
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()}


# ----- run folders made bad ------------------------------------------------------------------------------------------
RANDOM_BYTES = bytes(range(256)) * 3 + b"\x00\xff\xfe"


class _Hostile:
    """Unpickling this creates the folder ``marker``: a hostile pickle must never be unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return os.mkdir, (self.marker,)


def _edit_json(path: Path, edit: Callable[[dict], object]) -> None:
    data = json.loads(path.read_text())
    edit(data)  # in place
    path.write_text(json.dumps(data))


def _unfinished(ws: Path) -> None:
    """Make the run look interrupted (no metrics.json), so that ``lso train --resume`` reads it."""
    (ws / "run" / "metrics.json").unlink()


def _resumable(ws: Path) -> None:
    """Make the interrupted run's config.json say what `lso train --labels 60 --epochs 2` asks for, so that a resume
    gets past the settings check to the files under test."""
    from lso.train import TrainConfig

    _edit_json(ws / "run" / "config.json",
               lambda d: d.__setitem__("config", TrainConfig(epochs=2, labels=60, seed=0).to_dict()))


def _drop(key: str) -> Callable[[dict], None]:
    return lambda d: d.pop(key)


def _drop_config(key: str) -> Callable[[dict], None]:
    return lambda d: d["config"].pop(key)


def _set_config(key: str, value) -> Callable[[dict], None]:
    return lambda d: d["config"].__setitem__(key, value)


def _corrupt(name: str, content: bytes | Callable[[Path], None]) -> Callable[[Path], None]:
    """A ``prepare`` that damages ``run/<name>`` in the workspace."""

    def prepare(ws: Path) -> None:
        target = ws / "run" / name
        if callable(content):
            content(target)
        else:
            target.write_bytes(content)

    return prepare


def _hostile(name: str) -> Callable[[Path], None]:
    def prepare(ws: Path) -> None:
        (ws / "run" / name).write_bytes(pickle.dumps(_Hostile(ws / "PWNED")))

    return prepare


def _torch_state(name: str, state: dict) -> Callable[[Path], None]:
    def prepare(ws: Path) -> None:
        import torch

        torch.save(state, ws / "run" / name)

    return prepare


def _both(*prepares: Callable[[Path], None]) -> Callable[[Path], None]:
    def prepare(ws: Path) -> None:
        for p in prepares:
            p(ws)

    return prepare


BAD_RUNS: dict[str, Callable[[Path], None]] = {
    "config-random-bytes": _corrupt("config.json", RANDOM_BYTES),
    "config-empty": _corrupt("config.json", b""),
    "config-a-list": _corrupt("config.json", b"[1, 2, 3]"),
    "config-hostile-pickle": _hostile("config.json"),
    "config-no-config": _corrupt("config.json", lambda p: _edit_json(p, _drop("config"))),
    "config-no-metric": _corrupt("config.json", lambda p: _edit_json(p, _drop("metric"))),
    "config-no-hidden": _corrupt("config.json", lambda p: _edit_json(p, _drop_config("hidden"))),
    "config-latent-mismatch": _corrupt("config.json", lambda p: _edit_json(p, _set_config("latent_dim", 8))),
    "config-icnn-mismatch": _corrupt("config.json", lambda p: _edit_json(p, _set_config("icnn_hidden", [7]))),
    "config-unknown-field": _corrupt("config.json", lambda p: _edit_json(p, _set_config("bogus", 1))),
    "labelled-random-bytes": _corrupt("labelled.json", RANDOM_BYTES),
    "labelled-no-indices": _corrupt("labelled.json", lambda p: _edit_json(p, _drop("indices"))),
    "labelled-bad-index": _corrupt("labelled.json", lambda p: _edit_json(
        p, lambda d: d.__setitem__("indices", [99999] + d["indices"][1:]))),
    "metrics-random-bytes": _corrupt("metrics.json", RANDOM_BYTES),
    "metrics-a-string": _corrupt("metrics.json", b'"finished"'),
    "metrics-hostile-pickle": _hostile("metrics.json"),
    "checkpoint-random-bytes": _corrupt("checkpoint.pt", RANDOM_BYTES),
    "checkpoint-hostile-pickle": _hostile("checkpoint.pt"),
    "gvae-random-bytes": _corrupt("gvae.safetensors", RANDOM_BYTES),
    "surrogate-random-bytes": _corrupt("surrogate.safetensors", RANDOM_BYTES),
    "gvae-missing": _corrupt("gvae.safetensors", lambda p: p.unlink()),
    "config-missing": _corrupt("config.json", lambda p: p.unlink()),
    "run-is-a-file": lambda ws: (shutil.rmtree(ws / "run"), (ws / "run").write_text("not a run\n")),
}

# the same damage in an interrupted run, for `lso train --resume`
BAD_RESUMES: dict[str, Callable[[Path], None]] = {
    "config-random-bytes": _corrupt("config.json", RANDOM_BYTES),
    "config-a-list": _corrupt("config.json", b"[]"),
    "config-no-config": _corrupt("config.json", lambda p: _edit_json(p, _drop("config"))),
    "config-no-table": _corrupt("config.json", lambda p: _edit_json(p, _drop("table"))),
    "config-hostile-pickle": _hostile("config.json"),
    "checkpoint-random-bytes": _corrupt("checkpoint.pt", RANDOM_BYTES),
    "checkpoint-hostile-pickle": _hostile("checkpoint.pt"),
    "checkpoint-missing-keys": _torch_state("checkpoint.pt", {"epoch": 1}),
    "checkpoint-not-a-dict": _torch_state("checkpoint.pt", {"epoch": "one", "gvae": 3}),
    "checkpoint-empty": _corrupt("checkpoint.pt", b""),
}


# ----- the cases ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """``argv`` with ``{ws}`` for the workspace; ``prepare(ws)`` damages it first."""

    id: str
    argv: tuple[str, ...]
    prepare: Callable[[Path], None] | None = None
    needs_non_root: bool = False
    patch: str | None = None  # "enospc": every write fails with ENOSPC
    match: str | None = None  # a word the error line must contain
    marks: tuple = field(default=())


def C(id: str, *argv: str, **kw) -> Case:
    return Case(id, tuple(argv), **kw)


T = "{ws}/table.parquet"
RUN = "{ws}/run"
SEARCH = ("search", "--bench", T, "--method", "rea", "--budget", "20")
CRLSO = ("search", "--bench", T, "--method", "crlso", "--budget", "70", "--run", RUN, "--out", "{ws}/r.json")
COMPARE = ("search", "compare", "--bench", T, "--methods", "random", "--seeds", "1", "--budgets", "5",
           "--no-progress")
TRAIN = ("train", "--bench", T, "--labels", "20", "--epochs", "1", "--no-progress")
REFINE = ("refine", "--arch", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|",
          "--dataset", "digits", "--protocol", "digits-fast", "--rounds", "1", "--finetune-epochs", "0",
          "--device", "cpu", "--no-progress")
REFINE_CMP = ("refine", "compare", "--arch", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|nor_conv_1x1~2|",
              "--dataset", "digits", "--protocol", "digits-fast", "--rounds", "1", "--finetune-epochs", "0",
              "--device", "cpu", "--seeds", "1", "--methods", "scratch", "--no-progress")
MILENAS = ("milenas", "--dataset", "digits", "--epochs", "1", "--channels", "4", "--cells", "1",
           "--train-samples", "64", "--device", "cpu", "--protocol", "digits-fast", "--no-progress")
QUERY = ("query", "--dataset", "digits", "--arch", "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|none~0|none~1|none~2|",
         "--device", "cpu", "--protocol", "digits-fast")
BUILD = ("bench", "build", "--dataset", "digits", "--protocol", "digits-fast", "--limit", "1", "--workers", "0",
         "--no-progress")
DEMO = ("demo", "--bench", T, "--budget", "70", "--epochs", "1")
POOL = ("search", "pool", "--methods", "random", "--seeds", "1", "--budgets", "5", "--no-progress")
IMPORT = ("bench", "import", "csv", "{ws}/other.csv", "--no-progress")
IMPORT_NB201 = ("bench", "import", "csv", str(NB201_CSV), "--no-progress")


def _cache_file(lines: list[object]) -> Callable[[Path], None]:
    def prepare(ws: Path) -> None:
        from lso.nets.protocol import get_protocol

        header = {"lso_training_cache": 1, "protocol": get_protocol("digits-fast").to_dict()}
        text = "".join((json.dumps(header if line == "HEADER" else line) + "\n") for line in lines)
        (ws / "cache.jsonl").write_text(text)

    return prepare


def _raw(name: str, content: bytes) -> Callable[[Path], None]:
    return lambda ws: (ws / name).write_bytes(content)


def _other_protocol_table(ws: Path) -> None:
    """A complete table of 15,625 rows (the NB201 import) where a build would write."""
    shutil.copy2(ws / "table.parquet", ws / "built.parquet")


CASES: list[Case] = [
    # ----- lso search --------------------------------------------------------------------------------------------
    C("search-seed-negative", *SEARCH, "--seed", "-1", "--out", "{ws}/r.json", match="seed"),
    C("search-seed-huge", *SEARCH, "--seed", HUGE_SEED, "--out", "{ws}/r.json", match="seed"),
    C("search-seed-enormous", *SEARCH, "--seed", "1" + "0" * 30, "--out", "{ws}/r.json", match="seed"),
    C("search-budget-zero", *SEARCH[:-1], "0", "--out", "{ws}/r.json"),
    C("search-budget-negative", *SEARCH[:-1], "-5", "--out", "{ws}/r.json"),
    C("search-method-unknown", "search", "--bench", T, "--method", "nope", "--out", "{ws}/r.json"),
    C("search-no-out", *SEARCH),
    C("search-out-unrelated-csv", *SEARCH, "--out", "{ws}/other.csv"),
    C("search-out-run-metrics", *SEARCH, "--out", "{ws}/run/metrics.json"),
    C("search-out-run-config", *SEARCH, "--out", "{ws}/run/config.json"),
    C("search-out-unrelated-json", *SEARCH, "--out", "{ws}/note.json"),
    C("search-out-no-suffix", *SEARCH, "--out", "{ws}/result"),
    C("search-out-existing-folder", *SEARCH, "--out", "{ws}/sub"),
    C("search-out-folder-suffix", *SEARCH, "--out", "{ws}/sub.json", prepare=lambda ws: (ws / "sub.json").mkdir()),
    C("search-out-under-a-file", *SEARCH, "--out", "{ws}/other.csv/r.json"),
    C("search-out-read-only-place", *SEARCH, "--out", READ_ONLY + "/r.json"),
    C("search-out-read-only-folder", *SEARCH, "--out", "{ws}/ro/r.json", needs_non_root=True),
    C("search-out-enospc", *SEARCH, "--out", "{ws}/r.json", patch="enospc", match="space"),
    C("search-bench-missing", "search", "--bench", "{ws}/nope.parquet", "--method", "rea", "--out", "{ws}/r.json"),
    C("search-bench-random-bytes", "search", "--bench", "{ws}/junk.parquet", "--method", "rea", "--out",
      "{ws}/r.json", prepare=_raw("junk.parquet", RANDOM_BYTES)),
    C("search-bench-folder", "search", "--bench", "{ws}/sub", "--method", "rea", "--out", "{ws}/r.json"),
    C("search-bench-unrelated-csv", "search", "--bench", "{ws}/other.csv", "--method", "rea", "--out", "{ws}/r.json"),
    C("search-signal-unknown", *SEARCH, "--signal", "nope", "--out", "{ws}/r.json"),
    C("search-device-bogus", *CRLSO, "--device", "tpu"),
    C("search-run-missing", *CRLSO[:-4], "--run", "{ws}/nope", "--out", "{ws}/r.json"),
    *[C(f"search-run-{name}", *CRLSO, prepare=prep) for name, prep in BAD_RUNS.items()],
    C("search-run-bad-with-baseline", *SEARCH, "--run", RUN, "--out", "{ws}/r.json",
      prepare=BAD_RUNS["config-latent-mismatch"]),
    # ----- lso search compare ------------------------------------------------------------------------------------
    C("compare-methods-duplicate", *COMPARE[:5], "random,random", *COMPARE[6:], "--out", "{ws}/cmp"),
    C("compare-methods-duplicate-spaced", *COMPARE[:5], "random, rea ,random", *COMPARE[6:], "--out", "{ws}/cmp"),
    C("compare-methods-empty", *COMPARE[:5], ",", *COMPARE[6:], "--out", "{ws}/cmp"),
    C("compare-methods-unknown", *COMPARE[:5], "random,nope", *COMPARE[6:], "--out", "{ws}/cmp"),
    C("compare-target-nan", *COMPARE, "--target", "nan", "--out", "{ws}/cmp", match="target"),
    C("compare-target-inf", *COMPARE, "--target", "inf", "--out", "{ws}/cmp", match="target"),
    C("compare-target-minus-inf", *COMPARE, "--target", "-inf", "--out", "{ws}/cmp", match="target"),
    C("compare-seeds-negative", *COMPARE[:7], "-1", *COMPARE[8:], "--out", "{ws}/cmp"),
    C("compare-seeds-huge", *COMPARE[:7], f"1,{HUGE_SEED}", *COMPARE[8:], "--out", "{ws}/cmp", match="seed"),
    C("compare-seeds-range-huge", *COMPARE[:7], f"0-{HUGE_SEED}", *COMPARE[8:], "--out", "{ws}/cmp",
      match="seed"),
    C("compare-seeds-duplicate", *COMPARE[:7], "1,1", *COMPARE[8:], "--out", "{ws}/cmp"),
    C("compare-seeds-garbage", *COMPARE[:7], "a-b", *COMPARE[8:], "--out", "{ws}/cmp"),
    C("compare-budgets-zero", *COMPARE[:9], "0", *COMPARE[10:], "--out", "{ws}/cmp"),
    C("compare-budgets-garbage", *COMPARE[:9], "5,x", *COMPARE[10:], "--out", "{ws}/cmp"),
    C("compare-horizon-negative", *COMPARE, "--horizon", "-1", "--out", "{ws}/cmp"),
    C("compare-out-a-file", *COMPARE, "--out", "{ws}/other.csv"),
    C("compare-out-under-a-file", *COMPARE, "--out", "{ws}/other.csv/cmp"),
    C("compare-out-read-only-place", *COMPARE, "--out", READ_ONLY),
    C("compare-out-read-only-folder", *COMPARE, "--out", "{ws}/ro/cmp", needs_non_root=True),
    C("compare-out-a-run", *COMPARE, "--out", RUN),
    C("compare-out-enospc", *COMPARE, "--out", "{ws}/cmp", patch="enospc", match="space"),
    C("compare-run-latent-mismatch", *COMPARE[:5], "crlso", "--seeds", "1", "--budgets", "70", "--no-progress",
      "--run", RUN, "--out", "{ws}/cmp", prepare=BAD_RUNS["config-latent-mismatch"]),
    C("compare-run-random-bytes", *COMPARE[:5], "crlso", "--seeds", "1", "--budgets", "70", "--no-progress",
      "--run", RUN, "--out", "{ws}/cmp", prepare=BAD_RUNS["gvae-random-bytes"]),
    C("compare-bench-missing", "search", "compare", "--bench", "{ws}/nope.csv", "--out", "{ws}/cmp"),
    # ----- lso train ---------------------------------------------------------------------------------------------
    C("train-seed-negative", *TRAIN, "--seed", "-1", "--out", "{ws}/new", match="seed"),
    C("train-seed-huge", *TRAIN, "--seed", HUGE_SEED, "--out", "{ws}/new", match="seed"),
    C("train-epochs-zero", *TRAIN[:5], "--epochs", "0", *TRAIN[7:], "--out", "{ws}/new"),
    C("train-labels-negative", *TRAIN[:3], "--labels", "-1", *TRAIN[5:], "--out", "{ws}/new"),
    C("train-labels-too-many", *TRAIN[:3], "--labels", "100000", *TRAIN[5:], "--out", "{ws}/new"),
    C("train-metric-unknown", *TRAIN, "--metric", "nope", "--out", "{ws}/new"),
    C("train-bench-missing", "train", "--bench", "{ws}/nope.parquet", "--out", "{ws}/new"),
    C("train-device-bogus", *TRAIN, "--device", "tpu", "--out", "{ws}/new"),
    C("train-out-a-file", *TRAIN, "--out", "{ws}/other.csv"),
    C("train-out-under-a-file", *TRAIN, "--out", "{ws}/other.csv/run"),
    C("train-out-read-only-place", *TRAIN, "--out", READ_ONLY + "/run"),
    C("train-out-read-only-folder", *TRAIN, "--out", "{ws}/ro/run", needs_non_root=True),
    C("train-out-finished-run", *TRAIN, "--out", RUN),
    C("train-out-unfinished-run", *TRAIN, "--out", RUN, prepare=_unfinished),
    C("train-out-unrelated-folder", *TRAIN, "--out", "{ws}/sub"),
    C("train-out-enospc", *TRAIN, "--out", "{ws}/new", patch="enospc", match="space"),
    C("train-resume-nothing", *TRAIN, "--resume", "--out", "{ws}/new"),
    C("train-resume-finished", *TRAIN, "--resume", "--out", RUN),
    C("train-resume-other-settings", *TRAIN, "--resume", "--out", RUN, prepare=_unfinished),
    *[C(f"train-resume-{name}", "train", "--bench", T, "--labels", "60", "--epochs", "2", "--no-progress",
        "--resume", "--out", RUN, prepare=_both(_unfinished, _resumable, prep)) for name, prep in BAD_RESUMES.items()],
    C("train-resume-weights-mismatch", "train", "--bench", T, "--labels", "60", "--epochs", "2", "--no-progress",
      "--resume", "--out", RUN, prepare=_both(_unfinished, _resumable)),
    # ----- lso bench info / top / import -------------------------------------------------------------------------
    C("info-missing", "bench", "info", "{ws}/nope.parquet"),
    C("info-random-bytes", "bench", "info", "{ws}/junk.parquet", prepare=_raw("junk.parquet", RANDOM_BYTES)),
    C("info-empty", "bench", "info", "{ws}/empty.parquet", prepare=_raw("empty.parquet", b"")),
    C("info-folder", "bench", "info", "{ws}/sub"),
    C("info-unrelated-csv", "bench", "info", "{ws}/other.csv"),
    C("info-json", "bench", "info", "{ws}/note.json"),
    C("top-k-zero", "bench", "top", T, "--metric", "cifar10_test", "-k", "0"),
    C("top-k-negative", "bench", "top", T, "--metric", "cifar10_test", "-k", "-3"),
    C("top-metric-unknown", "bench", "top", T, "--metric", "nope"),
    C("top-random-bytes", "bench", "top", "{ws}/junk.csv", "--metric", "x", prepare=_raw("junk.csv", RANDOM_BYTES)),
    C("import-out-csv", *IMPORT_NB201, "--out", "{ws}/out.csv"),
    C("import-out-over-unrelated-csv", *IMPORT_NB201, "--out", "{ws}/other.csv"),
    C("import-out-no-suffix", *IMPORT_NB201, "--out", "{ws}/table"),
    C("import-out-folder", *IMPORT_NB201, "--out", "{ws}/sub"),
    C("import-out-under-a-file", *IMPORT_NB201, "--out", "{ws}/other.csv/t.parquet"),
    C("import-out-read-only-place", *IMPORT_NB201, "--out", READ_ONLY + "/t.parquet"),
    C("import-out-read-only-folder", *IMPORT_NB201, "--out", "{ws}/ro/t.parquet", needs_non_root=True),
    C("import-out-over-json", *IMPORT_NB201, "--out", "{ws}/note.json"),
    C("import-out-over-its-source", "bench", "import", "csv", "{ws}/t.csv", "--no-progress", "--out", "{ws}/t.csv",
      prepare=lambda ws: shutil.copy2(NB201_CSV, ws / "t.csv")),
    C("import-out-unrelated-parquet", *IMPORT_NB201, "--out", "{ws}/x.parquet",
      prepare=_raw("x.parquet", b"PAR1 not a table PAR1")),
    C("import-epochs-bad", "bench", "import", "nb201-pth", "{ws}/other.csv", "--epochs", "13", "--out",
      "{ws}/t.parquet"),
    C("import-direction-bad", *IMPORT, "--direction", "value=sideways", "--out", "{ws}/t.parquet"),
    C("import-missing-source", "bench", "import", "csv", "{ws}/nope.csv", "--out", "{ws}/t.parquet"),
    C("import-random-bytes", "bench", "import", "csv", "{ws}/junk.csv", "--out", "{ws}/t.parquet",
      prepare=_raw("junk.csv", RANDOM_BYTES)),
    C("import-enospc", *IMPORT_NB201, "--out", "{ws}/t.parquet", patch="enospc",
      match="space"),
    # ----- lso bench build ---------------------------------------------------------------------------------------
    C("build-out-csv", *BUILD, "--out", "{ws}/b.csv"),
    C("build-out-no-suffix", *BUILD, "--out", "{ws}/built"),
    C("build-out-over-unrelated-csv", *BUILD, "--out", "{ws}/other.csv"),
    C("build-out-folder", *BUILD, "--out", "{ws}/sub"),
    C("build-out-under-a-file", *BUILD, "--out", "{ws}/other.csv/b.parquet"),
    C("build-out-read-only-place", *BUILD, "--out", READ_ONLY + "/b.parquet"),
    C("build-out-read-only-folder", *BUILD, "--out", "{ws}/ro/b.parquet", needs_non_root=True),
    C("build-out-over-another-table", *BUILD, "--out", "{ws}/built.parquet", prepare=_other_protocol_table),
    C("build-out-over-garbage", *BUILD, "--out", "{ws}/junk.parquet", prepare=_raw("junk.parquet", RANDOM_BYTES)),
    C("build-cache-random-bytes", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/cache.jsonl",
      prepare=_raw("cache.jsonl", RANDOM_BYTES + b"\n")),
    C("build-cache-unrelated-json", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/note.json"),
    C("build-cache-no-protocol", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/cache.jsonl",
      prepare=_cache_file([{"lso_training_cache": 1}])),
    C("build-cache-bad-protocol", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/cache.jsonl",
      prepare=_cache_file([{"lso_training_cache": 1, "protocol": {"name": 3}}])),
    C("build-cache-record-no-result", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/cache.jsonl",
      prepare=_cache_file(["HEADER", {"key": "x", "seed": 0}])),
    C("build-cache-record-bad-result", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/cache.jsonl",
      prepare=_cache_file(["HEADER", {"key": "x", "seed": 0, "result": {"arch": 1}}])),
    C("build-cache-record-a-list", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/cache.jsonl",
      prepare=_cache_file(["HEADER", [1, 2]])),
    C("build-cache-folder", *BUILD, "--out", "{ws}/b.parquet", "--cache", "{ws}/sub"),
    C("build-cache-read-only-place", *BUILD, "--out", "{ws}/b.parquet", "--cache", READ_ONLY + "/c.jsonl"),
    C("build-workers-negative", *BUILD[:9], "-1", *BUILD[10:], "--out", "{ws}/b.parquet"),
    C("build-limit-zero", *BUILD[:7], "0", *BUILD[8:], "--out", "{ws}/b.parquet"),
    C("build-dataset-unknown", "bench", "build", "--dataset", "nope", "--out", "{ws}/b.parquet"),
    C("build-protocol-unknown", *BUILD[:5], "nope", *BUILD[6:], "--out", "{ws}/b.parquet"),
    C("build-protocol-other-dataset", *BUILD[:5], "cifar10-nb201", *BUILD[6:], "--out", "{ws}/b.parquet"),
    C("build-device-cuda-missing", *BUILD, "--device", "cuda:7", "--out", "{ws}/b.parquet"),
    C("build-enospc", *BUILD, "--out", "{ws}/b.parquet", patch="enospc", match="space"),
    C("build-ray-bad-address", *BUILD, "--ray", "127.0.0.1:1", "--out", "{ws}/b.parquet"),
    # ----- lso query ---------------------------------------------------------------------------------------------
    C("query-seed-negative", *QUERY, "--seed", "-1", match="seed"),
    C("query-seed-huge", *QUERY, "--seed", HUGE_SEED, match="seed"),
    C("query-arch-bad", *QUERY[:4], "|bogus~0|", *QUERY[5:]),
    C("query-dataset-unknown", "query", "--dataset", "nope", "--arch", QUERY[4]),
    C("query-protocol-other-dataset", *QUERY[:-1], "cifar10-nb201"),
    C("query-device-bogus", *QUERY[:6], "tpu", *QUERY[7:]),
    C("query-cache-random-bytes", *QUERY, "--cache", "{ws}/cache.jsonl",
      prepare=_raw("cache.jsonl", RANDOM_BYTES + b"\n")),
    C("query-cache-record-no-result", *QUERY, "--cache", "{ws}/cache.jsonl",
      prepare=_cache_file(["HEADER", {"key": "x", "seed": 0}])),
    C("query-cache-no-protocol", *QUERY, "--cache", "{ws}/cache.jsonl",
      prepare=_cache_file([{"lso_training_cache": 1}])),
    C("query-cache-folder", *QUERY, "--cache", "{ws}/sub"),
    C("query-cache-under-a-file", *QUERY, "--cache", "{ws}/other.csv/c.jsonl"),
    C("query-enospc", *QUERY, "--cache", "{ws}/new.jsonl", patch="enospc", match="space"),
    C("query-cache-unrelated-csv", *QUERY, "--cache", "{ws}/other.csv"),
    # ----- lso refine --------------------------------------------------------------------------------------------
    C("refine-seed-negative", *REFINE, "--seed", "-1", "--out", "{ws}/r.json", match="seed"),
    C("refine-seed-huge", *REFINE, "--seed", HUGE_SEED, "--out", "{ws}/r.json", match="seed"),
    C("refine-inner-mult-nan", *REFINE, "--inner-mult", "nan", "--out", "{ws}/r.json", match="inner-mult"),
    C("refine-inner-mult-inf", *REFINE, "--inner-mult", "inf", "--out", "{ws}/r.json", match="inner-mult"),
    C("refine-inner-mult-zero", *REFINE, "--inner-mult", "0", "--out", "{ws}/r.json", match="inner-mult"),
    C("refine-stage-mult-inf", *REFINE, "--stage-mult", "inf", "--out", "{ws}/r.json", match="stage-mult"),
    C("refine-stage-mult-negative", *REFINE, "--stage-mult", "-0.5", "--out", "{ws}/r.json", match="stage-mult"),
    C("refine-rounds-zero", *REFINE[:8], "0", *REFINE[9:], "--out", "{ws}/r.json"),
    C("refine-finetune-negative", *REFINE[:10], "-1", *REFINE[11:], "--out", "{ws}/r.json"),
    C("refine-budget-negative", *REFINE, "--budget-params", "-5", "--out", "{ws}/r.json"),
    C("refine-method-unknown", *REFINE, "--method", "nope", "--out", "{ws}/r.json"),
    C("refine-groups-unknown", *REFINE, "--groups", "stage9", "--out", "{ws}/r.json"),
    C("refine-groups-empty", *REFINE, "--groups", ",", "--out", "{ws}/r.json"),
    C("refine-arch-bad", "refine", "--arch", "|bogus~0|", "--out", "{ws}/r.json"),
    C("refine-dataset-unknown", *REFINE[:4], "nope", *REFINE[7:], "--out", "{ws}/r.json"),
    C("refine-device-bogus", *REFINE[:12], "tpu", *REFINE[13:], "--out", "{ws}/r.json"),
    C("refine-no-out", *REFINE),
    C("refine-out-unrelated-csv", *REFINE, "--out", "{ws}/other.csv"),
    C("refine-out-unrelated-json", *REFINE, "--out", "{ws}/note.json"),
    C("refine-out-run-metrics", *REFINE, "--out", "{ws}/run/metrics.json"),
    C("refine-out-folder", *REFINE, "--out", "{ws}/sub"),
    C("refine-out-under-a-file", *REFINE, "--out", "{ws}/other.csv/r.json"),
    C("refine-out-read-only-place", *REFINE, "--out", READ_ONLY + "/r.json"),
    C("refine-out-read-only-folder", *REFINE, "--out", "{ws}/ro/r.json", needs_non_root=True),
    C("refine-compare-methods-duplicate", *REFINE_CMP[:-2], "scratch,scratch", "--no-progress", "--out", "{ws}/rc"),
    C("refine-compare-seeds-zero", *REFINE_CMP[:-4], "0", *REFINE_CMP[-3:], "--out", "{ws}/rc"),
    C("refine-compare-seeds-negative", *REFINE_CMP[:-4], "-2", *REFINE_CMP[-3:], "--out", "{ws}/rc"),
    C("refine-compare-seeds-huge", *REFINE_CMP[:-4], HUGE_SEED + "0", *REFINE_CMP[-3:], "--out", "{ws}/rc"),
    C("refine-compare-inner-mult-inf", *REFINE_CMP, "--inner-mult", "inf", "--out", "{ws}/rc"),
    C("refine-compare-rounds-zero", *REFINE_CMP[:9], "0", *REFINE_CMP[10:], "--out", "{ws}/rc"),
    C("refine-compare-out-a-file", *REFINE_CMP, "--out", "{ws}/other.csv"),
    C("refine-compare-out-read-only-place", *REFINE_CMP, "--out", READ_ONLY),
    C("refine-compare-out-a-run", *REFINE_CMP, "--out", RUN),
    # ----- lso milenas -------------------------------------------------------------------------------------------
    C("milenas-seed-negative", *MILENAS, "--seed", "-1", "--out", "{ws}/m.json", match="seed"),
    C("milenas-seed-huge", *MILENAS, "--seed", HUGE_SEED, "--out", "{ws}/m.json", match="seed"),
    C("milenas-epochs-zero", *MILENAS[:3], "--epochs", "0", *MILENAS[5:], "--out", "{ws}/m.json"),
    C("milenas-channels-zero", *MILENAS[:5], "--channels", "0", *MILENAS[7:], "--out", "{ws}/m.json"),
    C("milenas-cells-zero", *MILENAS[:7], "--cells", "0", *MILENAS[9:], "--out", "{ws}/m.json"),
    C("milenas-batch-zero", *MILENAS, "--batch-size", "0", "--out", "{ws}/m.json"),
    C("milenas-train-samples-zero", *MILENAS[:9], "--train-samples", "0", *MILENAS[11:], "--out", "{ws}/m.json"),
    C("milenas-method-unknown", *MILENAS, "--method", "nope", "--out", "{ws}/m.json"),
    C("milenas-dataset-unknown", "milenas", "--dataset", "nope", "--epochs", "1", "--out", "{ws}/m.json"),
    C("milenas-bench-and-protocol", *MILENAS, "--bench", T, "--out", "{ws}/m.json"),
    C("milenas-out-unrelated-csv", *MILENAS, "--out", "{ws}/other.csv"),
    C("milenas-out-unrelated-json", *MILENAS, "--out", "{ws}/note.json"),
    C("milenas-out-run-config", *MILENAS, "--out", "{ws}/run/config.json"),
    C("milenas-out-folder", *MILENAS, "--out", "{ws}/sub"),
    C("milenas-out-under-a-file", *MILENAS, "--out", "{ws}/other.csv/m.json"),
    C("milenas-out-read-only-place", *MILENAS, "--out", READ_ONLY + "/m.json"),
    C("milenas-out-read-only-folder", *MILENAS, "--out", "{ws}/ro/m.json", needs_non_root=True),
    # ----- lso search pool, lso bench build --space --------------------------------------------------------------
    C("pool-bench-nb201-table", *POOL, "--bench", T, "--out", "{ws}/pool", match="space table"),
    C("pool-bench-missing", *POOL, "--bench", "{ws}/nope.parquet", "--out", "{ws}/pool"),
    C("pool-bench-random-bytes", *POOL, "--bench", "{ws}/junk.parquet", "--out", "{ws}/pool",
      prepare=_raw("junk.parquet", RANDOM_BYTES)),
    C("pool-methods-unknown", *POOL[:2], "--methods", "nope", *POOL[4:], "--bench", T, "--out", "{ws}/pool"),
    C("pool-budgets-zero", *POOL[:6], "--budgets", "0", "--bench", T, "--out", "{ws}/pool"),
    C("pool-seeds-negative", *POOL[:4], "--seeds", "-3", *POOL[6:], "--bench", T, "--out", "{ws}/pool"),
    C("pool-out-a-file", *POOL, "--bench", T, "--out", "{ws}/other.csv"),
    C("pool-out-a-run", *POOL, "--bench", T, "--out", RUN),
    C("build-space-without-sample", *BUILD, "--space", "nb101", "--out", "{ws}/s.parquet", match="--sample"),
    C("build-space-unknown", *BUILD, "--space", "nb999", "--sample", "2", "--out", "{ws}/s.parquet",
      match="unknown search space"),
    C("build-sample-for-nb201", *BUILD, "--sample", "2", "--out", "{ws}/s.parquet", match="--sample"),
    C("build-sample-zero", *BUILD, "--space", "nb101", "--sample", "0", "--out", "{ws}/s.parquet", match="--sample"),
    C("build-space-out-an-nb201-table", *BUILD, "--space", "nb101", "--sample", "1", "--out", T),
    # ----- lso demo ----------------------------------------------------------------------------------------------
    C("demo-seed-negative", *DEMO, "--seed", "-1", "--out", "{ws}/demo", match="seed"),
    C("demo-seed-huge", *DEMO, "--seed", HUGE_SEED, "--out", "{ws}/demo", match="seed"),
    C("demo-budget-zero", *DEMO[:3], "--budget", "0", *DEMO[5:], "--out", "{ws}/demo"),
    C("demo-epochs-zero", *DEMO[:5], "--epochs", "0", "--out", "{ws}/demo"),
    C("demo-bench-missing", "demo", "--bench", "{ws}/nope.parquet", "--out", "{ws}/demo"),
    C("demo-bench-random-bytes", "demo", "--bench", "{ws}/junk.parquet", "--out", "{ws}/demo",
      prepare=_raw("junk.parquet", RANDOM_BYTES)),
    C("demo-device-bogus", *DEMO, "--device", "tpu", "--out", "{ws}/demo"),
    C("demo-out-a-file", *DEMO, "--out", "{ws}/other.csv"),
    C("demo-out-under-a-file", *DEMO, "--out", "{ws}/other.csv/demo"),
    C("demo-out-read-only-place", *DEMO, "--out", READ_ONLY),
    C("demo-out-read-only-folder", *DEMO, "--out", "{ws}/ro/demo", needs_non_root=True),
    C("demo-out-a-run", *DEMO, "--out", RUN),
    C("demo-out-damaged-run", *DEMO, "--out", "{ws}/demo",
      prepare=lambda ws: (shutil.copytree(ws / "run", ws / "demo" / "run_s0"),
                          (ws / "demo" / "run_s0" / "metrics.json").write_bytes(RANDOM_BYTES))),
]

# a handful through the real console script: import-time errors, and the error line of a fresh process
SUBPROCESS = ["search-seed-huge", "search-run-config-latent-mismatch", "compare-target-inf", "train-out-a-file",
              "build-cache-random-bytes", "refine-inner-mult-inf", "milenas-out-read-only-place",
              "demo-out-a-file", "info-random-bytes", "query-seed-negative"]


def _argv(case: Case, ws: Path) -> list[str]:
    return [a.replace("{ws}", str(ws)) for a in case.argv]


def _enospc(monkeypatch) -> None:
    """The disk is full: every write through lso.atomic (run artefacts, tables, results) and every line appended to
    a run cache fails with ENOSPC."""
    import lso.atomic
    from lso.nets.cache import RunCache

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(lso.atomic, "_flush_to_disk", full)
    monkeypatch.setattr(RunCache, "_append", full)


def _check(case: Case, ws: Path, before: dict, code: int, err: str) -> None:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, f"{case.id}: traceback\n{err}"
    assert code == 2, f"{case.id}: exit {code}, stderr:\n{err}"
    assert len(lines) == 1 and lines[0].startswith("error:"), f"{case.id}: stderr is not one error line:\n{err}"
    if case.match:
        assert case.match in lines[0].lower(), f"{case.id}: {lines[0]!r} does not mention {case.match!r}"
    after = snapshot(ws)
    changed = sorted(k for k in before if after.get(k) != before[k])
    assert not changed, f"{case.id}: changed or removed {changed}"
    assert not (ws / "PWNED").exists(), f"{case.id}: a pickle from the run folder was unpickled"


def _prepared(case: Case, ws: Path) -> dict:
    if case.needs_non_root and ROOT:
        pytest.skip("root ignores file permissions (the /sys cases cover read-only places)")
    if case.prepare is not None:
        case.prepare(ws)
    return snapshot(ws)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_error_line(case: Case, ws: Path, capsys, monkeypatch) -> None:
    before = _prepared(case, ws)
    if case.patch == "enospc":
        _enospc(monkeypatch)
    code = run_cli(_argv(case, ws))
    _check(case, ws, before, code, capsys.readouterr().err)


@pytest.mark.parametrize("name", SUBPROCESS)
def test_bad_input_in_a_real_process(name: str, ws: Path) -> None:
    case = next(c for c in CASES if c.id == name)
    before = _prepared(case, ws)
    env = {**os.environ, "COLUMNS": "80", "NO_COLOR": "1"}
    done = subprocess.run([str(LSO), *_argv(case, ws)], capture_output=True, text=True, timeout=120, env=env,
                          cwd=ws)
    _check(case, ws, before, done.returncode, done.stderr)


def test_case_ids_are_unique() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))


def test_every_option_of_these_commands_has_help() -> None:
    import typer

    from lso.cli.main import build_app

    mine = {"bench", "train", "search", "query", "refine", "milenas", "demo"}
    missing, seen = [], 0

    def walk(command, path: list[str]) -> None:
        nonlocal seen
        for name, sub in (getattr(command, "commands", None) or {}).items():
            walk(sub, path + [name])
        if path and path[0] in mine:
            for param in command.params:
                if getattr(param, "param_type_name", "") == "option":
                    seen += 1
                    if not (getattr(param, "help", None) or "").strip():
                        missing.append(f"lso {' '.join(path)} {param.opts[0]}")

    walk(typer.main.get_command(build_app()), [])
    assert seen > 80
    assert not missing, missing
