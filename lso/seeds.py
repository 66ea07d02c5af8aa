"""The seeds lso accepts: one range for every command and library entry point that takes a seed.

``0 <= seed <= SEED_MAX`` (2**32 - 1). Every generator lso seeds accepts such a seed and the small offsets derived
from it (``seed + 3`` in training, ``seed * 1000 + round`` in refinement): ``torch.manual_seed`` takes up to
2**64 - 1, ``numpy.random.default_rng`` and ``random.Random`` any integer >= 0, and the results' JSON keeps it exact.
"""

from __future__ import annotations

from lso.errors import LsoError

SEED_MAX = 2**32 - 1


class SeedError(LsoError, ValueError):
    """A seed outside ``0..SEED_MAX``."""


def check_seed(seed: int, name: str = "--seed") -> int:
    """``seed`` as an int when ``0 <= seed <= SEED_MAX``; ``SeedError`` naming ``name`` otherwise."""
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise SeedError(f"{name} must be an integer in 0..{SEED_MAX}, got {seed!r}")
    if not 0 <= seed <= SEED_MAX:
        raise SeedError(f"{name} must be in 0..{SEED_MAX} (2**32 - 1), got {seed}")
    return int(seed)


def check_seeds(seeds, name: str = "--seeds") -> tuple[int, ...]:
    """Every seed of ``seeds`` through ``check_seed``."""
    return tuple(check_seed(s, name) for s in seeds)
