"""Target dynamical systems: a vector field on a box, and the built-in examples of the RNCRN paper."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from nncrn._errors import InputError

__all__ = ["TARGETS", "Target", "get_target"]

VectorField = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True, eq=False)
class Target:
    """A vector field ``f`` to reproduce on the box ``[low, high]`` and how to judge the result.

    Parameters
    ----------
    name:
        Short name (used in file names and tables).
    f:
        ``f(x) -> dx/dt`` for ``x (batch, N)``, returning ``(batch, N)``.
    low, high:
        ``(N,)`` corners of the box the network is trained on (executive concentrations,
        so ``low >= 0``).
    perceptrons, mu:
        The sizes the paper used (defaults of training and of the CLI).
    beta:
        ``None``: learn ``beta``; a number: fix every ``beta_i`` to it (0 drops the
        ``0 -> X`` reactions).
    x0:
        ``(N,)`` start of the trajectories that judge the network.
    kind:
        ``"fixed-points"``, ``"limit-cycle"`` or ``"chaotic"``: which verification applies.
    t_end, t_average:
        Length of the judging trajectory and the window ``(t0, t1)`` of time averages.
    labels:
        Names of the coordinates (default ``X_1..X_N``).
    weighting:
        The residual :func:`~nncrn.rncrn.train` fits by default: ``"per-capita"``
        (``(F - f) / x``) or ``"plain"`` (``F - f``).
    focus:
        Extra training samples along the target's trajectory from ``x0`` (0: the box only).
    """

    name: str
    f: VectorField
    low: tuple[float, ...]
    high: tuple[float, ...]
    perceptrons: int = 4
    mu: float = 0.01
    beta: float | None = None
    x0: tuple[float, ...] | None = None
    kind: str = "fixed-points"
    t_end: float = 100.0
    t_average: tuple[float, float] | None = None
    labels: tuple[str, ...] = field(default=())
    weighting: str = "per-capita"
    focus: int = 0

    def __post_init__(self) -> None:
        low = tuple(float(v) for v in self.low)
        high = tuple(float(v) for v in self.high)
        if len(low) != len(high) or not low:
            raise InputError(f"target {self.name!r}: low and high must have the same length >= 1")
        if any(
            lo < 0 or hi <= lo or not math.isfinite(hi) for lo, hi in zip(low, high, strict=True)
        ):
            raise InputError(
                f"target {self.name!r}: the box must have 0 <= low < high < inf in every "
                f"coordinate (executive species are concentrations); got low={low}, high={high}"
            )
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        if self.kind not in ("fixed-points", "limit-cycle", "chaotic"):
            raise InputError(
                f"target kind {self.kind!r}; choose 'fixed-points', 'limit-cycle' or 'chaotic'"
            )
        x0 = (
            tuple(0.5 * (lo + hi) for lo, hi in zip(low, high, strict=True))
            if self.x0 is None
            else tuple(float(v) for v in self.x0)
        )
        if len(x0) != len(low):
            raise InputError(f"target {self.name!r}: x0 needs {len(low)} entries, got {len(x0)}")
        object.__setattr__(self, "x0", x0)
        if not self.labels:
            object.__setattr__(self, "labels", tuple(f"X_{i + 1}" for i in range(len(low))))

    @property
    def dimension(self) -> int:
        """``N``."""
        return len(self.low)

    def __call__(self, x: object) -> np.ndarray:
        """``f(x)`` checked: ``(batch, N)`` finite values."""
        xa = np.asarray(x, dtype=np.float64)
        out = np.asarray(self.f(xa), dtype=np.float64)
        if out.shape != xa.shape:
            raise InputError(
                f"target {self.name!r}: f returned shape {out.shape} for x of shape {xa.shape}; "
                "it must return dx/dt with the shape of x, (batch, N)"
            )
        return out


def _sin(x: np.ndarray) -> np.ndarray:
    return np.sin(x)


def _bessel(x: np.ndarray) -> np.ndarray:
    from scipy.special import j0

    return np.stack([6.0 + 4.0 * j0(1.5 * x[:, 0]) - x[:, 1], x[:, 0] - 4.0], axis=1)


def _hastings_powell(x: np.ndarray) -> np.ndarray:
    # r = 2.5, k = 1.5, a1 = a2 = 4, b1 = b2 = 3, d1 = 0.4, d2 = 0.6
    u, v, w = x[:, 0], x[:, 1], x[:, 2]
    f1 = 4.0 * u / (1.0 + 3.0 * u)
    f2 = 4.0 * v / (1.0 + 3.0 * v)
    return np.stack(
        [2.5 * u * (1.0 - u / 1.5) - f1 * v, f1 * v - f2 * w - 0.4 * v, f2 * w - 0.6 * w], axis=1
    )


TARGETS: dict[str, Target] = {
    "bistable": Target("bistable", _sin, (1.0,), (12.0,), perceptrons=3, beta=0.0,
                       x0=(2.0,), t_end=60.0),
    "tristable": Target("tristable", _sin, (1.0,), (18.0,), perceptrons=4, beta=0.0,
                        x0=(2.0,), t_end=60.0),
    "bessel-oscillator": Target("bessel-oscillator", _bessel, (0.1, 0.1), (12.0, 12.0),
                                perceptrons=6, beta=1.0, x0=(2.0, 4.0), kind="limit-cycle", weighting="plain", focus=1200,
                                t_end=200.0),
    "hastings-powell": Target("hastings-powell", _hastings_powell, (0.01, 0.01, 0.01),
                              (1.6, 2.3, 0.25), perceptrons=5, mu=0.1, beta=0.0,
                              x0=(0.75, 0.15, 0.1), kind="chaotic", t_end=1000.0, focus=400,
                              t_average=(200.0, 1000.0)),
}  # fmt: skip
"""The four systems of Dack et al.: ``dx/dt = sin x`` on ``[1, 12]`` (stable points pi, 3pi) and
``[1, 18]`` (pi, 3pi, 5pi), the Bessel-function oscillator on ``[0.1, 12]^2`` and the
Hastings–Powell food chain (r = 2.5, k = 1.5, a1 = a2 = 4, b1 = b2 = 3, d1 = 0.4, d2 = 0.6)
on ``[0.01, 1.6] x [0.01, 2.3] x [0.01, 0.25]``: with these parameters its attractor
reaches x1 = 1.46 and x2 = 2.14 (and its interior equilibrium has x1 = 1.37), so the
paper's ``[0.01, 1]^3`` would leave most of it outside the training box."""


def get_target(name: str) -> Target:
    """The built-in :class:`Target` called ``name`` (a key of :data:`TARGETS`)."""
    try:
        return TARGETS[name]
    except KeyError:
        raise InputError(
            f"unknown target {name!r}; the built-in targets are {sorted(TARGETS)} (or pass a "
            "Target(name, f, low, high) of your own)"
        ) from None
