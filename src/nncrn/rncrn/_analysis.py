"""Dynamical features of a vector field or a trajectory: fixed points, periods, time averages.

Used alike on the target, the reduced RNCRN and trajectories of the full compiled network,
so each comparison measures both sides the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["FixedPoint", "find_fixed_points", "numerical_jacobian", "oscillation", "simulate_field"]


@dataclass(frozen=True)
class FixedPoint:
    """A zero ``x`` of a vector field with the eigenvalues of its Jacobian there."""

    x: np.ndarray
    eigenvalues: np.ndarray

    @property
    def stable(self) -> bool:
        """Every eigenvalue has a negative real part (a hyperbolic attractor)."""
        return bool((self.eigenvalues.real < 0).all())

    def __repr__(self) -> str:
        xs = ", ".join(f"{v:.6g}" for v in self.x)
        return f"FixedPoint(({xs}), {'stable' if self.stable else 'unstable'})"


def numerical_jacobian(f: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """``(N, N)`` central-difference Jacobian of ``f`` (batch in, batch out) at ``x (N,)``."""
    n = x.size
    h = 1e-6 * np.maximum(1.0, np.abs(x))
    pts = np.concatenate([x + np.diag(h), x - np.diag(h)])
    v = f(pts)
    return ((v[:n] - v[n:]) / (2 * h)[:, None]).T


def find_fixed_points(
    f: Callable[[np.ndarray], np.ndarray],
    low: object,
    high: object,
    *,
    jacobian: Callable[[np.ndarray], np.ndarray] | None = None,
    starts: int | None = None,
    tol: float = 1e-9,
) -> list[FixedPoint]:
    """Zeros of ``f`` inside the box ``[low, high]``, each once, sorted, with their stability.

    Newton-type root finding (``scipy.optimize.root``, hybrid method) from a grid of
    ``starts`` points per coordinate (default 200 in 1-D, 12 in 2-D, 6 in 3-D and above);
    in 1-D every sign change on that grid is also bracketed and solved by ``brentq``, so no
    simple root between grid points is missed. Zeros closer than ``1e-6`` of the box size
    are merged. ``jacobian(x (batch, N)) -> (batch, N, N)`` if known, else central
    differences.
    """
    from scipy.optimize import brentq, root

    lo = np.asarray(low, dtype=np.float64).reshape(-1)
    hi = np.asarray(high, dtype=np.float64).reshape(-1)
    n = lo.size
    k = starts or (200 if n == 1 else 12 if n == 2 else 6)
    axes = [np.linspace(a, b, k) for a, b in zip(lo, hi, strict=True)]
    grid = np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)

    def jac(x: np.ndarray) -> np.ndarray:
        if jacobian is not None:
            return np.asarray(jacobian(x[None, :]))[0]
        return numerical_jacobian(f, x)

    found: list[np.ndarray] = []
    if n == 1:
        v = f(grid)[:, 0]
        for i in np.flatnonzero(np.sign(v[:-1]) * np.sign(v[1:]) <= 0):
            a, b = grid[i, 0], grid[i + 1, 0]
            if v[i] == 0:
                found.append(np.array([a]))
            elif v[i + 1] != 0:
                found.append(
                    np.array([brentq(lambda z: f(np.array([[z]]))[0, 0], a, b, xtol=1e-14)])
                )
    else:
        for x0 in grid:
            sol = root(lambda z: f(z[None, :])[0], x0, jac=jac, method="hybr", tol=1e-13)
            z = sol.x
            inside = (z >= lo - 1e-9).all() and (z <= hi + 1e-9).all()
            if inside and np.abs(f(z[None, :])[0]).max() <= tol * max(1.0, np.abs(z).max()):
                found.append(z)
    merged: list[np.ndarray] = []
    scale = 1e-6 * float(np.max(hi - lo))
    for z in found:
        if not any(np.abs(z - m).max() <= scale for m in merged):
            merged.append(z)
    merged.sort(key=lambda z: tuple(z))
    return [FixedPoint(z, np.linalg.eigvals(jac(z))) for z in merged]


def simulate_field(
    f: Callable[[np.ndarray], np.ndarray], x0: object, t_eval: np.ndarray
) -> np.ndarray:
    """``(n_times, N)`` trajectory of ``dx/dt = f(x)`` (LSODA, rtol 1e-10): the target's reference."""
    from scipy.integrate import solve_ivp

    x0a = np.asarray(x0, dtype=np.float64).reshape(-1)
    sol = solve_ivp(lambda t, x: f(x[None, :])[0], (0.0, float(t_eval[-1])), x0a, method="LSODA",
                    t_eval=t_eval, rtol=1e-10, atol=1e-12)  # fmt: skip
    if not sol.success:  # pragma: no cover - smooth targets on their box
        raise RuntimeError(f"the reference integration failed: {sol.message}")
    return sol.y.T


def oscillation(t: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Period and peak-to-peak amplitude of a settled oscillation (second half of ``t``).

    The period is the mean spacing of the upward crossings of ``x[:, 0]`` through the
    middle of its range, each crossing time linearly interpolated; ``nan`` if fewer than
    three crossings (no oscillation). Amplitude: ``max - min`` of each coordinate, ``(N,)``.
    """
    keep = t >= t[0] + 0.5 * (t[-1] - t[0])
    tt, xx = t[keep], x[keep]
    amp = xx.max(axis=0) - xx.min(axis=0)
    u = xx[:, 0] - 0.5 * (xx[:, 0].max() + xx[:, 0].min())
    up = np.flatnonzero((u[:-1] < 0) & (u[1:] >= 0))
    if up.size < 3 or amp[0] < 1e-6 * max(1.0, float(np.abs(xx[:, 0]).max())):
        return float("nan"), amp
    tc = tt[up] - u[up] * (tt[up + 1] - tt[up]) / (u[up + 1] - u[up])
    return float(np.mean(np.diff(tc))), amp
