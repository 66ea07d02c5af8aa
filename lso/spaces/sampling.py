"""Seeded samples of distinct cells of a space: ``sample_unique``, the cells a G-VAE trains on and a sampled
benchmark (``lso bench build --space ... --sample N``) trains."""

from __future__ import annotations

import numpy as np

from lso.spaces.protocol import SearchSpace, check_count


def sample_unique(space: SearchSpace, n: int, rng: np.random.Generator) -> list:
    """``n`` cells of ``space`` with distinct ``canonical`` forms, drawn from ``rng`` in chunks (in draw order).

    Raises:
        SpaceError: for a negative or non-integer ``n``.
    """
    n = check_count(n)
    seen: set[str] = set()
    out: list = []
    while len(out) < n:
        for cell in space.sample(max(64, n - len(out)), rng):
            key = space.canonical(cell)
            if key not in seen and len(out) < n:
                seen.add(key)
                out.append(cell)
    return out
