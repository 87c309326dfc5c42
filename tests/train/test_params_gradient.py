"""Constraints.weights' written-out derivative against autograd through the same formula."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from nncrn.train import Constraints


def _reference(c: Constraints, u: torch.Tensor) -> torch.Tensor:
    mag = u.abs()
    safe = torch.where(mag > 0, mag, torch.ones_like(mag))
    m = torch.exp(c._clamp_log(torch.log(safe)))
    m = m + (m.detach().clamp(c.k_min, c.k_max) - m.detach())
    return torch.where(mag > 0, torch.sign(u) * m, torch.zeros_like(m))


@pytest.mark.parametrize("c", [Constraints(), Constraints(k_min=1e-2, k_max=math.inf),
                               Constraints(k_min=0.0, k_max=5.0), Constraints(sharpness=100.0)])  # fmt: skip
def test_bounded_weights_value_and_gradient_equal_autograd(c):
    rng = np.random.default_rng(0)
    raw = np.concatenate([rng.normal(0, 3, 40), np.exp(rng.uniform(-12, 12, 40)) * rng.choice([-1, 1], 40),
                          [0.0, 1e-3, -1e3, 1e-300]])  # fmt: skip
    weights = torch.from_numpy(rng.standard_normal(raw.size))
    got, ref = (torch.tensor(raw, requires_grad=True) for _ in range(2))
    out_new, out_ref = c.weights(got), _reference(c, ref)
    np.testing.assert_array_equal(out_new.detach().numpy(), out_ref.detach().numpy())
    (out_new * weights).sum().backward()
    (out_ref * weights).sum().backward()
    # the slope is a difference of two softplus slopes near 1 on the clamp's flat part:
    # a different multiplication order moves its last digits (5e-12 relative seen)
    np.testing.assert_allclose(got.grad.numpy(), ref.grad.numpy(), rtol=1e-10, atol=1e-300)
    assert got.grad[raw == 0].item() == 0.0
