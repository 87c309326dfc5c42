"""Every solver on the benchmark's reference networks: digits MLPs compiled with eps = 1e-3.

The oracle is the torch model itself (its forward pass is the steady state's closed form)
and :func:`nncrn.simulate.fixed_point`; the networks are trained here, seeded, in ~2 s.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

import nncrn.nn
from nncrn.compile import SmoothReLUScheme, compile_network
from nncrn.simulate import ScipyODE, TorchODE, fixed_point, integrate, steady_state

EPS = 1e-3


def _mlp(widths, x=None, y=None, epochs=150, seed=0):
    torch.manual_seed(seed)
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nncrn.nn.SmoothReLU(eps=EPS))
    model = torch.nn.Sequential(*layers).double()
    if x is not None:
        opt = torch.optim.Adam(model.parameters(), 1e-2)
        xt, yt = torch.tensor(x), torch.tensor(y)
        for _ in range(epochs):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt), yt).backward()
            opt.step()
    return model


@pytest.fixture(scope="module")
def digits():
    x, y = load_digits(return_X_y=True)
    x = x / 16.0
    model = _mlp([64, 16, 10], x, y)
    net = compile_network(model, scheme=SmoothReLUScheme(eps=EPS), input_range=(0.0, 1.0))
    with torch.no_grad():
        logits = model(torch.tensor(x)).numpy()
    return net, x, logits


def test_sweep_on_all_digits_equals_the_model_and_the_closed_form(digits):
    net, x, logits = digits
    ss = steady_state(net, x, solver=TorchODE())
    assert ss.converged.all() and (ss.n_steps == 0).all()
    np.testing.assert_allclose(ss.outputs, logits, rtol=1e-10, atol=1e-11)
    np.testing.assert_allclose(ss.concentrations, fixed_point(net, x).concentrations,
                               rtol=1e-12, atol=1e-14)  # fmt: skip
    assert (ss.outputs.argmax(1) == logits.argmax(1)).all()


def test_newton_and_scipy_agree_with_the_model(digits):
    net, x, logits = digits
    newton = steady_state(net, x[:300], solver=TorchODE(steady_method="newton"))
    np.testing.assert_allclose(newton.outputs, logits[:300], rtol=1e-8, atol=1e-9)
    scipy = steady_state(net, x[:3], solver=ScipyODE())
    np.testing.assert_allclose(scipy.outputs, logits[:3], rtol=1e-8, atol=1e-9)


def test_trajectories_agree_and_end_at_the_model(digits):
    net, x, logits = digits
    t = [0.0, 0.1, 1.0, 10.0, 100.0, 1000.0]
    ours = integrate(net, x[:3], t, solver=TorchODE(rtol=1e-7))
    ref = integrate(net, x[:3], t, solver=ScipyODE(rtol=1e-10, atol=1e-14))
    scale = np.abs(ref.concentrations).max(axis=1, keepdims=True)
    assert (np.abs(ours.concentrations - ref.concentrations) <= 1e-5 * scale + 1e-12).all()
    np.testing.assert_allclose(ours.outputs[:, -1], logits[:3], rtol=1e-6, atol=1e-7)


def test_784_input_network_sweep_equals_its_forward_pass():
    """The 784-100-10 shape of the benchmark (untrained weights, 79,730 reactions)."""
    model = _mlp([784, 100, 10])
    net = compile_network(model, scheme=SmoothReLUScheme(eps=EPS), input_range=(0.0, 1.0))
    x = np.random.default_rng(0).uniform(0.0, 1.0, (64, 784))
    ss = steady_state(net, x, solver=TorchODE())
    with torch.no_grad():
        logits = model(torch.tensor(x)).numpy()
    assert net.n_reactions == 79_730 and (ss.n_steps == 0).all()
    np.testing.assert_allclose(ss.outputs, logits, rtol=1e-10, atol=1e-11)
