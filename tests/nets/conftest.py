"""Fixtures of the network tests."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread():
    """One torch thread per test: the 2 cores are shared, and intra-op threads fighting other processes slow tiny
    convolutions down many times over (the builder trains with one thread per worker too)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
