"""The exact kernels' inline generator: uniforms and ziggurat exponentials have their laws."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from nncrn.simulate._ssa._random import exponential, seed_state, uniform

scipy_stats = pytest.importorskip("scipy.stats")


@njit(cache=False)
def _draw(state, n, kind):
    s0, s1, s2, s3 = state[0], state[1], state[2], state[3]
    out = np.empty(n)
    for i in range(n):
        if kind == 0:
            out[i], s0, s1, s2, s3 = exponential(s0, s1, s2, s3)
        else:
            out[i], s0, s1, s2, s3 = uniform(s0, s1, s2, s3)
    return out


N = 400_000


def test_exponentials_have_the_standard_exponential_law():
    x = _draw(seed_state(np.random.SeedSequence(7)), N, 0)
    assert abs(x.mean() - 1) < 5 / np.sqrt(N)  # se of the mean is 1 / sqrt(N)
    assert abs(x.var() - 1) < 5 * np.sqrt(8 / N)  # the variance's se is sqrt(8 / N)
    assert scipy_stats.kstest(x, "expon").pvalue > 1e-3
    # the ziggurat's tail path (beyond r = 7.697, probability e^-r = 4.5e-4) and wedges
    tail = np.mean(x > 7.69711747013104972)
    assert abs(tail - np.exp(-7.69711747013104972)) < 5 * np.sqrt(4.5e-4 / N)  # ~180 of N
    for q in (0.5, 0.9, 0.999):
        assert np.quantile(x, q) == pytest.approx(-np.log(1 - q), rel=0.02)


def test_uniforms_are_uniform_and_streams_differ_by_seed():
    u = _draw(seed_state(np.random.SeedSequence(8)), N, 1)
    assert u.min() >= 0 and u.max() < 1
    assert scipy_stats.kstest(u, "uniform").pvalue > 1e-3
    assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 5 / np.sqrt(N)  # successive draws
    a = _draw(seed_state(np.random.SeedSequence(8)), 5, 1)
    b = _draw(seed_state(np.random.SeedSequence(9)), 5, 1)
    np.testing.assert_array_equal(a, u[:5])  # reproducible from the seed
    assert not np.any(a == b)


def test_seed_state_is_four_words_and_never_zero():
    state = seed_state(np.random.SeedSequence(0))
    assert state.dtype == np.uint64 and state.shape == (4,) and state.any()
