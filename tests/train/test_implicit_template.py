"""The implicit path's template network solves the same problem as the rebuilt network.

Each term's rate is a rate species (``K+ = relu(w)``, ``K- = relu(-w)``) of one network built
once; its steady state must equal that of :meth:`Terms.rebuild` for the same signed weights
(which writes one reaction per non-zero term), including weights that changed sign, zero
weights and dual-rail parts, and the gradient must equal finite differences there.
"""

from __future__ import annotations

import numpy as np
import torch

from nncrn.simulate import steady_state
from nncrn.train import extract_terms
from nncrn.train._implicit import ImplicitPlan, implicit_state

from .conftest import with_feedback


def _signed_weights(terms, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = terms.weights * rng.uniform(0.5, 1.5, terms.n_terms)
    flip = rng.random(terms.n_terms) < 0.25  # a quarter change sign (reaction kind)
    w[flip] *= -1
    w[rng.random(terms.n_terms) < 0.05] = 0.0  # and a few vanish (no reaction at all)
    return w


def test_template_steady_state_equals_the_rebuilt_network(compiled, data):
    net = with_feedback(compiled[1])
    terms = extract_terms(net)
    plan = ImplicitPlan(terms)
    assert plan.network.n_species == net.n_species + 2 * terms.n_terms
    X = data[0][:12]
    for seed in range(3):
        w = _signed_weights(terms, seed)
        assert (np.sign(w) != np.sign(terms.weights)).any() and (terms.minus >= 0).any()
        got = implicit_state(torch.from_numpy(w), plan, X).numpy()
        want = steady_state(terms.rebuild(w), X, atol=1e-14, rtol=1e-13).concentrations
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-11)


def test_template_gradient_after_sign_changes_matches_finite_differences(compiled, data):
    net = with_feedback(compiled[1])
    terms = extract_terms(net)
    plan = ImplicitPlan(terms)
    X = data[0][:5]
    w0 = _signed_weights(terms, 7)
    w0[w0 == 0] = 0.05  # finite differences need both sides of every weight inside one kind
    c = np.random.default_rng(3).standard_normal((len(X), len(net.outputs)))
    plus = [net.index(r.plus) for r in net.readout]
    minus = [net.index(r.minus) for r in net.readout]
    w = torch.tensor(w0, requires_grad=True)
    s = implicit_state(w, plan, X)
    ((s[:, plus] - s[:, minus]) * torch.from_numpy(c)).sum().backward()

    def loss(wv: np.ndarray) -> float:
        return float((steady_state(terms.rebuild(wv), X, atol=1e-14, rtol=1e-13).outputs * c).sum())

    idx = np.flatnonzero(np.abs(w0) > 0.02)[::5]
    fd = np.empty(idx.size)
    for k, i in enumerate(idx):
        h = 1e-4 * max(abs(w0[i]), 1e-2)
        e = np.zeros_like(w0)
        e[i] = h
        fd[k] = (loss(w0 + e) - loss(w0 - e)) / (2 * h)
    np.testing.assert_allclose(w.grad.numpy()[idx], fd, rtol=1e-5, atol=1e-7 * np.abs(fd).max())
