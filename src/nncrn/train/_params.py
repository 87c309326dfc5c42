"""Constraints on trained rate constants and the parametrisation that enforces them.

A signed weight ``w`` is realised by a reaction at rate ``|w|``. The realizable range
``[k_min, k_max]`` is built into the parametrisation rather than clipped afterwards: a
latent ``u`` maps to ``w = sign(u) * exp(f(log|u|))`` with the smooth clamp

    f(t) = a + (softplus(beta (t - a)) - softplus(beta (t - b))) / beta,
    a = log k_min, b = log k_max,

which lies strictly inside ``(a, b)``, equals ``t`` to within ``exp(-beta * distance)`` away
from the bounds, and has a closed-form inverse (used to start from the network's rates).
When no bound is active (``k_min = 0``, ``k_max = inf``) the map is the identity ``w = u``,
so training is exactly gradient descent on the weights.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

import numpy as np
import torch

from nncrn._errors import InputError
from nncrn.simulate._solver import check_setting_int

__all__ = ["Constraints", "cluster_levels"]


@dataclass(frozen=True)
class Constraints:
    """What a trained network must satisfy to be realizable.

    Parameters
    ----------
    k_min, k_max:
        Every trained rate constant lies in ``[k_min, k_max]`` (default ``1e-3 .. 1e3``:
        six decades, roughly what DNA strand-displacement rate constants span). ``k_min = 0``
        and ``k_max = inf`` switch the bound off (:meth:`none`).
    l1:
        Weight of the L1 penalty ``l1 * sum |u|`` on the latent magnitudes (0: none). Terms
        whose latent ``|u|`` ends below ``prune_below`` are removed from the network.
    prune_below:
        Threshold for removing reactions; None means ``k_min`` (a latent below the
        realizable floor means "no reaction", the one realizable rate below ``k_min``).
    max_levels:
        Cap on distinct trained rate values: after training the magnitudes are clustered
        in log space (1-D k-means, deterministic quantile start) into at most this many
        levels. None: no cap. Fixed reactions (leaks, saturations, decays) are not counted.
    sharpness:
        ``beta`` of the smooth clamp, per unit of natural log (finite, > 0); 10 keeps rates
        within 7% of the bound at the bound and within 1e-4 relative one decade inside.

    Notes
    -----
    Numbers may be numpy scalars; they are stored as Python floats and ints.
    """

    k_min: float = 1e-3
    k_max: float = 1e3
    l1: float = 0.0
    prune_below: float | None = None
    max_levels: int | None = None
    sharpness: float = 10.0

    def __post_init__(self) -> None:
        for name in ("k_min", "k_max", "l1", "sharpness", "prune_below"):
            v = getattr(self, name)
            if v is None and name == "prune_below":
                continue
            ok = isinstance(v, numbers.Real) and not isinstance(v, bool) and not math.isnan(v)
            if not ok or v < 0:
                more = " or None (prune below k_min)" if name == "prune_below" else ""
                raise InputError(f"Constraints({name}={v!r}): must be a number >= 0{more}")
            object.__setattr__(self, name, float(v))  # numpy scalars become plain floats
        for name, why in (
            ("k_min", "k_min = 0 switches the lower bound off"),
            ("l1", "e.g. l1=1e-3"),
            ("sharpness", "the default 10 keeps rates within 7% of a bound; 1000 is nearly a "
                          "hard clip"),
            ("prune_below", "None prunes below k_min"),
        ):  # fmt: skip
            v = getattr(self, name)
            if v is not None and not math.isfinite(v):
                raise InputError(f"Constraints({name}={v!r}): must be finite; {why}")
        if not self.k_min < self.k_max:
            raise InputError(
                f"Constraints(k_min={self.k_min!r}, k_max={self.k_max!r}): k_min must be < "
                "k_max; e.g. Constraints(k_min=1e-3, k_max=1e3)"
            )
        if self.sharpness == 0:
            raise InputError(
                "Constraints(sharpness=0.0): the smooth clamp needs sharpness > 0 (default 10)"
            )
        ml = self.max_levels
        if ml is not None:
            ml = check_setting_int("Constraints", "max_levels", ml, hint=", or None")
            object.__setattr__(self, "max_levels", ml)

    @classmethod
    def none(cls) -> Constraints:
        """No bound, no penalty, no cap: plain gradient descent on the signed weights."""
        return cls(k_min=0.0, k_max=math.inf)

    @property
    def bounded(self) -> bool:
        return self.k_min > 0 or math.isfinite(self.k_max)

    @property
    def prune_threshold(self) -> float:
        return self.k_min if self.prune_below is None else float(self.prune_below)

    # --------------------------------------------------------------- parametrisation
    def _clamp_log(self, t: torch.Tensor) -> torch.Tensor:
        beta = self.sharpness
        sp = torch.nn.functional.softplus
        a = math.log(self.k_min) if self.k_min > 0 else None
        b = math.log(self.k_max) if math.isfinite(self.k_max) else None
        if a is not None and b is not None:
            return a + (sp(beta * (t - a)) - sp(beta * (t - b))) / beta
        if a is not None:
            return a + sp(beta * (t - a)) / beta
        return b - sp(beta * (b - t)) / beta  # type: ignore[operator]

    def weights(self, u: torch.Tensor) -> torch.Tensor:
        """Signed weights from latents ``u`` (same shape); identity when unbounded.

        Magnitudes are clipped to ``[k_min, k_max]`` after the map (the clamp lies inside
        the range in exact arithmetic, ``exp`` of it can round an ulp outside); the clip
        passes the gradient straight through, so it never stalls training at a bound.
        """
        if not self.bounded:
            return u
        return _BoundedWeights.apply(u, self)

    def _slope(self, t: torch.Tensor) -> torch.Tensor:
        """``d _clamp_log / dt``: differences of softplus slopes (torch's, linear past 20)."""
        beta = self.sharpness

        def sp_slope(v: torch.Tensor) -> torch.Tensor:
            z = torch.exp(v.clamp(max=20.0))  # softplus's own backward: z / (z + 1)
            return torch.where(v > 20.0, 1.0, z / (z + 1.0))

        a = math.log(self.k_min) if self.k_min > 0 else None
        b = math.log(self.k_max) if math.isfinite(self.k_max) else None
        if a is not None and b is not None:
            return sp_slope(beta * (t - a)) - sp_slope(beta * (t - b))
        if a is not None:
            return sp_slope(beta * (t - a))
        return sp_slope(beta * (b - t))  # type: ignore[operator]

    def latents(self, w: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`weights` (rates outside the range start at the nearest inside).

        Computed in log space: with ``x = beta (f - a)`` and ``z = beta (b - f)`` (both > 0),
        the clamp inverts to ``t = a + (L(x) - L(z) + z) / beta`` where ``L(x) = log(e^x - 1)
        = x + log(1 - e^-x)``, which never overflows however wide the range or sharp the clamp.
        """
        w = np.asarray(w, dtype=np.float64)
        if not self.bounded:
            return w.copy()
        beta = self.sharpness
        a = math.log(self.k_min) if self.k_min > 0 else -np.inf
        b = math.log(self.k_max) if math.isfinite(self.k_max) else np.inf
        mag = np.abs(w)
        pad = 1e-9 * max(1.0, abs(a) if np.isfinite(a) else 1.0, abs(b) if np.isfinite(b) else 1.0)
        f = np.clip(np.log(np.where(mag > 0, mag, 1.0)), a + pad, b - pad)

        def log_expm1(x: np.ndarray) -> np.ndarray:  # log(e^x - 1) for x > 0, no overflow
            return x + np.log(-np.expm1(-x))

        with np.errstate(over="ignore"):
            if np.isfinite(a) and np.isfinite(b):
                x, z = beta * (f - a), beta * (b - f)
                t = a + (log_expm1(x) - log_expm1(z) + z) / beta
            elif np.isfinite(a):
                t = a + log_expm1(beta * (f - a)) / beta
            else:
                t = b - log_expm1(beta * (b - f)) / beta
        out = np.where(mag > 0, np.sign(w) * np.exp(t), 0.0)
        if not np.isfinite(out).all():
            raise InputError(
                f"Constraints(k_min={self.k_min!r}, k_max={self.k_max!r}, "
                f"sharpness={self.sharpness!r}): the rate constants {w[~np.isfinite(out)][:3]} "
                "have no finite latent; use a smaller sharpness (default 10)"
            )
        return out


def cluster_levels(w: np.ndarray, max_levels: int) -> np.ndarray:
    """Snap ``|w|`` to at most ``max_levels`` values (1-D k-means on ``log|w|``), signs kept.

    Deterministic: centres start at evenly spaced quantiles; 50 Lloyd iterations. Zeros stay 0.
    """
    w = np.asarray(w, dtype=np.float64)
    nz = w != 0
    logs = np.log(np.abs(w[nz]))
    if logs.size == 0 or np.unique(logs).size <= max_levels:
        return w.copy()
    centres = np.quantile(logs, (np.arange(max_levels) + 0.5) / max_levels)
    for _ in range(50):
        assign = np.argmin(np.abs(logs[:, None] - centres[None, :]), axis=1)
        new = np.array([logs[assign == k].mean() if (assign == k).any() else centres[k]
                        for k in range(max_levels)])  # fmt: skip
        if np.allclose(new, centres):
            break
        centres = new
    assign = np.argmin(np.abs(logs[:, None] - centres[None, :]), axis=1)
    out = w.copy()
    out[nz] = np.sign(w[nz]) * np.exp(centres[assign])
    return out


class _BoundedWeights(torch.autograd.Function):
    """``sign(u) exp(clamp_log(log |u|))`` clipped to the bounds, with its derivative written out.

    The derivative is ``m / |u| * clamp_log'(log |u|)`` (``m`` the magnitude before the
    clip: the clip passes the gradient straight through), and 0 at ``u = 0``: the numbers
    autograd gives through the same operations, in a handful of operations instead of ~20
    recorded ones (the training step runs this once per step).
    """

    @staticmethod
    def forward(ctx, u, constraints):  # type: ignore[override]
        mag = u.abs()
        nz = mag > 0
        t = torch.log(torch.where(nz, mag, 1.0))
        m = torch.exp(constraints._clamp_log(t))
        ctx.save_for_backward(t, m, mag, nz)
        ctx.constraints = constraints
        return torch.where(nz, torch.sign(u) * m.clamp(constraints.k_min, constraints.k_max), 0.0)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        t, m, mag, nz = ctx.saved_tensors
        slope = m * ctx.constraints._slope(t) / torch.where(nz, mag, 1.0)
        return torch.where(nz, grad * slope, 0.0), None
