"""How long the chemistry takes to compute: settling time of the readout species."""

from __future__ import annotations

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, require_network
from nncrn.simulate._api import check_solver, integrate, steady_state
from nncrn.simulate._results import SteadyState, Trajectory
from nncrn.simulate._solver import Solver

__all__ = ["settling_time"]

_DECADES = 7  # the grid spans t_max * [1e-7, 1]: far below any compiled network's time scale
_TRAJ_RTOL, _TRAJ_ATOL = 1e-6, 1e-12  # default trajectory accuracy: 1e4x finer than the band


def settling_time(
    network: ReactionNetwork,
    inputs: object,
    *,
    rtol: float = 0.01,
    atol: float = 1e-9,
    steady: SteadyState | None = None,
    t_max: float | None = None,
    points_per_decade: int = 20,
    solver: Solver | None = None,
    trajectory: Trajectory | None = None,
) -> np.ndarray:
    """``(batch,)`` chemical time after which every readout species stays near its steady state.

    "Near" means ``|y_s(t) - y*_s| <= rtol * |y*_s| + atol`` for every species ``s`` read by
    ``network.readout`` (both parts of a dual-rail readout; every species when the network
    has no readout). The absolute floor ``atol`` (default 1e-9, concentration units) keeps a
    steady state of exactly 0 from requiring infinite time; it is far below any readout
    value a compiled network produces (``sigma_eps(z) >= eps / (2 |z|)``).

    Resolution: the trajectory is sampled at ``t = 0`` and on a log-spaced grid from
    ``t_max * 1e-7`` to ``t_max`` with ``points_per_decade`` points per decade (default
    20, i.e. successive samples 12% apart). The result is the first sample from which all
    later samples are within tolerance, so it is an upper bound of the true settling time
    within one grid ratio (for trajectories that do not leave the band between samples,
    such as the monotone ones of compiled networks). Within that last interval the
    crossing is then located by interpolation: the band excess ``max_s |y_s - y*_s| /
    (rtol |y*_s| + atol)`` is taken to decay exponentially between the two samples (as a
    linear relaxation does), so the time returned is where it reaches 1, a value in the
    interval rather than its end point. ``inf`` if the last sample is still outside, and 0
    if the initial state is already within tolerance.

    Parameters
    ----------
    network, inputs:
        As for :func:`nncrn.simulate.steady_state`; simulations start from each species'
        ``initial`` concentration with the inputs set.
    rtol, atol:
        Relative band (default 1%) and absolute floor.
    steady:
        Steady state of the same inputs, if already computed.
    t_max:
        Longest chemical time examined (default 1e4: a smoothed-ReLU layer relaxes at rate
        ``>= 2 sqrt(eps)``, so even ``eps = 1e-4`` networks settle to 1% well before it).
    trajectory:
        A trajectory of the same inputs from ``t = 0``, if already computed (e.g. to read
        several bands from one integration): its sample times replace the log grid, so
        the result is resolved to them. ``t_max`` and ``points_per_decade`` are then unused.
    solver:
        Used for the trajectory and, when ``steady`` is None, for the steady state. Default:
        :class:`TorchODE` with trajectory tolerances ``rtol=1e-6, atol=1e-12``, looser than
        its defaults because a 1%-band crossing needs far less than 1e-8 accuracy; that
        halves the cost of the long (``t_max``) trajectory.
    """
    network = require_network(network, "settling_time")
    if solver is None:
        from nncrn.simulate._torch_ode import TorchODE

        solver = TorchODE(rtol=_TRAJ_RTOL, atol=_TRAJ_ATOL)
    solver = check_solver(solver)
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not np.isfinite(value) or value < 0:
            raise InputError(f"settling_time({name}={value!r}) must be a finite number >= 0")
    t_max = 1e4 if t_max is None else float(t_max)
    if not np.isfinite(t_max) or t_max <= 0:
        raise InputError(f"settling_time(t_max={t_max!r}) must be a finite time > 0")
    if int(points_per_decade) < 1:
        raise InputError(f"settling_time(points_per_decade={points_per_decade!r}) must be >= 1")
    if steady is None:
        steady = steady_state(network, inputs, solver=solver)
    if trajectory is not None:
        grid, traj = np.asarray(trajectory.t, dtype=np.float64), trajectory
        if grid.size == 0 or grid[0] != 0.0 or (np.diff(grid) <= 0).any():
            raise InputError(
                "settling_time(trajectory=...) needs sample times that start at 0 and "
                "increase; integrate() the inputs on such a grid"
            )
    else:
        grid = np.concatenate(
            ([0.0], t_max * np.logspace(-_DECADES, 0, _DECADES * int(points_per_decade) + 1))
        )
        traj = integrate(network, inputs, grid, solver=solver)
    if steady.concentrations.shape != (traj.concentrations.shape[0], network.n_species):
        raise InputError(
            f"steady has concentrations of shape {steady.concentrations.shape}; expected "
            f"({traj.concentrations.shape[0]}, {network.n_species}) — the steady state of "
            "these same inputs"
        )
    assert network.readout is not None, "ReactionNetwork fills in the default readout"
    names = {p for ro in network.readout for p in (ro.plus, ro.minus) if p is not None}
    cols = [network.index(n) for n in sorted(names)] or list(range(network.n_species))
    y = traj.concentrations[:, :, cols]
    y_star = steady.concentrations[:, None, cols]
    band = rtol * np.abs(y_star) + atol
    with np.errstate(invalid="ignore", divide="ignore"):
        excess = np.where(band > 0, np.abs(y - y_star) / band, np.inf * (y != y_star)).max(axis=2)
    excess = np.where(np.isnan(excess), np.inf, excess)  # a NaN sample never counts as inside
    inside = excess <= 1.0
    # first index from which every later sample is inside: count the trailing run of Trues
    trailing = np.cumprod(inside[:, ::-1], axis=1).sum(axis=1)
    first = grid.size - trailing
    out = np.full(inside.shape[0], np.inf)
    settled = trailing > 0
    out[settled] = grid[first[settled]]
    # interpolate the crossing inside (grid[first - 1], grid[first]] (log excess linear in t)
    items = np.flatnonzero(settled & (first > 0))
    if items.size:
        k = first[items]
        e_a, e_b = excess[items, k - 1], excess[items, k]
        t_a, t_b = grid[k - 1], grid[k]
        finite = np.isfinite(e_a) & (e_b > 0)
        with np.errstate(divide="ignore", invalid="ignore"):
            frac = np.log(e_a) / (np.log(e_a) - np.log(e_b))
        frac = np.where(finite, np.clip(frac, 0.0, 1.0), 1.0)
        out[items] = t_a + frac * (t_b - t_a)
    return out
