"""Verification of a compiled RNCRN against its target, measured on the full network at ``mu``."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nncrn._errors import ConvergenceWarning, InputError
from nncrn.rncrn._analysis import (
    FixedPoint,
    find_fixed_points,
    numerical_jacobian,
    oscillation,
    simulate_field,
)
from nncrn.rncrn._model import RNCRN, check_mu
from nncrn.rncrn._targets import Target
from nncrn.rncrn._train import sample_box
from nncrn.simulate import ScipyODE, integrate

__all__ = ["Verification", "simulate_network", "verify"]


def simulate_network(model: RNCRN, mu: float, x0: object, t_eval: np.ndarray,
                     *, rtol: float = 1e-8, max_steps: int = 200_000) -> np.ndarray:  # fmt: skip
    """``(n_starts, n_times, N)`` executive concentrations of the *full* network at ``mu``.

    ``x0`` is ``(N,)`` or ``(n_starts, N)``; the perceptrons start at their quasi-steady
    state. The compiled :class:`~nncrn.network.ReactionNetwork` is integrated by
    :class:`~nncrn.simulate.ScipyODE` (LSODA, ``rtol``; the perceptrons are stiff at small
    ``mu``). A start whose trajectory leaves every bound (or needs more than ``max_steps``
    steps) holds NaN from where its integration stopped.
    """
    net = model.to_network(mu)
    starts = np.atleast_2d(np.asarray(x0, dtype=np.float64))
    y = model.perceptrons(starts)
    with warnings.catch_warnings():
        # a start that runs off to infinity is a result here (NaN after blow-up), not an error
        warnings.simplefilter("ignore", ConvergenceWarning)
        traj = integrate(net, None, t_eval, y0=np.concatenate([starts, y], axis=1),
                         solver=ScipyODE(method="LSODA", rtol=rtol, atol=1e-10, max_steps=max_steps),
                         throw=False)  # fmt: skip
    return traj.concentrations[:, :, : model.n_executive]


def _relative(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(a - b)) / max(float(np.linalg.norm(b)), 1e-300)


@dataclass(frozen=True)
class Verification:
    """How closely a compiled RNCRN at ``mu`` reproduces its target.

    Attributes
    ----------
    target, mu, reactions, spread:
        The target's name, the perceptron time scale, the network's reaction count and its
        rate spread (decades between the largest and smallest rate constant).
    rmse:
        Vector-field RMSE of the reduced model on a grid of the box (``mu``-independent).
    target_fixed_points, fixed_points:
        Zeros of the target and of the reduced model in the box; the model's stability is
        that of the *full* network at ``mu`` (eigenvalues of its Jacobian there).
    attractors:
        ``(k, N)`` distinct end states of full-network trajectories from a grid of starts
        (fixed-point targets only; empty otherwise).
    escaped:
        How many of those trajectories left every bound (the network's field keeps pushing
        outward beyond the box, where it was not trained) or stalled.
    attractor_error:
        For each stable fixed point of the target, the relative distance to the nearest
        attractor the full network reached (``inf`` if none).
    period, amplitude:
        ``(target, network)`` period and ``(target, network)`` amplitudes ``(N,)`` of the
        oscillation from ``x0`` (limit-cycle targets; ``nan`` otherwise or if none).
    mean, minimum, maximum:
        ``(target, network)`` time averages and envelopes over ``t_average`` (chaotic
        targets) or over the second half of the run.
    t, x_target, x_network:
        The judging trajectories from ``x0``: times and ``(n_times, N)`` states.
    """

    target: str
    mu: float
    reactions: int
    spread: float
    rmse: float
    target_fixed_points: tuple[FixedPoint, ...]
    fixed_points: tuple[FixedPoint, ...]
    attractors: np.ndarray
    attractor_error: tuple[float, ...]
    escaped: int
    period: tuple[float, float]
    amplitude: tuple[np.ndarray, np.ndarray]
    mean: tuple[np.ndarray, np.ndarray]
    minimum: tuple[np.ndarray, np.ndarray]
    maximum: tuple[np.ndarray, np.ndarray]
    t: np.ndarray = field(repr=False)
    x_target: np.ndarray = field(repr=False)
    x_network: np.ndarray = field(repr=False)

    @property
    def period_error(self) -> float:
        """``|T_network - T_target| / T_target`` (``nan`` without an oscillation)."""
        return abs(self.period[1] - self.period[0]) / self.period[0]

    @property
    def mean_error(self) -> np.ndarray:
        """``(N,)`` relative errors of the network's time averages."""
        return np.abs(self.mean[1] - self.mean[0]) / np.abs(self.mean[0])

    def summary(self) -> dict[str, Any]:
        """One flat row of the headline numbers (benchmark tables, the CLI)."""
        row: dict[str, Any] = {
            "target": self.target, "mu": self.mu, "reactions": self.reactions,
            "spread_decades": round(self.spread, 3), "rmse": self.rmse,
        }  # fmt: skip
        if self.attractors.size:
            row["attractors"] = "; ".join(", ".join(f"{v:.4f}" for v in a) for a in self.attractors)
            row["max_fixed_point_error"] = max(self.attractor_error, default=math.nan)
            row["escaped"] = self.escaped
        if not math.isnan(self.period[0]):
            row["period_target"], row["period_network"] = self.period
            row["period_error"] = self.period_error
        if self.target_fixed_points and not self.attractors.size:
            row["fixed_points"] = len(self.fixed_points)
        if not np.isnan(self.mean[1]).any():
            row["max_mean_error"] = float(self.mean_error.max())
        return row

    def to_frame(self) -> Any:
        """A pandas DataFrame, one row per quantity: target, network, relative error."""
        import pandas as pd

        rows: list[tuple[str, Any, Any, Any]] = []
        stable = [fp for fp in self.target_fixed_points if fp.stable]
        for fp, err in zip(stable, self.attractor_error, strict=False):
            rows.append(("stable fixed point", fp.x.tolist(), None, err))
        if not math.isnan(self.period[0]):
            rows.append(("period", self.period[0], self.period[1], self.period_error))
        for i in range(self.mean[0].size):
            rows.append((f"mean x_{i + 1}", float(self.mean[0][i]), float(self.mean[1][i]),
                         float(self.mean_error[i])))  # fmt: skip
            rows.append(
                (f"min x_{i + 1}", float(self.minimum[0][i]), float(self.minimum[1][i]), None)
            )
            rows.append(
                (f"max x_{i + 1}", float(self.maximum[0][i]), float(self.maximum[1][i]), None)
            )
        return pd.DataFrame(rows, columns=["quantity", "target", "network", "relative_error"])


def _window(t: np.ndarray, target: Target) -> np.ndarray:
    if target.t_average is not None:
        return (t >= target.t_average[0]) & (t <= target.t_average[1])
    return t >= 0.5 * t[-1]


def verify(model: RNCRN, target: Target, mu: float | None = None, *, samples: int = 2001,
           starts: int = 8, rtol: float = 1e-8) -> Verification:  # fmt: skip
    """Compare the network ``model.to_network(mu)`` with ``target`` (see :class:`Verification`).

    Everything dynamic is measured on trajectories of the *full* compiled network at
    ``mu`` (default the target's), integrated from the target's ``x0`` to ``t_end``
    (``samples`` output times) and, for fixed-point targets, from ``starts`` points per
    coordinate spread over the box.
    """
    mu = check_mu(target.mu if mu is None else mu)
    if model.n_executive != target.dimension:
        raise InputError(
            f"the model has {model.n_executive} executive species but target {target.name!r} is "
            f"{target.dimension}-dimensional; train a model for this target"
        )
    net = model.to_network(mu)
    grid = sample_box(target.low, target.high, max(20, math.ceil(4000 ** (1 / target.dimension))))
    rmse = float(np.sqrt(np.mean((model.vector_field(grid) - target(grid)) ** 2)))
    tfp = find_fixed_points(target, target.low, target.high)
    tfp = [FixedPoint(fp.x, np.linalg.eigvals(numerical_jacobian(target, fp.x))) for fp in tfp]
    mfp = find_fixed_points(model.vector_field, target.low, target.high, jacobian=model.jacobian)
    mfp = [
        FixedPoint(fp.x, np.linalg.eigvals(model.full_jacobian(fp.x[None, :], mu)[0])) for fp in mfp
    ]
    t = np.linspace(0.0, target.t_end, samples)
    x_t = simulate_field(target, target.x0, t)
    attractors = np.empty((0, target.dimension))
    errors: list[float] = []
    escaped = 0
    if target.kind == "fixed-points":
        pts = sample_box(np.add(target.low, 0.02 * np.subtract(target.high, target.low)),
                         np.subtract(target.high, 0.02 * np.subtract(target.high, target.low)),
                         starts)  # fmt: skip
        pts = np.concatenate([np.asarray(target.x0)[None, :], pts])
        ends = simulate_network(model, mu, pts, t, rtol=rtol)
        x_n = ends[0]
        found: list[np.ndarray] = []
        for e in ends[:, -1, :]:
            if not np.isfinite(e).all():
                escaped += 1
                continue
            if not any(_relative(e, a) < 1e-3 for a in found):
                found.append(e)
        found.sort(key=lambda a: tuple(a))
        attractors = np.array(found)
        for fp in tfp:
            if fp.stable:
                errors.append(min((_relative(a, fp.x) for a in found), default=math.inf))
    else:
        x_n = simulate_network(model, mu, target.x0, t, rtol=rtol)[0]
    period = (math.nan, math.nan)
    amplitude = (np.full(target.dimension, np.nan), np.full(target.dimension, np.nan))
    if target.kind == "limit-cycle":
        pt, at = oscillation(t, x_t)
        pn, an = oscillation(t, x_n)
        period, amplitude = (pt, pn), (at, an)
    w = _window(t, target)
    return Verification(
        target=target.name, mu=mu, reactions=net.n_reactions, spread=model.rate_spread(mu),
        rmse=rmse, target_fixed_points=tuple(tfp), fixed_points=tuple(mfp),
        attractors=attractors, attractor_error=tuple(errors), escaped=escaped, period=period, amplitude=amplitude,
        mean=(x_t[w].mean(axis=0), x_n[w].mean(axis=0)),
        minimum=(x_t[w].min(axis=0), x_n[w].min(axis=0)),
        maximum=(x_t[w].max(axis=0), x_n[w].max(axis=0)),
        t=t, x_target=x_t, x_network=x_n,
    )  # fmt: skip


@dataclass(frozen=True)
class StochasticRun:
    """One Gillespie run of the compiled network at ``volume``, with its oscillation measured.

    ``x`` is ``(n_times, N)`` concentrations (counts / volume) at ``t``; ``period`` and
    ``amplitude`` as in :func:`nncrn.rncrn.Verification` (``nan`` without an oscillation,
    over the second half of the run). ``completed`` is False where the run stopped early
    (a count grew past ``max_count``: the noise carried the state where the network's field
    drives it without bound); ``x`` is NaN after that.
    """

    volume: float
    mu: float
    t: np.ndarray = field(repr=False)
    x: np.ndarray = field(repr=False)
    period: float
    amplitude: np.ndarray
    completed: bool


def stochastic_run(model: RNCRN, target: Target, volume: float, mu: float | None = None, *,
                   t_end: float | None = None, n_times: int = 2001, max_count: int = 1_000_000,
                   rng: np.random.Generator | int | None = 0) -> StochasticRun:  # fmt: skip
    """Simulate the compiled network at ``mu`` stochastically (exact SSA) from the target's ``x0``.

    ``volume`` converts concentrations to molecule counts (``x0 = (2, 4)`` at volume 250 is
    500 and 1,000 molecules). The perceptrons start at their quasi-steady state.
    """
    from nncrn.simulate import gillespie

    mu = check_mu(target.mu if mu is None else mu)
    net = model.to_network(mu, x0=target.x0)
    t_end = target.t_end if t_end is None else t_end
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = gillespie(net, volume=volume, t_end=t_end, n_times=n_times, rng=rng,
                        max_count=max_count, throw=False)  # fmt: skip
    x = res.counts[0, 0, :, : model.n_executive] / volume
    done = bool(res.completed.all())
    period, amp = oscillation(res.t, x) if done else (math.nan, np.full(x.shape[1], np.nan))
    return StochasticRun(volume=float(volume), mu=mu, t=res.t, x=x, period=period, amplitude=amp,
                         completed=done)  # fmt: skip
