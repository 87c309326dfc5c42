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


# ------------------------------------------------------------- the one positive-root finder
# positive_root (nncrn._activations) is the library's only root finder; these tests cover
# the cases the finders it replaced handled (numpy bisection of the activations, the
# sweep's certified Newton, the quadratic closed forms of fixed_point and of the layered
# training graph), each against an independent computation.

from nncrn._activations import (  # noqa: E402
    activation_coefficients,
    analyse_activation,
    polynomial_root,
    positive_root,
)
from nncrn.nn import PolynomialActivation, RectifiedRoot  # noqa: E402


def _bisect(P, Q, z, upper=math.inf):
    """Plain float64 bisection on P + z Q (F > 0 below the root): the oracle."""
    F = lambda y: np.polyval(P[::-1], y) + z * np.polyval(Q[::-1], y)  # noqa: E731
    lo, hi = 0.0, (upper if math.isfinite(upper) else 1.0)
    while F(hi) > 0:
        hi *= 2.0
    while True:
        mid = 0.5 * (lo + hi)
        if mid <= lo or mid >= hi:
            return mid
        lo, hi = (mid, hi) if F(mid) > 0 else (lo, mid)


ACTIVATIONS = {
    "rectified_root_k3": ([1e-2, 0.0, 0.0, -1.0], [0.0, 1.0], math.inf),
    "rectified_root_k5": ([1e-3, 0.0, 0.0, 0.0, 0.0, -1.0], [0.0, 1.0], math.inf),
    "cubic": ([0.05, 0.0, -1.0, -0.5], [0.0, 1.0], math.inf),
    # three sign changes at z = 0, yet -P/Q is monotone: a checked activation whose root
    # Descartes' rule cannot certify (only the activation check can)
    "uncertified_cubic": ([1.0, -2.0, 2.0, -1.0], [0.0, 1.0], math.inf),
    "chemical_sigmoid": ([0.5, -1.0], [0.0, 1.0, -1.0], 1.0),
    "bounded_quartic": ([0.2, -0.4], [0.0, 1.0, 0.0, -1.0], 1.0),
}


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_positive_root_solves_every_checked_activation_like_bisection(name):
    P, Q, upper = ACTIVATIONS[name]
    assert analyse_activation(P, Q, upper=upper) == []
    z = np.concatenate([np.linspace(-30, 30, 61), [-1e3, 1e3, 1e-9, -1e-9]])
    got = polynomial_root(np.array(P), np.array(Q), z, upper=upper)
    assert np.isnan(polynomial_root(np.array(P), np.array(Q), [np.nan], upper=upper)[0])
    want = np.array([_bisect(P, Q, zi, upper) for zi in z])
    np.testing.assert_allclose(got, want, rtol=4e-15)
    if name == "uncertified_cubic":  # Descartes declines it; unique=True solves it
        c = activation_coefficients(
            np.array(P), np.array(Q), torch.tensor([0.0], dtype=torch.float64)
        )
        assert not positive_root(c)[1].item() and positive_root(c, unique=True)[1].item()


@pytest.mark.parametrize("z, want", [
    (1e300, 1e150),  # y^2 = z + eps / y
    (-1e300, 1e-2 / 1e300),  # eps / |z|, near the bottom of float64's normal range
    (1e-300, 1e-2 ** (1 / 3)),  # y^3 = eps as z -> 0
])  # fmt: skip
def test_rectified_root_at_extreme_z(z, want):
    P, Q = np.array([1e-2, 0.0, 0.0, -1.0]), np.array([0.0, 1.0])
    got = polynomial_root(P, Q, np.array([z]))[0]
    assert got == pytest.approx(want, rel=1e-14)
    # smoothed ReLU (the quadratic closed form) at the same extremes against smooth_relu
    zz = np.array([z, -z, 1e200, -1e200])
    np.testing.assert_allclose(polynomial_root(np.array([1.0, 0.0, -1.0]), Q, zz),
                               smooth_relu(zz, 1.0), rtol=1e-14)  # fmt: skip


@pytest.mark.parametrize("dtype, rtol", [(torch.float32, 2e-6), (torch.float64, 1e-14)])
def test_polynomial_activation_keeps_dtype_and_device(dtype, rtol):
    z = torch.tensor([-1e6, -30.0, -1.0, 0.0, 0.3, 7.0, 1e6], dtype=dtype)
    for module in (
        RectifiedRoot(3, 1e-2),
        RectifiedRoot(2, 1e-2),
        PolynomialActivation([1.0, -2.0, 2.0, -1.0], [0.0, 1.0]),
    ):
        y = module(z)
        assert y.dtype == dtype and y.device == z.device and torch.isfinite(y).all()
        assert torch.isnan(module(torch.tensor([math.nan, 1.0], dtype=dtype))[0])
        P, Q = module.P, module.Q
        want = [_bisect(list(P), list(Q), float(v)) for v in z.double()]
        np.testing.assert_allclose(y.double().numpy(), want, rtol=rtol)


def test_implicit_and_closed_form_gradients():
    # degree 3 (Newton + implicit derivative) and degree 2 (differentiable closed form)
    z = torch.tensor([-40.0, -3.0, -0.2, 0.0, 0.4, 5.0, 60.0], dtype=torch.float64,
                     requires_grad=True)  # fmt: skip
    for module in (
        RectifiedRoot(3, 1e-2),
        PolynomialActivation([0.05, 0, -1, -0.5], [0, 1]),
        PolynomialActivation([1.0, -2.0, 2.0, -1.0], [0.0, 1.0]),
        RectifiedRoot(2, 1e-2),
    ):
        assert torch.autograd.gradcheck(module, (z,))
        y = module(z).detach().numpy()
        (g,) = torch.autograd.grad(module(z).sum(), z)
        P, Q = module.P, module.Q
        Fy = np.polyval(np.polyder(P[::-1]), y) + z.detach().numpy() * np.polyval(
            np.polyder(Q[::-1]), y
        )
        np.testing.assert_allclose(g.numpy(), -np.polyval(Q[::-1], y) / Fy, rtol=1e-12)
    # the quadratic closed form is the smooth ReLU and has its derivative
    zz = torch.tensor(np.linspace(-50, 50, 101), requires_grad=True)
    c = torch.stack([torch.full_like(zz, 1e-3), zz, -torch.ones_like(zz)])
    root, ok = positive_root(c)
    assert ok.all()
    (g,) = torch.autograd.grad(root.sum(), zz)
    np.testing.assert_allclose(
        root.detach().numpy(), smooth_relu(zz.detach().numpy(), 1e-3), rtol=1e-14
    )
    np.testing.assert_allclose(
        g.numpy(), smooth_relu_derivative(zz.detach().numpy(), 1e-3), rtol=1e-12
    )


def test_quadratic_edge_cases_of_the_closed_form_oracle():
    # (a + b y - c y^2 with a, c >= 0, as fixed_point and the layered graph write them)
    a = torch.tensor([2.0, 0.0, 0.0, 3.0, 1.0, 0.0], dtype=torch.float64)
    b = torch.tensor([-4.0, -1.0, 2.0, 1.0, 0.0, 0.0], dtype=torch.float64)
    c = torch.tensor([0.0, 1.0, 4.0, 0.0, 0.25, 0.0], dtype=torch.float64)
    root, ok = positive_root(torch.stack([a, b, -c]), unique=True)
    # linear decay a / -b; a = 0: stays at 0; a = 0, b > 0: b / c; no degradation: inf
    np.testing.assert_array_equal(root.numpy(), [0.5, 0.0, 0.5, math.inf, 2.0, math.inf])
    np.testing.assert_array_equal(ok.numpy(), [True, False, False, False, True, False])
    # gradients stay finite at the degenerate points (the layered graph backpropagates)
    a.requires_grad_(True)
    r, _ = positive_root(torch.stack([a, b, -c]), unique=True)
    (g,) = torch.autograd.grad(r[[0, 1, 2, 4]].sum(), a)
    assert torch.isfinite(g).all()
    np.testing.assert_allclose(
        g[[0, 4]].numpy(), [0.25, 1.0], rtol=1e-14
    )  # d(a/-b)/da, d sqrt(a/c)/da


@pytest.mark.gpu
def test_polynomial_activation_stays_on_the_gpu():
    z = torch.linspace(-5, 5, 11, dtype=torch.float64, device="cuda")
    y = RectifiedRoot(3, 1e-2)(z)
    assert y.device == z.device
    np.testing.assert_allclose(y.cpu().numpy(), RectifiedRoot(3, 1e-2)(z.cpu()).numpy(), rtol=1e-14)


def test_quadratic_root_at_negative_zero_is_the_positive_root():
    """``z = -0.0`` (a pre-activation that rounds to minus zero): the neuron's rate law
    ``eps + z y - y^2`` has the root ``sqrt(eps)``; copysign took the sign of -0.0 and
    returned ``-sqrt(eps)``."""
    import torch

    from nncrn._activations import positive_root, quadratic_root

    eps = 1e-3
    f64 = torch.float64
    c0, c2 = torch.tensor([eps, eps], dtype=f64), torch.tensor([-1.0, -1.0], dtype=f64)
    c1 = torch.tensor([-0.0, 0.0], dtype=f64)
    np.testing.assert_allclose(quadratic_root(c0, c1, c2).numpy(), [eps**0.5] * 2, rtol=1e-15)
    root, ok = positive_root(torch.stack([c0, c1, c2]))
    np.testing.assert_allclose(root.numpy(), [eps**0.5] * 2, rtol=1e-15)
    assert ok.all()
