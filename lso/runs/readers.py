"""Reading a run folder's files into their records (part of ``lso.runs.format``).

Every reader raises ``RunFormatError``, one line naming the folder or file: ``... it has no labelled.json`` for a
missing file, ``... labelled.json is damaged: ...`` for one that is unreadable or lacks what the record needs.
"""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path
from typing import Any, Callable, TypeVar

from lso.errors import LsoError
from lso.runs.config import ConfigError
from lso.runs.layout import RunLayout, RunRef, as_layout
from lso.runs.records import CHECKPOINT_KEYS, NUM_CELLS, LabelSet, RunMetrics, RunRecord

T = TypeVar("T")


class RunFormatError(LsoError):
    """A run folder's file that is missing, unreadable or damaged (the message names it)."""


def _missing(layout: RunLayout, path: Path, finished: bool = False) -> RunFormatError:
    what = "a finished training run" if finished else "a training run"
    return RunFormatError(f"{layout.root} is not {what} (lso train --out): it has no {path.name}")


def _damaged(path: Path, detail: str) -> RunFormatError:
    detail = re.sub(r"\s+", " ", detail).strip()
    return RunFormatError(f"{path} is damaged: {detail} (re-train the run, or restore the file)")


def _brief(err: BaseException, words: int = 16) -> str:
    """``Type: the first words of the message`` on one line (torch and pickle errors run over many lines)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    detail = next((line for line in lines if "mismatch" in line or "Missing" in line or "Unexpected" in line),
                  lines[0] if lines else "")
    parts = detail.split()
    detail = " ".join(parts[:words]) + (" ..." if len(parts) > words else "")
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


def _read_json_record(layout: RunLayout, path: Path, parse: Callable[[dict], T],
                      errors: tuple[type[Exception], ...], detail: Callable[[Exception], str], *,
                      finished: bool = False) -> T:
    """``parse`` of the JSON object in ``path``: a missing file, one that is not a JSON object, and ``errors``
    raised by ``parse`` (described by ``detail``) are ``RunFormatError``s."""
    if not path.is_file():
        raise _missing(layout, path, finished)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # UnicodeDecodeError is a ValueError
        raise _damaged(path, f"not readable JSON ({_brief(err)})") from err
    if not isinstance(data, dict):
        raise _damaged(path, "not a JSON object")
    try:
        return parse(data)
    except errors as err:
        raise _damaged(path, detail(err)) from err


def read_record(run: RunRef) -> RunRecord:
    """The ``RunRecord`` of a run's ``config.json``; ``RunFormatError`` when it is missing or damaged."""
    layout = as_layout(run)
    return _read_json_record(
        layout, layout.config, RunRecord.from_dict, (ConfigError, TypeError, ValueError),
        lambda err: str(err) if isinstance(err, LsoError) else _brief(err).split(": ", 1)[-1])


def read_labels(run: RunRef) -> LabelSet:
    """The ``LabelSet`` of a run's ``labelled.json`` (indices checked to be cells of the space, one value each);
    ``RunFormatError`` when it is missing or damaged."""
    layout = as_layout(run)
    labels = _read_json_record(layout, layout.labelled, LabelSet.from_dict, (KeyError, TypeError, ValueError),
                               lambda err: f"missing or bad {_brief(err)}")
    if not labels.are_cells():
        raise _damaged(layout.labelled, f"its indices are not cells of the space (0..{NUM_CELLS - 1}), one value each")
    return labels


def read_metrics(run: RunRef) -> RunMetrics:
    """The ``RunMetrics`` of a finished run's ``metrics.json`` (older files read as ``RunMetrics.from_dict``
    says); ``RunFormatError`` when it is missing or damaged."""
    layout = as_layout(run)
    return _read_json_record(layout, layout.metrics, RunMetrics.from_dict, (TypeError, ValueError), _brief,
                             finished=True)


def read_checkpoint(run: RunRef, device: Any = "cpu", *, keys: tuple[str, ...] = CHECKPOINT_KEYS) -> dict | None:
    """The plain state of a run's ``checkpoint.pt`` (read with ``weights_only``: nothing in it is unpickled), None
    when there is none; ``RunFormatError`` when it is unreadable, lacks one of ``keys`` or has states of the wrong
    types."""
    import pickle

    import torch

    path = as_layout(run).checkpoint
    if not path.exists():
        return None
    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of foreign files: they fail below
            warnings.simplefilter("ignore")
            saved = torch.load(path, map_location=device, weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError, TypeError, AttributeError,
            ImportError, IndexError, KeyError) as err:
        raise _damaged(path, f"unreadable or not a plain checkpoint, refused without unpickling it ({_brief(err)})") \
            from err
    missing = [k for k in keys if not isinstance(saved, dict) or k not in saved]
    if missing:
        raise _damaged(path, f"not an lso training checkpoint: it lacks {', '.join(missing)}")
    if any(k in saved and not isinstance(saved[k], dict) for k in ("gvae", "icnn")) or not isinstance(
            saved.get("history", []), list):
        raise _damaged(path, "its states have the wrong types")
    return saved


def read_pseudo_labels(run: RunRef):
    """The pseudo-labels ``pseudo_y [15625]`` (a CPU tensor) of a run trained with them, None without."""
    from safetensors.torch import load_file

    path = as_layout(run).pseudo_labels
    if not path.exists():
        return None
    return load_file(str(path))["pseudo_y"]
