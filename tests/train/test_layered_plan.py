"""The layered state (one coefficient matrix product per level) against a direct evaluation.

The reference evaluates every entry's monomial ``prod(catalyst ** power)`` by gathers and
powers and sums the entries into their polynomial slots, then takes the quadratic's root by
the textbook cancellation-free formula: an independent computation of the same steady state
(and, through autograd, of its gradients). Networks: compiled MLPs of random sizes, with
extra trainable terms that have two catalysts or a squared catalyst, and random rates.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn.compile import compile_network
from nncrn.network import Reaction, ReactionNetwork
from nncrn.simulate import fixed_point
from nncrn.train import extract_terms
from nncrn.train._layered import build_layered

from .conftest import small_model


def _reference_state(plan, x, w, input_cols, fixed_scale=None):
    coef = plan.coefficients(w, fixed_scale)
    lead = coef.shape[:-1]
    s = plan.base_state.to(x.dtype).expand(*lead, x.shape[0], plan.n_species + 1).clone()
    s[..., input_cols] = x.expand(*lead, *x.shape)
    coef = coef.unsqueeze(-2)
    for lv in plan.levels:
        cols, pows = plan.cat_cols[lv.entry], plan.cat_pows[lv.entry]
        vals = coef[..., lv.entry] * torch.prod(s[..., cols] ** pows, dim=-1)
        poly = vals.new_zeros(*vals.shape[:-1], 3 * lv.targets.numel())
        poly = poly.index_add(-1, lv.slot, vals)
        a, b, c = poly[..., 0::3].clamp(min=0), poly[..., 1::3], (-poly[..., 2::3]).clamp(min=0)
        h = torch.sqrt(b * b + 4 * a * c)
        pos = b >= 0
        up = (b + h) / torch.where(pos, 2 * c, torch.ones_like(c))
        down = 2 * a / torch.where(pos, torch.ones_like(b), h - b)
        root = torch.where(pos, torch.where(c > 0, up, torch.full_like(up, torch.inf)), down)
        s = s.index_copy(-1, lv.targets, root)
    return s


def _network(seed: int) -> ReactionNetwork:
    rng = np.random.default_rng(seed)
    sizes = (int(rng.integers(2, 6)), int(rng.integers(2, 7)), int(rng.integers(2, 6)),
             int(rng.integers(1, 4)))  # fmt: skip
    net = compile_network(small_model(seed, sizes, eps=float(rng.uniform(1e-3, 0.1))))
    extra = [  # a term with two catalysts; a term with a squared catalyst
        Reaction({"X0": 1, "X1": 1, "H1_0": 1}, {"X0": 1, "X1": 1}, float(rng.uniform(0.1, 1)), "pair"),
        Reaction({"X1": 2, "H2_0": 1}, {"X1": 2, "H2_0": 2}, float(rng.uniform(0.1, 1)), "square"),
    ]  # fmt: skip
    return ReactionNetwork(net.species, (*net.reactions, *extra), net.readout, dict(net.metadata))


@pytest.mark.parametrize("seed", range(6))
def test_layered_state_and_gradient_equal_the_direct_evaluation(seed):
    net = _network(seed)
    terms = extract_terms(net)
    plan = build_layered(net, terms)
    assert any(lv.products is not None for lv in plan.levels)  # the product features are used
    rng = np.random.default_rng(100 + seed)
    x = torch.from_numpy(rng.uniform(0, 1, (7, len(net.inputs))))
    cols = torch.tensor([net.index(s) for s in net.inputs])
    w0 = terms.weights * rng.uniform(0.5, 1.5, terms.n_terms) * rng.choice([1, -1], terms.n_terms)
    c = torch.from_numpy(rng.standard_normal((7, len(net.outputs))))
    grads = []
    for state in (plan.state, lambda *a: _reference_state(plan, *a)):
        w = torch.tensor(w0, requires_grad=True)
        s = state(x, w, cols)
        (plan.outputs(s) * c).sum().backward()
        grads.append((s.detach(), w.grad.clone()))
    (s_new, g_new), (s_ref, g_ref) = grads
    np.testing.assert_allclose(s_new.numpy(), s_ref.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g_new.numpy(), g_ref.numpy(), rtol=1e-12,
                               atol=1e-12 * float(g_ref.abs().max()))  # fmt: skip
    # and the state is the chemistry's: fixed_point of the network with these weights
    fp = fixed_point(terms.rebuild(w0), x.numpy())
    np.testing.assert_allclose(s_new[:, :-1].numpy(), fp.concentrations, rtol=1e-10, atol=1e-13)


def test_layered_state_with_draws_and_rate_noise_equals_the_direct_evaluation():
    net = _network(1)
    terms = extract_terms(net)
    plan = build_layered(net, terms)
    rng = np.random.default_rng(3)
    x = torch.from_numpy(rng.uniform(0, 1, (5, len(net.inputs))))
    cols = torch.tensor([net.index(s) for s in net.inputs])
    w = torch.from_numpy(terms.weights * rng.uniform(0.8, 1.2, (4, terms.n_terms)))
    scale = torch.from_numpy(rng.uniform(0.8, 1.2, (4, net.n_reactions)))
    got = plan.state(x, w, cols, scale)
    assert got.shape == (4, 5, net.n_species + 1)
    np.testing.assert_allclose(got.numpy(), _reference_state(plan, x, w, cols, scale).numpy(),
                               rtol=1e-12, atol=1e-14)  # fmt: skip
