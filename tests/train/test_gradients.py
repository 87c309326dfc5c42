"""fit's gradients equal finite differences of the simulated steady state."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn.network import Reaction, ReactionNetwork
from nncrn.simulate import fixed_point, steady_state
from nncrn.train import extract_terms
from nncrn.train._implicit import implicit_state
from nncrn.train._layered import NotFeedForward, build_layered

from .conftest import with_feedback


def _loss_weights(network, n: int) -> np.ndarray:
    return np.random.default_rng(7).standard_normal((n, len(network.outputs)))


def _fd(f, w: np.ndarray, rel: float) -> np.ndarray:
    """Five-point central differences (error O(h^4)) of a scalar function of ``w``."""
    g = np.empty_like(w)
    for i in range(w.size):
        h = rel * max(abs(w[i]), 1e-2)
        e = np.zeros_like(w)
        e[i] = h
        g[i] = (-f(w + 2 * e) + 8 * f(w + e) - 8 * f(w - e) + f(w - 2 * e)) / (12 * h)
    return g


def _fd_subset(f, w: np.ndarray, idx: np.ndarray, rel: float) -> np.ndarray:
    """Five-point central differences in the coordinates ``idx`` only."""
    g = np.empty(idx.size)
    for k, i in enumerate(idx):
        h = rel * max(abs(w[i]), 1e-2)
        e = np.zeros_like(w)
        e[i] = h
        g[k] = (-f(w + 2 * e) + 8 * f(w + e) - 8 * f(w - e) + f(w - 2 * e)) / (12 * h)
    return g


def test_layered_gradient_matches_fd_of_fixed_point(compiled, data):
    _, net = compiled
    X = data[0][:8]
    terms = extract_terms(net)
    plan = build_layered(net, terms)
    c = _loss_weights(net, len(X))
    w = torch.tensor(terms.weights, requires_grad=True)
    cols = torch.arange(len(net.inputs))
    loss = (plan.outputs(plan.state(torch.from_numpy(X), w, cols)) * torch.from_numpy(c)).sum()
    loss.backward()

    def sim(wv: np.ndarray) -> float:
        return float((fixed_point(terms.rebuild(wv), X).outputs * c).sum())

    fd = _fd(sim, terms.weights, 1e-3)
    np.testing.assert_allclose(w.grad.numpy(), fd, rtol=1e-5, atol=1e-7 * np.abs(fd).max())


def test_implicit_gradient_matches_fd_on_feedback_network(compiled, data):
    net = with_feedback(compiled[1])
    terms = extract_terms(net)
    with pytest.raises(NotFeedForward):
        build_layered(net, terms)
    assert "feedback" in terms.labels  # the feedback reaction is itself a trainable term
    X = data[0][:6]
    c = _loss_weights(net, len(X))
    plus = [net.index(r.plus) for r in net.readout]
    minus = [net.index(r.minus) for r in net.readout]
    w = torch.tensor(terms.weights, requires_grad=True)
    s = implicit_state(w, terms, X)
    ((s[:, plus] - s[:, minus]) * torch.from_numpy(c)).sum().backward()

    def sim(wv: np.ndarray) -> float:
        ss = steady_state(terms.rebuild(wv), X, atol=1e-14, rtol=1e-13)
        return float((ss.outputs * c).sum())

    fd = _fd(sim, terms.weights, 1e-3)
    np.testing.assert_allclose(w.grad.numpy(), fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())


def test_implicit_and_layered_gradients_agree(compiled, data):
    _, net = compiled
    X = data[0][:10]
    terms = extract_terms(net)
    plan = build_layered(net, terms)
    c = torch.from_numpy(_loss_weights(net, len(X)))
    w1 = torch.tensor(terms.weights, requires_grad=True)
    (plan.outputs(plan.state(torch.from_numpy(X), w1, torch.arange(4))) * c).sum().backward()
    w2 = torch.tensor(terms.weights, requires_grad=True)
    s = implicit_state(w2, terms, X)
    plus = [net.index(r.plus) for r in net.readout]
    minus = [net.index(r.minus) for r in net.readout]
    ((s[:, plus] - s[:, minus]) * c).sum().backward()
    np.testing.assert_allclose(w2.grad.numpy(), w1.grad.numpy(), rtol=1e-7, atol=1e-10)


def _cubic(network):
    """Replace every saturation ``2 H -> H`` by ``3 H -> 2 H``: ``dh/dt = eps + z h - h^3``."""
    reactions = []
    for r in network.reactions:
        if r.label.endswith("saturation"):
            ((h, _),) = r.reactants.items()
            r = Reaction({h: 3}, {h: 2}, r.rate, r.label)
        reactions.append(r)
    return ReactionNetwork(network.species, reactions, network.readout, dict(network.metadata))


def test_implicit_gradient_matches_fd_on_cubic_activation(compiled, data):
    net = _cubic(compiled[1])
    terms = extract_terms(net)
    with pytest.raises(NotFeedForward):
        build_layered(net, terms)
    X = data[0][:6]
    c = _loss_weights(net, len(X))
    plus = [net.index(r.plus) for r in net.readout]
    minus = [net.index(r.minus) for r in net.readout]
    w = torch.tensor(terms.weights, requires_grad=True)
    s = implicit_state(w, terms, X)
    # The hidden steady states solve eps + z h - h^3 = 0 (not the quadratic's sigma_eps).
    h = s[:, [net.index(f"H1_{i}") for i in range(6)]].detach().numpy()
    with torch.no_grad():
        z = compiled[0][0](torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(0.01 + z * h - h**3, 0.0, atol=1e-9)
    assert np.abs(h - (z + np.sqrt(z * z + 0.04)) / 2).max() > 0.05  # not sigma_eps
    ((s[:, plus] - s[:, minus]) * torch.from_numpy(c)).sum().backward()

    def sim(wv: np.ndarray) -> float:
        ss = steady_state(terms.rebuild(wv), X, atol=1e-14, rtol=1e-13)
        return float((ss.outputs * c).sum())

    idx = np.arange(0, terms.n_terms, 4)
    fd = _fd_subset(sim, terms.weights, idx, 1e-3)
    np.testing.assert_allclose(w.grad.numpy()[idx], fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())
