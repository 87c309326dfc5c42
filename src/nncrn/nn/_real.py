"""Torch modules whose function a compiled reaction network computes exactly.

Train with :class:`SmoothReLU` instead of ``torch.nn.ReLU`` and the compiled network's
steady state equals the trained network's output (up to rounding), instead of being within
``sqrt(eps)`` per unit of it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from nncrn._activations import (
    activation_coefficients,
    check_activation,
    check_eps,
    positive_root,
    show,
    trim,
)
from nncrn._errors import InputError
from nncrn.network._numbers import as_real

__all__ = ["ChemicalSigmoid", "PolynomialActivation", "RectifiedRoot", "SmoothReLU"]


class _SmoothReLUFunction(torch.autograd.Function):
    """``sigma_eps`` with the analytic derivative ``s / sqrt(z^2 + 4 eps)``.

    A custom function because the cancellation-free form needs a branch on the sign of
    ``z``, and ``torch.where`` would back-propagate the discarded branch's NaN (0/0 when
    ``eps = 0``) into the gradient. The backward is written in differentiable torch ops
    on saved tensors, so double backward (Hessians) works too.
    """

    @staticmethod
    def forward(ctx, z: torch.Tensor, eps: float) -> torch.Tensor:  # type: ignore[override]
        h = torch.hypot(z, torch.full_like(z, 2.0 * math.sqrt(eps)))
        neg = z < 0
        # For z < 0, h - z = h + |z| > 0; the masked-out entries get a harmless denominator.
        denom = torch.where(neg, h - z, torch.ones_like(z))
        s = torch.where(neg, 2.0 * eps / denom, 0.5 * (z + h))
        ctx.save_for_backward(z)
        ctx.eps = eps
        return s

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (z,) = ctx.saved_tensors
        return grad * _derivative(z, ctx.eps), None


def _derivative(z: torch.Tensor, eps: float) -> torch.Tensor:
    """``s / sqrt(z^2 + 4 eps)`` as differentiable torch ops (equals ``s^2 / (s^2 + eps)``)."""
    if eps == 0:
        return (z > 0).to(z.dtype)
    return _SmoothReLUFunction.apply(z, eps) / torch.hypot(
        z, torch.full_like(z, 2.0 * math.sqrt(eps))
    )


def smooth_relu(z: torch.Tensor, eps: float) -> torch.Tensor:
    """``sigma_eps(z)`` elementwise (ReLU for ``eps = 0``), with the analytic gradient."""
    if eps == 0:
        return torch.relu(z)
    return _SmoothReLUFunction.apply(z, eps)


class SmoothReLU(torch.nn.Module):
    """Elementwise ``sigma_eps(z) = (z + sqrt(z^2 + 4 eps)) / 2``, the steady state of one neuron.

    Parameters
    ----------
    eps:
        Leak rate, finite and >= 0. The default ``1e-3`` is the compiler's default, keeps
        the activation within ``sqrt(eps) ~ 0.032`` of ReLU, and gives every neuron a
        convergence rate of at least ``2 sqrt(eps) ~ 0.063``. ``eps = 0`` is plain ReLU.

    Notes
    -----
    Shape: any; the output has the input's shape and dtype.

    Examples
    --------
    >>> import torch
    >>> SmoothReLU(0.04)(torch.tensor([0.0, -1e8]))
    tensor([2.0000e-01, 4.0000e-10])
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = check_eps(eps, "SmoothReLU eps")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return smooth_relu(z, self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps!r}"


class PolynomialActivation(torch.nn.Module):
    """Elementwise ``y*(z)``: the positive root of ``P(y) + z Q(y)``, the steady state of one neuron.

    The torch counterpart of :class:`nncrn.compile.Polynomial`: ``P`` and ``Q`` are
    ascending coefficients, checked on construction (a pair whose positive root is not
    unique and globally attracting raises :class:`~nncrn._activations.ActivationError`
    with the reason). The root is found by :func:`nncrn._activations.positive_root` on
    ``z``'s device and dtype, to the dtype's resolution; the gradient is the
    implicit-function derivative ``-Q(y*) / (P'(y*) + z Q'(y*))``.

    >>> import torch
    >>> PolynomialActivation([0.04, 0, -1], [0, 1])(torch.tensor([0.0]))
    tensor([0.2000])
    """

    def __init__(self, P: Sequence[float], Q: Sequence[float]) -> None:
        super().__init__()
        self.P, self.Q = trim(P), trim(Q)
        check_activation(self.P, self.Q)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        root, _ = positive_root(activation_coefficients(self.P, self.Q, z), unique=True)
        return torch.where(torch.isnan(z), z, root)  # NaN in, NaN out

    def extra_repr(self) -> str:
        return f"dy/dt = {show(self.P)} + z ({show(self.Q)})"


class RectifiedRoot(PolynomialActivation):
    """The rectified-root family: root of ``eps + z y - y^k`` (``k >= 2``; ``k = 2`` is SmoothReLU).

    Grows like ``z^(1/(k-1))`` for large ``z`` and decays like ``eps / |z|`` for negative ``z``.
    """

    def __init__(self, k: int = 3, eps: float = 1e-3) -> None:
        if isinstance(k, bool) or int(k) != k or k < 2:
            raise InputError(f"RectifiedRoot needs an integer k >= 2, got k={k!r}")
        self.k, self.eps = int(k), check_eps(eps, "RectifiedRoot eps")
        super().__init__([self.eps, *([0.0] * (self.k - 1)), -1.0], [0.0, 1.0])

    def extra_repr(self) -> str:
        return f"k={self.k}, eps={self.eps!r}"


class ChemicalSigmoid(torch.nn.Module):
    """Bounded ``2 / ((2 - u) + sqrt(u^2 + 4))``, ``u = z / rate``: the :class:`nncrn.compile.ChemicalSigmoidScheme` neuron.

    Values in ``(0, 1)``, 1/2 at 0, slope ``1 / (8 rate)`` there; ``rate`` finite and > 0.

    >>> import torch
    >>> ChemicalSigmoid(0.25)(torch.tensor([0.0]))
    tensor([0.5000])
    """

    def __init__(self, rate: float = 0.25) -> None:
        super().__init__()
        real = as_real(rate)
        value = math.nan if real is None else real
        if not math.isfinite(value) or value <= 0:
            raise InputError(
                f"ChemicalSigmoid rate is {rate!r}; it must be a finite number > 0, e.g. 0.25"
            )
        self.rate = value

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        u = z / self.rate
        return 2.0 / ((2.0 - u) + torch.hypot(u, torch.full_like(u, 2.0)))

    def extra_repr(self) -> str:
        return f"rate={self.rate!r}"
