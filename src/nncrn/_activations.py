"""The smoothed ReLU ``sigma_eps`` computed by the reference construction, in numpy.

``sigma_eps(z)`` is the unique positive root ``s`` of ``s**2 - z s - eps = 0``, the steady
state of ``dy/dt = eps + z y - y**2``:

    sigma_eps(z) = (z + sqrt(z**2 + 4 eps)) / 2          (z >= 0)
                 = 2 eps / (sqrt(z**2 + 4 eps) - z)      (z < 0, same value, no cancellation)

The second form avoids subtracting two nearly equal numbers for very negative ``z``;
``sqrt(z**2 + 4 eps)`` is evaluated as ``hypot(z, 2 sqrt(eps))`` so it never overflows.
Identities (used by the tests): ``sigma(0) = sqrt(eps)``, ``sigma(z) - sigma(-z) = z``,
``sigma(z) sigma(-z) = eps`` and ``0 < sigma(z) - relu(z) <= sqrt(eps)`` for ``eps > 0``.
With ``eps = 0`` it is exactly ``relu``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["check_eps", "smooth_relu", "smooth_relu_derivative"]


def check_eps(eps: object, where: str = "eps") -> float:
    """Return ``eps`` as a float after checking it is finite and >= 0 (raises ``ValueError``)."""
    try:
        value = float(eps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a number >= 0, got {eps!r}") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"{where} is {eps!r}; it must be finite and >= 0 (it is the rate of the leak "
            "reaction 0 -> Y; the default 1e-3 keeps sigma_eps within sqrt(eps) ~ 0.03 of ReLU, "
            "eps = 0 gives exact ReLU but a fixed point at 0 that the chemistry may never leave)"
        )
    return value


def smooth_relu(z: object, eps: float) -> np.ndarray:
    """``sigma_eps(z)`` elementwise for an array ``z`` of any shape (float64, same shape).

    >>> float(smooth_relu(0.0, 0.04))
    0.2
    >>> print(f"{float(smooth_relu(-1e8, 1e-3)):.6e}")  # eps / |z|, no cancellation
    1.000000e-11
    """
    eps = check_eps(eps)
    z = np.asarray(z, dtype=np.float64)
    h = np.hypot(z, 2.0 * math.sqrt(eps))
    pos = z >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        # The unused branch of each where() may divide 0 by 0 when eps == 0; it is discarded.
        return np.where(pos, 0.5 * (z + h), np.where(h - z > 0, 2.0 * eps / (h - z), 0.0))


def smooth_relu_derivative(z: object, eps: float) -> np.ndarray:
    """``d sigma_eps / dz = s**2 / (s**2 + eps)``, evaluated as ``s / sqrt(z**2 + 4 eps)``.

    The two are equal because ``s**2 + eps = s (2 s - z) = s sqrt(z**2 + 4 eps)``.

    The second form never overflows (``s**2`` would for ``|z| > 1e154``). With ``eps = 0``
    it is the ReLU derivative with value 0 at ``z = 0``.
    """
    eps = check_eps(eps)
    z = np.asarray(z, dtype=np.float64)
    if eps == 0:
        return (z > 0).astype(np.float64)
    s = smooth_relu(z, eps)
    return s / np.hypot(z, 2.0 * math.sqrt(eps))
