"""Shared helpers: small, fast markets for tests."""

from __future__ import annotations

import pytest

from loyaltysim import load_config

SMALL = (
    "customers.n=400",
    "market.horizon_weeks=30",
    "market.warmup_weeks=10",
    "output.figure=false",
)


def small_config(*overrides: str, **values):
    """A composed, validated config of a small market (400 customers, 30 weeks)."""
    return load_config([*SMALL, *overrides], **values)


@pytest.fixture
def small():
    return small_config
