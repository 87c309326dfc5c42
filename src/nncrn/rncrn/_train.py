"""Regression of a target vector field by the reduced RNCRN system, in torch.

The reduced model ``dx/dt = beta + x * (alpha @ y(x))``, ``y_j = sigma_{gamma_j tau_j}(s_j) /
tau_j``, ``s = omega x + b``, is fitted to samples ``(x, f(x))`` by Adam on the mean squared
residual, then polished by L-BFGS. Positivity is a parametrisation: ``gamma = exp(.)``,
``tau = exp(.)`` and a learned ``beta = softplus(.)``, so every rate constant of the compiled
network is > 0 throughout training. The realizability penalty keeps every rate constant
of the network at the chosen ``mu`` within ``max_decades`` decades (a smooth max and min
of their logarithms).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.rncrn._design import cycle_samples, is_design
from nncrn.rncrn._model import RNCRN, check_mu
from nncrn.rncrn._targets import Target

__all__ = ["TrainResult", "sample_box", "train"]


@dataclass(frozen=True)
class TrainResult:
    """A trained :class:`RNCRN` and how it got there.

    ``loss`` is the training objective per Adam epoch (then the L-BFGS polish);
    ``rmse`` the root-mean-square error of the reduced vector field on the training
    samples; ``spread`` the rate-constant spread (decades) of the network at ``mu``;
    ``seconds`` the wall time.
    """

    model: RNCRN
    loss: list[float] = field(repr=False)
    rmse: float
    spread: float
    mu: float
    seconds: float


def sample_box(low: object, high: object, points: int, *, sampling: str = "grid",
               rng: np.random.Generator | int | None = 0) -> np.ndarray:  # fmt: skip
    """Points of the box ``[low, high]``: ``(batch, N)``.

    ``sampling="grid"``: a regular grid with ``points`` per coordinate (``points ** N``
    rows); ``"random"``: ``points`` uniform draws.
    """
    lo = np.asarray(low, dtype=np.float64).reshape(-1)
    hi = np.asarray(high, dtype=np.float64).reshape(-1)
    if points < 2:
        raise InputError(f"points is {points}; sample at least 2 points per coordinate")
    if sampling == "grid":
        axes = [np.linspace(a, b, points) for a, b in zip(lo, hi, strict=True)]
        return np.stack([g.ravel() for g in np.meshgrid(*axes, indexing="ij")], axis=1)
    if sampling == "random":
        gen = np.random.default_rng(rng)
        return lo + (hi - lo) * gen.random((points, lo.size))
    raise InputError(f"sampling is {sampling!r}; choose 'grid' or 'random'")


def _turning_points(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``(k, 3)``: where a sampled 1-D function turns, +1 at a minimum (-1 at a maximum), ``|g|`` there."""
    order = np.argsort(x)
    xs, gs = x[order], g[order]
    d = np.sign(np.diff(gs))
    turn = np.flatnonzero(d[:-1] * d[1:] < 0)
    return np.stack([xs[1:-1][turn], d[1:][turn], np.abs(gs[1:-1][turn])], axis=1)


def _torch_params(n: int, m: int, low: np.ndarray, high: np.ndarray, beta: float | None,
                  gen: np.random.Generator, torch, kinks: np.ndarray, first: bool):  # fmt: skip
    # perceptron j switches on across the hyperplane omega_j . x + b_j = 0 through a point
    # of the box. In 1-D, where the per-capita target turns: a ramp that switches on to the
    # right (omega > 0) with alpha > 0 at a minimum, to the left with alpha < 0 at a
    # maximum, so that the sum of ramps bends like the target; the first start takes the
    # M turning points with the largest |target|, later ones draw them (likelier where
    # |target| is larger). Elsewhere, and in N-D, random.
    scale = 1.0 / (high - low)
    # kinks about a tenth of the box wide (sigma_{gamma tau} bends over ~2 sqrt(gamma tau) / omega)
    omega = gen.normal(size=(m, n)) * 8.0 * scale
    centre = low + (high - low) * gen.random((m, n))
    alpha = gen.normal(size=(n, m)) * 0.3
    if n == 1 and len(kinks):
        k = min(m, len(kinks))
        if first:
            pick = np.sort(np.argsort(-kinks[:, 2], kind="stable")[:k])
        else:
            weight = kinks[:, 2] ** 2 + 1e-12
            pick = np.sort(gen.choice(len(kinks), size=k, replace=False, p=weight / weight.sum()))
        jitter = 0.02 * (high - low) * gen.normal(size=k)
        centre[:k, 0] = kinks[pick, 0] + jitter
        omega[:k, 0] = 8.0 * scale[0] * kinks[pick, 1]
        alpha[0, :k] = np.abs(alpha[0, :k]) * kinks[pick, 1]
    b = -(omega * centre).sum(axis=1)
    p = {
        "alpha": torch.tensor(alpha), "omega": torch.tensor(omega), "b": torch.tensor(b),
        "log_gamma": torch.zeros(m, dtype=torch.float64),
        "log_tau": torch.zeros(m, dtype=torch.float64),
    }  # fmt: skip
    if beta is None:
        p["beta_raw"] = torch.zeros(n, dtype=torch.float64)
    for v in p.values():
        v.requires_grad_(True)
    return p


def _forward(p: dict, x, beta: float | None, torch):
    b = torch.nn.functional.softplus(p["beta_raw"]) if beta is None else beta
    return b + x * (_perceptrons(p, x, torch) @ p["alpha"].T)


def _perceptrons(p: dict, x, torch):
    gamma, tau = torch.exp(p["log_gamma"]), torch.exp(p["log_tau"])
    s = x @ p["omega"].T + p["b"]
    h = torch.sqrt(s * s + 4.0 * gamma * tau)
    neg = s < 0
    # the positive root of tau y^2 - s y - gamma, in the form without cancellation
    return torch.where(
        neg, 2.0 * gamma / torch.where(neg, h - s, torch.ones_like(s)), (s + h) / (2 * tau)
    )


def _log_rates(p: dict, mu: float, beta: float | None, torch):
    parts = [
        torch.log(p["alpha"].abs().reshape(-1) + 1e-300),
        torch.log(p["omega"].abs().reshape(-1) / mu + 1e-300),
        torch.log(p["b"].abs() / mu + 1e-300),
        p["log_gamma"] - math.log(mu),
        p["log_tau"] - math.log(mu),
    ]
    if beta is None:
        parts.append(torch.log(torch.nn.functional.softplus(p["beta_raw"])))
    elif beta > 0:
        parts.append(torch.full((1,), math.log(beta), dtype=torch.float64))
    return torch.cat(parts) / math.log(10.0)


def _spread_penalty(p: dict, mu: float, beta: float | None, max_decades: float, torch):
    lr = _log_rates(p, mu, beta, torch)
    t = 0.05  # decades: smooth max/min within ~0.05 log10(n) of the true ones
    spread = t * torch.logsumexp(lr / t, 0) + t * torch.logsumexp(-lr / t, 0)
    return torch.relu(spread - max_decades) ** 2


def _to_model(p: dict, beta: float | None, n: int, names: tuple[str, ...] | None, torch) -> RNCRN:
    def a(t):
        return t.detach().cpu().numpy().copy()

    if beta is None:
        bvec = a(torch.nn.functional.softplus(p["beta_raw"]))
    else:
        bvec = np.full(n, float(beta))
    return RNCRN(alpha=a(p["alpha"]), omega=a(p["omega"]), bias=a(p["b"]), beta=bvec,
                 gamma=np.exp(a(p["log_gamma"])), tau=np.exp(a(p["log_tau"])), names=names)  # fmt: skip


def _dynamic_score(model: RNCRN, target: Target) -> float:
    """How far the reduced model's dynamics are from the target's (chooses among full starts).

    Limit cycles: relative period error from ``x0``; chaotic targets: largest relative
    error of the time averages; fixed points: the largest relative distance of each
    fixed point of the target to the nearest zero of the model. Reduced model only (cheap).
    """
    from nncrn.rncrn._analysis import find_fixed_points, oscillation, simulate_field

    try:
        if target.kind == "fixed-points":
            zeros = [fp.x for fp in find_fixed_points(model.vector_field, target.low, target.high,
                                                      jacobian=model.jacobian)]  # fmt: skip
            errs = [min((float(np.linalg.norm(z - fp.x) / np.linalg.norm(fp.x)) for z in zeros),
                        default=math.inf)
                    for fp in find_fixed_points(target, target.low, target.high)]  # fmt: skip
            return max(errs, default=0.0)
        t = np.linspace(0.0, target.t_end, 4001)
        xt = simulate_field(target, target.x0, t)
        xm = simulate_field(model.vector_field, target.x0, t)
        if target.kind == "limit-cycle":
            pt, _ = oscillation(t, xt)
            pm, _ = oscillation(t, xm)
            return abs(pm - pt) / pt if math.isfinite(pm) else math.inf
        w = t >= (target.t_average[0] if target.t_average else 0.5 * t[-1])
        mt, mm = xt[w].mean(axis=0), xm[w].mean(axis=0)
        return float(np.max(np.abs(mm - mt) / np.abs(mt)))
    except RuntimeError:  # the reduced model's trajectory could not be integrated
        return math.inf


def _from_model(model: RNCRN, beta: float | None, torch) -> dict:
    def t(a):
        return torch.tensor(np.array(a, dtype=np.float64))

    p = {"alpha": t(model.alpha), "omega": t(model.omega), "b": t(model.bias),
         "log_gamma": t(np.log(model.gamma)), "log_tau": t(np.log(model.tau))}  # fmt: skip
    if beta is None:
        # inverse softplus; beta = 0 would be -inf, so keep it just above
        bv = np.maximum(model.beta, 1e-12)
        p["beta_raw"] = t(bv + np.log(-np.expm1(-bv)))
    for v in p.values():
        v.requires_grad_(True)
    return p


def train(
    target: Target | Callable[[np.ndarray], np.ndarray] | None = None,
    *,
    samples: tuple[object, object] | None = None,
    low: object = None,
    high: object = None,
    perceptrons: int | None = None,
    mu: float | None = None,
    beta: float | str | None = "target",
    points: int | None = None,
    sampling: str = "grid",
    weighting: str | None = None,
    root_weight: float = 10.0,
    anchor: float = 100.0,
    focus: int | None = None,
    max_decades: float | None = 3.0,
    penalty: float = 1000.0,
    epochs: int = 3000,
    lr: float = 0.02,
    polish: int = 200,
    restarts: int = 1,
    screen: int = 0,
    project: bool = True,
    rng: np.random.Generator | int | None = 0,
) -> TrainResult:
    """Fit an :class:`RNCRN` whose reduced vector field reproduces ``target`` on a box.

    Parameters
    ----------
    target:
        A :class:`Target` (its box, sizes and ``beta`` are the defaults; a designed cycle,
        :func:`~nncrn.rncrn.design_cycle`, is fitted on :func:`~nncrn.rncrn.cycle_samples`
        unless ``samples`` are given), or a callable
        ``f(x (batch, N)) -> (batch, N)`` (then give ``low`` and ``high``), or None with
        ``samples``.
    samples:
        ``(x, dxdt)`` arrays ``(batch, N)`` to fit instead of sampling a callable.
    low, high:
        The box (``(N,)`` each); default the target's.
    perceptrons:
        ``M``; default the target's (4 for a callable).
    mu:
        Time scale at which the rate spread is measured (the one the network will be
        compiled at); default the target's, 0.01 for a callable.
    beta:
        ``"target"`` (default: the target's setting; learned for a callable), None to learn
        ``beta >= 0``, or a number ``>= 0`` to fix every ``beta_i`` (0: no ``0 -> X``).
    points, sampling:
        Samples of the box: ``points`` per coordinate on a grid (default ``400 ** (1/N)``
        rounded up, at least 20) or ``points`` uniform draws (``sampling="random"``).
    weighting:
        ``"per-capita"`` (the authors' choice): residual ``(F(x) - f(x)) / x``
        componentwise, which the linear part ``x * alpha @ y`` fits evenly; ``"plain"``:
        ``F(x) - f(x)`` (better where ``f / x`` is singular near ``x = 0``, as for the
        Bessel oscillator). Default: the target's (per-capita for a callable).
    root_weight:
        Up to this factor more weight where a component of the (weighted) target crosses
        zero, so that the fixed points are placed first (1: uniform).
    focus:
        Extra samples along the target's trajectory from its ``x0`` (a :class:`Target`
        only), so the fit is tightest where the dynamics go (an attractor that fills a
        small part of the box). Default: the target's ``focus``.
    anchor:
        Weight of the target's fixed points in the box (found by
        :func:`~nncrn.rncrn.find_fixed_points` on a callable target; none for ``samples``):
        the objective adds ``anchor`` times the mean squared weighted model field there,
        relative to the data term, so the network's fixed points land on the target's.
        0 for none.
    max_decades, penalty:
        Penalise a rate spread above ``max_decades`` decades by ``penalty *
        excess**2``; None for no penalty.
    epochs, lr, polish, restarts, rng:
        Adam epochs and learning rate, L-BFGS iterations afterwards (0 for none), independent
        initialisations trained in full (the best final loss wins) and their seed.
    project:
        Solve ``alpha`` by least squares before every step while the penalty is off
        (variable projection; default), or let the optimizer move it with the rest.
    screen:
        If larger than ``restarts``: draw this many initialisations, train each for a tenth
        of the epochs, and train only the ``restarts`` best in full (cheap insurance against
        starts whose perceptrons switch in the wrong places).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: intra-op threads only add barriers
    try:
        return _train(target, samples, low, high, perceptrons, mu, beta, points, sampling,
                      weighting, root_weight, anchor, focus, max_decades, penalty, epochs, lr, polish,
                      restarts,
                      screen, project, rng, torch)  # fmt: skip
    finally:
        torch.set_num_threads(threads)


def _train(target: Any, samples: Any, low: Any, high: Any, perceptrons: Any, mu: Any, beta: Any,
           points: Any, sampling: str, weighting: Any, root_weight: float, anchor: float,
           focus: Any,
           max_decades: Any,
           penalty: float, epochs: int, lr: float, polish: int, restarts: int, screen: int,
           use_projection: bool, rng: Any, torch: Any) -> TrainResult:  # fmt: skip
    t_start = time.perf_counter()
    names = None
    if isinstance(target, Target):
        low = target.low if low is None else low
        high = target.high if high is None else high
        perceptrons = target.perceptrons if perceptrons is None else perceptrons
        mu = target.mu if mu is None else mu
        beta = target.beta if isinstance(beta, str) else beta
        weighting = target.weighting if weighting is None else weighting
        focus = target.focus if focus is None else focus
        names = target.labels
        if samples is None and is_design(target):
            # a designed cycle is fitted on its tube (the curve and the padding around it),
            # not on the box, where the nearest-point field jumps across the curve's inside
            samples = cycle_samples(target, rng=0)
    elif isinstance(beta, str):
        beta = None
    if isinstance(beta, str) or (beta is not None and (not math.isfinite(beta) or beta < 0)):
        raise InputError(f"beta is {beta!r}; give None (learn it) or a number >= 0")
    mu = check_mu(0.01 if mu is None else mu)
    m = 4 if perceptrons is None else int(perceptrons)
    if m < 1:
        raise InputError(f"perceptrons is {perceptrons}; an RNCRN needs at least 1 perceptron")
    weighting = "per-capita" if weighting is None else weighting
    if not (math.isfinite(root_weight) and root_weight >= 1):
        raise InputError(f"root_weight is {root_weight!r}; give a factor >= 1 (1: no emphasis)")
    if weighting not in ("per-capita", "plain"):
        raise InputError(f"weighting is {weighting!r}; choose 'per-capita' or 'plain'")
    if samples is not None:
        x = np.asarray(samples[0], dtype=np.float64)
        fx = np.asarray(samples[1], dtype=np.float64)
        if (
            x.ndim != 2
            or fx.shape != x.shape
            or not np.isfinite(x).all()
            or not np.isfinite(fx).all()
        ):
            raise InputError(
                f"samples must be two finite (batch, N) arrays of the same shape (x, dx/dt); got "
                f"{x.shape} and {fx.shape}"
            )
        if (x <= 0).any() and weighting == "per-capita":
            raise InputError(
                "per-capita weighting divides by x: samples need x > 0 (or weighting='plain')"
            )
        low = x.min(axis=0) if low is None else low
        high = x.max(axis=0) if high is None else high
    else:
        if target is None:
            raise InputError("give a target (a Target or a callable f(x)) or samples=(x, dxdt)")
        if low is None or high is None:
            raise InputError("a callable target needs the box: train(f, low=[...], high=[...])")
        lo = np.asarray(low, dtype=np.float64).reshape(-1)
        n_dim = lo.size
        pts = points or max(20, math.ceil(400 ** (1.0 / n_dim)))
        x = sample_box(low, high, pts, sampling=sampling, rng=rng)
        if focus and isinstance(target, Target):
            # extra samples where the dynamics go: the target's own trajectory from x0
            from nncrn.rncrn._analysis import simulate_field

            path = simulate_field(target, target.x0, np.linspace(0.0, target.t_end / 2, focus))
            inside = ((path >= lo) & (path <= np.asarray(high, dtype=np.float64))).all(axis=1)
            x = np.concatenate([x, path[inside]])
        fx = np.asarray(target(x), dtype=np.float64)
        if fx.shape != x.shape or not np.isfinite(fx).all():
            raise InputError(
                f"the target returned {fx.shape} values (finite: {bool(np.isfinite(fx).all())}) "
                f"for x of shape {x.shape}; it must return finite dx/dt of the same shape"
            )
        if weighting == "per-capita" and (x <= 0).any():
            raise InputError(
                "per-capita weighting divides by x: the box needs low > 0 (or weighting='plain')"
            )
    lo_arr = np.asarray(low, dtype=np.float64).reshape(-1)
    hi_arr = np.asarray(high, dtype=np.float64).reshape(-1)
    n = x.shape[1]
    if lo_arr.shape != (n,) or hi_arr.shape != (n,):
        raise InputError(f"low and high need {n} entries each, one per coordinate of x")
    if names is not None and len(names) != n:
        names = None
    xt, ft = torch.tensor(x), torch.tensor(fx)
    w = 1.0 / xt if weighting == "per-capita" else torch.ones_like(xt)
    if root_weight > 1:
        # weight sqrt(1 / (|g| / max|g| + floor)) ranges from 1 to root_weight
        g = (ft * w).abs()
        floor = 1.0 / (root_weight**2 - 1.0)
        w = w * torch.sqrt((1.0 + floor) / (g / g.amax(dim=0).clamp_min(1e-300) + floor))
    # each component relative to its own size, so a small coordinate is fitted as well
    norm = ((ft * w) ** 2).mean(dim=0).clamp_min(1e-300)
    gen = np.random.default_rng(rng)
    bvals = 0.0 if beta is None else beta
    kinks = (
        _turning_points(x[:, 0], (fx[:, 0] - bvals) / x[:, 0])
        if n == 1 and (x > 0).all()
        else np.empty(0)
    )

    anchors = np.empty((0, n))
    if anchor > 0 and samples is None and target is not None:
        from nncrn.rncrn._analysis import find_fixed_points

        zeros = [fp.x for fp in find_fixed_points(target, lo_arr, hi_arr)]
        anchors = np.array(zeros) if zeros else anchors
    at = torch.tensor(anchors)
    wa = 1.0 / at if weighting == "per-capita" else torch.ones_like(at)

    def run(p: dict, n_epochs: int, rate: float, with_penalty: bool, history: list[float],
            polish: int) -> float:  # fmt: skip
        # Without the penalty the objective is quadratic in alpha: solve for it exactly
        # (weighted least squares, per executive species) before every step, and let the
        # optimizer move only the perceptrons (variable projection; the gradient of the
        # projected objective is the partial gradient at the optimal alpha).
        project = use_projection and not with_penalty

        def solve_alpha() -> None:
            with torch.no_grad():
                y = _perceptrons(p, xt, torch)
                ya = _perceptrons(p, at, torch) if len(anchors) else None
                bv = torch.nn.functional.softplus(p["beta_raw"]) if beta is None else None
                for i in range(n):
                    bi = float(beta) if bv is None else bv[i]
                    scale = (1.0 / (norm[i] * xt.shape[0] * n)).sqrt()
                    a = xt[:, i : i + 1] * y * (w[:, i : i + 1] * scale)
                    r = (ft[:, i] - bi) * w[:, i] * scale
                    if ya is not None:
                        sa = (anchor / (len(anchors) * norm[i])).sqrt()
                        a = torch.cat([a, at[:, i : i + 1] * ya * (wa[:, i : i + 1] * sa)])
                        r = torch.cat([r, -bi * wa[:, i] * sa])
                    g = a.T @ a
                    ridge = 1e-12 * torch.trace(g) / m + 1e-300
                    sol = torch.linalg.solve(g + ridge * torch.eye(m, dtype=g.dtype), a.T @ r)
                    if torch.isfinite(sol).all():
                        p["alpha"][i] = sol

        def objective():
            if project:
                solve_alpha()
            r = (_forward(p, xt, beta, torch) - ft) * w
            loss = (r**2 / norm).mean()
            if len(anchors):
                loss = (
                    loss + anchor * ((_forward(p, at, beta, torch) * wa) ** 2 / norm).sum(1).mean()
                )
            if with_penalty and max_decades is not None:
                loss = loss + penalty * _spread_penalty(p, mu, beta, max_decades, torch)
            return loss

        params = [v for k, v in p.items() if not (project and k == "alpha")]
        if n_epochs:
            opt = torch.optim.Adam(params, lr=rate)
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, T_max=n_epochs, eta_min=rate / 50
            )
            for _ in range(n_epochs):
                opt.zero_grad()
                loss = objective()
                loss.backward()
                opt.step()
                sched.step()
                history.append(float(loss.detach()))
        if polish:
            lbfgs = torch.optim.LBFGS(params, lr=0.5, max_iter=polish,
                                      line_search_fn="strong_wolfe", tolerance_grad=1e-12,
                                      tolerance_change=1e-15)  # fmt: skip

            def closure():
                lbfgs.zero_grad()
                loss = objective()
                loss.backward()
                return loss

            lbfgs.step(closure)
        final = float(objective().detach())
        history.append(final)
        return final if math.isfinite(final) else math.inf

    # screen many cheap starts (a tenth of the epochs each), then train the best in full
    screened: list[tuple[float, dict, list[float]]] = []
    for i in range(max(1, restarts, screen)):
        history: list[float] = []
        p = _torch_params(n, m, lo_arr, hi_arr, beta, gen, torch, kinks, i == 0)
        if screen > restarts:
            run(p, max(1, epochs // 10), lr, False, history, 0)
        # the data-driven first start is always trained in full
        screened.append((-math.inf if i == 0 else history[-1] if history else 0.0, p, history))
    screened.sort(key=lambda e: e[0] if not math.isnan(e[0]) else math.inf)
    best: tuple[float, RNCRN, list[float], float] | None = None
    for _, p, history in screened[: max(1, restarts)]:
        # fit first, then move each perceptron's units to the least rate spread (exact), and
        # only if that is not enough trade accuracy for spread under the penalty
        final = run(p, epochs, lr, False, history, polish)
        model = _to_model(p, beta, n, names, torch).balanced(mu)
        if max_decades is not None and model.rate_spread(mu) > max_decades:
            p = _from_model(model, beta, torch)
            final = run(p, max(1, epochs // 2), lr / 4, True, history, polish)
            model = _to_model(p, beta, n, names, torch).balanced(mu)
        score = _dynamic_score(model, target) if isinstance(target, Target) else final
        if max_decades is not None and model.rate_spread(mu) > max_decades + 1e-9:
            score = math.inf  # the limit is a requirement, the loss a preference
        if best is None or score < best[0] or (best[0] == math.inf and final < best[3]):
            best = (score, model, history, final)
    assert best is not None
    _, model, history, _ = best
    rmse = float(np.sqrt(np.mean((model.vector_field(x) - fx) ** 2)))
    return TrainResult(model=model, loss=history, rmse=rmse, spread=model.rate_spread(mu), mu=mu,
                       seconds=time.perf_counter() - t_start)  # fmt: skip
