"""Quantization-aware training on digits: binary/ternary networks compile exactly; QAT at 3 bits."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn.compile import compile_network
from nncrn.simulate import fixed_point
from nncrn.train import STEQuantizer, qat_fit


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from nncrn.nn import SmoothReLU

    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(64, 32), SmoothReLU(1e-3), torch.nn.Linear(32, 10)
    ).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = np.random.default_rng(0)
    Xt, yt = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    for _ in range(30):
        for idx in np.array_split(gen.permutation(len(Xtr)), len(Xtr) // 64):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    return model, Xtr, ytr, Xte, yte


def _accuracy(model, X, y) -> float:
    with torch.no_grad():
        return float((model(torch.from_numpy(X)).argmax(1).numpy() == y).mean())


@pytest.mark.parametrize("method", ["binary", "ternary"])
def test_binary_and_ternary_digits_networks_compile_exactly(digits, method):
    model, Xtr, ytr, Xte, yte = digits
    q, losses = qat_fit(model, Xtr, ytr, bits=1, method=method, epochs=30, rng=0)
    assert losses[-1] < losses[0]
    allowed = {"binary": 1, "ternary": 2}[method]
    for layer in (q[0], q[2]):
        mags = np.unique(np.abs(layer.weight.detach().numpy()))
        assert mags.size == allowed and (method == "binary" or mags[0] == 0)
    assert _accuracy(q, Xte, yte) > 0.9
    net = compile_network(q)
    crn = fixed_point(net, Xte).outputs.argmax(1)
    with torch.no_grad():
        nn = q(torch.from_numpy(Xte)).argmax(1).numpy()
    assert (crn == nn).mean() == 1.0


def test_qat_at_three_bits_recovers_the_full_precision_accuracy(digits):
    model, Xtr, ytr, Xte, yte = digits
    full = _accuracy(model, Xte, yte)
    q, _ = qat_fit(model, Xtr, ytr, bits=3, method="linear", epochs=30, rng=0)
    for layer in (q[0], q[2]):
        assert np.unique(np.abs(layer.weight.detach().numpy())).size <= 4
    assert full > 0.95
    assert _accuracy(q, Xte, yte) >= full - 0.03


def test_ste_passes_gradients_straight_through():
    w = torch.tensor([-0.8, -0.1, 0.2, 0.9], dtype=torch.float64, requires_grad=True)
    q = STEQuantizer(2, "linear", w)
    out = q(w)
    np.testing.assert_allclose(out.detach().numpy(), [-0.9, 0.0, 0.0, 0.9])
    (out * torch.arange(1.0, 5.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(w.grad.numpy(), [1, 2, 3, 4])
    b = STEQuantizer(1, "binary", w)
    w.grad = None
    (b(w) * 2).sum().backward()
    np.testing.assert_allclose(b(w).detach().numpy(), 0.5 * np.sign(w.detach().numpy()))
    np.testing.assert_allclose(w.grad.numpy(), 2 * 0.5)
    np.testing.assert_allclose(b.alpha.grad.numpy(), 2 * np.sign(w.detach().numpy()).sum())


def test_qat_rejects_bad_input(digits):
    model, Xtr, ytr, *_ = digits
    with pytest.raises(InputError, match=r"qat_fit\(bits=0\): bits must be an integer >= 1"):
        qat_fit(model, Xtr, ytr, bits=0, method="linear")
    with pytest.raises(InputError, match=r"qat_fit\(epochs=0\): epochs must be an integer"):
        qat_fit(model, Xtr, ytr, bits=2, method="linear", epochs=0)
    with pytest.raises(InputError, match=r"qat_fit\(batch_size=1.5\)"):
        qat_fit(model, Xtr, ytr, bits=2, method="linear", batch_size=1.5)
    with pytest.raises(InputError, match=r"y.ravel\(\)"):
        qat_fit(model, Xtr, ytr[:, None], bits=2, method="linear")
    with pytest.raises(InputError, match=r"class indices must lie in \[0, 9\]"):
        qat_fit(model, Xtr, ytr + 1, bits=2, method="linear")
    with pytest.raises(InputError, match="non-empty"):
        qat_fit(model, Xtr[:0], ytr[:0], bits=2, method="linear")
