"""sigma_eps identities, its derivative, and the absence of cancellation."""

import math

import numpy as np
import pytest
import torch

from nncrn._activations import check_eps, smooth_relu, smooth_relu_derivative
from nncrn._errors import InputError
from nncrn.nn import SmoothReLU

EPS = [1e-6, 1e-3, 1e-2, 1.0]


@pytest.fixture
def z():
    rng = np.random.default_rng(0)
    return np.concatenate([rng.normal(0, 3, 200), [0.0, 1e-9, -1e-9, 50.0, -50.0, 1e6, -1e6]])


@pytest.mark.parametrize("eps", EPS)
def test_root_of_quadratic(z, eps):
    s = smooth_relu(z, eps)
    scale = s**2 + np.abs(z) * s + eps
    assert np.all(np.abs(s**2 - z * s - eps) <= 4e-16 * scale)
    assert np.all(s > 0)


@pytest.mark.parametrize("eps", EPS)
def test_value_at_zero(eps):
    assert smooth_relu(0.0, eps) == pytest.approx(math.sqrt(eps), rel=1e-15)


@pytest.mark.parametrize("eps", EPS)
def test_odd_part_and_product(z, eps):
    sp, sm = smooth_relu(z, eps), smooth_relu(-z, eps)
    assert np.all(np.abs((sp - sm) - z) <= 1e-15 * np.maximum(1, np.abs(z)))
    np.testing.assert_allclose(sp * sm, eps, rtol=1e-12)


@pytest.mark.parametrize("eps", EPS)
def test_within_sqrt_eps_of_relu(z, eps):
    gap = smooth_relu(z, eps) - np.maximum(z, 0)
    # Strictly positive in exact arithmetic; for z >> 0 the gap eps/z drops below z's ulp.
    assert np.all(gap[z <= 0] > 0) and np.all(gap >= 0)
    assert np.all(gap <= math.sqrt(eps) * (1 + 1e-15))
    assert gap.max() == pytest.approx(math.sqrt(eps), rel=1e-12)  # attained at z = 0


def test_no_cancellation_far_left():
    # eps/|z| - eps^2/|z|^3 + ...: the naive (z + sqrt(z^2 + 4 eps))/2 returns 0 here.
    assert smooth_relu(-1e8, 1e-3) == pytest.approx(1e-11, rel=1e-14)
    assert smooth_relu(-1e200, 1.0) == pytest.approx(1e-200, rel=1e-14)
    assert smooth_relu(1e200, 1.0) == pytest.approx(1e200, rel=1e-14)  # no overflow in z^2
    t = SmoothReLU(1e-3)(torch.tensor([-1e8], dtype=torch.float64))
    assert t.item() == pytest.approx(1e-11, rel=1e-14)


def test_eps_zero_is_relu(z):
    np.testing.assert_array_equal(smooth_relu(z, 0.0), np.maximum(z, 0))
    np.testing.assert_array_equal(smooth_relu_derivative(z, 0.0), (z > 0).astype(float))


@pytest.mark.parametrize("eps", EPS)
def test_derivative_formula_autograd_and_finite_differences(z, eps):
    d = smooth_relu_derivative(z, eps)
    s = smooth_relu(z, eps)
    np.testing.assert_allclose(d, s**2 / (s**2 + eps), rtol=1e-13)
    zt = torch.tensor(z, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(SmoothReLU(eps)(zt).sum(), zt)
    np.testing.assert_allclose(g.numpy(), d, rtol=1e-13, atol=1e-300)
    zs = z[np.abs(z) < 100]
    h = 1e-6 * np.maximum(1, np.abs(zs))
    fd = (smooth_relu(zs + h, eps) - smooth_relu(zs - h, eps)) / (2 * h)
    np.testing.assert_allclose(smooth_relu_derivative(zs, eps), fd, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize(
    "bad", [-1e-3, math.nan, math.inf, "x", "0.1", b"1", True, np.True_, None, np.complex128(1)]
)
def test_bad_eps_rejected(bad):
    # InputError is also a ValueError, so callers catching ValueError keep working.
    with pytest.raises(InputError, match="eps"):
        check_eps(bad)
