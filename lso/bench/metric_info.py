"""What a metric column means: which way is better (``direction``) and what its numbers are (``scale``).

A search maximises ``score = info.sign * value``, so the same code serves accuracies (higher is better) and costs
such as latency (lower is better). Tables store one ``MetricInfo`` per metric in their metadata; when a table has
none stored (CSV files, older Parquet files) it is inferred from the column's name and values by
``infer_metric_info``, and ``lso bench import --direction/--scale`` overrides the inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from lso.errors import LsoError

Direction = Literal["max", "min"]
Scale = Literal["percent", "fraction", "raw"]
DIRECTIONS: tuple[str, ...] = get_args(Direction)
SCALES: tuple[str, ...] = get_args(Scale)

#: Name pieces (split on "_", case-insensitive) that mark a metric to minimise; a piece matches a keyword itself or
#: its plural (keyword + "s" / "es"), so ``params_mb``, ``cifar10_flops_m`` and ``test_losses`` all match.
MIN_KEYWORDS: tuple[str, ...] = ("latency", "energy", "param", "flop", "error", "err", "loss", "time", "size",
                                 "memory", "mac")
_ERROR_KEYWORDS: tuple[str, ...] = ("error", "err")


@dataclass(frozen=True)
class MetricInfo:
    """One metric's meaning: ``direction`` "max" (higher is better) or "min", and ``scale`` "percent" (0..100),
    "fraction" (0..1) or "raw" (any unit: milliseconds, megabytes, seconds...)."""

    name: str
    direction: Direction
    scale: Scale

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise LsoError(f"metric {self.name!r}: direction must be one of {', '.join(DIRECTIONS)}, "
                           f"got {self.direction!r}")
        if self.scale not in SCALES:
            raise LsoError(f"metric {self.name!r}: scale must be one of {', '.join(SCALES)}, got {self.scale!r}")

    @property
    def sign(self) -> float:
        """1.0 for "max", -1.0 for "min": ``sign * value`` is the score a search maximises."""
        return 1.0 if self.direction == "max" else -1.0

    @property
    def unit(self) -> str:
        """"%" for percent metrics, "" otherwise."""
        return "%" if self.scale == "percent" else ""

    def better(self, a: float, b: float) -> bool:
        """True when ``a`` is strictly better than ``b`` (False when either is NaN)."""
        return a > b if self.direction == "max" else a < b

    def reaches(self, value: float, target: float) -> bool:
        """True when ``value`` meets ``target``: ``value >= target`` for "max", ``value <= target`` for "min"."""
        return value >= target if self.direction == "max" else value <= target

    def format(self, value: float) -> str:
        """``value`` with the precision its scale needs: percent 3 decimals ("92.866"), fraction 5 decimals
        ("0.92866"), raw 6 significant digits ("12.3457"); NaN gives "nan". No unit is appended (see ``unit``)."""
        value = float(value)
        if math.isnan(value):
            return "nan"
        if self.scale == "percent":
            return f"{value:.3f}"
        if self.scale == "fraction":
            return f"{value:.5f}"
        return f"{value:.6g}"


def _pieces(name: str) -> list[str]:
    return [p for p in name.lower().split("_") if p]


def _matches(pieces: list[str], keywords: tuple[str, ...]) -> bool:
    return any(p in (k, k + "s", k + "es") for p in pieces for k in keywords)


def infer_direction(name: str) -> Direction:
    """"min" when a "_"-separated piece of ``name`` is one of ``MIN_KEYWORDS`` (or its plural), else "max"."""
    return "min" if _matches(_pieces(name), MIN_KEYWORDS) else "max"


def infer_scale(name: str, direction: str, values: np.ndarray) -> Scale:
    """The scale rule of ``infer_metric_info`` for a given direction; ``values`` has shape ``[n]``."""
    if direction == "min" and not _matches(_pieces(name), _ERROR_KEYWORDS):
        return "raw"
    finite = np.asarray(values, dtype=np.float64)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0 or (finite.min() >= 0.0 and finite.max() <= 1.0):
        return "fraction"
    if finite.min() >= 0.0 and finite.max() <= 100.0:
        return "percent"
    return "raw"


def infer_metric_info(name: str, values: np.ndarray) -> MetricInfo:
    """Guess a metric's direction and scale from its column name and its values (shape ``[n]``, NaN allowed).

    Rules:

    * direction: "min" when the name, lower-cased and split on "_", has a piece that is one of latency, energy,
      param, flop, error, err, loss, time, size, memory, mac (or that word + "s"/"es": ``params_mb``,
      ``flops_m``); else "max" (accuracies and other scores);
    * scale of a "max" metric, and of a "min" metric whose name has "error"/"err": "fraction" when every finite
      value lies in [0, 1] (also when there is no finite value), else "percent" when they lie in [0, 100], else
      "raw" (a number that cannot be a percentage);
    * scale of any other "min" metric (latency, size, loss, time...): "raw".

    Override a wrong guess with ``BenchmarkTable.with_metric_info`` (``lso bench import --direction/--scale``).
    """
    direction = infer_direction(name)
    return MetricInfo(name=name, direction=direction, scale=infer_scale(name, direction, values))


def parse_overrides(pairs: list[str], kind: str) -> dict[str, str]:
    """Parse CLI strings ``METRIC=VALUE`` (e.g. ``["imagenet16_latency_ms=min"]``) into ``{metric: value}``.

    Args:
        pairs: the strings as typed, one per ``--direction`` / ``--scale`` option.
        kind: "direction" (values max, min) or "scale" (values percent, fraction, raw).

    Raises ``LsoError`` on a string without "=", an empty metric name, a value not allowed for ``kind``, or one
    metric given two different values.
    """
    allowed = {"direction": DIRECTIONS, "scale": SCALES}.get(kind)
    if allowed is None:
        raise LsoError(f"unknown override kind {kind!r}; expected direction or scale")
    out: dict[str, str] = {}
    for pair in pairs:
        metric, eq, value = pair.partition("=")
        metric, value = metric.strip(), value.strip().lower()
        if not eq or not metric:
            raise LsoError(f"--{kind} expects METRIC={'|'.join(allowed)}, got {pair!r}")
        if value not in allowed:
            raise LsoError(f"--{kind} {pair!r}: {value!r} is not one of {', '.join(allowed)}")
        if out.get(metric, value) != value:
            raise LsoError(f"--{kind} gives metric {metric!r} two values: {out[metric]} and {value}")
        out[metric] = value
    return out
