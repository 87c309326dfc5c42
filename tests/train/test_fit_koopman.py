"""fit(accelerate=...): Koopman jumps on rate constants are exact where training is affine."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn.compile import compile_network
from nncrn.train import Constraints, Koopman, extract_terms, fit


@pytest.fixture
def linear_network():
    """A compiled ``Linear(4, 2)``: dual-rail outputs, linear in the rate constants."""
    torch.manual_seed(0)
    net = compile_network(torch.nn.Linear(4, 2).double())
    rng = np.random.default_rng(0)
    return net, rng.uniform(0, 1, (30, 4)), rng.normal(size=(30, 2))


def test_jumps_on_a_linear_network_equal_the_gradient_steps_they_skip(linear_network):
    # mse of a readout linear in the weights, unbounded rates, SGD: the latents move
    # affinely, so 60 steps with 3 accepted jumps of 50 land where 210 plain steps do.
    net, X, Y = linear_network
    common = dict(loss="mse", optimizer="sgd", lr=0.5, constraints=Constraints.none(),
                  keep_best=False)  # fmt: skip
    fast, hist = fit(net, X, Y, epochs=60, accelerate=Koopman(window=20, horizon=50), **common)
    slow, slow_hist = fit(net, X, Y, epochs=210, **common)
    short, short_hist = fit(net, X, Y, epochs=60, **common)
    assert [j.accepted for j in hist.jumps] == [True, True, True]
    assert [j.iteration for j in hist.jumps] == [20, 90, 160]
    w_fast, w_slow = extract_terms(fast).weights, extract_terms(slow).weights
    assert np.abs(w_slow - extract_terms(short).weights).max() > 1e-3  # 150 steps matter
    np.testing.assert_allclose(w_fast, w_slow, rtol=0, atol=1e-8)
    assert hist.final_loss == pytest.approx(slow_hist.final_loss, rel=1e-12)
    assert hist.final_loss < short_hist.final_loss - 1e-3
    assert hist.evaluations == 60 + 2 * 3 and short_hist.evaluations == 60
    assert fast.metadata["trained"]["koopman_jumps_accepted"] == 3


def test_accelerated_fit_of_a_smooth_relu_network_keeps_only_improving_jumps(compiled, data):
    _, net = compiled
    X, y = data
    _, hist = fit(net, X, y, epochs=100, lr=0.05, accelerate="koopman")
    assert [j.step for j in hist.jumps] == [50, 100]  # KOOPMAN_PRESET: a window of 50 steps
    for j in hist.jumps:
        assert j.accepted == (j.loss_after <= j.loss_before)
    assert hist.evaluations == 100 + 2 * 2
    assert np.isfinite(hist.final_loss) and hist.final_loss < hist.initial_loss
    with pytest.raises(InputError, match=r"accelerate='dmd'.*Koopman"):
        fit(net, X, y, epochs=1, accelerate="dmd")


@pytest.mark.parametrize("kind", ["node", "layer", "weight"])
def test_every_partition_runs_on_rate_constants(compiled, data, kind):
    _, net = compiled
    X, y = data
    _, hist = fit(net, X, y, epochs=10, lr=0.05,
                  accelerate=Koopman(window=5, horizon=10, partition=kind))  # fmt: skip
    assert len(hist.jumps) == 2
    assert all(np.isfinite(j.loss_before) for j in hist.jumps)
