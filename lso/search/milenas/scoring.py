"""The oracle that scores a search's derived cell: a benchmark table, or training the cell under a protocol."""

from __future__ import annotations

import os

import torch

from lso.data.datasets import ImageDataset
from lso.oracle import Oracle
from lso.search.milenas.config import MilenasError


def build_oracle(
    dataset: str,
    *,
    bench: str | os.PathLike[str] | None = None,
    signal: str | None = None,
    report: str | None = None,
    protocol: str | None = None,
    device: str | torch.device = "cpu",
    data: ImageDataset | None = None,
    data_root: str | os.PathLike[str] | None = None,
    cache: str | os.PathLike[str] | None = None,
    space: str = "nb201",
) -> Oracle:
    """The oracle scoring a derived cell: a ``TableOracle`` over ``bench`` (metrics ``signal`` / ``report``,
    default ``<dataset>_valid`` / ``<dataset>_test``), otherwise a ``TrainingOracle`` with ``protocol`` (default:
    the dataset's first registered protocol), sharing ``data`` when it is the protocol's dataset and split.

    For ``space="darts"`` the derived genotype is trained (no table lists every genotype): the protocol defaults to
    ``<dataset>-darts`` (``mnist1d-darts``, the recipe of the sampled DARTS benchmark, so the score is comparable
    with its rows) and the runs are cached as DARTS runs.

    Raises:
        MilenasError: when ``--signal/--report`` are given without a table, the protocol is for another dataset, a
            table is given for the DARTS space, or no DARTS protocol is registered for the dataset.
        BenchmarkFileError, MetricError, ProtocolError: for a bad table, metric or protocol.
    """
    if space == "darts" and bench is not None:
        raise MilenasError("a DARTS search's genotype is scored by training it (--protocol): no table lists the DARTS "
                           "space (--bench is for NB201)")
    if bench is not None:
        if protocol is not None:
            raise MilenasError("give either a benchmark table (--bench) or a training protocol (--protocol), not both")
        from lso.bench import BenchmarkTable
        from lso.search.oracle import TableOracle

        return TableOracle(BenchmarkTable.load(bench), signal or f"{dataset}_valid", report or f"{dataset}_test")
    if signal is not None or report is not None:
        raise MilenasError("--signal/--report choose table columns: they need --bench TABLE")
    from lso.nets.protocol import PROTOCOLS, default_protocol, get_protocol
    from lso.nets.training_oracle import TrainingOracle

    if space == "darts" and not protocol:
        protocol = f"{dataset}-darts"
        if protocol not in PROTOCOLS:
            raise MilenasError(f"no DARTS protocol is registered for dataset {dataset!r} (mnist1d has mnist1d-darts): "
                               "pass --protocol")
    chosen = get_protocol(protocol) if protocol else default_protocol(dataset)
    if chosen.dataset != dataset:
        raise MilenasError(f"protocol {chosen.name!r} is for dataset {chosen.dataset!r}, not {dataset!r}")
    shared = data if data is not None and data.name == chosen.dataset and data.split_seed == chosen.split_seed else None
    return TrainingOracle(chosen, cache=cache, device=device, data=shared, data_root=data_root, space=space)
