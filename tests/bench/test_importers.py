"""Importers of the official files, on small files in the official formats built with the packages' own classes."""

from __future__ import annotations

import bz2
import pickle
from collections import OrderedDict
from pathlib import Path

import pytest
import torch

from lso.bench import BenchmarkTable, ImportOptions, import_table, import_to_file
from lso.bench.official import ALL_COLUMNS
from lso.errors import BenchmarkFileError
from lso.space import MacroConfig, all_cells, flops, num_params
from official_files import expected, latency_s, write_nats_tss, write_nb201_pth

QUIET = ImportOptions()
PTH_INDICES = (0, 6111, 9930, 15_624)
TSS_INDICES = (1, 857, 4000)


@pytest.fixture(scope="module")
def small_pth(tmp_path_factory) -> Path:
    """A NAS-Bench-201 .pth with 200-epoch runs of 4 archs and numpy scalars (as recent torch refuses by default)."""
    return write_nb201_pth(tmp_path_factory.mktemp("pth") / "NAS-Bench-201-small.pth", PTH_INDICES, numpy_scalars=True)


@pytest.fixture(scope="module")
def small_tss(tmp_path_factory) -> Path:
    return write_nats_tss(tmp_path_factory.mktemp("tss") / "NATS-tss-small-simple", TSS_INDICES, epochs_full=20)


def _check_official_semantics(table: BenchmarkTable, indices, epochs: int) -> None:
    assert list(table.indices()) == sorted(indices)
    for i in indices:
        row = table.row(i)
        assert row["cifar10_valid"] == pytest.approx(expected(i, "cifar10-valid", "x-valid", epochs))
        assert row["cifar10_test"] == pytest.approx(expected(i, "cifar10", "ori-test", epochs))
        assert row["cifar10valid_test"] == pytest.approx(expected(i, "cifar10-valid", "ori-test", epochs))
        assert row["cifar100_valid"] == pytest.approx(expected(i, "cifar100", "x-valid", epochs))
        assert row["cifar100_test"] == pytest.approx(expected(i, "cifar100", "x-test", epochs))
        assert row["imagenet16_valid"] == pytest.approx(expected(i, "ImageNet16-120", "x-valid", epochs))
        assert row["imagenet16_test"] == pytest.approx(expected(i, "ImageNet16-120", "x-test", epochs))
        assert row["cifar10_train"] == pytest.approx(expected(i, "cifar10", "train", epochs))
        cell = all_cells()[i]
        assert row["cifar10_params_mb"] == pytest.approx(num_params(cell) / 1e6)
        assert row["cifar100_params_mb"] == pytest.approx(num_params(cell, MacroConfig(num_classes=100)) / 1e6)
        assert row["cifar10_flops_m"] == pytest.approx(flops(cell) / 1e6)
        assert row["imagenet16_latency_ms"] == pytest.approx(1000 * latency_s(i, "ImageNet16-120"))


def test_nb201_pth_200_epochs(small_pth) -> None:
    table = import_table("nb201-pth", small_pth, QUIET)
    assert table.metrics == ALL_COLUMNS
    _check_official_semantics(table, PTH_INDICES, 200)
    assert table.meta.source == "nas-bench-201:NAS-Bench-201-small.pth"
    assert table.meta.fidelity == "200 epochs"
    assert table.meta.dataset == "cifar10,cifar100,imagenet16"
    assert table.best("cifar10_test")[0] == all_cells()[max(PTH_INDICES, key=lambda i: i % 37)]


def test_nb201_pth_12_epochs_drops_what_the_source_lacks(small_pth) -> None:
    # Like NAS-Bench-201 v1.0, the 12-epoch ('less') runs here exist for cifar10-valid only.
    table = import_table("nb201-pth", small_pth, ImportOptions(epochs=12))
    assert table.meta.fidelity == "12 epochs"
    assert table.metrics == ("cifar10_valid", "cifar10valid_test", "cifar10valid_train")
    assert table.query(6111, "cifar10_valid") == pytest.approx(expected(6111, "cifar10-valid", "x-valid", 12))


def test_nb201_pth_with_a_gap_drops_the_column(tmp_path) -> None:
    import nas_201_api  # noqa: F401  (the file below is built with its classes)

    path = write_nb201_pth(tmp_path / "gap.pth", (3, 4), epochs_full=5)
    data = torch.load(path, weights_only=True)
    runs = data["arch2infos"][4]["full"]["all_results"]
    for key in [k for k in runs if k[0] == "cifar100"]:
        runs[key]["latency"] = None  # latency not measured for one arch
    torch.save(data, path, _use_new_zipfile_serialization=False)  # and the pre-1.6 torch format of old files
    table = import_table("nb201-pth", path, QUIET)
    assert "cifar100_latency_ms" not in table.metrics and "cifar10_latency_ms" in table.metrics
    assert table.meta.extra["dropped"] == "cifar100_latency_ms (1 of 2 missing)"


def test_nats_tss_folder(small_tss) -> None:
    table = import_table("nats-tss", small_tss, QUIET)
    assert table.metrics == ALL_COLUMNS
    _check_official_semantics(table, TSS_INDICES, 20)
    assert table.meta.source == "nats-bench-tss:NATS-tss-small-simple"
    low = import_table("nats-tss", small_tss, ImportOptions(epochs=12))
    _check_official_semantics(low, TSS_INDICES, 12)


def test_nats_tss_through_the_official_api_agrees(small_tss) -> None:
    """The folder is a real tss folder: nats_bench itself reads it, and gives the numbers we import."""
    import nats_bench

    api = nats_bench.create(str(small_tss), "tss", fast_mode=True, verbose=False)
    table = import_table("nats-tss", small_tss, QUIET)
    for i in TSS_INDICES:
        info = api.get_more_info(i, "cifar100", hp="200", is_random=False)
        assert table.query(i, "cifar100_test") == pytest.approx(info["test-accuracy"])
        assert table.query(i, "cifar100_valid") == pytest.approx(info["valid-accuracy"])
        assert table.query(i, "cifar10_valid") == pytest.approx(api.get_more_info(i, "cifar10-valid", hp="200", is_random=False)["valid-accuracy"])


def test_csv_import_writes_parquet(nb201_dir, tmp_path) -> None:
    out = import_to_file("csv", nb201_dir / "nb201_epoch12.csv", tmp_path / "e12.parquet", ImportOptions(fidelity="12 epochs"))
    back = BenchmarkTable.load(tmp_path / "e12.parquet")
    assert len(back) == 15_625 and back.num_unique == 6_466
    assert back.meta.fidelity == "12 epochs" and back.meta.checksum == out.meta.checksum


def test_import_to_file_is_atomic(small_pth, tmp_path) -> None:
    out = tmp_path / "table.parquet"
    import_to_file("nb201-pth", small_pth, out, QUIET)
    before = out.read_bytes()
    bad = tmp_path / "bad.pth"
    torch.save({"state_dict": OrderedDict(w=torch.zeros(2))}, bad)
    with pytest.raises(BenchmarkFileError):
        import_to_file("nb201-pth", bad, out, QUIET)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.pth", "table.parquet"]  # no temp file left


# ----- bad input -------------------------------------------------------------------------------------------------
def test_pth_of_the_wrong_kind(tmp_path) -> None:
    model = tmp_path / "resnet.pth"
    torch.save(OrderedDict(weight=torch.zeros(3), bias=torch.ones(3)), model)
    with pytest.raises(BenchmarkFileError, match="not a NAS-Bench-201 benchmark file: missing key"):
        import_table("nb201-pth", model, QUIET)
    tensor = tmp_path / "tensor.pth"
    torch.save(torch.zeros(3), tensor)
    with pytest.raises(BenchmarkFileError, match="holds a Tensor, not a dict"):
        import_table("nb201-pth", tensor, QUIET)


class _Payload:
    """A pickle that would create a file when loaded (the classic pickle attack)."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (self.target,))


def test_pth_with_code_is_refused_without_running_it(tmp_path) -> None:
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"meta_archs": [], "arch2infos": {0: _Payload(target)}, "evaluated_indexes": []}, path)
    with pytest.raises(BenchmarkFileError, match="--trust-pickle"):
        import_table("nb201-pth", path, QUIET)
    assert not target.exists()


def test_tss_with_code_is_refused_without_running_it(tmp_path, small_tss) -> None:
    folder = tmp_path / "tss"
    folder.mkdir()
    (folder / "meta.pickle.pbz2").write_bytes((small_tss / "meta.pickle.pbz2").read_bytes())
    target = tmp_path / "pwned"
    with bz2.BZ2File(folder / "000001.pickle.pbz2", "wb") as handle:
        pickle.dump({"200": _Payload(target)}, handle)
    with pytest.raises(BenchmarkFileError, match="--trust-pickle"):
        import_table("nats-tss", folder, QUIET)
    assert not target.exists()


def test_truncated_pth(small_pth, tmp_path) -> None:
    cut = tmp_path / "cut.pth"
    data = small_pth.read_bytes()
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(BenchmarkFileError, match="truncated or corrupt"):
        import_table("nb201-pth", cut, QUIET)
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"this is not a torch file\n" * 10)
    with pytest.raises(BenchmarkFileError, match="cannot read"):
        import_table("nb201-pth", junk, QUIET)


def test_not_a_tss_folder(tmp_path, small_tss, small_pth) -> None:
    with pytest.raises(BenchmarkFileError, match="not a NATS-Bench tss folder: expected a directory"):
        import_table("nats-tss", small_pth, QUIET)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BenchmarkFileError, match="has no meta.pickle.pbz2"):
        import_table("nats-tss", empty, QUIET)
    only_meta = tmp_path / "only_meta"
    only_meta.mkdir()
    (only_meta / "meta.pickle.pbz2").write_bytes((small_tss / "meta.pickle.pbz2").read_bytes())
    with pytest.raises(BenchmarkFileError, match="no per-architecture files"):
        import_table("nats-tss", only_meta, QUIET)
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "meta.pickle.pbz2").write_bytes((small_tss / "meta.pickle.pbz2").read_bytes())
    data = (small_tss / "000857.pickle.pbz2").read_bytes()
    (cut / "000857.pickle.pbz2").write_bytes(data[: len(data) // 2])
    with pytest.raises(BenchmarkFileError, match="000857.pickle.pbz2.*truncated or corrupt"):
        import_table("nats-tss", cut, QUIET)


def test_meta_archs_out_of_official_order(tmp_path) -> None:
    path = write_nb201_pth(tmp_path / "shuffled.pth", (2,), epochs_full=3)
    data = torch.load(path, weights_only=True)
    data["meta_archs"][2], data["meta_archs"][3] = data["meta_archs"][3], data["meta_archs"][2]
    torch.save(data, path)
    with pytest.raises(BenchmarkFileError, match=r"arch2infos\[2\] is for .* but meta_archs\[2\] is"):
        import_table("nb201-pth", path, QUIET)


def test_unknown_kind_and_output(tmp_path, small_pth) -> None:
    with pytest.raises(BenchmarkFileError, match="unknown import kind 'nb101'"):
        import_table("nb101", small_pth, QUIET)
    with pytest.raises(BenchmarkFileError, match=r"must end in \.parquet"):
        import_to_file("nb201-pth", small_pth, tmp_path / "out.csv", QUIET)
    with pytest.raises(BenchmarkFileError, match="200 or 12 epochs"):
        import_table("nb201-pth", small_pth, ImportOptions(epochs=90))


def test_imports_store_every_metrics_direction(small_pth, nb201_dir, tmp_path) -> None:
    """Official costs are minimised, accuracies maximised, and the file says so; overrides are stored too."""
    table = import_table("nb201-pth", small_pth, QUIET)
    assert set(table.meta.metric_info) == set(ALL_COLUMNS)
    for column in ALL_COLUMNS:
        want = "min" if any(k in column for k in ("params", "flops", "latency")) else "max"
        assert table.meta.metric_info[column]["direction"] == want, column
    assert table.meta.metric_info["imagenet16_latency_ms"]["scale"] == "raw"
    assert table.best("cifar10_params_mb")[1] == min(table.values("cifar10_params_mb"))
    options = ImportOptions(directions={"cifar10_flops_m": "max"}, scales={"cifar10_valid": "fraction"})
    out = import_to_file("nb201-pth", small_pth, tmp_path / "t.parquet", options)
    back = BenchmarkTable.load(tmp_path / "t.parquet")
    assert back.meta == out.meta and back.meta.checksum == table.meta.checksum
    assert back.meta.metric_info["cifar10_flops_m"] == {"direction": "max", "scale": "raw"}
    assert back.meta.metric_info["cifar10_valid"] == {"direction": "max", "scale": "fraction"}
    csv = import_table("csv", nb201_dir / "nb201_cifar10.csv", ImportOptions(directions={"cifar10_test": "min"}))
    assert csv.meta.metric_info["cifar10_test"]["direction"] == "min"
    assert csv.meta.metric_info["params_mb"] == {"direction": "min", "scale": "raw"}


def test_override_of_a_missing_metric_writes_nothing(small_pth, tmp_path) -> None:
    from lso.errors import MetricError

    with pytest.raises(MetricError, match="'latency' is not in this table; it has: cifar10_valid"):
        import_to_file("nb201-pth", small_pth, tmp_path / "t.parquet", ImportOptions(directions={"latency": "min"}))
    assert not (tmp_path / "t.parquet").exists()
