"""Batched Newton with pseudo-transient continuation: the steady-state solver of :class:`TorchODE`.

Each item iterates ``(I/dt - J) dy = f(y)``, ``y <- y + dy`` with its own pseudo-time step
``dt``. Small ``dt`` is a linearly implicit Euler step along the trajectory (so the iteration
finds the attractor that the chemistry reaches from ``y0``); large ``dt`` is Newton's method
(quadratic convergence). ``dt`` grows by switched evolution relaxation,
``dt *= ||f_old|| / ||f_new||``, as the residual falls. A step is rejected (``dt /= 4``) when

* it makes a concentration negative: the other roots of a mass-action system are usually
  negative (``sigma_eps``'s partner root ``(z - sqrt(z^2 + 4 eps)) / 2 < 0``);
* ``1/dt`` crossed a positive real eigenvalue of ``J`` (a pivot of the triangular solve, or
  the determinant of the dense one, turned non-positive), past which the Newton step heads
  *towards* an unstable fixed point (e.g. ``y = 0`` of ``y' = y - y^2``);
* the residual grows by more than ``_MAX_GROWTH`` (a wild overshoot).

``dt`` is capped at ``_DT_MAX``: networks with conservation laws (``A <-> B``) have a singular
``J``, and ``I/dt - J`` must stay invertible. In exact arithmetic the iteration conserves
every linear conservation law (``c^T J = 0`` implies ``c^T dy = 0``); in floating point a
solve with ``dt`` near the cap amplifies roundoff along ``c`` (a chemical sigmoid's
``Y + Yc`` drifted by 1e-7 while the residual stayed at 1e-15). So every iterate is
projected back onto the conserved totals of the item's initial state (orthonormal laws from
:mod:`._conservation`). The cap only slows the last digits of convergence along slow modes
(factor ``1 / (1 + dt |lambda|)`` per step).
An item has converged when ``||f(y)||_inf <= atol + rtol ||y||_inf`` at its final state and
that state is a stable steady state the chemistry settles in:

* a final full Newton step is small (``_polish``): unbounded growth (``0 -> A``) meets the
  residual criterion only because ``rtol ||y||`` outgrows a constant ``f``; and a second
  step is much shorter than the first (quadratic convergence to an isolated root, not the
  linear approach to a continuum of steady states, whose limit depends on the path);
* every eigenvalue of the Jacobian (conservation laws moved to -1) has negative real part
  (``_stable``): a saddle or an unstable state Newton landed on, a centre the trajectory
  circles forever, or one point of a continuum of steady states (``2 A -> 0, A -> B``)
  whose position depends on the transient are not converged.

In a network whose every reaction runs to completion (non-competitive and acyclic, e.g.
dual-rail ReLU networks; see :mod:`._completion`) convergence is decided by the check the
construction guarantees instead: every reaction has a reactant at ~0 (``_exhausted``), and
an item keeps iterating until it passes. The eigenvalue test refuses exact completion
states (a dead neuron sits at 0 with a zero Jacobian), and the residual alone accepts a
near tie too early: with ``p = n + 2.8e-7`` the debt reaction ``n + c -> d`` still runs at
``k n c ~ 4e-10`` (within the residual tolerance) where ``c = 2.8e-7`` must still go to
``d``, moving the outputs by ``2.8e-7``.

These checks apply to items Newton moved: an item that starts at a steady state (within
the tolerance) stays there, as the chemistry does, even when that state is unstable.

With a triangular Jacobian every pivot of ``I/dt - J`` must be positive; the dense path
checks the sign of the determinant, which misses two positive eigenvalues crossed in one
step (the final stability check then still refuses an unstable landing point).

A network that may be multistable (a Jacobian that is not triangular, or conservation
laws) also has each large step error-controlled as a step along the trajectory
(``_tracking_error``): without that, ``dt`` grown by the falling residual let the
iteration leave the trajectory in the transient and settle on another stable state than
the chemistry's. Steps shorter than ``_TRACK_STEP ||y||`` (Newton's last ones) are free.
No finite tolerance decides every basin: a trajectory that grazes a separatrix can still
be followed to the wrong side.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nncrn.simulate._linsolve import factor
from nncrn.simulate._torch_kernels import TorchKernels

__all__ = ["ptc_steady_state"]

_DT_MAX = 1e10
_MAX_GROWTH = 10.0
_GROW = (1.5, 100.0)  # clamp of the per-step growth factor of dt
_DT0 = 0.1  # first dt, as a fraction of the fastest self-decay time
_DRIFT = 64  # conserved totals off by more than this many epsilons are projected back
_ROUNDOFF = 8  # negatives below this many epsilons times ||y||_inf are roundoff
_SETTLED = 1e-3  # largest final Newton step, relative to ||y|| (see _polish)
_CONTRACT = 0.25  # a second Newton step must be this much shorter than the first (_polish)
_NOISE = 1e-9  # Newton steps below this fraction of ||y|| (plus atol) are roundoff (_polish)
_STABLE = 1e-13  # eigenvalues need real part < -_STABLE * max |eigenvalue| (see _stable)
_EDGE = 1e-5  # species below this fraction of ||y|| may be on their way to 0 (see _stable)
_TRACK = 3e-2  # local error allowed per step, relative to each species (see _tracking_error)
_TRACK_FLOOR = 1e-4  # ... and below this fraction of ||y||, absolute (see _tracking_error)
_TRACK_STEP = 1e-3  # steps shorter than this fraction of ||y|| are not error-controlled


@dataclass
class SteadyOutcome:
    """Per-item results of :func:`ptc_steady_state` (torch tensors on the working device)."""

    y: torch.Tensor  # (batch, n_dynamic)
    converged: torch.Tensor
    residual: torch.Tensor
    time: torch.Tensor  # accumulated pseudo-time
    n_steps: torch.Tensor
    n_rhs: int

    @classmethod
    def direct(cls, y: torch.Tensor, converged: torch.Tensor, residual: torch.Tensor):
        """A state computed without pseudo-time steps (the sweep, firing to completion)."""
        b = y.shape[0]
        time = torch.full((b,), float("inf"), dtype=y.dtype, device=y.device)
        return cls(y, converged, residual, time, torch.zeros(b, dtype=torch.long, device=y.device),
                   n_rhs=1)  # fmt: skip

    def take(self, rows: torch.Tensor, other: SteadyOutcome) -> SteadyOutcome:
        """Replace ``rows`` by ``other``'s items (a fallback's answers for them); returns self."""
        self.y[rows], self.converged[rows], self.residual[rows] = (
            other.y, other.converged, other.residual)  # fmt: skip
        self.time[rows], self.n_steps[rows] = other.time, other.n_steps
        self.n_rhs += other.n_rhs
        return self


def ptc_steady_state(
    k: TorchKernels,
    y_full: torch.Tensor,
    *,
    atol: float,
    rtol: float,
    max_steps: int,
    dense: bool = False,
    check_stability: bool = True,
) -> SteadyOutcome:
    """Steady state of every item of ``y_full (batch, n_species)``; ``max_steps`` Newton tries each.

    The linear systems are solved by forward substitution when the network's Jacobian is
    triangular (see :mod:`._linsolve`), else (or with ``dense=True``) by dense LU.
    """
    b, nd = y_full.shape[0], k.n_dynamic
    y = y_full[:, k.dynamic].clone()
    dev, dt_ = y.device, y.dtype
    laws = k.conservation
    totals = None if laws is None else y @ laws.T  # (batch, n_laws), fixed by the start
    g = k.coefficients(y_full)
    f = k.rhs(g, y)
    res = f.abs().amax(1) if nd else torch.zeros(b, dtype=dt_, device=dev)
    n_rhs = 1
    tol = atol + rtol * (y.abs().amax(1) if nd else torch.zeros_like(res))
    done = res <= tol
    if k.completion is not None and nd:  # see _exhausted: a slow reaction is still running
        done = done & _exhausted(k, y_full, y, atol, rtol)
    steps = torch.zeros(b, dtype=torch.long, device=dev)
    time = torch.zeros(b, dtype=dt_, device=dev)
    if nd == 0 or bool(done.all()):
        # Already at a steady state: the chemistry stays there, stable or not.
        return SteadyOutcome(y, done, res, time, steps, n_rhs)
    start_scale = y.abs().amax(1)  # (see _stable)
    started_done = done.clone()
    # First pseudo-step: a tenth of the fastest self-decay time of any species.
    diag = k.diagonal(k.base(y), k.g_ext(g)).abs().amax(0)
    n_rhs += 1
    dt = torch.where(diag > 0, _DT0 / diag.clamp(min=1e-300), torch.ones_like(diag))
    # Slightly negative results of exact-zero steady states (roundoff) are clamped, not rejected.
    neg_tol = 1e-3 * atol
    eps_dtype = torch.finfo(dt_).eps
    # Working set: unfinished items, compacted only when a third of it has finished, so that
    # most iterations update in place instead of gathering and scattering every array.
    idx = torch.nonzero(~done)[:, 0]
    w = _Work(y[idx], f[idx], res[idx], dt[idx], g[:, idx], tol[idx], time[idx], steps[idx],
              None if totals is None else totals[idx])  # fmt: skip
    w_done = torch.zeros(idx.numel(), dtype=torch.bool, device=dev)
    # Error control along the trajectory where the network may be multistable (see
    # _tracking_error); a triangular network without laws, or a completion network, has
    # its one attractor reached without it.
    track = not (k.triangular and laws is None) and k.completion is None
    for _ in range(max_steps):
        if bool(w_done.all()):
            break
        if 3 * int(w_done.sum()) >= idx.numel():
            _write_back(w, idx, w_done, y, f, res, tol, time, steps, done)
            keep = ~w_done
            idx, w, w_done = idx[keep], w.select(keep), w_done[keep]
        system = factor(k, w.g, w.y, 1.0 / w.dt, dense=dense, laws=laws)
        y_step = w.y + system.solve(w.f)
        y_new = _project(y_step, laws, w.totals)
        # ... and so are roundoff-level negatives, and those the projection made: it spreads
        # the drift of the totals over every species of a law, exact zeros included (a
        # dual-rail input rail at 0 went to -4e-14 at every step, each step was rejected,
        # and dt shrank to 1e-17 with the residual at 8).
        floor = neg_tol + _ROUNDOFF * eps_dtype * y_new.abs().amax(1, keepdim=True)
        if y_new is not y_step:  # moved by the projection (no laws: the same tensor)
            floor = floor + (y_new - y_step).abs().amax(1, keepdim=True)
        y_new = y_new.masked_fill((y_new < 0) & (y_new >= -floor), 0.0)
        f_new = k.rhs(w.g, y_new)
        n_rhs += 2
        r_new = f_new.abs().amax(1)
        ok = (
            torch.isfinite(r_new)
            & (y_new >= 0).all(1)
            & system.det_positive()
            & (r_new <= _MAX_GROWTH * w.res)
            & ~w_done
        )
        ratio = (w.res / r_new.clamp(min=1e-300)).clamp(*_GROW)
        if track:
            err = _tracking_error(w.y, y_new, w.f, f_new, w.dt, atol)
            ok = ok & (err <= 1.0)
            # The error of a first-order step grows as dt^2: cap the growth by it, and
            # shrink a rejected step by it (at least by the usual factor 4).
            fit = 0.9 / err.clamp(min=1e-300).sqrt()
            ratio = torch.minimum(ratio, fit.clamp(min=_GROW[0]))
        w.time = w.time + torch.where(ok, w.dt, torch.zeros_like(w.dt))
        shrink = (
            0.25 if not track else torch.minimum(fit, torch.full_like(fit, 0.25)).clamp(min=1e-3)
        )
        grown = torch.where(ok, (w.dt * ratio).clamp(max=_DT_MAX), w.dt * shrink)
        w.dt = torch.where(w_done, w.dt, grown)
        if bool(ok.all()):  # the usual step: no item keeps its old state
            w.y, w.f = y_new, f_new
        else:
            okc = ok[:, None]
            w.y, w.f = torch.where(okc, y_new, w.y), torch.where(okc, f_new, w.f)
        w.res = torch.where(ok, r_new, w.res)
        w.steps = w.steps + ok.long()
        w.tol = torch.where(ok, atol + rtol * y_new.abs().amax(1), w.tol)
        met = ok & (w.res <= w.tol)
        if k.completion is not None and bool(met.any()):
            # A completion network's answer has every reaction exhausted: an item whose
            # residual is small only because a near tie runs down slowly keeps stepping.
            met = met & _exhausted(k, y_full[idx], w.y, atol, rtol)
        w_done = w_done | met
    _write_back(w, idx, torch.ones_like(w_done), y, f, res, tol, time, steps, done)
    done = res <= tol
    settled = _polish(k, g, y, f, res, done, dense, totals, atol)
    n_rhs += 4 if settled is not None else 0
    converged = res <= tol
    if settled is not None:
        # Items that started at a steady state stay there (even an unstable one, like
        # y = 0 of an eps = 0 neuron with z > 0): only items Newton moved are checked.
        moved = ~started_done[done]
        ok = settled | ~moved  # items that started at a steady state are not checked
        sel = torch.nonzero(done)[:, 0][moved]
        if check_stability or (k.triangular and k.conservation is None):  # free there
            ok[moved] = settled[moved] & _stable(k, g[:, sel], y[sel], atol, rtol, start_scale[sel])
        if k.completion is not None:  # see _exhausted
            ok[moved] = _exhausted(k, y_full[sel], y[sel], atol, rtol)
        converged[done] = ok
    return SteadyOutcome(y, converged, res, time, steps, n_rhs)


@dataclass
class _Work:
    """Per-item state of the unfinished items (batch-first; ``g`` species-major)."""

    y: torch.Tensor
    f: torch.Tensor
    res: torch.Tensor
    dt: torch.Tensor
    g: torch.Tensor
    tol: torch.Tensor
    time: torch.Tensor
    steps: torch.Tensor
    totals: torch.Tensor | None  # conserved totals of the initial state

    def select(self, keep: torch.Tensor) -> _Work:
        return _Work(
            self.y[keep], self.f[keep], self.res[keep], self.dt[keep], self.g[:, keep],
            self.tol[keep], self.time[keep], self.steps[keep],
            None if self.totals is None else self.totals[keep],
        )  # fmt: skip


def _project(y: torch.Tensor, laws: torch.Tensor | None, totals: torch.Tensor | None):
    """``y`` moved orthogonally onto ``laws @ y = totals`` (orthonormal ``laws``).

    Only items that drifted by more than roundoff move: correcting a roundoff-level drift
    would spread ~1e-16 over every species of a law and turn exact zeros (a consumed
    dual-rail species) negative.
    """
    if laws is None:
        return y
    assert totals is not None, "the conserved totals come with the laws"
    drift = y @ laws.T - totals
    scale = torch.maximum(y.abs().amax(1), totals.abs().amax(1))
    off = drift.abs().amax(1) > _DRIFT * torch.finfo(y.dtype).eps * scale
    return y - torch.where(off[:, None], drift, torch.zeros_like(drift)) @ laws


def _write_back(w: _Work, idx, which, y, f, res, tol, time, steps, done) -> None:
    """Copy the working items ``which`` back into the full arrays."""
    sel = idx[which]
    y[sel], f[sel], res[sel], tol[sel] = w.y[which], w.f[which], w.res[which], w.tol[which]
    time[sel], steps[sel] = w.time[which], w.steps[which]
    done[sel] = True


def _tracking_error(y, y_new, f, f_new, dt, atol: float) -> torch.Tensor:
    """``(batch,)`` local error of a pseudo-time step, in units of its allowance (accept <= 1).

    A step of ``(I/dt - J) dy = f`` is a linearly implicit Euler step; its local error
    along the trajectory is about ``dt/2 ||f(y_new) - f(y)||``. Without control, the
    switched evolution relaxation grows ``dt`` as the residual falls and the iteration
    can leave the trajectory in the transient: in a bistable network it then lands on
    the other stable steady state (``S1 -> 2 S1 + S0``, ``2 S1 + S2 -> 3 S2``,
    ``S1 + 2 S2 -> 0``, ``S0`` decaying, from ``(0, 2, 2)``: the trajectory goes to
    ``(0, 0, 2.442)``, the uncontrolled iteration to the stable ``(0.185, 0.136, 0.816)``).
    So a step that moves ``y`` by more than ``_TRACK_STEP ||y||_inf`` must keep each
    species' local error below ``_TRACK |y_i| + _TRACK_FLOOR ||y||_inf``; shorter steps
    (Newton's last ones near a steady state, where the estimate means nothing) are free.
    """
    size = torch.maximum(y.abs(), y_new.abs())
    scale = size.amax(1)
    step = (y_new - y).abs().amax(1)
    allowed = _TRACK * size + (_TRACK_FLOOR * scale + atol)[:, None]
    err = (0.5 * dt[:, None] * (f_new - f).abs() / allowed).amax(1)
    return torch.where(step > _TRACK_STEP * scale + atol, err, torch.zeros_like(err))


def _polish(k: TorchKernels, g, y, f, res, done, dense: bool, totals, atol: float):
    """Two full Newton steps on converged items, each kept where it lowers the residual.

    Newton converges quadratically, so these cheap steps (one Jacobian, one LU, one RHS
    each, for the batch) typically take an item from the tolerance to roundoff level; the
    criterion was already met, so they can only improve the answer.

    Returns, per converged item, whether the steps say it has settled at an isolated
    steady state (None when no item converged):

    * the first step is small: ``||dy||_inf <= _SETTLED * ||y||_inf + sqrt(atol)``. Near a
      steady state ``dy ~ f / lambda`` is tiny; an item that met the residual criterion
      only because ``rtol * ||y||`` outgrew a constant ``f`` (unbounded growth, ``0 -> A``:
      ``dt`` at its cap makes ``y`` run away) gets a step as large as ``y`` itself;
    * the steps contract: ``||dy_2|| <= _CONTRACT ||dy_1||``, unless ``dy_1`` is already
      below ``_NOISE * ||y|| + atol`` or did not lower the residual (both mean roundoff).
      Newton converges quadratically to an isolated root (the Kantorovich condition) but
      only linearly (``dy`` halves) towards a point of a continuum of steady states, where
      the limit depends on the path: on ``2 A -> B``, ``2 A + B -> B`` (every ``(0, B)``
      steady) the pseudo-transient path stopped at ``A = 1.4e-5, B = 1.23363`` with
      residual ``8e-12``, while the trajectory goes to ``B = 1.23607``.
    """
    idx = torch.nonzero(done)[:, 0]
    if idx.numel() == 0:
        return None
    ga, ya = g[:, idx], y[idx]
    sigma = torch.full_like(ya[:, 0], 1.0 / _DT_MAX)
    tot = None if totals is None else totals[idx]
    y1 = ya + factor(k, ga, ya, sigma, dense=dense, laws=k.conservation).solve(f[idx])
    y1 = _project(y1, k.conservation, tot)
    step1 = (y1 - ya).abs().amax(1)
    scale = ya.abs().amax(1)
    settled = step1 <= _SETTLED * scale + atol**0.5
    f1 = k.rhs(ga, y1)
    r1 = f1.abs().amax(1)
    keep1 = torch.isfinite(r1) & (r1 <= res[idx]) & (y1 >= 0).all(1)
    y2 = y1 + factor(k, ga, y1, sigma, dense=dense, laws=k.conservation).solve(f1)
    y2 = _project(y2, k.conservation, tot)
    step2 = (y2 - y1).abs().amax(1)
    f2 = k.rhs(ga, y2)
    r2 = f2.abs().amax(1)
    keep2 = keep1 & torch.isfinite(r2) & (r2 <= r1) & (y2 >= 0).all(1)
    roundoff = _NOISE + 100 * torch.finfo(ya.dtype).eps  # float32 resolves ~1e-7
    noise = ~keep1 | (step1 <= roundoff * scale + atol)
    contracting = noise | (step2 <= _CONTRACT * step1)
    best_y = torch.where(keep2[:, None], y2, torch.where(keep1[:, None], y1, ya))
    best_f = torch.where(keep2[:, None], f2, torch.where(keep1[:, None], f1, f[idx]))
    best_r = torch.where(keep2, r2, torch.where(keep1, r1, res[idx]))
    y[idx], f[idx], res[idx] = best_y, best_f, best_r
    return settled & contracting


def _exhausted(k: TorchKernels, y_full: torch.Tensor, y: torch.Tensor, atol: float, rtol: float):
    """``(batch,)`` bool: every reaction has a reactant below ``atol + rtol ||y||_inf``.

    Only for networks whose reactions all run to completion (``k.completion``, see
    :mod:`._completion`): there the one state on the stoichiometric class of the start
    with every reaction exhausted is the answer, whatever the eigenvalues say (a dead
    neuron of a dual-rail network sits at 0 with a zero Jacobian). An item short of
    exhaustion is not converged, whatever its residual and eigenvalues: it is still on
    its way (a near tie decays at the rate ``k |p - n|``; an exact tie like ``1 / t``,
    which Newton halves at each step).
    """
    full = y_full.clone()
    full[:, k.dynamic] = y
    tol = atol + rtol * y.abs().amax(1)
    idx = k.completion  # (n_reactions, width), -1 pads
    assert idx is not None, "_exhausted is called for completion networks only"
    vals = full[:, idx.clamp(min=0)]  # (batch, n_reactions, width)
    vals = torch.where(idx >= 0, vals, torch.full_like(vals, float("inf")))
    return (vals.amin(2) <= tol[:, None]).all(1)


def _stable(
    k: TorchKernels,
    g: torch.Tensor,
    y: torch.Tensor,
    atol: float,
    rtol: float,
    start_scale: torch.Tensor,
) -> torch.Tensor:
    """``(batch,)`` bool: ``y`` is an isolated, linearly stable steady state.

    Every eigenvalue of ``J - C^T C`` (``C`` the conservation laws, which move the zero
    eigenvalues the laws cause to -1) must have real part below ``-_STABLE * ||J||``.
    Otherwise the state is a saddle or repeller that Newton landed on, a centre the
    trajectory circles forever, or one point of a continuum of steady states
    (``A -> 0, A -> B``) whose position depends on the transient, none of which is
    the state the chemistry settles in.

    Near such a continuum the eigenvalues are only small, not zero: Newton can stop where
    species that the chemistry drives to 0 are still ~1e-6 (``S0 + S2 -> 2 S1``,
    ``S1 -> S0 + S2``, ... keep ``S2`` wherever ``S0`` and ``S1`` run out, and Newton's
    ``S2`` was 2.00002 where the trajectory's is 2.1085). So where setting the species
    below ``_EDGE * ||y||`` to exactly 0 still leaves a steady state (within the
    tolerance), that state must pass the test too. ``||y||`` is the larger of the final
    and the initial state's (``start_scale``): where everything ran down to ~1e-6 from
    amounts of order 1, Newton can stop near the origin as well.
    """
    ok = _stable_at(k, g, y)
    scale = torch.maximum(y.abs().amax(1), start_scale)[:, None]
    tiny = (y > 0) & (y <= _EDGE * scale)
    idx = torch.nonzero(ok & tiny.any(1))[:, 0]
    if idx.numel():
        edge = torch.where(tiny[idx], torch.zeros_like(y[idx]), y[idx])
        r = k.rhs(g[:, idx], edge).abs().amax(1)
        on = r <= atol + rtol * edge.abs().amax(1)
        ok[idx[on]] = _stable_at(k, g[:, idx[on]], edge[on])
    return ok


def _stable_at(k: TorchKernels, g: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The eigenvalue test of :func:`_stable` at ``y`` itself. A triangular Jacobian without
    laws has its eigenvalues on the diagonal; otherwise the dense eigenvalues are computed."""
    if y.shape[0] == 0:
        return torch.ones(0, dtype=torch.bool, device=y.device)
    laws = k.conservation
    if k.triangular and laws is None:
        d = k.diagonal(k.base(y), k.g_ext(g))  # (n, batch)
        scale = d.abs().amax(0)
        return (
            (d < -_STABLE * scale).all(0)
            if d.shape[0]
            else torch.ones_like(scale, dtype=torch.bool)
        )
    j = k.jacobian(g, y)
    if laws is not None:
        j = j - laws.T @ laws
    finite = torch.isfinite(j).all(2).all(1)
    j = torch.where(finite[:, None, None], j, torch.zeros_like(j))
    try:
        ok = _left_half_plane(torch.linalg.eigvals(j))
    except RuntimeError:  # LAPACK did not converge on some item: decide each on its own
        ok = torch.zeros(j.shape[0], dtype=torch.bool, device=j.device)
        for b in range(j.shape[0]):
            try:
                ok[b] = _left_half_plane(torch.linalg.eigvals(j[b : b + 1]))[0]
            except RuntimeError:  # no eigenvalues, no evidence of stability: not converged
                ok[b] = False
    # A Jacobian that overflowed (unbounded growth, e.g. 0 -> S1 with S1's only sink
    # running out) is not a steady state's.
    return ok & finite


def _left_half_plane(lam: torch.Tensor) -> torch.Tensor:
    """``(batch,)``: every eigenvalue's real part below ``-_STABLE`` times the largest modulus."""
    scale = lam.abs().amax(1)
    return (lam.real < -_STABLE * scale[:, None]).all(1)
