"""Atomic writes of run artefacts: write a temp file in the target folder, then ``os.replace`` it into place, so an
interrupted write never leaves a half-written file under the final name.

Every failure to write (disk full, read-only place, a file where a folder should be) is an ``OutputError``, an
``LsoError`` (the CLI prints one line) that is also an ``OSError`` (callers that catch ``OSError`` still do). The
``check_writable_*`` helpers fail the same way *before* long work, so a result is never computed only to be lost;
``create_exclusive`` claims a new file that nobody else may have written (two runs into one folder: one wins).
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Mapping

from lso.errors import LsoError

if TYPE_CHECKING:
    import torch


class OutputError(LsoError, OSError):
    """An output that cannot be written where asked (and why): disk full, no permission, a folder in the way..."""


def reason(err: OSError) -> str:
    """The short, one-line reason of an ``OSError`` (``No space left on device``), without the file name."""
    text = err.strerror or str(err) or type(err).__name__
    return " ".join(str(text).split())


def _error(action: str, path: Path, err: OSError) -> OutputError:
    out = OutputError(f"cannot {action} {path}: {reason(err)}")
    out.errno = err.errno
    return out


def _flush_to_disk(tmp: str) -> None:
    """Force the temp file's bytes to disk before it replaces the target (a full disk fails here, not later)."""
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _temp_beside(path: Path) -> tuple[int, str]:
    """An open temp file ``(fd, name)`` in ``path``'s folder (made when missing), for a write that replaces ``path``."""
    if path.is_dir():
        raise OutputError(f"cannot write {path}: it is a folder (give a file name)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as err:
        raise _error("write", path, err) from err


@contextmanager
def _writing(path: Path, tmp: str, *, passes: type[OSError]) -> Iterator[None]:
    """The body of a write of ``path`` through the temp file ``tmp``: an ``OSError`` it raises becomes an
    ``OutputError`` naming ``path`` (``passes`` goes through as it is), and ``tmp`` is removed unless it was moved
    into place."""
    try:
        try:
            yield
        except passes:
            raise
        except OSError as err:
            raise _error("write", path, err) from err
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temp path beside ``path``; on success it replaces ``path``, on failure it is removed.

    Raises:
        OutputError: when the folder cannot be made or written, or the write fails (ENOSPC, EACCES, ...).
    """
    path = Path(path)
    fd, tmp = _temp_beside(path)
    os.close(fd)
    with _writing(path, tmp, passes=OutputError):
        yield tmp
        _flush_to_disk(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; artefacts are meant to be shared
        os.replace(tmp, path)


def write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike[str], data: Any) -> Path:
    """Write ``data`` as indented JSON atomically (NaN is written as null)."""
    return write_text(path, _json_text(data))


def create_exclusive(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` to ``path``, which must not exist yet, whole and atomically: of two processes creating the
    same file at once exactly one succeeds; the other gets ``FileExistsError`` and ``path`` keeps the winner's bytes.

    (The text goes to a temp file first, which is then hard-linked into place: ``link`` fails when the name exists.
    On a file system without hard links the name is claimed with ``O_CREAT | O_EXCL`` and then filled.)

    Raises:
        FileExistsError: ``path`` exists (another process was first).
        OutputError: any other failure to write.
    """
    path = Path(path)
    fd, tmp = _temp_beside(path)
    with _writing(path, tmp, passes=FileExistsError):
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        _flush_to_disk(tmp)
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise
        except OSError as err:
            if err.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
                raise
            with open(path, "x", encoding="utf-8") as handle:  # "x": O_CREAT | O_EXCL
                handle.write(text)
    return path


def create_json_exclusive(path: str | os.PathLike[str], data: Any) -> Path:
    """``create_exclusive`` of ``data`` as indented JSON (NaN written as null)."""
    return create_exclusive(path, _json_text(data))


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


# ----- checks before long work ---------------------------------------------------------------------------------------
def _nearest_existing(path: Path) -> Path:
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return probe


def _probe_folder(folder: Path, target: Path) -> None:
    """Create and remove a temp file in ``folder``: the only test that also holds for root and read-only mounts."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=".lso-probe.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise _error("write", target, err) from err
    os.close(fd)
    os.unlink(tmp)


def _check_parent(path: Path) -> None:
    """``path``'s folder exists and is writable, or can be made: its nearest existing ancestor is a writable folder."""
    anchor = _nearest_existing(path.parent)
    if not anchor.is_dir():
        raise OutputError(f"cannot write {path}: {anchor} is a file, not a folder")
    _probe_folder(anchor, path)


def check_writable_file(path: str | os.PathLike[str], suffix: str | tuple[str, ...] | None = None, *,
                        what: str = "file") -> Path:
    """Fail now, before any long work, unless ``path`` can be written as a ``what`` file.

    ``suffix`` (".json", or several): the name must end with it (case-insensitive). Checks that ``path`` is not a
    folder and that its folder is (or can be made) writable, by creating and removing a probe file there. Creates
    nothing else. Whether an existing file may be replaced is the caller's decision.

    Raises:
        OutputError: naming the path and the problem.
    """
    path = Path(path)
    if suffix is not None:
        suffixes = (suffix,) if isinstance(suffix, str) else tuple(suffix)
        if path.suffix.lower() not in {s.lower() for s in suffixes}:
            raise OutputError(f"{path} must be a {' or '.join(suffixes)} file (the {what} is written there)")
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give the name of the {what} file to write")
    if path.exists() and not path.is_file():
        raise OutputError(f"{path} is not a regular file; give another name for the {what}")
    _check_parent(path)
    return path


def check_writable_dir(path: str | os.PathLike[str], *, what: str = "output folder") -> Path:
    """Fail now unless ``path`` is a writable folder or one that can be made (its nearest existing ancestor is a
    writable folder). Creates nothing but a probe file, removed at once.

    Raises:
        OutputError: naming the path and the problem.
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} is a file; the {what} must be a folder")
    anchor = _nearest_existing(path)
    if not anchor.is_dir():
        raise OutputError(f"cannot make the {what} {path}: {anchor} is a file, not a folder")
    _probe_folder(anchor, path)
    return path


def check_replaceable_json(path: str | os.PathLike[str], keys: tuple[str, ...], label: str) -> Path:
    """Refuse (``OutputError``) to replace an existing ``path`` unless it is a JSON object with every one of
    ``keys``: an earlier output of the same kind (``label``, e.g. "a search result"). A new path passes."""
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{path} is a folder; give the name of the file to write")
    if path.exists():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict) or not all(k in data for k in keys):
            raise OutputError(f"{path} exists and is not {label}: not replacing it (choose another --out, or move "
                              "the file away)")
    return path


def _json_text(data: Any) -> str:
    return json.dumps(_nan_to_none(data), indent=2, sort_keys=False) + "\n"


def _nan_to_none(value: Any) -> Any:
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _nan_to_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_nan_to_none(v) for v in value]
    return value
