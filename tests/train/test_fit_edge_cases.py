"""fit, Constraints, rate_noise and discretize on the edges: wide ranges, sharp clamps, odd
readouts, missing readouts, argmax stages, numpy numbers and malformed arguments."""

from __future__ import annotations

import itertools
import math
import time
import warnings

import numpy as np
import pytest
import torch

from nncrn import InputError, with_argmax
from nncrn.network import Reaction, ReactionNetwork, Readout, Species
from nncrn.simulate import steady_state
from nncrn.train import (
    Constraints,
    discretize,
    discretize_network,
    early_readout,
    extract_terms,
    fit,
    rate_noise,
)

# ------------------------------------------------------------- the parametrisation


@pytest.mark.parametrize(
    "constraints",
    [
        Constraints(k_min=1e-40),  # beta (ln|w| - ln k_min) ~ 10 * 90 > 709: exp overflowed
        Constraints(k_min=1e-12, k_max=1e25),
        Constraints(sharpness=200.0),
        Constraints(sharpness=1e5),
        Constraints(k_min=0.0, k_max=1e3, sharpness=500.0),
        Constraints(k_min=1e-40, k_max=math.inf, sharpness=500.0),
    ],
)
def test_latents_invert_the_clamp_for_wide_ranges_and_sharp_clamps(constraints):
    w = np.array([-0.5, 2.0, 999.0, -1e-2, 0.3, 0.05])
    u = constraints.latents(w)
    assert np.isfinite(u).all()
    back = constraints.weights(torch.from_numpy(u)).numpy()
    np.testing.assert_allclose(back, w, rtol=1e-12)


@pytest.mark.parametrize("constraints", [Constraints(k_min=1e-40), Constraints(sharpness=200.0)])
def test_fit_with_wide_bounds_or_a_sharp_clamp_keeps_every_reaction(compiled, data, constraints):
    _, net = compiled
    X, y = data
    new, hist = fit(net, X, y, epochs=2, lr=1e-3, constraints=constraints)
    assert hist.n_pruned == 0
    assert new.n_reactions == net.n_reactions  # was 27 -> 13 for sharpness=200
    # lr = 1e-3 for 2 steps moves no rate by more than ~2e-3 (Adam's step is ~lr)
    np.testing.assert_allclose(extract_terms(new).weights, extract_terms(net).weights, atol=3e-3)


@pytest.mark.parametrize("bad", [math.inf, math.nan, -1.0, 0.0])
def test_non_finite_or_non_positive_sharpness_is_rejected(bad):
    with pytest.raises(InputError, match="sharpness"):
        Constraints(sharpness=bad)


def test_trained_rates_never_leave_the_range_by_an_ulp(compiled, data):
    _, net = compiled
    X, y = data
    for levels in (None, 2):
        c = Constraints(k_min=0.1, k_max=0.2, max_levels=levels)
        new, _ = fit(net, X, y, epochs=30, lr=0.5, constraints=c)
        r = np.abs(extract_terms(new).weights)
        assert r.max() <= 0.2 and r.min() >= 0.1  # was 0.20000000000000015


def test_constraints_accept_numpy_numbers():
    c = Constraints(k_min=np.float32(1e-3), k_max=np.float64(10.0), max_levels=np.int64(3),
                    l1=np.float32(0.0), prune_below=np.float64(1e-3))  # fmt: skip
    assert c.max_levels == 3 and type(c.max_levels) is int
    assert type(c.k_min) is float and c.k_min == pytest.approx(1e-3)
    # an integral float is an integer, as in the solvers' settings (TorchODE(max_steps=1e5))
    assert Constraints(max_levels=4.0).max_levels == 4


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"prune_below": "x"}, "prune_below='x'"),
        ({"prune_below": -1.0}, "prune_below=-1.0"),
        ({"prune_below": math.nan}, "prune_below=nan"),
        ({"prune_below": math.inf}, "prune_below=inf"),
        ({"l1": math.inf}, "l1=inf"),
        ({"k_min": math.inf}, "k_min"),
        ({"max_levels": 2.5}, r"Constraints\(max_levels=2.5\): max_levels must be an integer"),
        ({"max_levels": True}, r"max_levels=True\) \(a bool\)"),
    ],
)
def test_constraints_reject_bad_values_at_construction(kwargs, match):
    with pytest.raises(InputError, match=match):
        Constraints(**kwargs)


# ------------------------------------------------------------- readouts and pairs

R = Reaction.parse


def _two_neurons(readout=None) -> ReactionNetwork:
    """Two smoothed-ReLU-like neurons Y, Z that inhibit/excite each other (not linear parts)."""
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "output"), Species("Z", "output")],
        [R("0 -> Y", 0.1), R("2 Y -> Y", 1.0), R("X + Y -> X + 2 Y", 0.8), R("Z + Y -> Z", 0.3),
         R("0 -> Z", 0.1), R("2 Z -> Z", 1.0), R("Y + Z -> Y + 2 Z", 0.5), R("Z -> 0", 0.2)],
        readout,
    )  # fmt: skip


def test_a_difference_readout_of_ordinary_neurons_is_not_a_dual_rail_pair():
    net = _two_neurons([Readout("d", "Y", "Z"), Readout("e", "Z")])
    terms = extract_terms(net)
    assert (terms.minus == -1).all()  # no pair term: Y and Z stay separate neurons
    # the leaks 0 -> Y and 0 -> Z are fixed, not merged into one (zero) pair term
    assert {net.reactions[j].equation() for j in terms.fixed} >= {"0 -> Y", "0 -> Z"}
    X = np.array([[0.5], [1.0], [2.0], [3.0]])
    y = np.array([0, 1, 0, 1])
    new, _ = fit(net, X, y, epochs=1, lr=1e-9)
    assert new.n_reactions == net.n_reactions  # was 8 -> 7 (both leaks removed)
    np.testing.assert_allclose(
        steady_state(new, X).outputs, steady_state(net, X).outputs, rtol=1e-6
    )


def test_compiled_linear_outputs_are_still_dual_rail_pairs(compiled):
    _, net = compiled
    terms = extract_terms(net)
    pair_terms = terms.minus >= 0
    # outputs Y0p/Y0n ... are linear pairs: 3 outputs x (6 weights + 1 bias)
    assert pair_terms.sum() == 3 * 7


def _no_readout() -> ReactionNetwork:
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "hidden")],
        [R("0 -> Y", 0.01), R("2 Y -> Y", 1.0), R("X + Y -> X + 2 Y", 0.5)],
    )


@pytest.mark.parametrize(
    "call",
    [
        lambda net, X: fit(net, X, np.zeros(len(X), int), epochs=1),
        lambda net, X: fit(net, X, np.zeros((len(X), 0)), loss="mse", epochs=1),
        lambda net, X: rate_noise(net, X, n_draws=2),
        lambda net, X: early_readout(net, X),
    ],
)
def test_a_network_without_readout_is_named_as_such(call):
    X = np.linspace(0, 1, 6)[:, None]
    with pytest.raises(InputError, match=r"the network has no readout.*Readout"):
        call(_no_readout(), X)


def test_fit_refuses_an_argmax_stage_and_says_how_to_add_it_later(compiled, data):
    _, net = compiled
    X, y = data
    with pytest.raises(InputError, match=r"without the stage.*with_argmax\(trained\)"):
        fit(with_argmax(net), X, y, epochs=1)


# ------------------------------------------------------------- fit's other arguments


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": "a"}, "batch_size='a'"),
        ({"batch_size": 2.7}, "batch_size=2.7"),
        ({"batch_size": 0}, "batch_size=0"),
        ({"lr": math.inf}, "lr=inf.*finite"),
        ({"lr": math.nan}, "lr=nan"),
        ({"epochs": 2.5}, r"fit\(epochs=2.5\): epochs must be an integer >= 1"),
        ({"epochs": "3"}, r"epochs='3'\) \(a str\)"),
        ({"lr": "0.1"}, r"fit\(lr='0.1'\) \(a str\): lr must be a finite number > 0"),
        ({"rng": -1}, "rng=-1.*>= 0"),
    ],
)
def test_fit_rejects_malformed_arguments(compiled, data, kwargs, match):
    _, net = compiled
    X, y = data
    with pytest.raises(InputError, match=match):
        fit(net, X, y, **{"epochs": 1, **kwargs})


def test_fit_accepts_numpy_integers(compiled, data):
    _, net = compiled
    X, y = data
    _, hist = fit(net, X, y, epochs=np.int64(2), batch_size=np.int32(16), rng=np.int64(0))
    assert hist.loss.shape == (2,) and hist.step_loss.shape == (2 * 3,)
    _, hist = fit(net, X, y, epochs=2.0, batch_size=16.0, rng=0)  # integral floats count
    assert hist.loss.shape == (2,) and hist.step_loss.shape == (2 * 3,)


def test_fit_runs_lbfgs_through_a_closure(compiled, data):
    _, net = compiled
    X, y = data
    _, hist = fit(net, X, y, epochs=3, optimizer=torch.optim.LBFGS, lr=0.5)
    assert hist.loss.shape == (3,) and np.isfinite(hist.loss).all()
    assert hist.final_loss < 0.9 * hist.loss[0]


def test_final_loss_is_the_loss_of_the_returned_network(compiled, data):
    _, net = compiled
    X, y = data
    new, hist = fit(net, X, y, epochs=20, lr=0.05, constraints=Constraints(max_levels=2))
    out = torch.from_numpy(steady_state(new, X).outputs)
    expected = float(torch.nn.functional.cross_entropy(out, torch.from_numpy(y)))
    assert hist.final_loss == pytest.approx(expected, rel=1e-6)
    assert new.metadata["trained"]["final_loss"] == pytest.approx(expected, rel=1e-6)
    assert new.metadata["trained"]["last_epoch_loss"] == hist.loss[-1]
    assert abs(hist.final_loss - hist.loss[-1]) > 1e-3  # clustering to 2 levels changed it


def test_rate_noise_and_discretize_network_reject_malformed_arguments(compiled, data):
    _, net = compiled
    X, _ = data
    with pytest.raises(InputError, match="sigmas must be"):
        rate_noise(net, X, sigmas="a", n_draws=2)
    with pytest.raises(InputError, match="times="):
        early_readout(net, X, times="a")
    with pytest.raises(InputError, match=r"ReactionNetwork\.load"):
        discretize_network("x.json", 2)  # type: ignore[arg-type]
    with pytest.raises(InputError, match=r"discretize_network\(bits=0\)"):
        discretize_network(net, 0, "linear")
    with pytest.raises(InputError, match=r"rate_noise\(n_draws=0\): n_draws must be an integer"):
        rate_noise(net, X, n_draws=0)


# ------------------------------------------------------------- exponential discretization


def test_exponential_discretization_keeps_improving_with_bits_without_overflow():
    w = np.random.default_rng(0).normal(size=200)
    errors = []
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # was: "overflow encountered in power" from 11 bits
        for bits in (4, 6, 8, 10, 12, 16, 20):
            errors.append(np.abs(discretize(w, bits, "exponential") - w).max())
    assert time.perf_counter() - start < 10  # 16 bits alone took 1.6 s, 20 bits minutes
    assert all(b < a for a, b in itertools.pairwise(errors))
    assert errors[4] < 0.006  # 12 bits: was 0.012 (stalled from ~8 bits)
    assert errors[-1] < 1e-4


def test_fit_reports_diverging_steps(compiled, data):
    # Unbounded rates (k_max = inf) and a huge step overflow exp(latent): the loss turns NaN.
    # The default k_max = 1e3 clamps the rates instead, so the same lr gives a finite loss.
    _, net = compiled
    X, y = data
    with pytest.raises(InputError, match=r"fit: the loss became nan in epoch 2 \(lr=1e\+300\).*lower lr"):
        fit(net, X, y, epochs=3, lr=1e300, optimizer="sgd", constraints=Constraints(k_max=math.inf))
    _, hist = fit(net, X, y, epochs=3, lr=1e300, optimizer="sgd")
    assert np.isfinite(hist.loss).all()
