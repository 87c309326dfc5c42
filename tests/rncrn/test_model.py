"""The RNCRN model: compilation, quasi-steady state, Jacobians, exact rescaling."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncrn import InputError
from nncrn.rncrn import RNCRN
from nncrn.simulate._massaction import rhs


def random_model(n: int, m: int, seed: int = 0, beta: float | None = None) -> RNCRN:
    g = np.random.default_rng(seed)
    return RNCRN(
        alpha=g.normal(size=(n, m)),
        omega=g.normal(size=(m, n)),
        bias=g.normal(size=m),
        beta=g.uniform(0.5, 2.0, n) if beta is None else np.full(n, beta),
        gamma=g.uniform(0.5, 2.0, m),
        tau=g.uniform(0.5, 2.0, m),
    )


@pytest.mark.parametrize(("n", "m"), [(1, 3), (2, 6), (3, 5)])
def test_reaction_count_is_2nm_3m_n_and_at_most_bimolecular(n, m):
    net = random_model(n, m, seed=n + m).to_network(0.01)
    assert net.n_reactions == 2 * n * m + 3 * m + n
    assert max(r.order for r in net.reactions) <= 2
    assert net.n_species == n + m


def test_zero_weights_and_beta_have_no_reaction():
    model = random_model(1, 3, beta=0.0)
    assert model.to_network(0.01).n_reactions == 2 * 3 + 3 * 3  # no 0 -> X
    alpha = model.alpha.copy()
    alpha[0, 1] = 0.0
    m2 = RNCRN(alpha, model.omega, model.bias, model.beta, model.gamma, model.tau)
    assert m2.to_network(0.01).n_reactions == 14


def test_perceptron_qss_is_the_positive_root_of_its_rate_law():
    model = random_model(2, 4, seed=3)
    x = np.array([[0.3, 2.0], [5.0, 0.1]])
    y = model.perceptrons(x)
    s = x @ model.omega.T + model.bias
    for b in range(2):
        for j in range(4):
            roots = np.roots([-model.tau[j], s[b, j], model.gamma[j]])
            assert y[b, j] == pytest.approx(roots.real.max(), rel=1e-12)


@pytest.mark.parametrize(("n", "m", "mu"), [(1, 3, 0.01), (2, 6, 0.001), (3, 5, 0.1)])
def test_network_rhs_at_qss_is_the_reduced_vector_field(n, m, mu):
    model = random_model(n, m, seed=7 * n + m)
    net = model.to_network(mu)
    x = np.random.default_rng(1).uniform(0.1, 4.0, size=(6, n))
    state = np.concatenate([x, model.perceptrons(x)], axis=1)
    d = rhs(net.stoichiometry, state)
    np.testing.assert_allclose(d[:, :n], model.vector_field(x), rtol=1e-10, atol=1e-10)
    # the perceptrons are at their fixed point: mu dy/dt vanishes up to roundoff
    np.testing.assert_allclose(mu * d[:, n:], 0.0, atol=1e-9)
    # reduced field written out by hand: beta + x * sum_j alpha_ij y_j
    y = model.perceptrons(x)
    by_hand = model.beta + np.stack(
        [x[:, i] * sum(model.alpha[i, j] * y[:, j] for j in range(m)) for i in range(n)], axis=1
    )
    np.testing.assert_allclose(model.vector_field(x), by_hand, rtol=1e-12)


def test_full_jacobian_matches_finite_differences_of_the_network_rhs():
    model = random_model(2, 3, seed=11)
    mu = 0.05
    net = model.to_network(mu)
    x = np.array([[1.3, 0.7]])
    state = np.concatenate([x, model.perceptrons(x)], axis=1)[0]
    h = 1e-6
    fd = np.stack(
        [
            (rhs(net.stoichiometry, state + h * e) - rhs(net.stoichiometry, state - h * e))
            / (2 * h)
            for e in np.eye(state.size)
        ],
        axis=1,
    )
    np.testing.assert_allclose(model.full_jacobian(x, mu)[0], fd, rtol=1e-6, atol=1e-6)


def test_reduced_jacobian_matches_finite_differences():
    model = random_model(3, 4, seed=5)
    x = np.array([[0.5, 1.5, 2.5]])
    h = 1e-6
    fd = np.stack(
        [
            (model.vector_field(x + h * e) - model.vector_field(x - h * e))[0] / (2 * h)
            for e in np.eye(3)
        ],
        axis=1,
    )
    np.testing.assert_allclose(model.jacobian(x)[0], fd, rtol=1e-6, atol=1e-8)


def test_balanced_keeps_the_dynamics_and_lowers_the_spread():
    model = random_model(2, 4, seed=2)
    alpha = model.alpha.copy()
    alpha[:, 0] *= 1e-3  # a badly scaled perceptron: 0.001 alpha, 1000 y
    bad = RNCRN(alpha, model.omega, model.bias, model.beta, model.gamma * 1e3, model.tau / 1e3)
    fixed = bad.balanced(0.01)
    x = np.random.default_rng(0).uniform(0.1, 3, size=(10, 2))
    np.testing.assert_allclose(fixed.vector_field(x), bad.vector_field(x), rtol=1e-10)
    assert fixed.rate_spread(0.01) < bad.rate_spread(0.01) - 2.5
    # the full network's executive dynamics are unchanged too (y rescaled)
    scale = fixed.alpha[0, 0] / bad.alpha[0, 0]
    s_bad = np.concatenate([x, bad.perceptrons(x)], axis=1)
    s_fix = np.concatenate([x, fixed.perceptrons(x)], axis=1)
    np.testing.assert_allclose(s_fix[:, 2], s_bad[:, 2] / scale, rtol=1e-10)
    d_bad = rhs(bad.to_network(0.01).stoichiometry, s_bad * 1.1)
    d_fix = rhs(fixed.to_network(0.01).stoichiometry, s_fix * 1.1)
    np.testing.assert_allclose(d_fix[:, :2], d_bad[:, :2], rtol=1e-9)


def test_rate_spread_is_log10_max_over_min():
    model = random_model(1, 2, seed=4)
    k = np.array([r.rate for r in model.to_network(0.01).reactions])
    assert model.rate_spread(0.01) == pytest.approx(math.log10(k.max() / k.min()))


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"gamma": [1.0, -1.0]}, "gamma must be > 0"),
        ({"beta": [-1.0]}, "beta must be >= 0"),
        ({"omega": [[1.0, 2.0]]}, "omega has shape"),
        ({"bias": [np.nan, 0.0]}, "must be finite"),
    ],
)
def test_bad_parameters_are_refused(kwargs, match):
    base = {"alpha": [[1.0, -1.0]], "omega": [[1.0], [-1.0]], "bias": [0.5, -0.5],
            "beta": [0.0], "gamma": [1.0, 1.0], "tau": [1.0, 1.0]}  # fmt: skip
    base.update(kwargs)
    with pytest.raises(InputError, match=match):
        RNCRN(**base)


@pytest.mark.parametrize("mu", [0, -0.1, math.inf, "fast", True])
def test_bad_mu_is_refused(mu):
    with pytest.raises(InputError, match="mu"):
        random_model(1, 2).to_network(mu)


def test_vector_field_wants_a_batch():
    with pytest.raises(InputError, match="reshape"):
        random_model(2, 2).vector_field(np.ones(2))
