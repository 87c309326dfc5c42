"""Batched Rodas4 with per-item step sizes: the time integrator of :class:`TorchODE`.

Rodas4 (Hairer & Wanner, *Solving ODEs II*, 2nd ed., Sec. IV.7) is a linearly implicit
Rosenbrock method of order 4 with an embedded order-3 solution; both are L-stable and stiffly
accurate. A step costs one Jacobian, one LU factorisation of ``I/(h gamma) - J`` and six RHS
evaluations, and never iterates a nonlinear solver, so it vectorises over a batch: every item
keeps its own time and step size, and items that are done drop out of the working set.
Coefficients are the published tableau in the form
``(I/(h gamma) - J) K_i = f(y + sum_j a_ij K_j) + sum_j (c_ij / h) K_j``,
``y_new = y + sum_j m_j K_j``, local error estimate ``K_6``.

The linear systems are solved by forward substitution when the network's Jacobian is
triangular, else by dense LU (see :mod:`._linsolve`). Output times do not constrain the
steps: values between steps come from the cubic Hermite interpolant through ``y, f(y)``
at both ends of the step (``f`` at the new point is the next step's first stage anyway,
so dense output costs no extra right-hand sides).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nncrn.simulate._linsolve import factor
from nncrn.simulate._torch_kernels import TorchKernels

__all__ = ["rodas4_integrate"]

_GAMMA = 0.25
_A = (
    (),
    (1.544,),
    (0.9466785280815826, 0.2557011698983284),
    (3.314825187068521, 2.896124015972201, 0.9986419139977817),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
    (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0),
)
_C = (
    (),
    (-5.6688,),
    (-2.430093356833875, -0.2063599157091915),
    (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
    (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
    (8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
     -6.058818238834054),
)  # fmt: skip
_M = (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0, 1.0)
_ORDER_EST = 4  # min(order, embedded order) + 1: exponent of the step-size controller


@dataclass
class IntegrationOutcome:
    """Per-item results of :func:`rodas4_integrate` (torch tensors on the working device)."""

    y: torch.Tensor  # (batch, n_times, n_dynamic)
    converged: torch.Tensor  # (batch,) bool
    n_steps: torch.Tensor  # (batch,) accepted steps
    n_rhs: int


def _step(
    k: TorchKernels,
    g: torch.Tensor,
    y: torch.Tensor,
    f0: torch.Tensor,
    h: torch.Tensor,
    dense: bool,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One Rodas4 step of size ``h (b,)`` from ``y (b, nd)`` with ``f0 = f(y)``.

    Returns ``y_new``, the error estimate, and whether ``I/(h gamma) - J`` has positive
    pivots (triangular) or determinant (dense): see :func:`rodas4_integrate`.
    """
    system = factor(k, g, y, 1.0 / (h * _GAMMA), dense=dense)
    stages = torch.empty((6, *y.shape), dtype=y.dtype, device=y.device)
    flat = stages.view(6, -1)
    inv_h = (1.0 / h)[:, None]
    a_t, c_t = _coefficients(y)
    for i in range(6):
        # Linear combinations of earlier stages as one matrix-vector product each.
        rhs = f0 if i == 0 else k.rhs(g, y + (a_t[i] @ flat[:i]).view_as(y))
        if i:
            rhs = rhs + inv_h * (c_t[i] @ flat[:i]).view_as(y)
        stages[i] = system.solve(rhs)
    return y + (c_t[6] @ flat).view_as(y), stages[5], system.det_positive()


def _coefficients(y: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The tableau's ``a`` rows, and ``c`` rows followed by ``m``, as tensors like ``y``."""

    def vec(v):
        return torch.tensor(v, dtype=y.dtype, device=y.device)

    return [vec(a) for a in _A], [vec(c) for c in _C] + [vec(_M)]


def _hermite(y0, f0, y1, f1, h, theta):
    """Cubic Hermite interpolant on a step: ``y0, f0`` at ``theta = 0``, ``y1, f1`` at 1."""
    th = theta[:, None]
    hh = h[:, None]
    return (
        (1 - th) * y0
        + th * y1
        + th * (th - 1) * ((1 - 2 * th) * (y1 - y0) + (th - 1) * hh * f0 + th * hh * f1)
    )


def rodas4_integrate(
    k: TorchKernels,
    y_full: torch.Tensor,
    t_eval: torch.Tensor,
    *,
    rtol: float,
    atol: float,
    max_steps: int,
    dense: bool = False,
) -> IntegrationOutcome:
    """Integrate the dynamic species of every item of ``y_full (batch, n_species)`` to ``t_eval``.

    Each item has its own step size, chosen by the usual controller
    ``h *= clip(0.9 err^(-1/4), 0.2, 6)`` on the weighted RMS error ``err`` (weights
    ``atol + rtol max(|y|, |y_new|)``), and its last step lands exactly on ``t_eval[-1]``;
    earlier output times are interpolated (see the module docstring). ``max_steps`` bounds
    the attempted steps (accepted or rejected) of every item. ``n_rhs`` counts batched
    right-hand-side and Jacobian evaluations.

    A step is also rejected when ``h gamma`` times a positive real eigenvalue of ``J``
    reaches 1 (a pivot of the triangular ``I/(h gamma) - J``, or the dense determinant,
    is not positive): there the stability function has its pole, and past it the step
    heads for the unstable fixed point instead of away from it (a neuron growing at rate
    ``z = 1e8`` from ``Y = 0`` went to the negative root ``-eps / z`` of its rate law with
    a tiny error estimate, and stayed there).
    """
    b, nd = y_full.shape[0], k.n_dynamic
    n_times = t_eval.shape[0]
    y = y_full[:, k.dynamic].clone()
    out = y[:, None, :].repeat(1, n_times, 1)
    t = torch.zeros(b, dtype=y.dtype, device=y.device)
    nxt = torch.searchsorted(t_eval, torch.zeros(1, dtype=y.dtype, device=y.device), right=True)
    target = torch.full((b,), int(nxt), dtype=torch.long, device=y.device)
    steps = torch.zeros(b, dtype=torch.long, device=y.device)
    failed = torch.zeros(b, dtype=torch.bool, device=y.device)
    if nd == 0 or n_times == 0 or int(nxt) >= n_times:
        return IntegrationOutcome(out, ~failed, steps, 0)
    t_end = t_eval[-1]

    # Initial step: 1% of the time over which y changes by its own size (Hairer's d0/d1 rule).
    g = k.coefficients(y_full)
    f = k.rhs(g, y)
    scale = atol + rtol * y.abs()
    d0 = (y / scale).square().mean(1).sqrt()
    d1 = (f / scale).square().mean(1).sqrt()
    h = torch.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / d1.clamp(min=1e-300))
    n_rhs = 1
    # Working set, compacted only when a third of it has finished (see _ptc.py).
    idx = torch.arange(b, device=y.device)
    w = [t, h, y, f, g.T, target, steps, failed]
    for _ in range(max_steps):
        wt, wh, wy, wf, wg, wtarget, wsteps, wfailed = w
        active = (wtarget < n_times) & ~wfailed
        n_active = int(active.sum())
        if n_active == 0:
            break
        if 3 * (idx.numel() - n_active) >= idx.numel():
            _write_back(w, idx, ~active, (t, h, y, f, None, target, steps, failed))
            idx, w = idx[active], [a[active] for a in w]
            wt, wh, wy, wf, wg, wtarget, wsteps, wfailed = w
            active = torch.ones_like(wfailed)
        remaining = t_end - wt
        last = wh >= remaining * (1 - 1e-12)
        ha = torch.where(last, remaining, wh)
        ha = torch.where(active, ha, torch.ones_like(ha))  # finished items: a harmless dummy
        ga = wg.T
        y_new, err, below_pole = _step(k, ga, wy, wf, ha, dense)
        n_rhs += 6  # five stage right-hand sides and one Jacobian
        weight = atol + rtol * torch.maximum(wy.abs(), y_new.abs())
        enorm = (err / weight).square().mean(1).sqrt()
        ok = torch.isfinite(enorm) & (enorm <= 1.0) & torch.isfinite(y_new).all(1) & active
        ok = ok & below_pole
        fac = (0.9 * enorm.clamp(min=1e-12) ** (-1.0 / _ORDER_EST)).clamp(0.2, 6.0)
        fac = torch.where(torch.isfinite(enorm) & below_pole, fac, torch.full_like(fac, 0.2))
        fac = torch.where(ok, fac, fac.clamp(max=1.0))
        wh = torch.where(active, ha * fac, wh)
        # A step size below roundoff of t cannot make progress: give up on that item.
        tiny = ha < 1e-14 * torch.maximum(wt.abs(), torch.ones_like(wt))
        wfailed = wfailed | (active & tiny & ~ok)
        if bool(ok.any()):
            t1 = torch.where(last, t_end, wt + ha)
            f1 = k.rhs(ga, torch.where(ok[:, None], y_new, wy))
            n_rhs += 1
            cross = ok & (t_eval[wtarget.clamp(max=n_times - 1)] <= t1)
            acc = torch.nonzero(cross)[:, 0]
            if acc.numel():
                _fill(out, wtarget, t_eval, acc, idx[acc], wt[acc], t1[acc], wy[acc], wf[acc],
                      y_new[acc], f1[acc])  # fmt: skip
            okc = ok[:, None]
            wt = torch.where(ok, t1, wt)
            wy, wf = torch.where(okc, y_new, wy), torch.where(okc, f1, wf)
            wsteps = wsteps + ok.long()
        w = [wt, wh, wy, wf, wg, wtarget, wsteps, wfailed]
    _write_back(w, idx, torch.ones_like(w[7]), (t, h, y, f, None, target, steps, failed))
    # Items still short of the last output time hold NaN at the times they never reached.
    short = target < n_times
    for i in torch.nonzero(short)[:, 0].tolist():
        out[i, int(target[i]) :] = float("nan")
    return IntegrationOutcome(out, ~(failed | short), steps, n_rhs)


def _write_back(w, idx, which, full) -> None:
    """Copy working items ``which`` into the full arrays (None entries are skipped)."""
    sel = idx[which]
    for part, dest in zip(w, full, strict=True):
        if dest is not None:
            dest[sel] = part[which]


def _fill(out, target, t_eval, acc, rows, t0, t1, y0, f0, y1, f1) -> None:
    """Write every output time in ``(t0, t1]`` of the working items ``acc`` (``out`` rows ``rows``)."""
    n_times = t_eval.shape[0]
    sel = torch.arange(acc.shape[0], device=acc.device)
    h = t1 - t0
    while sel.numel():
        tgt = target[acc[sel]]
        pending = tgt < n_times
        sel, tgt = sel[pending], tgt[pending]
        inside = t_eval[tgt.clamp(max=n_times - 1)] <= t1[sel]
        sel, tgt = sel[inside], tgt[inside]
        if sel.numel() == 0:
            return
        theta = ((t_eval[tgt] - t0[sel]) / h[sel]).clamp(0.0, 1.0)
        exact = t_eval[tgt] == t1[sel]
        vals = _hermite(y0[sel], f0[sel], y1[sel], f1[sel], h[sel], theta)
        vals = torch.where(exact[:, None], y1[sel], vals)
        out[rows[sel], tgt] = vals
        target[acc[sel]] += 1
