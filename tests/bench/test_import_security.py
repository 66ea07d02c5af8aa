"""Crafted official files must not make the importer run code or load other files (the hardening issue).

An official reader's ``ArchResults.create_from_state_dict`` takes either a state dict or a *file path*, and loads a
path without restriction (``nats_bench``: ``pickle.load``; ``nas_201_api``: ``torch.load``). A crafted file whose
per-architecture entry is the string path of a malicious pickle passes the restricted unpickler as plain data; the
importer must refuse it, with one clear error, before any official reader sees it.
"""

from __future__ import annotations

import bz2
import os
import pickle
import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from lso.bench import ImportOptions, import_table, import_to_file
from lso.bench.official import ALL_COLUMNS
from lso.errors import BenchmarkFileError
from official_files import expected, write_nats_tss, write_nb201_pth

REPO = Path(__file__).resolve().parents[2]
QUIET = ImportOptions()
INDEX = 1  # the one architecture the crafted files hold


class _WriteMarker:
    """Unpickling this writes ``marker`` (the classic pickle attack: ``__reduce__`` names any callable)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (self.marker, "pwned"))


@pytest.fixture(autouse=True)
def _torch_loads_like_before_2_6(monkeypatch) -> None:
    """``nas_201_api`` calls ``torch.load(path)`` without ``weights_only``: before torch 2.6, or with this variable
    (which users of old checkpoints set), that is plain unpickling. The importer must be safe either way."""
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")


@pytest.fixture(scope="module")
def legit_tss(tmp_path_factory) -> Path:
    return write_nats_tss(tmp_path_factory.mktemp("legit") / "NATS-tss-legit", (INDEX,), epochs_full=3)


def _evil_bz2_pickle(folder: Path, marker: Path) -> Path:
    """A NATS-Bench style ``*.pickle.pbz2`` whose unpickling writes ``marker``."""
    evil = folder / "payload.pickle.pbz2"
    with bz2.BZ2File(evil, "wb") as handle:
        pickle.dump(_WriteMarker(marker), handle)
    return evil


def _evil_torch_file(folder: Path, marker: Path) -> Path:
    """A ``torch.save`` file whose unpickling writes ``marker``."""
    evil = folder / "payload.pth"
    torch.save(_WriteMarker(marker), evil)
    return evil


def _crafted_tss(root: Path, legit_tss: Path, value) -> Path:
    """A tss folder: the real metadata, and ``000001.pickle.pbz2`` holding ``{'12': value, '200': value}``."""
    folder = root / "NATS-tss-crafted"
    folder.mkdir()
    (folder / "meta.pickle.pbz2").write_bytes((legit_tss / "meta.pickle.pbz2").read_bytes())
    with bz2.BZ2File(folder / f"{INDEX:06d}.pickle.pbz2", "wb") as handle:
        pickle.dump({"12": value, "200": value}, handle)  # a plain dict of strings: passes the restricted unpickler
    return folder


def _crafted_pth(path: Path, value) -> Path:
    """A NAS-Bench-201 .pth with the official top level, whose one entry is ``{'less': value, 'full': value}``."""
    from lso.space import all_cells

    data = {
        "meta_archs": [c.to_string() for c in all_cells()],
        "arch2infos": {INDEX: {"less": value, "full": value}},
        "evaluated_indexes": [INDEX],
    }
    torch.save(data, path)
    return path


def _one_line(err: str) -> str:
    """The CLI's error output must be one line, starting with 'error:', with no traceback."""
    assert "Traceback" not in err, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


def _cli(*argv: str) -> subprocess.CompletedProcess:
    """The ``lso`` command in a fresh process (as a user runs it), with the environment of the test."""
    return subprocess.run([sys.executable, "-m", "lso.cli.main", *argv], capture_output=True, text=True, cwd=REPO,
                          env={**os.environ, "COLUMNS": "400"}, timeout=300)


# ----- the payloads really run when unpickled (so the tests below test something) ---------------------------------
def test_payloads_are_live(tmp_path) -> None:
    import nas_201_api
    import nats_bench.api_utils as nats

    marker = tmp_path / "marker"
    with pytest.raises(Exception):
        nats.ArchResults.create_from_state_dict(str(_evil_bz2_pickle(tmp_path, marker)))
    assert marker.read_text() == "pwned"
    marker.unlink()
    with pytest.raises(Exception):
        nas_201_api.ArchResults.create_from_state_dict(str(_evil_torch_file(tmp_path, marker)))
    assert marker.read_text() == "pwned"


# ----- NATS-Bench tss ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("epochs", [200, 12])
def test_tss_entry_naming_a_pickle_is_refused(tmp_path, legit_tss, epochs) -> None:
    marker = tmp_path / "marker"
    folder = _crafted_tss(tmp_path, legit_tss, str(_evil_bz2_pickle(tmp_path, marker)))
    out = tmp_path / "out" / "table.parquet"
    out.parent.mkdir()
    with pytest.raises(BenchmarkFileError) as info:
        import_to_file("nats-tss", folder, out, ImportOptions(epochs=epochs))
    message = str(info.value)
    assert f"{INDEX:06d}.pickle.pbz2" in message and "str" in message and "\n" not in message
    assert not marker.exists()
    assert list(out.parent.iterdir()) == []


def test_tss_entry_naming_a_pickle_without_extension_is_refused(tmp_path, legit_tss) -> None:
    # nats_bench's pickle_load appends '.pbz2' to a path that is not a file: that spelling is refused too.
    marker = tmp_path / "marker"
    evil = _evil_bz2_pickle(tmp_path, marker)
    folder = _crafted_tss(tmp_path, legit_tss, str(evil)[: -len(".pbz2")])
    with pytest.raises(BenchmarkFileError, match="not an ArchResults state dict"):
        import_table("nats-tss", folder, QUIET)
    assert not marker.exists()


def test_tss_cli_refuses_with_one_line(tmp_path, legit_tss) -> None:
    marker = tmp_path / "marker"
    folder = _crafted_tss(tmp_path, legit_tss, str(_evil_bz2_pickle(tmp_path, marker)))
    out = tmp_path / "table.parquet"
    done = _cli("bench", "import", "nats-tss", str(folder), "--out", str(out), "--no-progress")
    assert done.returncode == 2, done.stderr
    line = _one_line(done.stderr)
    assert f"{INDEX:06d}.pickle.pbz2" in line and "ArchResults state dict" in line
    assert not marker.exists()
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["NATS-tss-crafted", "payload.pickle.pbz2"]


def test_tss_trust_pickle_still_never_loads_a_named_file(tmp_path, legit_tss) -> None:
    # --trust-pickle lifts the restriction on the file's own objects; it never makes lso load files the data names.
    marker = tmp_path / "marker"
    folder = _crafted_tss(tmp_path, legit_tss, str(_evil_bz2_pickle(tmp_path, marker)))
    with pytest.raises(BenchmarkFileError, match="not an ArchResults state dict"):
        import_table("nats-tss", folder, ImportOptions(trust_pickle=True))
    assert not marker.exists()


def test_tss_entry_naming_a_legit_file_is_refused(tmp_path, legit_tss) -> None:
    # Not even a harmless, well-formed file is loaded through a path in the data.
    folder = _crafted_tss(tmp_path, legit_tss, str(legit_tss / f"{INDEX:06d}.pickle.pbz2"))
    with pytest.raises(BenchmarkFileError, match="not an ArchResults state dict"):
        import_table("nats-tss", folder, QUIET)


def test_legit_tss_still_imports(tmp_path, legit_tss) -> None:
    out = tmp_path / "table.parquet"
    table = import_to_file("nats-tss", legit_tss, out, QUIET)
    assert out.exists() and table.metrics == ALL_COLUMNS
    assert table.query(INDEX, "cifar100_test") == pytest.approx(expected(INDEX, "cifar100", "x-test", 3))
    done = _cli("bench", "import", "nats-tss", str(legit_tss), "--out", str(tmp_path / "cli.parquet"), "--no-progress")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "cli.parquet").exists()
    trusted = import_table("nats-tss", legit_tss, ImportOptions(trust_pickle=True))
    assert trusted.query(INDEX, "cifar10_valid") == table.query(INDEX, "cifar10_valid")


# ----- NAS-Bench-201 .pth ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("epochs", [200, 12])
def test_pth_entry_naming_a_torch_file_is_refused(tmp_path, epochs) -> None:
    marker = tmp_path / "marker"
    path = _crafted_pth(tmp_path / "crafted.pth", str(_evil_torch_file(tmp_path, marker)))
    out = tmp_path / "out" / "table.parquet"
    out.parent.mkdir()
    with pytest.raises(BenchmarkFileError) as info:
        import_to_file("nb201-pth", path, out, ImportOptions(epochs=epochs))
    message = str(info.value)
    assert "crafted.pth" in message and f"arch2infos[{INDEX}]" in message and "\n" not in message
    assert not marker.exists()
    assert list(out.parent.iterdir()) == []


def test_pth_cli_refuses_with_one_line(tmp_path) -> None:
    marker = tmp_path / "marker"
    path = _crafted_pth(tmp_path / "crafted.pth", str(_evil_torch_file(tmp_path, marker)))
    out = tmp_path / "table.parquet"
    for extra in ([], ["--trust-pickle"]):
        done = _cli("bench", "import", "nb201-pth", str(path), "--out", str(out), "--no-progress", *extra)
        assert done.returncode == 2, done.stderr
        line = _one_line(done.stderr)
        assert "crafted.pth" in line and "ArchResults state dict" in line
        assert not marker.exists()
        assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crafted.pth", "payload.pth"]


def test_legit_pth_still_imports(tmp_path) -> None:
    path = write_nb201_pth(tmp_path / "legit.pth", (INDEX, 7), numpy_scalars=True, epochs_full=3)
    table = import_to_file("nb201-pth", path, tmp_path / "table.parquet", QUIET)
    assert table.metrics == ALL_COLUMNS and list(table.indices()) == [INDEX, 7]
    assert table.query(7, "cifar10_test") == pytest.approx(expected(7, "cifar10", "ori-test", 3))
    done = _cli("bench", "import", "nb201-pth", str(path), "--out", str(tmp_path / "cli.parquet"), "--no-progress")
    assert done.returncode == 0, done.stderr
    trusted = import_table("nb201-pth", path, ImportOptions(trust_pickle=True))
    assert trusted.query(7, "cifar10_test") == table.query(7, "cifar10_test")


# ----- other ways a state dict could steer the official classes --------------------------------------------------
@pytest.fixture()
def state(tmp_path) -> dict:
    """One architecture's official ArchResults state dict (nas_201_api's classes), as a .pth holds it."""
    path = write_nb201_pth(tmp_path / "one.pth", (INDEX,), epochs_full=3)
    return torch.load(path, weights_only=True)["arch2infos"][INDEX]["full"]


def _first_run(state: dict) -> dict:
    return next(iter(state["all_results"].values()))


@pytest.mark.parametrize(
    "tamper, needle",
    [
        (lambda s: s.update(get_metrics={}), "'get_metrics'"),  # would replace a method of ArchResults
        (lambda s: _first_run(s).update(get_eval=OrderedDict), "'get_eval'"),  # ... of ResultsCount, by a callable
        (lambda s: _first_run(s)["eval_acc1es"].update(x=OrderedDict), "collections.OrderedDict"),  # a class as data
        (lambda s: s["all_results"].update({("cifar10", 999): "/tmp/x.pth"}), "str"),  # a run given as a path
        (lambda s: s.pop("all_results"), "'all_results'"),
        (lambda s: s.update(dataset_seed="cifar10"), "'dataset_seed'"),
        (lambda s: s.update({7: 1}), "7"),
    ],
    ids=["arch-method", "run-method", "class-value", "run-path", "no-all_results", "seeds-str", "int-key"],
)
def test_pth_state_dicts_that_are_not_plain_official_data(tmp_path, state, tamper, needle) -> None:
    tamper(state)
    path = _crafted_pth(tmp_path / "tampered.pth", state)
    with pytest.raises(BenchmarkFileError) as info:
        import_table("nb201-pth", path, QUIET)
    message = str(info.value)
    assert "tampered.pth" in message and f"arch2infos[{INDEX}]" in message and needle in message, message


def test_numpy_arrays_of_objects_are_refused(tmp_path, state) -> None:
    import numpy as np

    _first_run(state)["latency"] = np.array([OrderedDict, 1], dtype=object)
    path = _crafted_pth(tmp_path / "objects.pth", state)
    with pytest.raises(BenchmarkFileError, match="array of Python objects"):
        import_table("nb201-pth", path, QUIET)


def test_self_referencing_data_does_not_hang(tmp_path, state) -> None:
    loop: list = []
    loop.append(loop)
    _first_run(state)["extra"] = loop  # an unknown but plain key is fine; the walk must terminate
    path = _crafted_pth(tmp_path / "loop.pth", state)
    table = import_table("nb201-pth", path, QUIET)
    assert table.query(INDEX, "cifar10_valid") == pytest.approx(expected(INDEX, "cifar10-valid", "x-valid", 3))
