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

General one-species activations
-------------------------------
One-species activations ``dy/dt = P(y) + z Q(y)``: realisability and stability checks, scheme.

The activation of a neuron is the positive root ``y*(z)`` of ``F(y, z) = P(y) + z Q(y)``,
where ``z = w . x + b`` is its pre-activation. :func:`analyse_activation` decides, before
anything is compiled, whether that root exists, is unique and attracts every start.

The check is exact (no grid in ``z``). Write ``g(y) = -P(y) / Q(y)``: for ``Q(y) != 0``,
``F(y, z) = 0`` iff ``z = g(y)``, so the positive roots of ``F(., z)`` are the solutions of
``g(y) = z`` on ``(0, U)`` (``U = inf``, or the conserved total for a bounded species).
Conditions, each necessary, and together sufficient:

1. mass action: every negative monomial of ``P`` contains ``y`` (``p_0 >= 0``) and ``q_0 = 0``
   (``z`` takes both signs, so every monomial of ``z Q`` is negative for some ``z``);
2. ``p_0 > 0``: else ``y = 0`` is a fixed point the chemistry never leaves;
3. no blow-up: ``deg P > deg Q`` and the leading coefficient of ``P`` is negative (if
   ``deg Q >= deg P`` the leading coefficient of ``F`` is positive for some ``z``, and
   ``dy/dt -> +inf``). With a bounded species (``U`` finite): ``P(U) < 0 = Q(U)``;
4. ``Q`` has no root in ``(0, U)``: at such a root ``g`` has a pole (or ``F(r, z) = 0`` for
   every ``z`` if ``P(r) = 0``), and the ranges of ``g`` on the two sides overlap — those
   ``z`` get two positive roots;
5. ``g`` is monotone on ``(0, U)``: ``g' = -W / Q^2`` with ``W = P' Q - P Q'``, so
   ``sign(Q) W <= 0`` on ``(0, U)`` (isolated zeros allowed). Checked from the real roots of
   the fixed polynomial ``W`` and its sign between them.

Given 1–5, ``g`` maps ``(0, U)`` onto ``R`` bijectively (it runs from ``-sign(Q) inf`` at
``0+`` to ``+sign(Q) inf`` at ``U``), so every real ``z`` has exactly one positive root; and
since ``F(0, z) = p_0 > 0`` and ``F < 0`` near ``U``, ``F > 0`` below it and ``F < 0`` above:
every trajectory from ``[0, U)`` converges to it monotonically (a 1-D ODE). The local rate
``-dF/dy`` at the root equals ``-W(y*) / Q(y*) >= 0``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.polynomial import polynomial as npoly

from nncrn._errors import InputError, UnsupportedModelError

__all__ = [
    "ActivationError",
    "analyse_activation",
    "check_activation",
    "check_eps",
    "chemical_sigmoid",
    "polynomial_root",
    "show",
    "smooth_relu",
    "smooth_relu_derivative",
    "trim",
]


def check_eps(eps: object, where: str = "eps") -> float:
    """Return ``eps`` as a float after checking it is finite and >= 0 (raises :class:`InputError`)."""
    # (this module sits below nncrn.network, so it cannot use network._numbers.as_real)
    if isinstance(eps, bool | np.bool_ | str | bytes | complex | np.complexfloating):
        raise InputError(f"{where} must be a number >= 0, got {eps!r}")
    try:
        value = float(eps)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{where} must be a number >= 0, got {eps!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(
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


def chemical_sigmoid(z: object, rate: float = 0.25) -> np.ndarray:
    """``2 / ((2 - u) + sqrt(u^2 + 4))`` with ``u = z / rate``, elementwise (float64, ``z``'s shape).

    >>> float(chemical_sigmoid(0.0))
    0.5
    """
    u = np.asarray(z, dtype=np.float64) / rate
    # hypot never overflows; the denominator is >= 2 + |u| - u > 0.
    return 2.0 / ((2.0 - u) + np.hypot(u, 2.0))


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


class ActivationError(UnsupportedModelError, ValueError):
    """An activation ``dy/dt = P(y) + z Q(y)`` is not realisable or not globally stable."""


def trim(c: Sequence[float] | np.ndarray) -> np.ndarray:
    """Ascending coefficients as float64 without trailing zeros (``[0.]`` for the zero polynomial)."""
    a = np.array(c, dtype=np.float64).ravel()
    if a.size == 0 or not np.isfinite(a).all():
        raise ActivationError(f"polynomial coefficients must be finite numbers, got {list(c)!r}")
    nz = np.flatnonzero(a)
    return a[: nz[-1] + 1] if nz.size else np.zeros(1)


def show(c: Sequence[float] | np.ndarray, var: str = "y") -> str:
    """``[0.5, -1]`` -> ``'0.5 - y'`` (ascending coefficients)."""
    parts = []
    for k, v in enumerate(c):
        if v == 0:
            continue
        mono = "" if k == 0 else var if k == 1 else f"{var}^{k}"
        mag = f"{abs(v):g}" if (abs(v) != 1 or k == 0) else ""
        parts.append(("- " if v < 0 else "+ ") + (f"{mag} {mono}".strip() if mono else mag))
    text = " ".join(parts) or "0"
    return text[2:] if text.startswith("+ ") else "-" + text[2:] if text[:2] == "- " else text


def _positive_real_roots(c: np.ndarray, upper: float) -> np.ndarray:
    if c.size < 2 or not np.any(c[1:]):
        return np.empty(0)
    r = npoly.polyroots(c)
    tol = 1e-9 * (1.0 + np.abs(r))
    real = np.sort(r[np.abs(r.imag) <= tol].real)
    hi = upper * (1 - 1e-9) if math.isfinite(upper) else math.inf
    return real[(real > 1e-12) & (real < hi)]


def _examples(P: np.ndarray, Q: np.ndarray, y: float, upper: float) -> str:
    """``z = g(y)`` and all positive roots of ``F(., z)`` there, for an error message."""
    z = -npoly.polyval(y, P) / npoly.polyval(y, Q)
    roots = _positive_real_roots(npoly.polyadd(P, z * Q), upper)
    listed = ", ".join(f"{r:.4g}" for r in roots)
    return f"e.g. at z = {z:.4g} the positive roots are y = {listed}"


def analyse_activation(
    P: Sequence[float] | np.ndarray, Q: Sequence[float] | np.ndarray, *, upper: float = math.inf
) -> list[str]:
    """Reasons why ``dy/dt = P(y) + z Q(y)`` fails conditions 1–5 (module docstring); [] if none.

    ``P``, ``Q`` are ascending coefficients (``[p0, p1, ...]``). ``upper`` is ``inf`` for a
    free species, or the conserved total of a species confined to ``[0, upper]``.
    """
    return _analyse(trim(P), trim(Q), upper)


def _analyse(P: np.ndarray, Q: np.ndarray, upper: float) -> list[str]:
    """:func:`analyse_activation` on trimmed coefficient arrays."""
    f = f"dy/dt = {show(P)} + z ({show(Q)})"
    if not np.any(Q):
        return [f"{f}: Q is 0, so the steady state does not depend on z"]
    out: list[str] = []
    if P[0] < 0:
        out.append(f"{f} is not mass action: the monomial {P[0]:g} has no y, so it would "
                   "consume y when y = 0 (every negative monomial must contain y)")  # fmt: skip
    if Q[0] != 0:
        out.append(f"{f} is not mass action: z Q has the constant {Q[0]:g} z, which is "
                   "negative for some sign of z and has no y; Q must have no constant term")  # fmt: skip
    if P[0] == 0 and Q[0] == 0:
        out.append(f"{f}: P(0) = 0, so y = 0 is a fixed point the chemistry never leaves; "
                   "add a leak p0 > 0 (0 -> Y)")  # fmt: skip
    if out:
        return out
    n, d = len(P) - 1, len(Q) - 1
    if math.isinf(upper):
        if d >= n:
            pd, qd = (P[d] if d <= n else 0.0), Q[d]
            side = ">" if qd > 0 else "<"
            out.append(f"{f}: deg Q = {d} >= deg P = {n}, so for z {side} {-pd / qd:.4g} the "
                       f"y^{d} coefficient {pd:g} + ({qd:g}) z is positive, dy/dt -> +inf as "
                       "y -> inf and trajectories from large starts blow up")  # fmt: skip
        elif P[-1] > 0:
            out.append(f"{f}: the leading coefficient of P is {P[-1]:g} > 0, so dy/dt -> +inf "
                       "as y -> inf and trajectories blow up; it must be negative")  # fmt: skip
    else:
        pu, qu = npoly.polyval(upper, P), npoly.polyval(upper, Q)
        if not (pu < 0 and qu == 0):
            out.append(f"{f} on [0, {upper:g}]: need P({upper:g}) < 0 = Q({upper:g}) so that y "
                       f"stays below {upper:g} for every z; got P = {pu:.4g}, Q = {qu:.4g}")  # fmt: skip
    for r in _positive_real_roots(Q, upper):
        nxt = r * 1.5 if math.isinf(upper) else (r + upper) / 2
        out.append(f"{f}: Q vanishes at y = {r:.4g} > 0 (P there is {npoly.polyval(r, P):.4g}), "
                   f"so some z have a second positive root — {_examples(P, Q, nxt, upper)}; "
                   "the extra root is unstable or stable from other starts, so the steady "
                   "state would depend on the initial condition")  # fmt: skip
    if out:
        return out
    sq = 1.0 if npoly.polyval(min(1.0, upper / 2), Q) > 0 else -1.0
    W = npoly.polysub(npoly.polymul(npoly.polyder(P), Q), npoly.polymul(P, npoly.polyder(Q)))
    cuts = np.concatenate(([0.0], _positive_real_roots(W, upper)))
    last = upper if math.isfinite(upper) else 2 * cuts[-1] + 1
    tests = np.append((cuts[:-1] + cuts[1:]) / 2, (cuts[-1] + last) / 2)
    for yt in tests:
        if sq * npoly.polyval(yt, W) > 0:
            out.append(f"{f}: z = -P(y)/Q(y) is not monotone near y = {yt:.4g}, so some z "
                       f"have three positive roots — {_examples(P, Q, yt, upper)}")  # fmt: skip
            break
    return out


def check_activation(
    P: Sequence[float] | np.ndarray, Q: Sequence[float] | np.ndarray, *, upper: float = math.inf
) -> None:
    """Raise :class:`ActivationError` listing every failed condition of :func:`analyse_activation`."""
    reasons = analyse_activation(P, Q, upper=upper)
    if reasons:
        raise ActivationError(
            "; and ".join(reasons) + ". A usable pair has P(0) > 0, Q(0) = 0, deg P > deg Q "
            "with a negative leading coefficient, Q without positive roots and -P/Q monotone "
            "(e.g. eps + z y - y^k: Polynomial.rectified_root; bounded: ChemicalSigmoid)"
        )


def polynomial_root(P: np.ndarray, Q: np.ndarray, z: object, upper: float = math.inf) -> np.ndarray:
    """The unique root ``y*(z)`` in ``(0, upper)`` of ``P + z Q`` (checked activations), elementwise.

    Bisection, valid because ``F > 0`` below the root and ``< 0`` above, run until the
    bracket cannot shrink (float64 resolution: no tolerance to choose). ``z`` any shape;
    float64 of the same shape.
    """
    z = np.asarray(z, dtype=np.float64)
    zz = z.ravel()

    def F(y: np.ndarray) -> np.ndarray:
        return npoly.polyval(y, P) + zz * npoly.polyval(y, Q)

    lo = np.zeros_like(zz)
    hi = np.full_like(zz, upper if math.isfinite(upper) else 1.0)
    if math.isinf(upper):
        for _ in range(2100):  # float64 spans 2^1024
            grow = F(hi) > 0
            if not grow.any():
                break
            hi = np.where(grow, hi * 2.0, hi)
    for _ in range(1100):  # enough to reach the subnormal tail of tiny roots
        mid = 0.5 * (lo + hi)
        if np.all((mid <= lo) | (mid >= hi)):
            break
        pos = F(mid) > 0
        lo, hi = np.where(pos, mid, lo), np.where(pos, hi, mid)
    return (0.5 * (lo + hi)).reshape(z.shape)
