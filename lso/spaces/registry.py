"""The search spaces lso knows, by name: ``SPACES`` and ``get_space``."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from lso.spaces.darts import DartsSpace
from lso.spaces.nb101 import Nb101Space
from lso.spaces.nb201 import Nb201Space
from lso.spaces.protocol import SearchSpace, SpaceError

SPACES: Mapping[str, SearchSpace] = MappingProxyType({s.name: s for s in (Nb201Space(), Nb101Space(), DartsSpace())})
"""Name -> space (read-only). The spaces are stateless, so one shared instance each is safe."""


def get_space(name: str) -> SearchSpace:
    """The space called ``name`` (``nb201``, ``nb101``, ``darts``); ``SpaceError`` naming the known ones otherwise."""
    try:
        return SPACES[str(name).strip().lower()]
    except KeyError:
        raise SpaceError(f"unknown search space {name!r}; known spaces: {', '.join(SPACES)}") from None
