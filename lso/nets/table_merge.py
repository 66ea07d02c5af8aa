"""Merge built benchmark tables: the tables of protocols whose seed groups another protocol contains become that
protocol's table.

The run caches of a build are working files (``lso.nets.cache_merge`` joins those); a built table is what lasts. A
protocol with more seeds per cell (``mnist1d-v3``: 16 + 16) is the union of a shipped table (``mnist1d-v2``:
seeds 0-7 valid, 8-15 test) and tables of the missing seeds (``mnist1d-v3-extra``: 16-23, 24-31), which may be
built in shards (``lso bench build --shard K/N``), each a table of part of the cells.

A table is taken only if its protocol has the target's recipe (every field but ``name``, ``seeds``, ``test_seeds``
and ``replica_group``) and trains only seed groups the target trains (with replicas a copy's figure depends on its
whole group, ``lso.nets.replicas``). For every row the merged figures equal those a build of the target protocol
gives from the same runs: ``<ds>_valid`` / ``<ds>_test`` are means of the per-seed columns, ``<ds>_train`` the
mean of the sources' train means weighted by their number of valid seeds (per-run train figures are not stored;
equal up to rounding), ``train_seconds`` the sum.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from statistics import fmean
from typing import Sequence

import numpy as np
import pandas as pd

from lso.bench.table import BenchmarkTable, TableMeta
from lso.errors import LsoError
from lso.nets.cache_merge import reuse_problem
from lso.nets.protocol import TrainProtocol


class TableMergeError(LsoError):
    """Tables that cannot be merged into the asked protocol's table."""


@dataclass(frozen=True)
class MergedTable:
    """The merged ``table`` (rows whose cells have every seed in some source), and ``dropped``: rows of the
    sources left out because some seed of the target has no figure for them."""

    table: BenchmarkTable
    dropped: int


def table_protocol(table: BenchmarkTable, name: str = "table") -> TrainProtocol:
    """The training protocol a built table records in its metadata.

    Raises:
        TableMergeError: the table was not built by ``lso bench build`` (an import has no protocol).
    """
    text = table.meta.extra.get("protocol")
    if not text:
        raise TableMergeError(f"{name} records no training protocol ({table.meta.source or 'unknown source'}): only "
                              "tables built by lso bench build can be merged")
    return TrainProtocol.from_dict(json.loads(text))


def merge_tables(protocol: TrainProtocol, tables: Sequence[BenchmarkTable],
                 names: Sequence[str] | None = None) -> MergedTable:
    """The table of ``protocol`` from built tables whose runs are runs ``protocol`` trains.

    Every official index whose class has a figure for each of ``protocol``'s seeds (valid) and test seeds (test)
    in some table gets a row; columns as ``lso.nets.builder.table_from_cache`` writes them.

    Raises:
        TableMergeError: a table without a protocol, of another dataset or recipe, or with a seed group the target
            does not train; two tables with different figures for one (cell, seed) or different networks (params,
            flops) for one cell; no row with every seed.
    """
    names = list(names) if names is not None else [f"table {i + 1}" for i in range(len(tables))]
    if not tables:
        raise TableMergeError("no tables to merge")
    ds = protocol.dataset
    sources = []
    for table, name in zip(tables, names):
        stored = table_protocol(table, name)
        problem = reuse_problem(protocol, stored)
        if problem:
            raise TableMergeError(f"{name} {problem}")
        sources.append((name, stored, table.frame.set_index("index")))

    needed = [("valid", s) for s in protocol.seeds] + [("test", s) for s in (protocol.test_seeds or protocol.seeds)]
    index = pd.Index(sorted(set().union(*(frame.index for _, _, frame in sources))), name="index")
    frames = [frame.reindex(index) for _, _, frame in sources]
    _check_agree(index, [name for name, _, _ in sources], frames)
    values: dict[str, np.ndarray] = {}
    user = np.zeros((len(sources), len(index)), dtype=bool)  # which source's runs each row uses
    valid_user = np.zeros_like(user)  # ... for its valid figures (whose train means the row's train figure takes)
    for split, seed in needed:
        merged = np.full(len(index), np.nan)
        taken = np.full(len(index), -1)
        for i, ((name, stored, _), frame) in enumerate(zip(sources, frames)):
            column = _seed_column(stored, frame, split, seed)
            if column is None:
                continue
            figures = frame[column].to_numpy(dtype=float)
            clash = ~np.isnan(merged) & ~np.isnan(figures) & (merged != figures)
            if clash.any():
                raise TableMergeError(f"{name} and {sources[int(taken[clash][0])][0]} hold different {split} figures "
                                      f"of seed {seed} for index {int(index[clash][0])}")
            new = np.isnan(merged) & ~np.isnan(figures)
            merged[new], taken[new] = figures[new], i
        values[f"{ds}_{split}_seed{seed}"] = merged
        for i in range(len(sources)):
            user[i] |= taken == i
            if split == "valid":
                valid_user[i] |= taken == i
    complete = ~np.isnan(np.stack(list(values.values()))).any(axis=0)
    if not complete.any():
        raise TableMergeError(f"no cell has a figure for every seed of protocol {protocol.name!r} in these tables "
                              f"(seeds {list(protocol.seeds)}, test seeds {list(protocol.test_seeds)})")
    summary = _summary_columns(protocol, sources, frames, user, valid_user, values)
    out = pd.DataFrame({"index": index, "arch": _first(frames, "arch")})
    for column in (f"{ds}_train", f"{ds}_valid", f"{ds}_test"):
        out[column] = summary[column]
    for column, figures in values.items():
        out[column] = figures
    out["params"], out["flops"] = _first(frames, "params"), _first(frames, "flops")
    out["train_seconds"] = summary["train_seconds"]  # last, as a build writes its columns
    meta = TableMeta(
        source=f"lso training oracle, protocol {protocol.name}", dataset=ds, fidelity=f"{protocol.epochs} epochs",
        extra={"protocol": protocol.to_json(), "protocol_summary": protocol.describe(),
               "merged_from": ", ".join(f"{name} ({stored.name})" for name, stored, _ in sources)},
    )
    table = BenchmarkTable.from_frame(out[complete].reset_index(drop=True), meta)
    return MergedTable(table, int((~complete).sum()))


def _seed_column(stored: TrainProtocol, frame: pd.DataFrame, split: str, seed: int) -> str | None:
    """The column of a source (built with ``stored``) holding ``split``'s figure of ``seed``; None when it has no
    such run (valid figures come from ``seeds``, test figures from ``test_seeds``, or the same runs without)."""
    if seed not in (stored.seeds if split == "valid" else stored.test_seeds or stored.seeds):
        return None
    column = f"{stored.dataset}_{split}_seed{seed}"
    if column in frame.columns:
        return column
    if len(stored.seeds) == 1 and not stored.test_seeds:
        return f"{stored.dataset}_{split}"  # one seed: the table stores only the mean, which is that seed's figure
    raise TableMergeError(f"a table of protocol {stored.name!r} lacks its column {column!r}")


def _check_agree(index: pd.Index, names: list[str], frames: list[pd.DataFrame]) -> None:
    """Tables that hold one index must hold the same cell and network there."""
    for column in ("arch", "params", "flops"):
        first = _first(frames, column)
        for name, frame in zip(names, frames):
            mine = frame[column]
            clash = mine.notna().to_numpy() & (mine.to_numpy() != first)
            if clash.any():
                row = int(np.flatnonzero(clash)[0])
                raise TableMergeError(f"{name} holds another {column} for index {int(index[row])} ({mine.iloc[row]!r} vs "
                                      f"{first[row]!r}): not the same cells and networks")


def _first(frames: list[pd.DataFrame], column: str) -> np.ndarray:
    """Per row, ``column`` of the first frame that has the row."""
    merged = frames[0][column]
    for frame in frames[1:]:
        merged = merged.combine_first(frame[column])
    return merged.to_numpy()


def _summary_columns(protocol: TrainProtocol, sources: list, frames: list[pd.DataFrame], user: np.ndarray,
                     valid_user: np.ndarray, values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``<ds>_train`` (the used sources' train means weighted by their valid seeds), ``<ds>_valid`` and
    ``<ds>_test`` (means of the per-seed figures, as ``statistics.fmean`` over the runs) and ``train_seconds``
    (summed over the used sources)."""
    ds = protocol.dataset
    weight = np.zeros(user.shape[1])
    train = np.zeros(user.shape[1])
    seconds = np.zeros(user.shape[1])
    for (_, stored, _), frame, used, valid_used in zip(sources, frames, user, valid_user):
        n = len(stored.seeds)
        train += np.where(valid_used, n * frame[f"{ds}_train"].fillna(0.0).to_numpy(dtype=float), 0.0)
        weight += np.where(valid_used, n, 0)
        seconds += np.where(used, frame["train_seconds"].fillna(0.0).to_numpy(dtype=float), 0.0)
    valid = np.stack([values[f"{ds}_valid_seed{s}"] for s in protocol.seeds])
    test = np.stack([values[f"{ds}_test_seed{s}"] for s in protocol.test_seeds or protocol.seeds])
    return {f"{ds}_train": train / np.maximum(weight, 1), f"{ds}_valid": _fmean(valid), f"{ds}_test": _fmean(test),
            "train_seconds": seconds}


def _fmean(stack: np.ndarray) -> np.ndarray:
    """Column means, each exactly rounded like ``statistics.fmean`` (so equal to a build's figure)."""
    return np.array([fmean(col) if not np.isnan(col).any() else np.nan for col in stack.T])
