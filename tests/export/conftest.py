"""Fixtures of the export tests."""

from __future__ import annotations

import math

import numpy as np
import pytest

from .export_helpers import ajd_network


@pytest.fixture
def small_ajd():
    rng = np.random.default_rng(7)
    # Awkward floats: shortest reprs need 16-17 digits, so 15-digit printing would show.
    w1 = rng.normal(size=(3, 2)) / 3
    w2 = rng.normal(size=(2, 3)) / 7
    b1 = np.array([0.1 + 0.2, -1 / 3, 0.0])
    b2 = np.array([-0.05, 1.0000000000000044])
    return ajd_network([w1, w2], [b1, b2], 1e-2, input_range=(-1.0, math.inf))
