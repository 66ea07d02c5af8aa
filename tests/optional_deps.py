"""Checks for the optional packages some tests need: skipped with the reason locally, a failure in CI (CI=true)."""

from __future__ import annotations

import os

import pytest


def need_ray() -> None:
    """Skip (with the reason) when the ray package is missing; in CI its absence fails."""
    try:
        import ray  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI must run the Ray tests: the ray package (a dev dependency) is missing")
        pytest.skip("the Ray tests need the ray package: pip install 'lso[ray]'")
