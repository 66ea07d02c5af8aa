"""Refine one NB201 architecture by growing it: signed splitting (S3D), S2D, random splitting, or train from scratch.

``refine`` builds the narrow starting network of the cell (``lso.growth.nb201``: the stage widths at ``stage_mult``
and the reduction blocks' inner widths at ``inner_mult`` of NB201's), trains it (round 0, ``protocol.epochs``
epochs), then runs ``rounds`` rounds of {splitting values -> energy-aware selection under the parameter budget ->
split -> fine-tune ``finetune_epochs``}
(``lso.growth.schedule.grow_network``). Round ``r`` may grow the model to ``size + (budget - size) / (R - r + 1)``.

``"scratch"`` is the fixed-width baseline: the network whose widths are the largest that fit the budget (one
channel at a time to the width group that has grown least, relative to its start), trained from scratch for the same
number of epochs the growth runs spend in all (``epochs + rounds * finetune_epochs``). Its round 0 is the same
trained starting network as the other methods', its round 1 the final width.

Reproducibility: the seed draws the initial weights (inside ``torch.random.fork_rng``: the caller's RNG is left as
it was), the batch order (a private ``torch.Generator``), the random starts of the fast eigen-route and the random
selector; on one device with a fixed thread count the result is a pure function of the arguments.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from lso.atomic import write_json, write_text
from lso.data.datasets import ImageDataset, Split, load_dataset
from lso.device import describe_device, resolve_device
from lso.errors import LsoError
from lso.jobs import RelayReporter, Reporter
from lso.growth.cost import count_macs, count_params
from lso.growth.nb201 import (GROUPS, NB201Space, example_input, narrow_widths, nb201_costs, network_with_widths,
                              widths_of)
from lso.growth.schedule import GrowthConfig, grow_network
from lso.nets.network import Network
from lso.nets.protocol import TrainProtocol, default_protocol, get_protocol
from lso.nets.loop import evaluate_split, train_epochs
from lso.space import Cell, MacroConfig, num_params

METHODS = ("s3d", "s2d", "random", "scratch")
ROUND_KEYS = ("params", "flops", "train_accuracy", "valid_accuracy", "test_accuracy", "seconds", "device", "splits")


class RefineError(LsoError):
    """Bad input to ``refine``: an unknown method, a budget below the starting size, impossible settings."""


@dataclass(frozen=True)
class RefineRound:
    """One round. Accuracies in percent (eval mode, after the round's training); ``flops``: multiply-accumulates of
    the Linear and Conv2d layers for one image (NB201's convention); ``seconds``: splitting values + split +
    training of this round; ``splits``: neurons split per site in this round (empty for round 0)."""

    params: int
    flops: int
    train_accuracy: float
    valid_accuracy: float
    test_accuracy: float
    seconds: float
    device: str
    splits: dict[str, int]


@dataclass(frozen=True)
class RefineResult:
    """A refine run: its rounds (round 0 is the trained starting network), its settings, and timings of its parts.

    ``seconds_values`` / ``seconds_train`` per round split ``seconds`` into splitting-value computation (statistics,
    eigenpairs, selection, split) and training; ``widths`` the width groups (``lso.growth.nb201.GROUPS``: stage and
    inner widths) after each round.
    """

    rounds: tuple[RefineRound, ...]
    config: dict[str, Any]
    seconds_values: tuple[float, ...]
    seconds_train: tuple[float, ...]
    widths: tuple[dict[str, int], ...]

    @property
    def final(self) -> RefineRound:
        return self.rounds[-1]

    def to_dict(self) -> dict[str, Any]:
        """``{"rounds": [{params, flops, train_accuracy, valid_accuracy, test_accuracy, seconds, device, splits}],
        "config": {...}}`` (the config also records per-round value/train seconds and widths)."""
        config = dict(self.config)
        config["seconds_values"] = list(self.seconds_values)
        config["seconds_train"] = list(self.seconds_train)
        config["widths"] = [dict(w) for w in self.widths]
        return {"rounds": [dataclasses.asdict(r) for r in self.rounds], "config": config}

    def save(self, path: str | Path) -> Path:
        """Write RESULT.json atomically."""
        return write_json(path, self.to_dict())


def _resolve_protocol(protocol: str | TrainProtocol | None, dataset: str) -> TrainProtocol:
    if isinstance(protocol, TrainProtocol):
        return protocol
    return default_protocol(dataset) if protocol is None else get_protocol(protocol)


def _accuracies(model: nn.Module, train: Split, data: ImageDataset, device: torch.device) -> dict[str, float]:
    return {"train_accuracy": evaluate_split(model, train)[0], "valid_accuracy": evaluate_split(model, data.valid.to(device))[0],
            "test_accuracy": evaluate_split(model, data.test.to(device))[0]}


def scratch_widths(cell: Cell, macro: MacroConfig, start: Mapping[str, int], budget_params: int,
                   groups: Sequence[str] = GROUPS) -> dict[str, int]:
    """The widest widths within ``budget_params``: add one channel at a time to the group of ``groups`` with the
    smallest ``width / start`` whose channel still fits (exact sizes, ``lso.growth.nb201.nb201_costs``)."""
    costs = nb201_costs(cell, macro, start, groups)
    extra = {name: 0 for name in groups}
    while True:
        order = sorted(groups, key=lambda s: ((start[s] + extra[s]) / start[s], s))
        for name in order:
            grown = dict(extra)
            grown[name] += 1
            if costs.total(grown, "params") <= budget_params:
                extra = grown
                break
        else:
            return {name: start[name] + extra.get(name, 0) for name in start}


def _build(cell: Cell, macro: MacroConfig, widths: Mapping[str, int], seed: int, device: torch.device) -> Network:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = network_with_widths(cell, macro, widths)
    return model.to(device)


def refine(arch: str | Cell, dataset: str, method: str, rounds: int, budget_params: int | None, seed: int = 0,
           device: str | torch.device = "auto", *, protocol: str | TrainProtocol | None = None,
           finetune_epochs: int = 1, inner_mult: float = 0.25, stage_mult: float = 0.5,
           groups: Sequence[str] = GROUPS, copies: int = 2, c: float = 2.0, eps: float = 1e-2,
           route: str = "fast", steps: int = 8, value_samples: int = 128, data: ImageDataset | None = None,
           progress: bool = True, reporter: Reporter | None = None) -> RefineResult:
    """Grow the narrow network of ``arch`` to ``budget_params`` parameters by ``method`` (module docstring).

    Splitting (S3D, Wu et al. 2020; S2D, Liu et al. 2019): neuron ``i`` with splitting matrix
    ``S_i = E[g_i sigma''(h_i) x x^T]`` ([d, d]; for a stage channel the sum over every ReLU reading it, with ``x``
    the stacked inputs of all its producers, ``lso.growth.stages``; ReLU's ``sigma''`` by the softplus(beta=3)
    stand-in) is ranked by its descent value ``G`` (S3D ``G_2 = min(lambda_min, -k lambda_max)``,
    ``k = (c-1)/(c+1)``; S2D ``G = lambda_min``); a split changes the loss by about ``eps^2 / 2 * G``.

    Args:
        arch: NB201 cell string or ``Cell``.
        dataset: registered dataset name (``lso.data.datasets``), e.g. ``"digits"``.
        method: ``"s3d"``, ``"s2d"``, ``"random"`` or ``"scratch"``.
        rounds: splitting rounds after round 0 (>= 1).
        budget_params: final parameter count (whole network); must be >= the starting network's. None: NB201's own
            size for the cell (``lso.space.num_params``: every width back at NB201's).
        seed: initial weights, batch order, random starts and random selection.
        device: ``"auto"``, ``"cpu"`` or ``"cuda[:k]"``.
        protocol: training protocol name or object (default: the dataset's first registered protocol); gives the
            macro network (C, N), optimizer, lr, batch size, train subset and round-0 epochs.
        finetune_epochs: epochs of fine-tuning after each split.
        inner_mult, stage_mult: the starting inner and stage widths as fractions of NB201's.
        groups: the width groups that grow (``lso.growth.nb201.GROUPS``; default all).
        copies, c, eps, route, steps: S3D copies (2 or 4), weight bound, step, eigen route, products per site.
        value_samples: first training images used for the splitting statistics.
        data: an already loaded dataset (must be ``dataset``), to skip loading.
        progress: show a progress bar.
        reporter: ``lso.jobs`` progress: ``(0, rounds, message)`` before training, then after each round
            ``(round, rounds, message, params=, test_accuracy=, valid_accuracy=)`` ("scratch": round 0 and
            ``rounds`` for its final network); a stop request raises ``Cancelled`` at the next report or epoch.

    Raises:
        RefineError: unknown method, budget below the starting size, bad settings.
        ArchStringError, DatasetError, ProtocolError, DeviceError: unknown arch, dataset, protocol; CUDA asked but
            absent.
    """
    if method not in METHODS:
        raise RefineError(f"unknown refine method {method!r}; use one of {', '.join(METHODS)}")
    if rounds < 1:
        raise RefineError(f"rounds must be >= 1, got {rounds}")
    if finetune_epochs < 0 or value_samples < 2:
        raise RefineError(f"finetune_epochs must be >= 0 and value_samples >= 2, got {finetune_epochs}, "
                          f"{value_samples}")
    cell = Cell.parse(arch)
    dev = resolve_device(device)
    proto = _resolve_protocol(protocol, dataset)
    if proto.dataset != dataset:
        raise RefineError(f"protocol {proto.name!r} is for dataset {proto.dataset!r}, not {dataset!r}")
    data = load_dataset(dataset, split_seed=proto.split_seed) if data is None else data
    if data.name != dataset:
        raise RefineError(f"data is {data.name!r}, expected {dataset!r}")
    macro = data.macro(proto.channels, proto.cells_per_stage)
    groups = tuple(groups)
    space = NB201Space(groups)
    start_widths = narrow_widths(macro, inner_mult, stage_mult)
    model = _build(cell, macro, start_widths, seed, dev)
    start_params = count_params(model)
    if budget_params is None:
        budget_params = num_params(cell, macro)
    if budget_params < start_params:
        raise RefineError(f"budget of {budget_params} parameters is below the starting network's {start_params} "
                          f"parameters ({cell.to_string()}, widths {start_widths})")
    train = (data.train if proto.train_samples is None else data.train.head(proto.train_samples)).to(dev)
    example = example_input(macro, dev)
    config: dict[str, Any] = {
        "arch": cell.to_string(), "dataset": dataset, "method": method, "rounds": rounds,
        "budget_params": int(budget_params), "seed": int(seed), "device": describe_device(dev),
        "protocol": proto.to_dict(), "finetune_epochs": finetune_epochs, "inner_mult": inner_mult,
        "stage_mult": stage_mult, "groups": list(groups), "start_widths": dict(start_widths), "copies": copies,
        "c": c, "eps": eps, "route": route, "steps": steps,
        "value_samples": value_samples,
    }
    generator = torch.Generator().manual_seed(seed)
    record: list[tuple[RefineRound, float, float, dict[str, int]]] = []
    if reporter is not None:
        reporter(0, rounds, f"{method}: training the starting network ({start_params} parameters)")

    def report(r: int, model_: nn.Module, acc: Mapping[str, float]) -> None:
        if reporter is not None:
            params = count_params(model_)
            reporter(r, rounds, f"{method}: round {r}/{rounds}, {params} parameters, test accuracy "
                     f"{acc['test_accuracy']:.1f} %", params=float(params), test_accuracy=acc["test_accuracy"],
                     valid_accuracy=acc["valid_accuracy"])

    def finish(model_: nn.Module, seconds_values: float, seconds_train: float, splits: dict[str, int]) -> None:
        acc = _accuracies(model_, train, data, dev)
        report(rounds if record else 0, model_, acc)
        rnd = RefineRound(params=count_params(model_), flops=count_macs(model_, example),
                          seconds=seconds_values + seconds_train, device=describe_device(dev), splits=splits, **acc)
        record.append((rnd, seconds_values, seconds_train, widths_of(model_)))

    if method == "scratch":
        t0 = time.perf_counter()
        train_epochs(model, train, proto, proto.epochs, generator, reporter)
        finish(model, 0.0, time.perf_counter() - t0, {})
        final_widths = scratch_widths(cell, macro, start_widths, budget_params, groups)
        t0 = time.perf_counter()
        wide = _build(cell, macro, final_widths, seed, dev)
        train_epochs(wide, train, proto, proto.epochs + rounds * finetune_epochs, torch.Generator().manual_seed(seed),
                     reporter)
        finish(wide, 0.0, time.perf_counter() - t0, {})
    else:
        grow_config = GrowthConfig(method=method, rounds=rounds, budget=int(budget_params), metric="params",
                                   copies=copies, c=c, eps=eps, route=route, steps=steps, seed=seed)
        n_val = min(value_samples, len(train))
        value_set = [(train.x[s:s + proto.batch_size], train.y[s:s + proto.batch_size])
                     for s in range(0, n_val, proto.batch_size)]

        def train_fn(model_: nn.Module, r: int) -> Mapping[str, float]:
            t0 = time.perf_counter()
            train_epochs(model_, train, proto, proto.epochs if r == 0 else finetune_epochs, generator, reporter)
            seconds = time.perf_counter() - t0
            acc = _accuracies(model_, train, data, dev)
            report(r, model_, acc)
            return {"seconds_train": seconds, **acc}

        growth = grow_network(model, space, train_fn, lambda: value_set, F.cross_entropy, example, grow_config,
                              progress=progress)
        for rec in growth.rounds:
            m = rec.metrics
            rnd = RefineRound(params=rec.params, flops=rec.macs, train_accuracy=m["train_accuracy"],
                              valid_accuracy=m["valid_accuracy"], test_accuracy=m["test_accuracy"],
                              seconds=rec.seconds_values + m["seconds_train"], device=describe_device(dev),
                              splits={k: int(v) for k, v in rec.splits.items()})
            record.append((rnd, rec.seconds_values, m["seconds_train"], dict(rec.widths)))
    return _result(record, config)


def _result(record: Sequence[tuple[RefineRound, float, float, dict[str, int]]], config: dict[str, Any]) -> RefineResult:
    return RefineResult(rounds=tuple(r for r, *_ in record), config=config,
                        seconds_values=tuple(v for _, v, _, _ in record),
                        seconds_train=tuple(t for _, _, t, _ in record), widths=tuple(w for *_, w in record))


@dataclass(frozen=True)
class RefineComparison:
    """``refine`` over methods x seeds for one arch: ``results[(method, seed)]``."""

    arch: str
    dataset: str
    methods: tuple[str, ...]
    seeds: tuple[int, ...]
    budget_params: int
    results: Mapping[tuple[str, int], RefineResult]

    def rounds_frame(self):  # -> pandas.DataFrame
        """One row per (method, seed, round): params, flops, accuracies, seconds, splits (as text)."""
        import pandas as pd

        rows = []
        for (method, seed), res in sorted(self.results.items()):
            for k, r in enumerate(res.rounds):
                row = {"method": method, "seed": seed, "round": k, **dataclasses.asdict(r)}
                row["splits"] = ";".join(f"{s}:{n}" for s, n in r.splits.items())
                row["seconds_values"] = res.seconds_values[k]
                row["seconds_train"] = res.seconds_train[k]
                rows.append(row)
        return pd.DataFrame(rows)

    def widths_frame(self):  # -> pandas.DataFrame
        """One row per (method, seed): the final width of every group (``lso.growth.nb201.GROUPS``), to see where
        each method put its channels."""
        import pandas as pd

        return pd.DataFrame([{"method": m, "seed": s, **res.widths[-1]}
                             for (m, s), res in sorted(self.results.items())])

    def final_frame(self):  # -> pandas.DataFrame
        """Per method: mean and std over seeds of the final round's params and accuracies."""
        frame = self.rounds_frame()
        last = frame[frame["round"] == frame.groupby(["method", "seed"])["round"].transform("max")]
        table = last.groupby("method", sort=False).agg(
            params=("params", "mean"), test_mean=("test_accuracy", "mean"), test_std=("test_accuracy", "std"),
            valid_mean=("valid_accuracy", "mean"), train_mean=("train_accuracy", "mean"), seeds=("seed", "count"))
        return table.reindex([m for m in self.methods if m in table.index]).reset_index()


def compare_refine(arch: str | Cell, dataset: str, *, methods: Sequence[str] = METHODS,
                   seeds: Sequence[int] = (0, 1, 2),
                   rounds: int = 3, budget_params: int | None = None, device: str | torch.device = "auto",
                   progress: bool = True, reporter: Reporter | None = None,
                   **refine_kwargs: Any) -> RefineComparison:
    """Run ``refine`` for every method and seed (same budget; None: NB201's size of the cell), the dataset loaded
    once; ``refine_kwargs`` go to every run (``protocol``, ``finetune_epochs``, ``inner_mult``, ...).

    ``reporter`` receives every run's reports, counted over all runs (``rounds + 1`` units per run, in the order
    ``[(m, s) for s in seeds for m in methods]``), the message prefixed by ``"run k/n, seed s"`` and the figure
    ``run`` = that run's position in this order; a stop request ends the comparison at the next report."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods or not seeds:
        raise RefineError(f"compare needs methods among {', '.join(METHODS)} and >= 1 seed; got {list(methods)}, "
                          f"{list(seeds)}")
    cell = Cell.parse(arch)
    resolve_device(device)
    proto = _resolve_protocol(refine_kwargs.get("protocol"), dataset)
    data = load_dataset(dataset, split_seed=proto.split_seed)
    results = {}
    jobs = [(m, s) for s in seeds for m in methods]
    for k, (m, s) in enumerate(tqdm(jobs, desc="refine compare", disable=not progress)):
        child = (None if reporter is None
                 else _run_relay(reporter, k, len(jobs), rounds, f"run {k + 1}/{len(jobs)}, seed {s}"))
        results[(m, int(s))] = refine(cell, dataset, m, rounds, budget_params, int(s), device, data=data,
                                      progress=False, reporter=child, **refine_kwargs)
    budget = next(iter(results.values())).config["budget_params"]
    return RefineComparison(arch=cell.to_string(), dataset=dataset, methods=tuple(methods),
                            seeds=tuple(int(s) for s in seeds), budget_params=budget, results=results)


def _run_relay(parent: Reporter, run: int, runs: int, rounds: int, label: str) -> RelayReporter:
    """Run ``run`` of ``runs`` (each ``rounds + 1`` units) reporting into the comparison's reporter."""
    units = rounds + 1
    return RelayReporter(parent, lambda e: (run * units + e.done + (1 if e.figures else 0), runs * units,
                                            f"{label}: {e.message}", {"run": float(run), **e.figures}))


def accuracy_vs_params_figure(comparison: RefineComparison):  # -> plotly.graph_objects.Figure
    """Test accuracy (mean over seeds, error bar = std) against parameters, one line per method through its rounds."""
    import plotly.graph_objects as go

    frame = comparison.rounds_frame()
    fig = go.Figure()
    for method in comparison.methods:
        part = frame[frame.method == method].groupby("round").agg(
            params=("params", "mean"), acc=("test_accuracy", "mean"), std=("test_accuracy", "std")).fillna(0.0)
        fig.add_trace(go.Scatter(x=part.params, y=part.acc, error_y={"type": "data", "array": part["std"]},
                                 mode="lines+markers", name=method))
    fig.update_layout(title=f"lso refine: {comparison.arch} on {comparison.dataset}, budget "
                            f"{comparison.budget_params} params, seeds {list(comparison.seeds)}",
                      xaxis_title="parameters", yaxis_title="test accuracy (%)", template="plotly_white")
    return fig


@dataclass(frozen=True)
class RefineComparisonFiles:
    """Where ``write_refine_comparison`` put things."""

    rounds_csv: Path
    final_csv: Path
    plot: Path
    results_json: Path


def write_refine_comparison(comparison: RefineComparison, out_dir: str | Path) -> RefineComparisonFiles:
    """Write rounds.csv, final.csv, accuracy_vs_params.html (plotly, self-contained) and results.json (every run's
    RESULT.json content keyed ``method/seed``), each atomically."""
    out = Path(out_dir)
    return RefineComparisonFiles(
        rounds_csv=write_text(out / "rounds.csv", comparison.rounds_frame().to_csv(index=False)),
        final_csv=write_text(out / "final.csv", comparison.final_frame().to_csv(index=False)),
        plot=write_text(out / "accuracy_vs_params.html",
                        accuracy_vs_params_figure(comparison).to_html(include_plotlyjs=True)),
        results_json=write_json(out / "results.json", {f"{m}/{s}": r.to_dict()
                                                       for (m, s), r in sorted(comparison.results.items())}),
    )
