"""Log-normal rate noise (batched draws) and early readout."""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import InputError
from nncrn.simulate import fixed_point, steady_state
from nncrn.train import early_readout, rate_noise

from .conftest import with_feedback


def test_batched_noise_equals_one_simulation_per_draw(compiled, data):
    _, net = compiled
    X, y = data
    res = rate_noise(net, X, y, sigmas=[0.5], n_draws=5, rng=11)
    assert res.method == "layered"
    xi = np.random.default_rng(11).standard_normal((1, 5, net.n_reactions))
    rates = net.stoichiometry.rates
    clean = fixed_point(net, X).outputs.argmax(1)
    for d in range(5):
        pred = fixed_point(net.with_rates(rates * np.exp(0.5 * xi[0, d])), X).outputs.argmax(1)
        assert res.agreement[0, d] == pytest.approx((pred == clean).mean(), abs=1e-12)
        assert res.accuracy[0, d] == pytest.approx((pred == y).mean(), abs=1e-12)
    assert res.clean_accuracy == pytest.approx((clean == y).mean())


def test_inputs_by_name_give_the_same_result(compiled, data):
    _, net = compiled
    X, y = data
    by_name = {name: X[:, j] for j, name in enumerate(net.inputs)}
    a = rate_noise(net, X, y, sigmas=[0.5], n_draws=3, rng=5)
    b = rate_noise(net, by_name, y, sigmas=[0.5], n_draws=3, rng=5)
    np.testing.assert_array_equal(a.agreement, b.agreement)
    np.testing.assert_array_equal(a.accuracy, b.accuracy)


def test_agreement_falls_with_sigma(compiled, data):
    _, net = compiled
    X, _ = data
    res = rate_noise(net, X, sigmas=[0.0, 0.1, 1.0], n_draws=64, rng=0)
    assert res.accuracy is None
    assert res.agreement.shape == (3, 64)
    assert np.all(res.agreement[0] == 1.0)
    assert res.agreement[1].mean() > res.agreement[2].mean() + 0.05


def test_noise_on_a_network_without_closed_form_uses_the_simulator(compiled, data):
    net = with_feedback(compiled[1])
    X, _ = data
    res = rate_noise(net, X[:10], sigmas=[0.0, 0.3], n_draws=2, rng=0)
    assert res.method == "steady_state"
    assert np.all(res.agreement[0] == 1.0)
    xi = np.random.default_rng(0).standard_normal((2, 2, net.n_reactions))
    clean = steady_state(net, X[:10]).outputs.argmax(1)
    noisy = steady_state(net.with_rates(net.stoichiometry.rates * np.exp(0.3 * xi[1, 1])), X[:10])
    assert res.agreement[1, 1] == pytest.approx((noisy.outputs.argmax(1) == clean).mean())


def test_early_readout_converges_to_the_steady_answer(compiled, data):
    _, net = compiled
    X, y = data
    res = early_readout(net, X, y, times=[0.01, 1.0, 10.0, 2000.0])
    assert res.agreement[-1] == 1.0
    assert res.accuracy[-1] == pytest.approx(res.steady_accuracy)
    assert res.agreement[0] < 1.0  # at t = 0.01 the outputs have barely moved


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"sigmas": [-0.1]}, "sigmas"), ({"n_draws": 0}, "n_draws"), ({"sigmas": []}, "sigmas")],
)
def test_rate_noise_rejects_bad_input(compiled, data, kwargs, match):
    with pytest.raises(InputError, match=match):
        rate_noise(compiled[1], data[0], **kwargs)


def test_early_readout_counts_a_tie_as_undecided_not_as_class_zero(compiled, data):
    _, net = compiled
    X, y = data
    res = early_readout(net, X, y, times=[0.0, 2000.0])
    # at t = 0 every output is 0: argmax would say class 0 for all inputs
    assert res.undecided[0] == 1.0 and res.agreement[0] == 0.0 and res.accuracy[0] == 0.0
    assert res.undecided[1] == 0.0 and res.agreement[1] == 1.0
