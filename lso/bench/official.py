"""How the official NAS-Bench-201 / NATS-Bench result objects map onto our metric columns.

Both packages store one ``ArchResults`` per architecture and training budget, with the same ``get_metrics(dataset,
setname)`` and ``get_compute_costs(dataset)``. The official semantics (NAS-Bench-201 paper, Sec. 2.3; the API's
``get_more_info``) are easy to mix up, so they are written down once here:

- ``cifar10_valid``: trained on the CIFAR-10 train split (dataset ``cifar10-valid``), accuracy on ``x-valid``.
- ``cifar10_test``: trained on train+valid (dataset ``cifar10``), accuracy on the test set ``ori-test``.
- ``cifar10valid_test``: trained on the train split (``cifar10-valid``), accuracy on ``ori-test``.
- ``cifar100_*`` / ``imagenet16_*``: datasets ``cifar100`` / ``ImageNet16-120``, splits ``x-valid`` and ``x-test``.

Accuracies are percentages, the mean over the seeds the source holds (``is_random=False``), after the last epoch.
Costs per dataset: ``<ds>_params_mb`` (MB = 1e6 parameters), ``<ds>_flops_m`` (MFLOPs), ``<ds>_latency_ms``.
"""

from __future__ import annotations

import math
import sys
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from lso.errors import BenchmarkFileError


@dataclass(frozen=True)
class AccuracyColumn:
    """One accuracy column: ``column`` <- ``get_metrics(dataset, setname)['accuracy']``."""

    column: str
    dataset: str
    setname: str


@dataclass(frozen=True)
class CostColumn:
    """One cost column: ``column`` <- ``get_compute_costs(dataset)[key] * scale``."""

    column: str
    dataset: str
    key: str
    scale: float = 1.0


ACCURACY_COLUMNS: tuple[AccuracyColumn, ...] = (
    AccuracyColumn("cifar10_valid", "cifar10-valid", "x-valid"),
    AccuracyColumn("cifar10_test", "cifar10", "ori-test"),
    AccuracyColumn("cifar10valid_test", "cifar10-valid", "ori-test"),
    AccuracyColumn("cifar100_valid", "cifar100", "x-valid"),
    AccuracyColumn("cifar100_test", "cifar100", "x-test"),
    AccuracyColumn("imagenet16_valid", "ImageNet16-120", "x-valid"),
    AccuracyColumn("imagenet16_test", "ImageNet16-120", "x-test"),
    AccuracyColumn("cifar10_train", "cifar10", "train"),
    AccuracyColumn("cifar10valid_train", "cifar10-valid", "train"),
    AccuracyColumn("cifar100_train", "cifar100", "train"),
    AccuracyColumn("imagenet16_train", "ImageNet16-120", "train"),
)

_COST_DATASETS = (("cifar10", "cifar10"), ("cifar100", "cifar100"), ("imagenet16", "ImageNet16-120"))
COST_COLUMNS: tuple[CostColumn, ...] = tuple(
    col
    for short, official in _COST_DATASETS
    for col in (
        CostColumn(f"{short}_params_mb", official, "params"),
        CostColumn(f"{short}_flops_m", official, "flops"),
        CostColumn(f"{short}_latency_ms", official, "latency", 1000.0),  # the source stores seconds
    )
)

ALL_COLUMNS: tuple[str, ...] = tuple(c.column for c in ACCURACY_COLUMNS) + tuple(c.column for c in COST_COLUMNS)

# What a missing dataset / split / seed raises inside the packages' ArchResults.
_MISSING = (KeyError, ValueError, AssertionError, TypeError, IndexError, AttributeError, ZeroDivisionError)


def _as_float(value: Any) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def metrics_of(results: Any) -> dict[str, float]:
    """All columns for one architecture from an official ``ArchResults`` (either package); NaN where absent.

    Args:
        results: a ``nas_201_api.ArchResults`` or ``nats_bench.ArchResults`` for one training budget.

    Returns:
        ``{column: value}`` for every name in ``ALL_COLUMNS``.
    """
    row: dict[str, float] = {}
    datasets = set(results.get_dataset_names()) if hasattr(results, "get_dataset_names") else set(results.dataset_seed)
    for spec in ACCURACY_COLUMNS:
        value = math.nan
        if spec.dataset in datasets:
            try:
                value = _as_float(results.get_metrics(spec.dataset, spec.setname, is_random=False)["accuracy"])
            except _MISSING:
                value = math.nan
        row[spec.column] = value
    costs: dict[str, dict] = {}
    for spec in COST_COLUMNS:
        value = math.nan
        if spec.dataset in datasets:
            if spec.dataset not in costs:
                try:
                    costs[spec.dataset] = results.get_compute_costs(spec.dataset)
                except _MISSING:
                    costs[spec.dataset] = {}
            raw = _as_float(costs[spec.dataset].get(spec.key))
            value = raw * spec.scale if raw > 0 or spec.key != "latency" else math.nan  # latency <= 0 means "absent"
        row[spec.column] = value
    return row



# ----- what may be handed to the official readers ---------------------------------------------------------------
# ``ArchResults.create_from_state_dict(x)`` in both packages *loads a file* when ``x`` is a string (``nats_bench``:
# ``pickle.load`` of ``x`` or ``x + '.pbz2'``; ``nas_201_api``: ``torch.load(x)``), both unrestricted; and its
# ``load_state_dict`` (and ``ResultsCount``'s) copies every key of the dict into the instance's ``__dict__``, so a key
# named like a method (``get_metrics``, ``get_eval``...) would replace that method by whatever the file holds. Those
# are the only places where the packages turn data into loading or calling, so ``check_results_state`` admits exactly
# the official shape: a dict of plain data with the official attribute names' types, before a package sees it.

_REQUIRED: dict[str, type | tuple[type, ...]] = {"arch_str": str, "all_results": dict, "dataset_seed": dict}
_SCALARS: frozenset[type] = frozenset({type(None), bool, int, float, complex, str, bytes, bytearray})
_CONTAINERS: frozenset[type] = frozenset({dict, OrderedDict, list, tuple, set, frozenset})


def _describe(value: Any) -> str:
    if isinstance(value, type):
        return f"the class {value.__module__}.{value.__qualname__}"
    if callable(value):
        name = getattr(value, "__qualname__", type(value).__name__)
        return f"the callable {getattr(value, '__module__', None)}.{name}"
    return f"a {type(value).__module__}.{type(value).__qualname__} object"


def _describe_value(value: Any) -> str:
    """Short: ``a str`` / ``the class x.Y``."""
    if isinstance(value, type) or callable(value):
        return _describe(value)
    return f"a {type(value).__name__}"


@lru_cache(maxsize=None)
def _is_plain_leaf_type(kind: type) -> bool:
    """Scalars, numpy scalars and tensors (a results file may hold weights); not classes, functions, other objects."""
    if kind in _SCALARS:
        return True
    if issubclass(kind, np.generic):
        return kind is not np.object_
    torch = sys.modules.get("torch")  # a tensor can only be there if torch loaded the file
    return torch is not None and issubclass(kind, torch.Tensor)


def _key_text(path: tuple) -> str:
    return "".join(f"[{k!r}]" for k in path)


def plain_data_problem(value: Any) -> str | None:
    """``None`` if ``value`` is plain data (builtin containers of scalars, numpy scalars/arrays, tensors), else what
    is not, with where it is (e.g. ``"[('cifar10', 777)]['latency'] holds the class collections.OrderedDict"``).

    Fast on the official files' millions of numbers: each container's element types are collected at C speed, and
    only containers among them are walked further. Self-references (which pickle can build) are walked once.
    """
    stack: list[tuple[Any, tuple]] = [(value, ())]
    seen: set[int] = set()
    while stack:
        obj, path = stack.pop()
        kind = type(obj)
        if kind in _CONTAINERS:
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            is_dict = kind is dict or kind is OrderedDict
            kinds = set(map(type, obj)) | set(map(type, obj.values())) if is_dict else set(map(type, obj))
            odd = {k for k in kinds if not _is_plain_leaf_type(k)}
            if not odd:
                continue
            if is_dict:
                for key in obj:  # keys: scalars or tuples of them, as ('cifar10', 777)
                    if type(key) in odd and (type(key) is not tuple or plain_data_problem(key) is not None):
                        shown = repr(key) if isinstance(key, tuple) else _describe(key)
                        return f"{_key_text(path)} has the key {shown}"
            for key, item in obj.items() if is_dict else enumerate(obj):
                if type(item) in odd:
                    where = path + (key,)
                    if type(item) in _CONTAINERS or type(item) is np.ndarray:
                        stack.append((item, where))
                    else:
                        return f"{_key_text(where)} holds {_describe(item)}"
        elif kind is np.ndarray:
            if obj.dtype.hasobject:
                return f"{_key_text(path)} holds a numpy array of Python objects"
        elif not _is_plain_leaf_type(kind):
            return f"{_key_text(path)} holds {_describe(obj)}"
    return None


def _attribute_keys_problem(state: dict, cls: type) -> str | None:
    """Keys of a state dict become attributes of a ``cls`` instance: they must be names, none naming a method."""
    for key in state:
        if not isinstance(key, str):
            return f"has the key {key!r}, which is not an attribute name"
        if key.startswith("__") or hasattr(cls, key):
            return f"has the key {key!r}, which would replace {cls.__name__}.{key} of the official reader"
    return None


def check_results_state(results_type: type, state: Any, where: str, *, trust: bool = False) -> None:
    """Raise ``BenchmarkFileError`` unless ``state`` is an official ``ArchResults`` state dict of plain data.

    Checked before ``results_type.create_from_state_dict`` sees it: a dict (never a string, which the reader would
    load as a file path), the keys of ``ArchResults`` and of each ``ResultsCount`` in ``all_results`` naming no method,
    ``arch_str`` a string, ``all_results`` a dict of dicts, ``dataset_seed`` a dict, and every value plain data (see
    ``plain_data_problem``). ``trust=True`` (``--trust-pickle``) skips only the plain-data walk, since a trusted
    file may hold other objects; the structure (a dict, no path to load, no method replaced) is always required.
    """
    if not isinstance(state, dict):
        hint = " (a string here would be loaded as a file path by the official reader; lso never does that)"
        raise BenchmarkFileError(
            f"{where} is not an ArchResults state dict: it holds {_describe_value(state)}, not a dict"
            + (hint if isinstance(state, (str, bytes, bytearray, Path)) else "")
        )
    problem = _attribute_keys_problem(state, results_type)
    if problem:
        raise BenchmarkFileError(f"{where} is not an ArchResults state dict: it {problem}")
    for key, expected in _REQUIRED.items():
        if key not in state:
            raise BenchmarkFileError(f"{where} is not an ArchResults state dict: it has no {key!r}")
        if not isinstance(state[key], expected):
            raise BenchmarkFileError(
                f"{where} is not an ArchResults state dict: {key!r} holds {_describe_value(state[key])}, "
                f"not a {expected.__name__}"
            )
    counts_type = getattr(sys.modules.get(results_type.__module__), "ResultsCount", object)
    for run_key, run in state["all_results"].items():
        if not isinstance(run, dict):
            raise BenchmarkFileError(
                f"{where} is not an ArchResults state dict: the run {run_key!r} holds {_describe_value(run)}, "
                "not a ResultsCount state dict"
            )
        problem = _attribute_keys_problem(run, counts_type)
        if problem:
            raise BenchmarkFileError(f"{where} is not an ArchResults state dict: the run {run_key!r} {problem}")
    if not trust:
        problem = plain_data_problem(state)
        if problem:
            raise BenchmarkFileError(
                f"{where} is not an ArchResults state dict of plain data: {problem}"
                " (if you trust the file, import it with --trust-pickle)"
            )


def metrics_from_state(
    results_type: type, state: Any, arch: str, where: str, index: int, *, trust: bool = False
) -> dict[str, float]:
    """Our metric columns from one official per-architecture state dict.

    ``results_type`` is the package's own ``ArchResults`` (``nas_201_api`` or ``nats_bench.api_utils``); ``where``
    names the entry in errors (e.g. ``FILE: arch2infos[3]``); ``arch`` is ``meta_archs[index]``, which the results
    must agree with. ``state`` is checked by ``check_results_state`` first (``trust`` as there): the package's
    reader never gets a file path or anything but the official shape.
    """
    check_results_state(results_type, state, where, trust=trust)
    try:
        results = results_type(-1, -1)
        results.load_state_dict(state)  # what create_from_state_dict does for a dict, without its file-path branch
    except (ValueError, TypeError, AttributeError, AssertionError, KeyError) as err:
        raise BenchmarkFileError(f"{where} is not an ArchResults state dict: {err}") from err
    if getattr(results, "arch_str", arch) != arch:
        raise BenchmarkFileError(f"{where} is for {results.arch_str}, but meta_archs[{index}] is {arch}")
    return metrics_of(results)


@dataclass(frozen=True)
class OfficialRows:
    """What a reader of an official file hands to the importer: per official index, its arch string and metrics."""

    source: str
    fidelity: str
    archs: dict[int, str]
    metrics: dict[int, dict[str, float]]
