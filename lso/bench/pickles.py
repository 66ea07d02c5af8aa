"""Loading the official benchmarks' pickled files without running code they might carry.

The NAS-Bench-201 ``.pth`` (a ``torch.save`` of plain dicts) and the NATS-Bench ``*.pickle.pbz2`` files (bz2 pickles
of plain dicts) hold only builtin containers, numbers, strings, sometimes numpy scalars (and, in a .pth, maybe weight
tensors). Both loaders here use the C unpickler restricted to exactly those names; anything else (a class, a function
to call) is refused with a ``BenchmarkFileError`` naming it, unless the caller passes ``trust=True`` for a file from a
source it trusts (then plain ``pickle``).

What ``trust=True`` (``lso bench import --trust-pickle``) lifts is exactly this restriction, for the file named: its
pickle may then hold any object and run any code while loading. It lifts nothing else. Whatever comes out is still
checked for the official structure before ``nas_201_api`` / ``nats_bench`` see it
(``lso.bench.official.check_results_state``), and a string in the data is never handed to their
``create_from_state_dict``, which would load it as a *further* file (``torch.load`` / ``pickle.load``): a restricted
load of the named file would otherwise be a way to run an unrestricted load of another.
"""

from __future__ import annotations

import bz2
import codecs
import pickle
from collections import OrderedDict
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from lso.errors import BenchmarkFileError

_NUMPY_CORE = np._core.multiarray  # numpy >= 2 moved numpy.core to numpy._core; old pickles name the former.


@lru_cache(maxsize=1)
def _numpy_globals() -> dict[str, Any]:
    names: dict[str, Any] = {}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        names[f"{module}.scalar"] = _NUMPY_CORE.scalar
        names[f"{module}._reconstruct"] = _NUMPY_CORE._reconstruct
    names["numpy.dtype"] = np.dtype
    names["numpy.ndarray"] = np.ndarray
    for name in np.dtypes.__all__:
        obj = getattr(np.dtypes, name)
        if isinstance(obj, type):
            names[f"numpy.dtypes.{name}"] = obj
    return names


@lru_cache(maxsize=1)
def _allowed_globals() -> dict[str, Any]:
    return {
        **_numpy_globals(),
        "collections.OrderedDict": OrderedDict,
        "builtins.set": set,
        "builtins.frozenset": frozenset,
        "builtins.bytearray": bytearray,
        "_codecs.encode": codecs.encode,  # protocol 2 stores the bytes of numpy scalars through it
    }


class _PlainDataUnpickler(pickle.Unpickler):
    """An unpickler that resolves only the allow-listed names (containers and numpy scalars)."""

    def find_class(self, module: str, name: str) -> Any:
        obj = _allowed_globals().get(f"{module}.{name}")
        if obj is None:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return obj


def _unpickling_error(path: Path, err: pickle.UnpicklingError, holder: str, unreadable: str) -> BenchmarkFileError:
    """The error for an ``UnpicklingError`` of ``path``: a refused name (``_PlainDataUnpickler``) says that
    ``holder`` (the kind of file expected) holds no such object and how to trust the file; any other is
    ``unreadable``."""
    if "refusing to load" in str(err):
        return BenchmarkFileError(f"{path} holds Python objects that {holder} does not ({err}); "
                                  "if you trust the file, import it with --trust-pickle")
    return BenchmarkFileError(unreadable)


def load_bz2_pickle(path: Path, *, trust: bool = False) -> Any:
    """Read a NATS-Bench ``*.pickle.pbz2`` file (bz2-compressed pickle)."""
    try:
        with bz2.BZ2File(path, "rb") as handle:
            if trust:
                return pickle.load(handle)
            return _PlainDataUnpickler(handle).load()
    except pickle.UnpicklingError as err:
        raise _unpickling_error(path, err, "a NATS-Bench results file",
                                f"{path} is not a readable pickle (truncated or corrupt?): {err}") from err
    except (OSError, EOFError, ValueError, TypeError, AttributeError, IndexError, MemoryError) as err:
        raise BenchmarkFileError(f"cannot read {path} as a bz2 pickle (truncated or corrupt?): {err}") from err


@lru_cache(maxsize=1)
def _torch_globals() -> dict[str, Any]:
    """What ``torch.save`` writes for tensors (a stray weight tensor in a results file is harmless data)."""
    import torch

    names: dict[str, Any] = {
        "torch._utils._rebuild_tensor_v2": torch._utils._rebuild_tensor_v2,
        "torch._utils._rebuild_parameter": torch._utils._rebuild_parameter,
        "torch.Size": torch.Size,
        "torch._tensor._rebuild_from_type_v2": torch._tensor._rebuild_from_type_v2,
        "torch.nn.parameter.Parameter": torch.nn.parameter.Parameter,
    }
    for name in dir(torch):
        obj = getattr(torch, name, None)
        if name.endswith("Storage") and isinstance(obj, type):
            names[f"torch.{name}"] = obj
    names["torch.storage.UntypedStorage"] = torch.storage.UntypedStorage
    return names


class _PlainTorchUnpickler(_PlainDataUnpickler):
    def find_class(self, module: str, name: str) -> Any:
        obj = _torch_globals().get(f"{module}.{name}")
        return obj if obj is not None else super().find_class(module, name)


class _PlainTorchPickleModule:
    """The ``pickle_module`` we hand to ``torch.load``: the C unpickler, restricted to plain data and tensors."""

    __name__ = "lso_plain_pickle"
    Unpickler = _PlainTorchUnpickler
    UnpicklingError = pickle.UnpicklingError

    @staticmethod
    def load(file: Any, **kwargs: Any) -> Any:
        return _PlainTorchUnpickler(file, **kwargs).load()


def load_torch_file(path: Path, *, trust: bool = False) -> Any:
    """Read a ``torch.save`` file such as NAS-Bench-201's ``.pth``, accepting only plain data, numpy and tensors.

    ``weights_only=True`` refuses the numpy scalars of such files (the usual "Weights only load failed") and its
    pure-Python unpickler is about 10x slower on them (hours for the multi-GB official file); we pass torch our
    own restricted C unpickler instead of falling back to unrestricted unpickling.
    """
    import torch

    try:
        module = pickle if trust else _PlainTorchPickleModule
        return torch.load(path, map_location="cpu", weights_only=False, pickle_module=module)
    except pickle.UnpicklingError as err:
        raise _unpickling_error(path, err, "a NAS-Bench-201 .pth",
                                f"cannot read {path} as a torch file (truncated or corrupt?): {err}") from err
    except (RuntimeError, OSError, EOFError, ValueError, TypeError, AttributeError, IndexError, KeyError, MemoryError) as err:
        raise BenchmarkFileError(f"cannot read {path} as a torch file (truncated or corrupt?): {err}") from err
