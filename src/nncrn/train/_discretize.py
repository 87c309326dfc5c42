"""Discretization of weights and rate constants into ``bits``-bit sign-magnitude codes.

``bits`` includes the sign bit, so there are ``M = 2^(bits-1)`` magnitudes per sign.
For ``bits >= 2`` one magnitude code is 0 (prunes the reaction) and ``M - 1`` are non-zero;
``bits = 1`` is sign-only (binary). Each weight goes to the nearest level (least squares).

* ``"linear"``: magnitudes ``0, D, 2 D, ..., (M-1) D`` with ``D = max|w| / (M-1)``
  (uniform up to the layer's max ``|w|``); at 1 bit the one magnitude is ``max|w|``.
* ``"exponential"`` (after Malsagov et al. 2020, "Exponential discretization of weights of
  neural network connections in pre-trained neural networks"): magnitudes ``0`` and
  ``a r^i, i = 0..M-2``. Per layer, ``(a, r)`` minimise the squared reconstruction error
  ``sum (w - q(w))^2`` (each weight to its nearest level) by a grid search: the top level
  ``t = a r^(M-2)`` over 24 values evenly spaced in ``[0.3, 1] max|w|`` times ``r`` over 48
  log-spaced values in ``[1.05, 8]``; then once more on 13 x 13 points around the best pair,
  ``t`` in ``[0.97, 1.03] t*`` (capped at ``max|w|``) and ``r`` log-spaced in
  ``[r*/1.05, 1.05 r*]``. With many levels (``M - 2 > 19``, 6 bits and up) that range
  would put levels far below any weight (``8^(M-2)`` overflows from 11 bits), while the best
  ``r`` is barely above 1: there ``r`` spans ``[e^(1/(M-2)), e^(40/(M-2))]`` (levels from
  ``t`` down to ``e^-40 t`` at most) and the 1.05 of the refinement shrinks in proportion.
  Each candidate's error comes from ``log|w|`` on the geometric grid in ``O(n)``, so 24 bits
  cost what 4 do. At 2 bits (one non-zero level) only ``a`` is searched, over 96 values
  evenly spaced in ``[0.05, 1] max|w|``; at 1 bit the magnitude is ``mean|w|`` (the
  least-squares scale of ``sign(w)``). A grid rather than Lloyd iterations keeps the result
  deterministic and the levels exactly geometric.
* ``"binary"`` / ``"ternary"``: ``alpha {-1, +1}`` and ``alpha {-1, 0, +1}`` with the
  least-squares scale (ternary threshold ``0.7 mean|w|``, Li & Liu 2016); ``bits`` ignored.
"""

from __future__ import annotations

import numpy as np

from nncrn._errors import InputError
from nncrn.simulate._solver import check_setting_int

__all__ = ["METHODS", "check_bits", "discretization_levels", "discretize"]

METHODS = ("linear", "exponential", "binary", "ternary")


def check_bits(bits: object, owner: str = "discretize") -> int:
    """``bits`` as an int >= 1 (sign bit included); ``owner`` names the call in the message."""
    bits = check_setting_int(
        owner, "bits", bits,
        hint=" (the count includes the sign bit: bits=1 keeps only the sign, bits=2 gives "
        "magnitudes {0, a})",
    )
    if bits > 24:
        raise InputError(f"{owner}(bits={bits}): more than 24 bits is not a discretization")
    return bits


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise InputError(f"method={method!r}; choose one of {METHODS}")
    return method


def _nearest(mags: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Signed nearest level: ``sign(w) * argmin_m |(|w|) - m|`` for sorted magnitudes."""
    a = np.abs(w)
    mid = (mags[1:] + mags[:-1]) / 2
    return np.sign(w) * mags[np.searchsorted(mid, a)]


def _sse(mags: np.ndarray, w: np.ndarray) -> float:
    return float(np.sum((w - _nearest(mags, w)) ** 2))


def _geometric_sse(x: np.ndarray, t: float, r: float, k: int) -> float:
    """SSE of magnitudes ``x`` on the levels ``{0} U {t / r^j, j = 0..k}``, in ``O(n)``.

    The nearest non-zero level of ``x`` is one of the two around it on the geometric grid,
    found from ``log x``, so no level array (``2^23`` entries at 24 bits) is built per candidate.
    """
    with np.errstate(divide="ignore"):
        pos = k + np.log(x / t) / np.log(r)  # level index, fractional
    lo = np.clip(np.floor(pos), 0, k)
    hi = np.minimum(lo + 1, k)
    err = np.minimum(x, np.minimum(np.abs(x - t / r ** (k - lo)), np.abs(x - t / r ** (k - hi))))
    return float(np.sum(err * err))


def _exponential(w: np.ndarray, m: int) -> np.ndarray:
    top = float(np.max(np.abs(w)))
    if m == 2:
        grid = np.linspace(0.05, 1.0, 96) * top
        best = min(grid, key=lambda t: _sse(np.array([0.0, t]), w))
        return np.array([0.0, best])
    k, x = m - 2, np.abs(w)
    # r in [1.05, 8] while the levels span at most e^40 (k <= 19, 5 bits); past that the span
    # rho = k log r runs from 1 to 40 (the best rho grows only like log m).
    r_lo = 1.05 if k * np.log(1.05) <= 1.0 else float(np.exp(1.0 / k))
    r_hi = 8.0 if k * np.log(8.0) <= 40.0 else float(np.exp(40.0 / k))
    # refinement half-width: a factor 1.05 on the default range, scaled with the range
    f = 1.05 ** ((np.log(r_hi) - np.log(r_lo)) / (np.log(8.0) - np.log(1.05)))
    floor = min(1.0001, float(np.sqrt(r_lo)))
    best, best_err = None, np.inf
    tops, rs = np.linspace(0.3, 1.0, 24) * top, np.geomspace(r_lo, r_hi, 48)
    for _ in range(2):
        for t in tops:
            for r in rs:
                err = _geometric_sse(x, t, r, k)
                if err < best_err:
                    best, best_err = (t, r), err
        t0, r0 = best  # type: ignore[misc]
        tops = np.clip(np.linspace(t0 * 0.97, t0 * 1.03, 13), 0, top)
        rs = np.geomspace(max(floor, r0 / f), r0 * f, 13)
    t, r = best  # type: ignore[misc]
    return np.concatenate([[0.0], t / r ** np.arange(k, -1, -1)])


def discretization_levels(weights: object, bits: int, method: str = "exponential") -> np.ndarray:
    """The sorted non-negative magnitudes ``(M,)`` used for one layer's ``weights``.

    ``M = 2^(bits-1)`` for linear and exponential; ``(alpha,)`` for binary and ``(0, alpha)``
    for ternary. All zero weights give all-zero levels.
    """
    method = _check_method(method)
    w = np.asarray(weights, dtype=np.float64).ravel()
    if w.size == 0 or not np.isfinite(w).all():
        raise InputError("discretization needs a non-empty array of finite weights")
    a = np.abs(w)
    if method == "binary":
        return np.array([a.mean()])
    if method == "ternary":
        keep = a > 0.7 * a.mean()
        return np.array([0.0, a[keep].mean() if keep.any() else 0.0])
    bits = check_bits(bits)
    m = 2 ** (bits - 1)
    top = float(a.max())
    if top == 0:
        return np.zeros(m)
    if m == 1:
        return np.array([top if method == "linear" else a.mean()])
    if method == "linear":
        return np.linspace(0.0, top, m)
    return _exponential(w, m)


def discretize(weights: object, bits: int, method: str = "exponential") -> np.ndarray:
    """``weights`` (any shape) snapped to one layer's levels; same shape, float64."""
    w = np.asarray(weights, dtype=np.float64)
    mags = discretization_levels(w, bits, method)
    return _nearest(mags, w).reshape(w.shape)
