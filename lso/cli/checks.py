"""Checks every CLI command makes on its input before any long work, each failing with one ``LsoError`` line.

Numbers (finite, in range; seeds in ``lso.seeds``), outputs (writable, of the right kind, never replacing a file
that is not an earlier output of the same command), training run folders given as ``--run`` (every file readable
and consistent, nothing unpickled) and run caches (``lso.nets.cache``).
"""

from __future__ import annotations

import json
import math
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator, Sequence

from lso.atomic import OutputError, check_replaceable_json, check_writable_dir, check_writable_file, reason
from lso.errors import LsoError
from lso.runs.format import RunLayout, read_checkpoint, read_labels, read_metrics, read_record
from lso.seeds import SEED_MAX, check_seed

__all__ = ["MAX_SEEDS", "SEED_MAX", "at_least", "check_cache", "check_output_folder", "check_result_file",
           "check_run_dir", "check_seed", "check_table_out", "finite", "is_run_dir", "os_errors", "split_names"]


MAX_SEEDS = 100_000  # most seeds one comparison may run per method (a typo like 0-4294967295 is refused at once)


# ----- numbers -------------------------------------------------------------------------------------------------------
def finite(value: float, flag: str, *, above: float | None = None, at_least: float | None = None) -> float:
    """``value`` when it is a finite number (NaN and +-inf are refused), ``> above`` and ``>= at_least``."""
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        raise LsoError(f"{flag} must be a finite number, got {value}")
    if above is not None and not value > above:
        raise LsoError(f"{flag} must be > {above:g}, got {value:g}")
    if at_least is not None and not value >= at_least:
        raise LsoError(f"{flag} must be >= {at_least:g}, got {value:g}")
    return float(value)


def at_least(value: int | None, flag: str, minimum: int) -> int | None:
    """``value`` when it is None or ``>= minimum``."""
    if value is not None and value < minimum:
        raise LsoError(f"{flag} must be >= {minimum}, got {value}")
    return value


def split_names(text: str, flag: str) -> list[str]:
    """The comma-separated names of ``text`` (stripped, empty parts dropped); at least one, none twice."""
    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise LsoError(f"{flag} needs at least one name, got {text!r}")
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise LsoError(f"{flag} names {', '.join(repeated)} more than once")
    return names


# ----- file-system errors --------------------------------------------------------------------------------------------
@contextmanager
def os_errors(what: str) -> Iterator[None]:
    """Turn an ``OSError`` escaping the block (disk full, permission, I/O error) into an ``LsoError`` line."""
    try:
        yield
    except LsoError:
        raise
    except OSError as err:
        where = f" ({err.filename})" if getattr(err, "filename", None) else ""
        raise LsoError(f"{what} failed{where}: {reason(err)}") from err


# ----- outputs -------------------------------------------------------------------------------------------------------
_RESULTS: dict[str, tuple[str, tuple[str, ...]]] = {
    "search": ("a search result (lso search)", ("queries", "config")),
    "refine": ("a refine result (lso refine)", ("rounds", "config")),
    "milenas": ("a MiLeNAS result (lso milenas)", ("method", "arch", "signal_name")),
    "proxies": ("a proxy study (lso bench proxies)", ("spearman", "cells")),
}


def _json_object(path: Path) -> dict | None:
    """The JSON object in ``path``; None when it is not readable UTF-8 JSON holding an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _has_keys(path: Path, keys: Sequence[str]) -> bool:
    data = _json_object(path)
    return data is not None and all(k in data for k in keys)


def check_result_file(out: Path, kind: str) -> Path:
    """``--out`` of a RESULT.json: a ``.json`` name, writable, and either new or an earlier result of ``kind``
    (``search``, ``refine``, ``milenas``); any other existing file (a run's ``metrics.json``, a CSV...) is refused."""
    label, keys = _RESULTS[kind]
    check_writable_file(out, ".json", what=f"{kind} result")
    check_replaceable_json(out, keys, label)
    if is_run_dir(out.parent) and out.name in {p.name for p in RunLayout.at(out.parent).files}:
        raise OutputError(f"{out} is a file of the training run {out.parent}: choose another --out")
    return out


def is_run_dir(path: Path) -> bool:
    """True when ``path`` holds a training run (its ``config.json``)."""
    return RunLayout.at(path).is_run()


def check_output_folder(out: Path, outputs: Sequence[str], *, marker: str, recognise: Callable[[Path], bool],
                        what: str) -> Path:
    """``--out`` folder of a command that writes the files ``outputs``: writable (or can be made), not a training
    run, and holding none of ``outputs`` unless its ``marker`` file says it is an earlier output of ``what``."""
    check_writable_dir(out)
    if not out.is_dir():
        return out
    if is_run_dir(out):
        raise OutputError(f"{out} holds a training run; write the {what} to another folder")
    clash = [name for name in outputs if (out / name).exists()]
    for name in clash:
        if not (out / name).is_file():
            raise OutputError(f"{out / name} is in the way of the {what} (not a file): choose another --out")
    if clash and not ((out / marker).is_file() and recognise(out / marker)):
        raise OutputError(f"{out} already holds {clash[0]}, not from an earlier {what}: not replacing it (choose "
                          "another --out)")
    return out


def check_table_out(out: Path) -> Path:
    """``--out`` of a benchmark table: a writable ``.parquet`` name that is new or holds an lso table (read by
    ``BenchmarkTable.load``); anything else there is refused."""
    check_writable_file(out, ".parquet", what="table")
    if out.exists():
        from lso.bench import BenchmarkTable

        try:
            BenchmarkTable.load(out)
        except LsoError as err:
            raise OutputError(f"{out} exists and is not an lso benchmark table: not replacing it (choose another "
                              "--out, or move the file away)") from err
    return out


def comparison_marker(path: Path) -> bool:
    """``comparison.json`` of ``lso search compare``."""
    return _has_keys(path, ("config", "summaries"))


def refine_marker(path: Path) -> bool:
    """``results.json`` of ``lso refine compare``: ``{"method/seed": RESULT, ...}``."""
    data = _json_object(path)
    return bool(data) and all(isinstance(v, dict) and "rounds" in v for v in data.values())


# ----- training run folders ------------------------------------------------------------------------------------------
def _first_line(err: BaseException) -> str:
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    detail = next((line for line in lines if "mismatch" in line or "Missing" in line or "Unexpected" in line),
                  lines[0] if lines else type(err).__name__)
    return re.sub(r"\s+", " ", detail)


def check_run_dir(run: Path, *, finished: bool = True) -> None:
    """Refuse a training run folder that ``--run`` cannot use: every file it holds must be readable and agree with
    ``config.json`` (the G-VAE and ICNN shapes), ``labelled.json`` must name cells of the space, and a
    ``checkpoint.pt`` must hold plain tensors (it is read with ``weights_only``: nothing in it is unpickled).
    ``finished``: the final weights and ``metrics.json`` must be there. The files are read by ``lso.runs.format``
    (its ``RunFormatError`` names the missing or damaged file)."""
    if not run.exists():
        raise LsoError(f"run directory not found: {run}")
    if not run.is_dir():
        raise LsoError(f"{run} is a file, not a training run directory (lso train --out)")
    layout = RunLayout.at(run)
    config = read_record(layout).config
    read_labels(layout)
    if layout.is_finished() or finished:
        read_metrics(layout)
    read_checkpoint(layout, "cpu", keys=("epoch", "gvae", "icnn"))
    if finished:
        _check_weights(run, config)


def _check_weights(run: Path, config) -> None:
    """Load the final G-VAE and ICNN as the search will: any shape that disagrees with ``config.json`` fails here."""
    from lso.models.workbench import LatentModel

    try:
        LatentModel.load(run, device="cpu")
    except LsoError:
        raise
    except (RuntimeError, KeyError, TypeError, ValueError, OSError) as err:
        raise LsoError(f"{run}: the saved weights do not match config.json (latent_dim {config.latent_dim}, "
                       f"hidden {config.hidden}, icnn_hidden {list(config.icnn_hidden)}): {_first_line(err)}") from err


# ----- run caches ----------------------------------------------------------------------------------------------------
def check_cache(protocol, path: Path | None, space: str = "nb201") -> None:
    """A ``--cache`` file that ``lso.nets.cache.RunCache`` can open for ``protocol`` and ``space``: a new writable
    file, or an lso training cache of both whose every line is a run (binary files and missing fields are refused)."""
    if path is None:
        return
    if path.is_dir():
        raise LsoError(f"--cache {path} is a folder; give a file (e.g. runs.jsonl)")
    if not path.exists():
        check_writable_file(path, what="run cache")
        return
    if not path.is_file():
        raise LsoError(f"--cache {path} is not a regular file")
    from lso.nets.cache import RunCache

    try:
        RunCache(protocol, path, space=space)
    except LsoError:
        raise
    except UnicodeDecodeError as err:
        raise LsoError(f"{path} is not an lso training cache (binary content)") from err
    except OSError as err:
        raise LsoError(f"cannot read the cache {path}: {reason(err)}") from err
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as err:
        raise LsoError(f"{path} is not a usable lso training cache (a line lacks a field or has a bad value: "
                       f"{_first_line(err)})") from err
