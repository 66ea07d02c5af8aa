"""Merge run caches: the runs of protocols whose seed groups another protocol contains become that protocol's cache.

Two uses: the caches of a build split with ``--shard`` (one protocol, one cache per machine) join into one; and a
protocol with more seeds per cell (``mnist1d-v3``: 16 + 16) reuses the runs that protocols with fewer trained
(``mnist1d-v2``: seeds 0-15, and its extra seeds 16-31), so only the missing seed groups are trained.

A source run is taken only when it is exactly the run the target protocol would train: the same recipe (every
protocol field but ``name``, ``seeds``, ``test_seeds`` and ``replica_group``) and a seed group that is one of the
target's seed groups (with replicas, a copy's result depends on its whole group, ``lso.nets.replicas``).
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Sequence

from lso.atomic import write_text
from lso.nets.cache import CacheError, RunCache, cache_header, header_record, run_record
from lso.nets.protocol import TrainProtocol
from lso.nets.trainer import TrainResult


def _groups(protocol: TrainProtocol) -> set[tuple[int, ...]]:
    return set(protocol.seed_groups) if protocol.replicas else {(s,) for s in protocol.all_seeds}


def _recipe(protocol: TrainProtocol) -> TrainProtocol:
    return replace(protocol, name="-", seeds=(0,), test_seeds=(), replica_group=0)


def reuse_problem(protocol: TrainProtocol, stored: TrainProtocol) -> str | None:
    """Why the runs of protocol ``stored`` are not runs ``protocol`` trains itself (a phrase to follow the source's
    name), or None when they are: the same recipe, and only seed groups ``protocol`` trains together."""
    if _recipe(stored) != _recipe(protocol):
        return (f"was trained with another recipe ({stored.describe()}) than protocol {protocol.name!r} "
                f"({protocol.describe()})")
    wanted = _groups(protocol)
    foreign = sorted(_groups(stored) - wanted)
    if foreign:
        return (f"trained seed group(s) {', '.join(map(str, foreign))}, which protocol {protocol.name!r} does not "
                f"train together (its groups: {sorted(wanted)})")
    return None


def merge_run_caches(protocol: TrainProtocol, sources: Sequence[str | os.PathLike[str]],
                     out: str | os.PathLike[str], space: str = "nb201") -> int:
    """Write ``out``, the run cache of ``protocol``, from the caches ``sources``; returns the number of runs.

    Every run keeps its record as trained (its ``protocol`` field names the source protocol). ``out`` is written
    atomically and never replaces an existing file.

    Raises:
        CacheError: ``out`` exists; a source is not a cache, is of another space or recipe, or has a seed group
            that is not one of ``protocol``'s; two sources hold different results for one (cell, seed).
    """
    out = Path(out)
    if out.exists():
        raise CacheError(f"{out} exists: merge into a new file (a merge never replaces a cache)")
    runs: dict[tuple[str, int], TrainResult] = {}
    for source in map(Path, sources):
        stored, stored_space = cache_header(source)
        if stored_space != space:
            raise CacheError(f"{source} holds runs of the {stored_space} space, not {space}")
        problem = reuse_problem(protocol, stored)
        if problem:
            raise CacheError(f"{source} {problem}")
        cache = RunCache(stored, source, space=space)
        for key, seed in cache.keys():
            result = cache.get(key, seed)
            assert result is not None
            if (key, seed) in runs and runs[key, seed].to_dict() != result.to_dict():
                raise CacheError(f"two sources hold different runs of {key} with seed {seed} (the second: {source})")
            runs[key, seed] = result
    lines = [header_record(protocol, space)] + [run_record(key, runs[key, seed]) for key, seed in sorted(runs)]
    write_text(out, "".join(json.dumps(line, sort_keys=True) + "\n" for line in lines))
    return len(runs)
