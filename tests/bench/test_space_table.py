"""``SpaceTable``: tables of NAS-Bench-101 / DARTS cells keyed by canonical form, their file, and their bad inputs."""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lso.bench import BenchmarkTable, CellNotFoundError, MetricInfo, SpaceTable, SpaceTableMeta, is_space_table_file
from lso.errors import ArchStringError, BenchmarkFileError, LsoError, MetricError
from lso.spaces import DartsGenotype, Nb101Cell, get_space

NB101 = get_space("nb101")
DARTS = get_space("darts")


def sample_rows(space, n: int, seed: int) -> list[tuple[object, dict[str, float]]]:
    """``n`` distinct cells of ``space`` with seeded metrics (one cell per canonical form)."""
    rng = np.random.default_rng(seed)
    seen, rows = set(), []
    while len(rows) < n:
        for cell in space.sample(n, rng):
            key = space.canonical(cell)
            if key not in seen and len(rows) < n:
                seen.add(key)
                rows.append((cell, {"cifar10_valid": float(rng.uniform(80, 95)), "train_time": float(rng.uniform(1, 9))}))
    return rows


def isomorphic_nb101(cell: Nb101Cell, rng: random.Random) -> Nb101Cell:
    """The same graph with its vertices renumbered by a random topological order (input first, output last)."""
    v = cell.num_vertices
    indegree = [sum(cell.matrix[s][t] for s in range(v)) for t in range(v)]
    order, ready = [0], [t for t in range(1, v - 1) if indegree[t] == 0]
    for t in range(v):
        if cell.matrix[0][t]:
            indegree[t] -= 1
            if indegree[t] == 0 and t != v - 1:
                ready.append(t)
    while ready:
        s = ready.pop(rng.randrange(len(ready)))
        order.append(s)
        for t in range(v):
            if cell.matrix[s][t]:
                indegree[t] -= 1
                if indegree[t] == 0 and t != v - 1:
                    ready.append(t)
    order.append(v - 1)
    matrix = tuple(tuple(cell.matrix[a][b] for b in order) for a in order)
    return Nb101Cell(matrix, tuple(cell.ops[a] for a in order))


@pytest.mark.parametrize("space_name,seed", [("nb101", 0), ("nb101", 1), ("darts", 2), ("darts", 3)])
def test_save_load_round_trip_keeps_data_and_meta(tmp_path, space_name, seed) -> None:
    space = get_space(space_name)
    meta = SpaceTableMeta(space=space_name, source="test", dataset="cifar10", fidelity="1 epoch", protocol="toy",
                          metric_info={"train_time": {"direction": "min", "scale": "raw"}}, extra={"seed": str(seed)})
    table = SpaceTable.from_rows(space_name, sample_rows(space, 40, seed), meta)
    path = table.save(tmp_path / "t.parquet")
    back = SpaceTable.load(path)
    assert back.frame.equals(table.frame) and back.meta == table.meta
    assert back.meta.metric_info["cifar10_valid"] == MetricInfo("cifar10_valid", "max", "percent")  # inferred
    assert back.meta.extra == {"seed": str(seed)} and back.meta.checksum == table.meta.checksum
    assert [space.to_string(c) for c in back.cells()] == back.archs() == table.archs()
    assert is_space_table_file(path) and not is_space_table_file(tmp_path / "none.parquet")
    for cell, values in sample_rows(space, 40, seed):
        assert back.value(cell, "cifar10_valid") == values["cifar10_valid"]
    assert back.values("train_time").shape == (40,)


def test_isomorphic_nb101_cells_find_one_row(tmp_path) -> None:
    rows = sample_rows(NB101, 30, 5)
    table = SpaceTable.from_rows(NB101, rows)
    rng, renamed = random.Random(0), 0
    for cell, values in rows:
        for _ in range(4):
            twin = isomorphic_nb101(cell, rng)
            renamed += twin != cell
            assert table.value(twin, "cifar10_valid") == values["cifar10_valid"]
            assert table.value(NB101.to_string(twin), "train_time") == values["train_time"]
    assert renamed > 20  # the renumbering did produce other spec strings
    dead = Nb101Cell(((0, 1, 1), (0, 0, 1), (0, 0, 0)), ("input", "maxpool3x3", "output"))
    assert table.contains(dead) == table.contains(dead.pruned())  # a dead-free twin: same answer
    twin = isomorphic_nb101(rows[0][0], random.Random(3))
    with pytest.raises(BenchmarkFileError, match=r"rows 1 and 31 are the same cell .*duplicates='mean'"):
        SpaceTable.from_rows(NB101, [*rows, (twin, {"cifar10_valid": 1.0, "train_time": 1.0})])
    merged = SpaceTable.from_rows(NB101, [*rows, (twin, {"cifar10_valid": 1.0, "train_time": 1.0})], duplicates="mean")
    assert len(merged) == 30 and "31 rows averaged into 30 cells" in merged.meta.extra["duplicates"]
    assert merged.value(twin, "cifar10_valid") == pytest.approx((rows[0][1]["cifar10_valid"] + 1.0) / 2)
    assert merged.archs()[0] == NB101.to_string(rows[0][0])
    back = SpaceTable.load(merged.save(tmp_path / "merged.parquet"), space="nb101")
    assert back.frame.equals(merged.frame) and back.meta == merged.meta


def test_darts_genotypes_with_swapped_inputs_find_one_row() -> None:
    rows = sample_rows(DARTS, 10, 9)
    table = SpaceTable.from_rows(DARTS, rows)
    g = rows[0][0]
    swapped = DartsGenotype(tuple(g.normal[1::-1]) + g.normal[2:], g.reduce)
    assert swapped != g and table.value(swapped, "cifar10_valid") == rows[0][1]["cifar10_valid"]
    other = DARTS.sample(1, np.random.default_rng(123))[0]
    assert not table.contains(other)
    with pytest.raises(CellNotFoundError, match="Genotype") as info:
        table.value(other, "cifar10_valid")
    assert isinstance(info.value, KeyError) and isinstance(info.value, LsoError)
    with pytest.raises(MetricError, match="cifar100"):
        table.value(g, "cifar100_valid")
    with pytest.raises(ArchStringError):
        table.contains("Genotype(normal=[")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_metrics_are_rejected(bad) -> None:
    rows = sample_rows(NB101, 3, 1)
    rows[1] = (rows[1][0], {**rows[1][1], "cifar10_valid": bad})
    with pytest.raises(BenchmarkFileError, match=r"^row 2 \(.*\): metric 'cifar10_valid' is .*finite"):
        SpaceTable.from_rows("nb101", rows)
    frame = pd.DataFrame({"arch": [NB101.to_string(c) for c, _ in rows],
                          "cifar10_valid": [v["cifar10_valid"] for _, v in rows]})
    with pytest.raises(BenchmarkFileError, match=r"^row 2 .*'cifar10_valid' is .*finite"):
        SpaceTable.from_frame(frame, SpaceTableMeta(space="nb101"))


def test_checksum_tamper_detected(tmp_path) -> None:
    table = SpaceTable.from_rows("darts", sample_rows(DARTS, 5, 4))
    path = table.save(tmp_path / "t.parquet")
    arrow = pq.read_table(path)
    values = arrow.column("cifar10_valid").to_pylist()
    values[2] += 0.5
    tampered = arrow.set_column(arrow.schema.get_field_index("cifar10_valid"), "cifar10_valid", pa.array(values))
    pq.write_table(tampered.replace_schema_metadata(arrow.schema.metadata), path)
    with pytest.raises(BenchmarkFileError, match="fails its checksum"):
        SpaceTable.load(path)


def _one_line(exc_type, call) -> str:
    with pytest.raises(exc_type) as info:
        call()
    text = str(info.value)
    assert "\n" not in text and text
    return text


def test_each_bad_input_gets_one_clear_line(tmp_path) -> None:
    good = NB101.to_string(sample_rows(NB101, 1, 0)[0][0])
    meta = SpaceTableMeta(space="nb101")
    text = _one_line(BenchmarkFileError, lambda: SpaceTable.from_rows("nb101", [(good, {"a": 1.0}), ("01x|input/output", {"a": 2.0})]))
    assert text.startswith("row 2: malformed NB101 spec")
    ten_edges = "0111110/0000001/0000001/0000001/0000001/0000001/0000000|input/" + "conv3x3-bn-relu/" * 5 + "output"
    text = _one_line(BenchmarkFileError, lambda: SpaceTable.from_rows("nb101", [(ten_edges, {"a": 1.0})]))
    assert text.startswith("row 1: ") and "not a valid cell of the nb101 space" in text
    text = _one_line(BenchmarkFileError, lambda: SpaceTable.from_frame(pd.DataFrame({"spec": [good]}), meta))
    assert "missing column 'arch'" in text and "spec" in text
    frame = pd.DataFrame({"arch": [good, good], "acc": ["91.0", "high"]})
    text = _one_line(BenchmarkFileError, lambda: SpaceTable.from_frame(frame, meta))
    assert "metric column 'acc' is not numeric: row 2" in text and "'high'" in text
    text = _one_line(LsoError, lambda: SpaceTable.from_frame(pd.DataFrame({"arch": [good]}), SpaceTableMeta(space="nb999")))
    assert "unknown search space 'nb999'" in text and "nb101" in text
    text = _one_line(BenchmarkFileError, lambda: SpaceTable.from_rows("nb101", [(good, {"a": 1.0}), (good, {"b": 1.0})]))
    assert text.startswith("row 2: has metrics ['b']")
    text = _one_line(BenchmarkFileError, lambda: SpaceTable.from_rows("nb101", [(DARTS.sample(1, np.random.default_rng(0))[0], {"a": 1.0})]))
    assert text.startswith("row 1: the architecture must be a nb101 string or Nb101Cell")
    text = _one_line(LsoError, lambda: SpaceTable.from_rows("darts", [(good, {"a": 1.0})], meta))
    assert "names space 'nb101'" in text
    table = SpaceTable.from_rows("nb101", [(good, {"a": 1.0})])
    path = table.save(tmp_path / "nb101.parquet")
    text = _one_line(BenchmarkFileError, lambda: SpaceTable.load(path, space="darts"))
    assert "is of space 'nb101', not 'darts'" in text
    assert len(SpaceTable.load(path, space=NB101)) == 1
    pd.DataFrame({"arch": [good]}).to_parquet(tmp_path / "plain.parquet")
    assert "not an lso space table" in _one_line(BenchmarkFileError, lambda: SpaceTable.load(tmp_path / "plain.parquet"))
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    assert "cannot read Parquet" in _one_line(BenchmarkFileError, lambda: SpaceTable.load(tmp_path / "junk.parquet"))
    assert "not found" in _one_line(BenchmarkFileError, lambda: SpaceTable.load(tmp_path / "missing.parquet"))
    assert "at least one row" in _one_line(BenchmarkFileError, lambda: SpaceTable.from_rows("nb101", []))
    assert "duplicates must be" in _one_line(LsoError, lambda: SpaceTable.from_rows("nb101", [(good, {"a": 1.0})], duplicates="max"))
    with pytest.raises(BenchmarkFileError):  # a space table is not a NAS-Bench-201 table
        BenchmarkTable.load(path)


def test_queries_follow_metric_directions() -> None:
    rows = sample_rows(NB101, 20, 11)
    table = SpaceTable.from_rows("nb101", rows).with_metric_info(directions={"cifar10_valid": "min"})
    valid = np.array([v["cifar10_valid"] for _, v in rows])
    assert table.best("cifar10_valid")[1] == valid.min()
    assert list(table.top("cifar10_valid", 3)["cifar10_valid"]) == sorted(valid)[:3]
    assert table.best("train_time")[1] == min(v["train_time"] for _, v in rows)  # "time": min, inferred
    summary = table.summary()
    assert summary["space"] == "nb101" and summary["cells"] == 20
    assert summary["metrics"]["cifar10_valid"]["median"] == pytest.approx(float(np.median(valid)))
    frame = table.frame
    frame.loc[0, "cifar10_valid"] = -1.0  # a copy: the table is unchanged
    assert table.values("cifar10_valid")[0] == valid[0]
    assert list(table.frame.columns) == ["arch", "canonical", "cifar10_valid", "train_time"]


def test_is_space_table_file_reads_the_schema_only(tmp_path) -> None:
    from lso.space import cell_from_index

    space_path = SpaceTable.from_rows("nb101", sample_rows(NB101, 30, 4)).save(tmp_path / "space.parquet")
    BenchmarkTable.from_metrics({cell_from_index(i): {"acc": float(i)} for i in range(20)}).save(
        tmp_path / "nb201.parquet")
    pd.DataFrame({"arch": ["x"], "acc": [1.0]}).to_parquet(tmp_path / "plain.parquet")
    (tmp_path / "junk.parquet").write_bytes(b"PAR1 not really")
    (tmp_path / "folder.parquet").mkdir()
    pd.DataFrame({"arch": ["x"]}).to_csv(tmp_path / "table.csv")
    assert is_space_table_file(space_path) and is_space_table_file(str(space_path))
    for other in ("nb201.parquet", "plain.parquet", "junk.parquet", "folder.parquet", "table.csv", "none.parquet"):
        assert not is_space_table_file(tmp_path / other), other
    # the data pages are not read: with them zeroed (the footer intact: its length is the 4 bytes before the
    # closing "PAR1") the schema still says "space table", while loading the table fails
    data = bytearray(space_path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    assert len(data) - 12 - footer > 1000  # there are data pages to zero
    data[4:len(data) - 8 - footer] = bytes(len(data) - 12 - footer)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(bytes(data))
    assert is_space_table_file(broken)
    with pytest.raises(BenchmarkFileError):
        SpaceTable.load(broken)
