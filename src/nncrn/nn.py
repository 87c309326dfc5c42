"""Torch modules whose function a compiled reaction network computes exactly.

Train with :class:`SmoothReLU` instead of ``torch.nn.ReLU`` and the compiled network's
steady state equals the trained network's output (up to rounding), instead of being within
``sqrt(eps)`` per unit of it.
"""

from __future__ import annotations

import math

import torch

from nncrn._activations import check_eps

__all__ = ["SmoothReLU"]


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


class SmoothReLU(torch.nn.Module):
    """Elementwise ``sigma_eps(z) = (z + sqrt(z^2 + 4 eps)) / 2``, the steady state of one neuron.

    Parameters
    ----------
    eps:
        Leak rate, finite and >= 0. The default ``1e-3`` is the compiler's default, keeps
        the activation within ``sqrt(eps) ~ 0.032`` of ReLU, and gives every neuron a
        convergence rate of at least ``2 sqrt(eps) ~ 0.063``. ``eps = 0`` is plain ReLU.

    Shape: any; the output has the input's shape and dtype.

    >>> import torch
    >>> SmoothReLU(0.04)(torch.tensor([0.0, -1e8]))
    tensor([2.0000e-01, 4.0000e-10])
    """

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = check_eps(eps, "SmoothReLU eps")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        if self.eps == 0:
            return torch.relu(z)
        return _SmoothReLUFunction.apply(z, self.eps)

    def extra_repr(self) -> str:
        return f"eps={self.eps!r}"
