"""TorchODE on each torch device: the same answers on the CPU and, where present, CUDA.

The CUDA cases carry the ``gpu`` marker (deselected by default; ``pytest -m gpu`` on a
machine with a CUDA device runs them). The CPU cases pass ``device="cpu"`` explicitly, so
the device plumbing (tensors created on the solver's device, results copied back) is
exercised everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import ScipyODE, TorchODE, integrate, steady_state

from ._ajd import closed_form, random_ajd

DEVICES = [
    "cpu",
    pytest.param(
        "cuda",
        marks=[pytest.mark.gpu,
               pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")],
    ),
]  # fmt: skip


@pytest.fixture(scope="module")
def ajd():
    rng = np.random.default_rng(3)
    net, weights, biases = random_ajd(rng, [8, 12, 4], 1e-3)
    x = rng.uniform(0.0, 1.0, (64, 8))
    return net, x, closed_form(weights, biases, 1e-3, x)[-1]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("method", ["auto", "newton"])
def test_steady_state_float64(ajd, device, method):
    net, x, want = ajd
    ss = steady_state(net, x, solver=TorchODE(device=device, steady_method=method))
    assert ss.converged.all()
    assert isinstance(ss.concentrations, np.ndarray)
    np.testing.assert_allclose(ss.outputs, want, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("device", DEVICES)
def test_steady_state_float32(ajd, device):
    net, x, want = ajd
    ss = steady_state(net, x, solver=TorchODE(device=device, dtype="float32"), rtol=1e-5)
    assert ss.converged.all()
    np.testing.assert_allclose(ss.outputs, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
def test_trajectories_match_scipy(ajd, device):
    net, x, _ = ajd
    t = np.array([0.0, 0.5, 2.0, 10.0, 50.0])
    ours = integrate(net, x[:8], t, solver=TorchODE(device=device, rtol=1e-9, atol=1e-13))
    ref = integrate(net, x[:8], t, solver=ScipyODE(rtol=1e-11, atol=1e-14))
    assert ours.converged.all()
    np.testing.assert_allclose(ours.concentrations, ref.concentrations, rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
def test_dense_path_with_a_conservation_law(device):
    # A <-> B (rates 2, 1) and A + B -> 2 B: a cycle, so dense LU and the law A + B = T.
    # dA/dt = -2 A + B - A B = 0 with B = T - A gives A^2 - (T + 3) A + T = 0, smaller root.
    net = ReactionNetwork(
        [Species("A", "auxiliary", 1.0), Species("B", "auxiliary", 0.5)],
        [Reaction.parse("A -> B", 2.0), Reaction.parse("B -> A", 1.0),
         Reaction.parse("A + B -> 2 B", 1.0)],
    )  # fmt: skip
    solver = TorchODE(device=device)
    assert solver.linear_algebra(net) == "dense"
    y0 = np.array([[1.0, 0.5], [3.0, 0.0], [0.2, 4.0]])
    ss = steady_state(net, y0=y0, solver=solver)
    assert ss.converged.all()
    total = y0.sum(1)
    a = ((total + 3) - np.sqrt((total + 3) ** 2 - 4 * total)) / 2
    np.testing.assert_allclose(ss.concentrations, np.stack([a, total - a], 1), rtol=1e-12)
