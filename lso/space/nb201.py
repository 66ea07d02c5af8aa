"""The NAS-Bench-201 search space as a whole: the official enumeration and the macro network's analytic cost.

Official index order: NAS-Bench-201 generated all 5^6 cells with the first edge slot as the most significant digit
(ops in ``OPS`` order) and then shuffled that list once with Python's ``random`` seeded with 88. Index ``i`` of every
official table is position ``i`` of the shuffled list. We rebuild it with a private ``random.Random(88)``.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from functools import lru_cache

from lso.errors import ArchStringError
from lso.space.cell import EDGES, NUM_EDGES, OPS, Cell

_OFFICIAL_SHUFFLE_SEED = 88


def num_cells() -> int:
    """Size of the space, 5^6 = 15,625."""
    return len(OPS) ** NUM_EDGES


@lru_cache(maxsize=1)
def _official_cells() -> tuple[Cell, ...]:
    cells = [Cell(ops) for ops in itertools.product(OPS, repeat=NUM_EDGES)]
    random.Random(_OFFICIAL_SHUFFLE_SEED).shuffle(cells)
    return tuple(cells)


@lru_cache(maxsize=1)
def _official_index() -> dict[Cell, int]:
    return {cell: i for i, cell in enumerate(_official_cells())}


def all_cells() -> tuple[Cell, ...]:
    """All 15,625 cells in official index order (``all_cells()[i]`` is official index ``i``)."""
    return _official_cells()


def cell_from_index(index: int) -> Cell:
    """The cell at official NAS-Bench-201 index ``index`` (0..15,624)."""
    if not 0 <= int(index) < num_cells():
        raise ArchStringError(f"architecture index {index} out of range 0..{num_cells() - 1}")
    return _official_cells()[int(index)]


def index_of(cell: Cell | str) -> int:
    """The official index of a cell (or of its string)."""
    return _official_index()[Cell.parse(cell)]


@lru_cache(maxsize=1)
def unique_ids() -> tuple[int, ...]:
    """Per official index, the id of its isomorphism class: the smallest official index with the same function.

    There are 6,466 distinct ids.
    """
    first: dict[str, int] = {}
    ids = []
    for i, cell in enumerate(_official_cells()):
        ids.append(first.setdefault(cell.canonical(), i))
    return tuple(ids)


@dataclass(frozen=True)
class MacroConfig:
    """The NAS-Bench-201 macro network around the cell.

    stem conv3x3(C) + BN; 3 stages of ``N`` cells at C, 2C, 4C, joined by residual reduction blocks (stride 2);
    BN + ReLU; global average pool; linear. Defaults are the benchmark's: C=16, N=5, CIFAR-10 (32x32x3, 10 classes).
    """

    channels: int = 16
    cells_per_stage: int = 5
    num_classes: int = 10
    in_channels: int = 3
    input_size: int = 32


_KERNEL = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}


def _conv_params(c_in: int, c_out: int, k: int, bn: bool = True) -> int:
    return c_in * c_out * k * k + (2 * c_out if bn else 0)


def _reduction_params(c_in: int, c_out: int) -> int:
    # ResNet basic block: ReLU-Conv3x3(stride 2)-BN, ReLU-Conv3x3-BN, shortcut AvgPool(2) + Conv1x1 (no BN).
    return _conv_params(c_in, c_out, 3) + _conv_params(c_out, c_out, 3) + _conv_params(c_in, c_out, 1, bn=False)


def num_params(cell: Cell | str, macro: MacroConfig = MacroConfig()) -> int:
    """Number of trainable parameters of the macro network built around ``cell``.

    Convolutions have no bias; every BN is affine (2 parameters per channel); the classifier has a bias.
    ``num_params(cell) / 1e6`` is NAS-Bench-201's ``params_mb`` for CIFAR-10.
    """
    cell = Cell.parse(cell)
    c, n = macro.channels, macro.cells_per_stage
    total = _conv_params(macro.in_channels, c, 3)  # stem
    for stage in range(3):
        width = c * 2**stage
        per_cell = sum(_conv_params(width, width, _KERNEL[op]) for op in cell.ops if op in _KERNEL)
        total += n * per_cell
        if stage < 2:
            total += _reduction_params(width, 2 * width)
    last = 4 * c
    total += 2 * last  # final BN
    total += last * macro.num_classes + macro.num_classes
    return total


def flops(cell: Cell | str, macro: MacroConfig = MacroConfig()) -> int:
    """Multiply-accumulates of one forward pass of one image, NAS-Bench-201's convention.

    Counts convolutions (H_out * W_out * C_in * C_out * k^2) and the linear layer (in * out + out), not BN, ReLU or
    pooling, as NAS-Bench-201's FLOPs counter does. All-``nor_conv_3x3`` on CIFAR-10 gives 220.12 M.
    """
    cell = Cell.parse(cell)
    c, n, hw = macro.channels, macro.cells_per_stage, macro.input_size
    total = hw * hw * macro.in_channels * c * 9  # stem
    for stage in range(3):
        width, side = c * 2**stage, hw // 2**stage
        per_cell = sum(side * side * width * width * _KERNEL[op] ** 2 for op in cell.ops if op in _KERNEL)
        total += n * per_cell
        if stage < 2:
            out = side // 2
            total += out * out * (width * 2 * width * 9 + 2 * width * 2 * width * 9 + width * 2 * width)
    total += 4 * c * macro.num_classes + macro.num_classes
    return total


def edge_names() -> tuple[str, ...]:
    """Human names of the 6 edge slots, e.g. ``'1<-0'``."""
    return tuple(f"{to}<-{frm}" for to, frm in EDGES)
