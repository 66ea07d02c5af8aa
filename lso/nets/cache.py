"""The persistent cache of training runs: an append-only JSON-lines file, one protocol per file.

Line 1 is the header ``{"lso_training_cache": 1, "protocol": {...}, "space": "nb101"}`` (no ``space``: NB201, as
caches written before other spaces existed); every later line is one finished run
``{"key": <canonical form>, "seed": s, "result": {...TrainResult...}}``. A line is written whole and flushed to
disk as soon as its run ends, so an interrupted run loses at most the runs in flight. A final line cut short by a
kill is dropped (and the file repaired atomically) when the cache is opened again.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from lso.atomic import write_text
from lso.errors import LsoError
from lso.nets.protocol import TrainProtocol
from lso.nets.trainer import TrainResult


class CacheError(LsoError):
    """A cache file that is corrupt or was written for a different protocol."""


_HEADER_KEY = "lso_training_cache"


def header_record(protocol: TrainProtocol, space: str = "nb201") -> dict:
    """A cache file's first line (no ``space`` for NB201, as caches written before other spaces existed)."""
    header = {_HEADER_KEY: 1, "protocol": protocol.to_dict()}
    return header if space == "nb201" else {**header, "space": space}


def run_record(key: str, result: TrainResult) -> dict:
    """The line of one finished run."""
    return {"key": key, "seed": result.seed, "result": result.to_dict()}


class RunCache:
    """Finished runs keyed by (canonical cell form, seed), mirrored to ``path`` when a path is given; one protocol
    and one search space (``space``, a registry name) per cache."""

    def __init__(self, protocol: TrainProtocol, path: str | os.PathLike[str] | None = None, space: str = "nb201") -> None:
        self.protocol = protocol
        self.space = space
        self.path = Path(path) if path is not None else None
        self._runs: dict[tuple[str, int], TrainResult] = {}
        if self.path is not None:
            if self.path.exists() and self.path.stat().st_size > 0:
                self._load()
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._append(header_record(protocol, space))

    def __len__(self) -> int:
        return len(self._runs)

    def get(self, key: str, seed: int) -> TrainResult | None:
        """The run of the cell with canonical form ``key`` and ``seed``, if cached."""
        return self._runs.get((key, int(seed)))

    def put(self, key: str, result: TrainResult) -> None:
        """Record a finished run (and append it to the file)."""
        self._runs[(key, result.seed)] = result
        if self.path is not None:
            self._append(run_record(key, result))

    def keys(self) -> set[tuple[str, int]]:
        """All cached (canonical form, seed) pairs."""
        return set(self._runs)

    def _append(self, record: dict) -> None:
        assert self.path is not None
        with open(self.path, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, sort_keys=True) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def _load(self) -> None:
        assert self.path is not None
        text = self.path.read_text(encoding="utf-8")
        lines = text.split("\n")
        complete, tail = lines[:-1], lines[-1]  # text ends with "\n" when the last write finished
        records = []
        for number, line in enumerate(complete, start=1):
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as err:
                raise CacheError(f"cache {self.path} line {number} is corrupt: {err}") from err
        if not records or _HEADER_KEY not in records[0]:
            raise CacheError(f"{self.path} is not an lso training cache (no header line)")
        stored = TrainProtocol.from_dict(records[0]["protocol"])
        if stored != self.protocol:
            raise CacheError(
                f"cache {self.path} was written for protocol {stored.name!r} ({stored.describe()}), not "
                f"{self.protocol.name!r} ({self.protocol.describe()}): use another cache file"
            )
        stored_space = records[0].get("space", "nb201")
        if stored_space != self.space:
            raise CacheError(f"cache {self.path} holds runs of the {stored_space} space, not {self.space}: use another "
                             "cache file")
        for record in records[1:]:
            self._runs[(record["key"], int(record["seed"]))] = TrainResult.from_dict(record["result"])
        if tail:  # a write cut short by a kill: keep only whole lines
            write_text(self.path, "\n".join(complete) + "\n")


def cache_header(path: str | os.PathLike[str]) -> tuple[TrainProtocol, str]:
    """The protocol and the space (a registry name) a cache file was written for, read from its first line.

    Raises:
        CacheError: a missing or empty file, or one whose first line is not an lso cache header.
    """
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            first = fh.readline()
    except OSError as err:
        raise CacheError(f"cannot read the run cache {path}: {err.strerror or err}") from err
    try:
        header = json.loads(first)
    except json.JSONDecodeError:
        header = None
    if not isinstance(header, dict) or _HEADER_KEY not in header:
        raise CacheError(f"{path} is not an lso training cache (no header line)")
    return TrainProtocol.from_dict(header["protocol"]), header.get("space", "nb201")
