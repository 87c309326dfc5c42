"""Batched Rosenbrock integration with per-item step sizes: the time integrator of :class:`TorchODE`.

Two linearly implicit, L-stable, stiffly accurate Rosenbrock methods with an embedded
solution (Hairer & Wanner, *Solving ODEs II*, 2nd ed., Sec. IV.7; Sandu et al., Atmos.
Environ. 31, 1997):

* Rodas4 (default): order 4 (embedded 3), six stages, five new right-hand sides per step;
* Rodas3: order 3 (embedded 2), four stages, two new right-hand sides per step (its second
  stage reuses ``f(y)``).

A step costs one Jacobian, one factorisation of ``I/(h gamma) - J``, the stage right-hand
sides and one solve per stage, and never iterates a nonlinear solver, so it vectorises over
a batch: every item keeps its own time and step size, and items that are done drop out of
the working set. Coefficients are the published tableaux in the form
``(I/(h gamma) - J) K_i = f(y + sum_j a_ij K_j) + sum_j (c_ij / h) K_j``,
``y_new = y + sum_j m_j K_j``, local error estimate ``K_s`` (the last stage).

The loop works *species-major* (``(n_dynamic, batch)``, like the kernels) and writes stages
and stage states into reused buffers (:class:`~._torch_kernels.Workspace`): a batch's arrays
are megabytes, and fresh CPU allocations of that size cost page faults at every operation.
The linear systems are solved in place by forward substitution when the network's Jacobian
is triangular, else by dense LU (see :mod:`._linsolve`). Output times do not constrain the
steps: values between steps come from the cubic Hermite interpolant through ``y, f(y)``
at both ends of the step (``f`` at the new point is the next step's first stage anyway,
so dense output costs no extra right-hand sides).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from nncrn.simulate._linsolve import DenseSystem
from nncrn.simulate._torch_kernels import TorchKernels, Workspace

__all__ = ["METHODS", "rosenbrock_integrate"]


@dataclass(frozen=True)
class Tableau:
    """A Rosenbrock method: stage coefficients, weights and the controller's exponent."""

    gamma: float
    a: tuple[tuple[float, ...], ...]  # a[i][j], j < i
    c: tuple[tuple[float, ...], ...]  # c[i][j], j < i
    m: tuple[float, ...]
    order_est: int  # min(order, embedded order) + 1: exponent of the step-size controller

    @property
    def stages(self) -> int:
        return len(self.m)


_RODAS4 = Tableau(
    gamma=0.25,
    a=(
        (),
        (1.544,),
        (0.9466785280815826, 0.2557011698983284),
        (3.314825187068521, 2.896124015972201, 0.9986419139977817),
        (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950),
        (1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0),
    ),
    c=(
        (),
        (-5.6688,),
        (-2.430093356833875, -0.2063599157091915),
        (-0.1073529058151375, -9.594562251023355, -20.47028614809616),
        (7.496443313967647, -10.24680431464352, -33.99990352819905, 11.70890893206160),
        (8.083246795921522, -7.981132988064893, -31.52159432874371, 16.31930543123136,
         -6.058818238834054),
    ),
    m=(1.221224509226641, 6.019134481288629, 12.53708332932087, -0.6878860361058950, 1.0, 1.0),
    order_est=4,
)  # fmt: skip
_RODAS3 = Tableau(
    gamma=0.5,
    a=((), (0.0,), (2.0, 0.0), (2.0, 0.0, 1.0)),
    c=((), (4.0,), (1.0, -1.0), (1.0, -1.0, -8.0 / 3.0)),
    m=(2.0, 0.0, 1.0, 1.0),
    order_est=3,
)
METHODS = {"rodas4": _RODAS4, "rodas3": _RODAS3}


@dataclass
class IntegrationOutcome:
    """Per-item results of :func:`rosenbrock_integrate` (torch tensors on the working device)."""

    y: torch.Tensor  # (batch, n_times, n_dynamic)
    converged: torch.Tensor  # (batch,) bool
    n_steps: torch.Tensor  # (batch,) accepted steps
    n_rhs: int


def _combine(out: torch.Tensor, start: torch.Tensor | None, coef: torch.Tensor,
             stages: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """``out = start + sum_j coef[j] * stages[j]`` in place (``start`` None: zero).

    One matrix-vector product over the stages read once, rather than a pass per stage.
    """
    n = coef.shape[0]
    mat = stages[:n].view(n, -1).T
    if start is None:
        return torch.mv(mat, coef, out=out.view(-1)).view_as(out)
    return torch.addmv(start.view(-1), mat, coef, out=out.view(-1)).view_as(out)


def _tensors(tab: Tableau, like: torch.Tensor) -> dict[str, list]:
    """The tableau's rows as tensors on ``like``'s device (None for an all-zero row)."""

    def vec(row):
        return torch.tensor(row, dtype=like.dtype, device=like.device) if any(row) else None

    return {"a": [vec(r) for r in tab.a], "c": [vec(r) for r in tab.c], "m": [vec(tab.m)]}


def _step(
    k: TorchKernels, tab: Tableau, coefs: dict, g_ext: torch.Tensor, y: torch.Tensor,
    f0: torch.Tensor, h: torch.Tensor, dense: bool, ws: Workspace,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:  # fmt: skip
    """One step of size ``h (b,)`` from species-major ``y (nd, b)`` with ``f0 = f(y)``.

    ``g_ext``: the per-item coefficients with a row of ones (see ``TorchKernels.g_ext``).

    Returns ``y_new`` (a fresh tensor), the error estimate (a workspace view, valid until
    the next step), whether ``I/(h gamma) - J`` has positive pivots (triangular) or
    determinant (dense) (see :func:`rosenbrock_integrate`), and the right-hand sides used.
    """
    nd, b = y.shape
    sigma = 1.0 / (h * tab.gamma)
    ybase = ws.get("ybase", nd + 1, b)  # y and a row of ones, fixed during the step
    ybase[:nd].copy_(y)
    ybase[nd].fill_(1.0)
    g = g_ext[:-1]
    if dense or not k.triangular:
        system = DenseSystem(k, g, y.T, sigma)

        def solve(r: torch.Tensor) -> None:
            r.copy_(system.solve(r.T).T)

        below_pole = system.det_positive()
    else:
        pivot, vals = k.triangular_factor(ybase, g_ext, sigma)

        def solve(r: torch.Tensor) -> None:
            k.triangular_solve_(r, pivot, vals, ybase)

        below_pole = pivot.amin(0) > 0
    stages = ws.get("stages", tab.stages, nd, b)
    ubase = ws.get("ubase", nd + 1, b)  # stage states
    ubase[nd].fill_(1.0)
    acc = ws.get("acc", nd, b)
    inv_h = (1.0 / h)[None, :]
    n_rhs = 0
    for i in range(tab.stages):
        ki = stages[i]
        a_i, c_i = coefs["a"][i], coefs["c"][i]
        if a_i is None:  # the stage state is y itself
            ki.copy_(f0)
        else:
            _combine(ubase[:nd], y, a_i, stages)
            k.rhs_into(g, ubase, ki, ws)
            n_rhs += 1
        if c_i is not None:
            ki.addcmul_(_combine(acc, None, c_i, stages), inv_h)
        solve(ki)
    y_new = _combine(torch.empty_like(y), y, coefs["m"][0], stages)
    return y_new, stages[-1], below_pole, n_rhs


def _hermite(y0, f0, y1, f1, h, theta):
    """Cubic Hermite interpolant on a step: ``y0, f0`` at ``theta = 0``, ``y1, f1`` at 1.

    Species-major ``(n, m)`` arrays, per-item ``h, theta (m,)``. Written as
    ``y0 + (theta + q (1 - 2 theta)) d + q ((theta - 1) h f0 + theta h f1)`` with
    ``d = y1 - y0`` and ``q = theta (theta - 1)``: four passes over the arrays.
    """
    q = theta * (theta - 1)
    d = y1 - y0
    vals = torch.addcmul(y0, d, (theta + q * (1 - 2 * theta))[None, :])
    vals.addcmul_(f0, (q * (theta - 1) * h)[None, :])
    return vals.addcmul_(f1, (q * theta * h)[None, :])


def rosenbrock_integrate(
    k: TorchKernels,
    y_full: torch.Tensor,
    t_eval: torch.Tensor,
    *,
    rtol: float,
    atol: float,
    max_steps: int,
    dense: bool = False,
    method: str = "rodas4",
) -> IntegrationOutcome:
    """Integrate the dynamic species of every item of ``y_full (batch, n_species)`` to ``t_eval``.

    ``method``: a key of :data:`METHODS`. Each item has its own step size, chosen by the
    usual controller ``h *= clip(0.9 err^(-1/q), 0.2, 6)`` (``q`` = the method's
    ``order_est``) on the weighted RMS error ``err`` (weights ``atol + rtol max(|y|,
    |y_new|)``), and its last step lands exactly on ``t_eval[-1]``; earlier output times are
    interpolated (see the module docstring). ``max_steps`` bounds the attempted steps
    (accepted or rejected) of every item. ``n_rhs`` counts batched right-hand-side and
    Jacobian evaluations.

    A step is also rejected when ``h gamma`` times a positive real eigenvalue of ``J``
    reaches 1 (a pivot of the triangular ``I/(h gamma) - J``, or the dense determinant,
    is not positive): there the stability function has its pole, and past it the step
    heads for the unstable fixed point instead of away from it (a neuron growing at rate
    ``z = 1e8`` from ``Y = 0`` went to the negative root ``-eps / z`` of its rate law with
    a tiny error estimate, and stayed there).
    """
    tab = METHODS[method]
    b, nd = y_full.shape[0], k.n_dynamic
    n_times = t_eval.shape[0]
    y0 = y_full[:, k.dynamic]
    out = y0[:, None, :].repeat(1, n_times, 1)
    t = torch.zeros(b, dtype=y0.dtype, device=y0.device)
    nxt = torch.searchsorted(t_eval, torch.zeros(1, dtype=y0.dtype, device=y0.device), right=True)
    target = torch.full((b,), int(nxt), dtype=torch.long, device=y0.device)
    steps = torch.zeros(b, dtype=torch.long, device=y0.device)
    failed = torch.zeros(b, dtype=torch.bool, device=y0.device)
    if nd == 0 or n_times == 0 or int(nxt) >= n_times:
        return IntegrationOutcome(out, ~failed, steps, 0)
    t_end = t_eval[-1]
    ws = Workspace(y0.device, y0.dtype)
    coefs = _tensors(tab, y0)

    # Species-major from here on: (n_dynamic, batch).
    y = y0.T.contiguous()
    g = k.coefficients(y_full)
    f = k.rhs(g, y0).T.contiguous()
    g = k.g_ext(g)  # kept with its row of ones
    # Initial step: 1% of the time over which y changes by its own size (Hairer's d0/d1 rule).
    scale = atol + rtol * y.abs()
    d0 = (y / scale).square().mean(0).sqrt()
    d1 = (f / scale).square().mean(0).sqrt()
    h = torch.where((d0 < 1e-5) | (d1 < 1e-5), 1e-6, 0.01 * d0 / d1.clamp(min=1e-300))
    n_rhs = 1
    # Working set, compacted only when a third of it has finished (see _ptc.py).
    idx = torch.arange(b, device=y.device)
    full = (t, h, y, f, None, target, steps, failed)
    w = [t, h, y, f, g, target, steps, failed]
    for _ in range(max_steps):
        wt, wh, wy, wf, wg, wtarget, wsteps, wfailed = w
        active = (wtarget < n_times) & ~wfailed
        n_active = int(active.sum())
        if n_active == 0:
            break
        if 3 * (idx.numel() - n_active) >= idx.numel():
            _write_back(w, idx, ~active, full)
            idx, w = idx[active], [_columns(a, active) for a in w]
            wt, wh, wy, wf, wg, wtarget, wsteps, wfailed = w
            active = torch.ones_like(wfailed)
        remaining = t_end - wt
        last = wh >= remaining * (1 - 1e-12)
        ha = torch.where(last, remaining, wh)
        ha = torch.where(active, ha, torch.ones_like(ha))  # finished items: a harmless dummy
        y_new, err, below_pole, used = _step(k, tab, coefs, wg, wy, wf, ha, dense, ws)
        n_rhs += used + 1  # the stage right-hand sides and one Jacobian
        # weighted RMS of err, weights atol + rtol max(|y|, |y_new|), in scratch buffers
        scaled = torch.abs(wy, out=ws.get("weight", *wy.shape))
        scaled = torch.maximum(scaled, torch.abs(y_new, out=ws.get("acc", *wy.shape)), out=scaled)
        scaled = torch.div(err, scaled.mul_(rtol).add_(atol), out=scaled)
        enorm = torch.linalg.vector_norm(scaled, dim=0) / nd**0.5
        # a column sum is finite exactly when the column is (or overflows: not a step either)
        ok = torch.isfinite(enorm) & (enorm <= 1.0) & torch.isfinite(y_new.sum(0)) & active
        ok = ok & below_pole
        fac = (0.9 * enorm.clamp(min=1e-12) ** (-1.0 / tab.order_est)).clamp(0.2, 6.0)
        fac = torch.where(torch.isfinite(enorm) & below_pole, fac, torch.full_like(fac, 0.2))
        fac = torch.where(ok, fac, fac.clamp(max=1.0))
        wh = torch.where(active, ha * fac, wh)
        # A step size below roundoff of t cannot make progress: give up on that item.
        tiny = ha < 1e-14 * torch.maximum(wt.abs(), torch.ones_like(wt))
        wfailed = wfailed | (active & tiny & ~ok)
        if bool(ok.any()):
            t1 = torch.where(last, t_end, wt + ha)
            okc = ok[None, :]
            every = bool(ok.all())
            y_acc = y_new if every else torch.where(okc, y_new, wy)
            ubase = ws.get("ubase", nd + 1, wy.shape[1])
            ubase[:nd].copy_(y_acc)
            ubase[nd].fill_(1.0)
            f1 = k.rhs_into(wg[:-1], ubase, torch.empty_like(wy), ws)
            n_rhs += 1
            cross = ok & (t_eval[wtarget.clamp(max=n_times - 1)] <= t1)
            acc = torch.nonzero(cross)[:, 0]
            if acc.numel() == wy.shape[1]:  # every item: no gathers
                _fill(out, wtarget, t_eval, acc, idx, wt, t1, wy, wf, y_new, f1)
            elif acc.numel():
                _fill(out, wtarget, t_eval, acc, idx[acc], wt[acc], t1[acc], wy[:, acc],
                      wf[:, acc], y_new[:, acc], f1[:, acc])  # fmt: skip
            wy = y_acc
            wt = torch.where(ok, t1, wt)
            wf = f1 if every else torch.where(okc, f1, wf)
            wsteps = wsteps + ok.long()
        w = [wt, wh, wy, wf, wg, wtarget, wsteps, wfailed]
    _write_back(w, idx, torch.ones_like(w[7]), full)
    # Items still short of the last output time hold NaN at the times they never reached.
    short = target < n_times
    for i in torch.nonzero(short)[:, 0].tolist():
        out[i, int(target[i]) :] = float("nan")
    return IntegrationOutcome(out, ~(failed | short), steps, n_rhs)


def _columns(a: torch.Tensor, which: torch.Tensor) -> torch.Tensor:
    """Items ``which`` of a working array: columns of a species-major one, else entries."""
    return a[:, which] if a.dim() == 2 else a[which]


def _write_back(w, idx, which, full) -> None:
    """Copy working items ``which`` into the full arrays (None entries are skipped)."""
    sel = idx[which]
    for part, dest in zip(w, full, strict=True):
        if dest is None:
            continue
        if dest.dim() == 2:
            dest[:, sel] = part[:, which]
        else:
            dest[sel] = part[which]


def _fill(out, target, t_eval, acc, rows, t0, t1, y0, f0, y1, f1) -> None:
    """Write every output time in ``(t0, t1]`` of the working items ``acc`` (``out`` rows ``rows``).

    ``y0, f0, y1, f1``: species-major ``(n, m)``, one column per entry of ``acc``.
    """
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
        parts = (y0, f0, y1, f1) if sel.numel() == y0.shape[1] else (
            y0[:, sel], f0[:, sel], y1[:, sel], f1[:, sel])  # fmt: skip
        vals = _hermite(*parts, h[sel], theta)
        vals = torch.where(exact[None, :], parts[2], vals)
        out[rows[sel], tgt] = vals.T
        target[acc[sel]] += 1
