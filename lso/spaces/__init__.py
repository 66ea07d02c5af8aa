"""Search spaces behind one protocol (issue 18): NAS-Bench-201 (an adapter over ``lso.space``), NAS-Bench-101 and
the DARTS / NAS-Bench-301 space. A user's own space implements ``SearchSpace`` (example: tests/spaces/test_toy_space.py)."""

from lso.spaces.darts import DartsGenotype, DartsSpace
from lso.spaces.nb101 import Nb101Cell, Nb101Space
from lso.spaces.nb201 import Nb201Space
from lso.spaces.protocol import (
    CellGraph,
    SearchSpace,
    SpaceError,
    SpaceTooLargeError,
    make_graph,
    numpy_rng,
)
from lso.spaces.registry import SPACES, get_space
from lso.spaces.sampling import sample_unique

__all__ = [
    "SPACES",
    "CellGraph",
    "DartsGenotype",
    "DartsSpace",
    "Nb101Cell",
    "Nb101Space",
    "Nb201Space",
    "SearchSpace",
    "SpaceError",
    "SpaceTooLargeError",
    "get_space",
    "make_graph",
    "numpy_rng",
    "sample_unique",
]
