"""A designer limit cycle: the vector field whose attracting periodic orbit is a given closed curve.

A molecular programmer draws the oscillation they want (points along a closed curve in
the positive orthant, visited in order) and gives its period. The curve is interpolated
by a periodic cubic spline ``p(s)``, ``s in [0, 1)``, parametrised by arc length so the
speed along it is constant, and the designed field is

    f(x) = v(s*) + a (p(s*) - x),   p(s*) = the point of the curve nearest to x,
    v(s) = p'(s) / period

so a point on the curve moves along it once per ``period``, and a point off it is pulled
back at rate ``a`` (``attraction``) while it moves along: the curve is an attracting
periodic orbit. The field is defined on a box around the curve, and a
:class:`~nncrn.rncrn.Target` of kind ``"limit-cycle"`` carries it, so training
(:func:`~nncrn.rncrn.train`) and verification (:func:`~nncrn.rncrn.verify`: period and
amplitude of the full network) apply unchanged. The samples that fix the orbit are the
curve and *padding* rings around it (:func:`cycle_samples`): points at distances
``padding`` from the curve, in the directions normal to it, whose target velocity points
back to it.

Far from the curve (past its centre of curvature) the nearest-point field is
discontinuous; :func:`cycle_samples` keeps the training data inside the tube where it is
smooth.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np

from nncrn._errors import InputError
from nncrn.rncrn._targets import Target

__all__ = ["CycleDesign", "cycle_samples", "design_cycle"]

_DENSE = 2000  # points of the resampled curve (nearest-point look-up)


class CycleDesign:
    """The resampled closed curve and its designed field (see the module docstring)."""

    def __init__(self, points: object, period: float, attraction: float) -> None:
        from scipy.interpolate import CubicSpline

        pts = np.asarray(points, dtype=np.float64)
        if pts.ndim != 2 or pts.shape[0] < 4 or pts.shape[1] < 2:
            raise InputError(
                f"curve points have shape {pts.shape}; give (K, N) points along a closed curve, "
                "K >= 4 and N >= 2 (a limit cycle needs at least two species)"
            )
        if not np.isfinite(pts).all() or (pts <= 0).any():
            raise InputError(
                "curve points must be finite and > 0 (they are concentrations of the executive "
                "species); shift the curve into the positive orthant"
            )
        if np.allclose(pts[0], pts[-1]):
            pts = pts[:-1]  # closed explicitly: drop the repeated point
        if not (math.isfinite(period) and period > 0):
            raise InputError(f"period is {period!r}; give a positive time")
        if not (math.isfinite(attraction) and attraction > 0):
            raise InputError(f"attraction is {attraction!r}; give a positive rate")
        closed = np.vstack([pts, pts[:1]])
        seg = np.linalg.norm(np.diff(closed, axis=0), axis=1)
        if (seg == 0).any():
            raise InputError("curve points repeat consecutively; give distinct points in order")
        u = np.concatenate(([0.0], np.cumsum(seg))) / seg.sum()
        spline = CubicSpline(u, closed, bc_type="periodic")
        # arc-length reparametrisation of the spline, so the speed is constant
        fine = np.linspace(0.0, 1.0, 20 * _DENSE + 1)
        arc = np.concatenate(
            ([0.0], np.cumsum(np.linalg.norm(np.diff(spline(fine), axis=0), axis=1)))
        )
        s = np.linspace(0.0, 1.0, _DENSE, endpoint=False)
        self.u_of_s = np.interp(s * arc[-1], arc, fine)
        self.points = spline(self.u_of_s)  # (_DENSE, N)
        tangent = spline(self.u_of_s, 1)
        self.length = float(arc[-1])
        self.velocity = (
            tangent / np.linalg.norm(tangent, axis=1, keepdims=True) * (self.length / period)
        )
        if (self.points <= 0).any():
            raise InputError(
                "the spline through the curve points leaves the positive orthant; add points or "
                "move the curve away from the axes"
            )
        self.period = float(period)
        self.attraction = float(attraction)

    @property
    def dimension(self) -> int:
        return int(self.points.shape[1])

    def nearest(self, x: np.ndarray) -> np.ndarray:
        """Index of the resampled curve point nearest to each row of ``x``."""
        d = ((x[:, None, :] - self.points[None, :, :]) ** 2).sum(2)
        return np.argmin(d, axis=1)

    def project(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest point of the curve (as a fine polygon) to each row of ``x``, and the
        designed velocity there, interpolated along the segment: continuous in ``x`` near
        the curve, so an integrator takes smooth steps."""
        n = len(self.points)
        k = self.nearest(x)
        best_q = np.empty_like(x)
        best_v = np.empty_like(x)
        best_d = np.full(len(x), np.inf)
        for a_idx, b_idx in ((k - 1) % n, k), (k, (k + 1) % n):
            a, b = self.points[a_idx], self.points[b_idx]
            ab = b - a
            lam = np.clip(((x - a) * ab).sum(1) / (ab * ab).sum(1), 0.0, 1.0)[:, None]
            q = a + lam * ab
            d = ((x - q) ** 2).sum(1)
            better = d < best_d
            best_d = np.where(better, d, best_d)
            best_q[better] = q[better]
            v = (1 - lam) * self.velocity[a_idx] + lam * self.velocity[b_idx]
            best_v[better] = v[better]
        return best_q, best_v

    def field(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        out = np.empty_like(x)
        for start in range(0, len(x), 4096):  # bounded memory: 4096 x 2000 distances
            xs = x[start : start + 4096]
            q, v = self.project(xs)
            out[start : start + 4096] = v + self.attraction * (q - xs)
        return out

    def normals(self) -> np.ndarray:
        """``(_DENSE, N - 1, N)`` orthonormal directions normal to the curve at each point."""
        t = self.velocity / np.linalg.norm(self.velocity, axis=1, keepdims=True)
        n = self.dimension
        out = np.empty((len(t), n - 1, n))
        for i, ti in enumerate(t):
            # complete the tangent to an orthonormal basis (QR of [t, I])
            q, _ = np.linalg.qr(np.column_stack([ti, np.eye(n)]))
            out[i] = q[:, 1:n].T
        return out


def design_cycle(points: object, period: float, *, attraction: float = 1.0,
                 margin: float = 0.5, name: str = "designed-cycle", perceptrons: int = 6,
                 mu: float = 0.01, beta: float | None = None,
                 labels: tuple[str, ...] = ()) -> Target:  # fmt: skip
    """A :class:`Target` of kind ``"limit-cycle"`` whose attracting orbit is the closed curve.

    Parameters
    ----------
    points:
        ``(K, N)`` points along the curve, in the order of motion (K >= 4, N >= 2, all > 0;
        the last may repeat the first).
    period:
        Time of one turn.
    attraction:
        Rate at which a point off the curve is pulled back to it.
    margin:
        The box is the curve's bounding box widened by ``margin`` times its extent on each
        side (kept above 0).
    name, perceptrons, mu, beta, labels:
        As for :class:`Target`.
    """
    design = CycleDesign(points, float(period), float(attraction))
    lo, hi = design.points.min(0), design.points.max(0)
    ext = hi - lo
    low = np.maximum(lo - margin * ext, 0.05 * lo)
    high = hi + margin * ext
    return Target(
        name, design.field, tuple(low), tuple(high), perceptrons=perceptrons, mu=mu, beta=beta,
        x0=tuple(design.points[0]), kind="limit-cycle", t_end=max(20.0 * design.period, 50.0),
        labels=labels, weighting="plain",
    )  # fmt: skip


def cycle_samples(target: Target, *, padding: tuple[float, ...] = (0.1, 0.2, 0.3, 0.45),
                  along: int = 150, rng: np.random.Generator | int | None = 0
                  ) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``(x, dxdt)`` training samples of a designed cycle: the curve and padding around it.

    ``along`` points on the curve; for each, points at distances ``padding`` (fractions of
    the curve's smallest extent) on both sides in every normal direction (for N > 2, two
    random unit normals per point and distance), with the designed velocity there: the
    tangent velocity plus the pull back to the curve. Points that would leave the positive
    orthant are dropped.
    """
    design = _design_of(target)
    gen = np.random.default_rng(rng)
    k = np.linspace(0, len(design.points), along, endpoint=False).astype(int)
    p = design.points[k]
    scale = float((design.points.max(0) - design.points.min(0)).min())
    normals = design.normals()[k]  # (along, N - 1, N)
    xs = [p]
    for d in padding:
        if design.dimension == 2:
            dirs = normals[:, :1, :]
        else:
            w = gen.normal(size=(along, 2, design.dimension - 1))
            w /= np.linalg.norm(w, axis=2, keepdims=True)
            dirs = np.einsum("abk,akn->abn", w, normals)
        for sign in (1.0, -1.0):
            xs.append((p[:, None, :] + sign * d * scale * dirs).reshape(-1, design.dimension))
    x = np.vstack(xs)
    x = x[(x > 0).all(1)]
    return x, design.field(x)


def is_design(target: Target) -> bool:
    """Whether ``target`` was made by :func:`design_cycle`."""
    return isinstance(getattr(target.f, "__self__", None), CycleDesign)


def _design_of(target: Target) -> CycleDesign:
    if not is_design(target):
        raise InputError(
            f"target {target.name!r} is not a designed cycle; make one with design_cycle(points, "
            "period)"
        )
    return cast(CycleDesign, target.f.__self__)  # type: ignore[attr-defined]
