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
from typing import TYPE_CHECKING

import numpy as np
from numpy.polynomial import polynomial as npoly

from nncrn._errors import InputError, UnsupportedModelError

if TYPE_CHECKING:  # torch is imported where a root is found: ``import nncrn`` stays light
    import torch

__all__ = [
    "ActivationError",
    "activation_coefficients",
    "analyse_activation",
    "check_activation",
    "check_eps",
    "chemical_sigmoid",
    "polynomial_root",
    "positive_root",
    "quadratic_root",
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
            "(e.g. eps + z y - y^k: Polynomial.rectified_root; bounded: ChemicalSigmoidScheme)"
        )


def polynomial_root(P: np.ndarray, Q: np.ndarray, z: object, upper: float = math.inf) -> np.ndarray:
    """The unique root ``y*(z)`` in ``(0, upper)`` of ``P + z Q`` (checked activations), elementwise.

    The numpy face of :func:`positive_root` (float64 in and out): ``z`` any shape, result
    of the same shape. The pair must have passed :func:`check_activation` (with the same
    ``upper``), which is what makes the root unique.
    """
    import torch

    z = np.asarray(z, dtype=np.float64)
    c = activation_coefficients(P, Q, torch.from_numpy(z.ravel()))
    root, _ = positive_root(c, unique=True, upper=upper)
    return np.where(np.isnan(z), np.nan, root.numpy().reshape(z.shape))  # NaN in, NaN out


def activation_coefficients(P: np.ndarray, Q: np.ndarray, z: torch.Tensor) -> torch.Tensor:
    """``(d + 1, *z.shape)`` coefficients of ``P(y) + z Q(y)`` in ``y``, lowest power first."""
    import torch

    d = max(len(P), len(Q))
    rows = [
        (float(P[p]) if p < len(P) else 0.0) + z * (float(Q[p]) if p < len(Q) else 0.0)
        for p in range(d)
    ]
    return torch.stack(rows)


# ---------------------------------------------------------------------------- the root finder
# The one finder of the library: the activations above (numpy, through polynomial_root),
# nn.PolynomialActivation, the level sweep of the steady-state solver, the closed-form
# oracle fixed_point and the layered training graph all call positive_root.

_MAX_DOUBLINGS = 1100  # hi = 2^k until g(hi) <= 0; float64 overflows past 2^1024
# Newton steps, each falling back to a bisection when it leaves the bracket: float64
# bisection from 2^1024 down to the subnormal 2^-1074 takes ~2,100 halvings. The loop stops
# as soon as no item moves, so the cap only bounds pathological cases.
_MAX_NEWTON = 2200


def positive_root(
    c: torch.Tensor, *, unique: bool = False, upper: float = math.inf
) -> tuple[torch.Tensor, torch.Tensor]:
    """The positive root of ``g(y) = sum_p c[p] y^p`` that every start in ``[0, root]`` reaches.

    ``c (d + 1, ...)``, lowest power first, any float dtype and device; the root has the
    shape and dtype of ``c[0]``. Returns ``(root, ok)``; where ``ok`` is False ``root`` is
    meaningless (0, ``inf`` or NaN) and the caller decides what to do.

    Certificate. With ``unique=False`` (the steady-state solver's setting) ``ok`` requires
    ``c[0] > 0`` and exactly one sign change in ``c``: by Descartes' rule of signs ``g``
    then has exactly one positive root, ``g > 0`` below it and ``< 0`` above. With
    ``unique=True`` the caller already knows the root in ``(0, upper)`` is unique (an
    activation that passed :func:`check_activation`, whose coefficients may change sign
    several times, e.g. ``1 - 2y + 2y^2 - y^3``); ``ok`` then only requires ``c[0] > 0``
    and a finite root. ``upper`` (finite: a bounded species) brackets the root in
    ``(0, upper)`` instead of doubling an upper end until ``g <= 0``.

    Method. Degree 1: ``c0 / -c1``. Degree 2: the closed form without cancellation,
    ``2 c0 / (h - c1)`` for ``c1 < 0`` and ``(c1 + h) / (-2 c2)`` otherwise
    (``h = sqrt(c1^2 - 4 c0 c2)``); it is the smaller positive root when there are two, and
    its torch graph is differentiable (the layered training graph back-propagates through
    it; the discarded branch of each ``where`` has a finite denominator). Degree >= 3:
    Newton in the form ``y <- N(y) / g'(y)`` with ``N = sum_p (p - 1) c_p y^p`` (no
    cancellation for roots far below the current iterate), bisecting whenever a step leaves
    the bracket, run until no item moves (float resolution; no tolerance to choose). Where
    ``c`` requires grad, the root carries the implicit derivative ``dy/dc_p = -y^p / g'(y)``
    (its value is unchanged).
    """
    import torch

    c0, d = c[0], c.shape[0] - 1
    if d == 0:
        return torch.zeros_like(c0), torch.zeros_like(c0, dtype=torch.bool)
    if d == 1:
        ok = (c0 > 0) & (c[1] < 0)
        return c0 / torch.where(ok, -c[1], torch.ones_like(c0)), ok
    if d == 2:
        c1, c2 = c[1], c[2]
        root = quadratic_root(c0, c1, c2)
        if unique:
            return root, (c0 > 0) & torch.isfinite(root)
        # (+, any, -) or (+, -, 0): the only patterns with one sign change
        return root, (c0 > 0) & ((c2 < 0) | ((c2 == 0) & (c1 < 0)))
    if unique:
        ok = c0 > 0
    else:
        ok = (c0 > 0) & (_sign_changes(c) == 1)
    with torch.no_grad():
        root = _bracketed_newton(c.detach(), ok, upper)
    ok = ok & torch.isfinite(root)
    if math.isfinite(upper):
        ok = ok & (root <= upper)
    root = torch.where(ok, root, torch.zeros_like(root))
    if c.requires_grad:
        root = _with_implicit_derivative(c, root, ok)
    return root, ok


def quadratic_root(c0: torch.Tensor, c1: torch.Tensor, c2: torch.Tensor) -> torch.Tensor:
    """Smaller positive root of ``c0 + c1 y + c2 y^2``: :func:`positive_root`'s degree-2 case.

    Elementwise, broadcasting; ``inf`` where ``c1 >= 0 <= c2`` (no positive root: the
    species grows without bound). Its torch graph is differentiable. Where ``c0 >= 0`` (every caller) it is the root that
    mass action approaches from 0: ``c0 / -c1`` for ``c2 = 0``, 0 for ``c0 = 0 > c1``.
    Called directly by the layered training graph, which knows its coefficients have that
    shape and needs no certificate.
    """
    import torch

    disc = c1 * c1 - 4.0 * c0 * c2
    if not bool(torch.isfinite(disc).all()):
        # Roots do not change when the coefficients are divided by one number: bring huge
        # magnitudes (|c| > 1e77 in float64) near 1 so that c1^2 and c0 c2 do not overflow.
        m = torch.maximum(torch.maximum(c0.abs(), c1.abs()), c2.abs()).detach()
        scale = torch.where(torch.isfinite(disc) | ~torch.isfinite(m), torch.ones_like(m), m)
        c0, c1, c2 = c0 / scale, c1 / scale, c2 / scale
        disc = c1 * c1 - 4.0 * c0 * c2
    # clamped, not masked: the gradient of sqrt at 0 is infinite (0 * inf = NaN); the floor
    # moves a zero discriminant's root by at most ~1e-154 (float64)
    h = torch.sqrt(disc.clamp(min=torch.finfo(disc.dtype).tiny))
    # q = c1 + sign(c1) h adds two numbers of one sign (no cancellation). c1 >= 0: the root
    # (c1 + h) / (-2 c2) = q / (-2 c2), which exists only if c2 < 0; c1 < 0: 2 c0 / (h - c1)
    # = 2 c0 / -q. Where the denominator is not > 0 there is no positive root: inf (and the
    # division there is by 1, so that no infinite derivative turns a gradient into NaN).
    up = c1 >= 0
    # the sign from the same test as the branch (copysign would give -h for c1 = -0.0, which
    # counts as >= 0 below: a negative root)
    q = c1 + torch.where(up, h, -h)
    den = torch.where(up, -2.0 * c2, -q)
    has = den > 0
    root = torch.where(up, q, 2.0 * c0) / torch.where(has, den, 1.0)
    return torch.where(has, root, math.inf)


def _sign_changes(c: torch.Tensor) -> torch.Tensor:
    """Sign changes in ``c[0], c[1], ...`` (zeros skipped), counted from a positive start."""
    import torch

    prev = torch.ones_like(c[0])
    changes = torch.zeros_like(c[0], dtype=torch.int64)
    for p in range(1, c.shape[0]):
        s = torch.sign(c[p])
        nz = s != 0
        changes += (nz & (s != prev)).long()
        prev = torch.where(nz, s, prev)
    return changes


def _horner(c: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``g(y)``, ``g'(y)`` and ``N(y) = sum_p (p - 1) c_p y^p = y g'(y) - g(y)``."""
    import torch

    d = c.shape[0] - 1
    g = c[-1].clone()
    dg = torch.zeros_like(g)
    n = (d - 1) * c[-1]
    for p in range(d - 1, -1, -1):
        dg = dg * y + g
        g = g * y + c[p]
        n = n * y + (p - 1) * c[p]
    return g, dg, n


def _bracketed_newton(c: torch.Tensor, ok: torch.Tensor, upper: float) -> torch.Tensor:
    """Root of ``g`` in ``(0, hi]`` with ``g(0) > 0 >= g(hi)``: Newton, bisecting when it leaves."""
    import torch

    lo = torch.zeros_like(c[0])
    if math.isfinite(upper):
        hi = torch.full_like(lo, upper)
    else:
        hi = torch.ones_like(lo)
        for _ in range(_MAX_DOUBLINGS):
            up = ok & (_horner(c, hi)[0] > 0)
            if not bool(up.any()):
                break
            hi = torch.where(up, 2.0 * hi, hi)
    y = hi.clone()
    for _ in range(_MAX_NEWTON):
        g, dg, n = _horner(c, y)
        lo = torch.where(g > 0, y, lo)
        hi = torch.where(g < 0, y, hi)
        step = n / dg
        inside = torch.isfinite(step) & (step > lo) & (step < hi)
        y_new = torch.where(g == 0, y, torch.where(inside, step, 0.5 * (lo + hi)))
        if bool(((y_new == y) | ~ok).all()):
            break
        y = y_new
    return y


def _with_implicit_derivative(
    c: torch.Tensor, root: torch.Tensor, ok: torch.Tensor
) -> torch.Tensor:
    """``root`` unchanged in value, with gradient ``dy/dc_p = -y^p / g'(y)`` where ``ok``."""
    import torch

    y = root.detach()
    g, dg, _ = _horner(c, y)  # g carries c's graph; at the root its value is ~0
    dg = torch.where(ok & (dg != 0), dg.detach(), torch.ones_like(dg))
    corr = torch.where(ok, -g / dg, torch.zeros_like(g))
    return y + (corr - corr.detach())
