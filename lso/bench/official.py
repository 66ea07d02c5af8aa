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
from dataclasses import dataclass
from typing import Any

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



def metrics_from_state(results_type: type, state: Any, arch: str, where: str, index: int) -> dict[str, float]:
    """Our metric columns from one official per-architecture state dict.

    ``results_type`` is the package's own ``ArchResults`` (``nas_201_api`` or ``nats_bench.api_utils``); ``where``
    names the entry in errors (e.g. ``FILE: arch2infos[3]``); ``arch`` is ``meta_archs[index]``, which the results
    must agree with.
    """
    try:
        results = results_type.create_from_state_dict(state)
    except (ValueError, TypeError, AttributeError, AssertionError) as err:
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
