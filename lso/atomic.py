"""Atomic writes of run artefacts: write a temp file in the target folder, then ``os.replace`` it into place, so an
interrupted write never leaves a half-written file under the final name."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

if TYPE_CHECKING:
    import torch


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temp path beside ``path``; on success it replaces ``path``, on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        yield tmp
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; artefacts are meant to be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON atomically (NaN is written as null)."""
    return write_text(path, json.dumps(_nan_to_none(data), indent=2, sort_keys=False) + "\n")


def save_tensors(path: str | os.PathLike[str], tensors: Mapping[str, torch.Tensor]) -> Path:
    """Write a flat ``{name: tensor}`` map as safetensors atomically (tensors are made contiguous, on CPU)."""
    from safetensors.torch import save_file

    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, tmp)
    return Path(path)


def torch_save(path: str | os.PathLike[str], state: Mapping[str, Any]) -> Path:
    """Write a plain state dict (tensors, numbers, strings, lists, dicts; no pickled objects) atomically."""
    import torch

    with atomic_path(path) as tmp:
        torch.save(dict(state), tmp)
    return Path(path)


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value
