"""Public deterministic entry points: :func:`steady_state` and :func:`integrate`."""

from __future__ import annotations

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, initial_state, require_network
from nncrn.network._inputs import as_float_array, input_concentrations_shared
from nncrn.simulate._results import SteadyState, Trajectory, report_convergence
from nncrn.simulate._solver import Solver, check_setting_real

__all__ = ["check_solver", "check_t_eval", "integrate", "steady_state"]

_SSA_SOLVERS = ("DirectMethod", "NextReactionMethod", "TauLeaping")


def check_solver(solver: object) -> Solver:
    """The solver to use: ``solver`` itself, or a default :class:`TorchODE` when None."""
    if solver is None:
        from nncrn.simulate._torch_ode import TorchODE

        return TorchODE()
    if isinstance(solver, type) and issubclass(solver, Solver):
        raise InputError(
            f"solver must be a solver object, an instance such as {solver.__name__}() (settings "
            f"go in its fields, e.g. {solver.__name__}(max_steps=...)); got the class "
            f"{solver.__name__} itself — add the parentheses"
        )
    if not isinstance(solver, Solver):
        name = getattr(solver, "__name__", type(solver).__name__)  # a class or an instance
        if name in _SSA_SOLVERS:
            hint = "; stochastic solvers (DirectMethod, NextReactionMethod, TauLeaping) are "
            hint += "for nncrn.gillespie"
        else:
            hint = ". Solvers are objects, not strings: pass an instance, e.g. solver=TorchODE()"
        raise InputError(
            f"solver must be a solver object such as nncrn.simulate.TorchODE() or "
            f"nncrn.simulate.ScipyODE(); got {solver!r}{hint}"
        )
    return solver


def check_t_eval(t_eval: object) -> np.ndarray:
    """Validate output times: 1-D, finite, ``>= 0``, strictly increasing, non-empty."""
    t = as_float_array(t_eval, "t_eval (a 1-D array of output times)")
    if t.ndim != 1 or t.size == 0:
        raise InputError(
            f"t_eval must be a non-empty 1-D array of output times; got shape {t.shape}"
            + ("; flatten it with np.ravel(t_eval)" if t.ndim > 1 else "")
        )
    if not np.isfinite(t).all():
        raise InputError(f"t_eval must be finite; got {t[~np.isfinite(t)][:3].tolist()}")
    if t[0] < 0:
        raise InputError(
            f"t_eval must be >= 0 (simulations start at time 0); got t_eval[0] = {float(t[0])!r}"
        )
    if t.size > 1 and not (np.diff(t) > 0).all():
        i = int(np.flatnonzero(np.diff(t) <= 0)[0])
        raise InputError(
            f"t_eval must be strictly increasing; t_eval[{i}] = {float(t[i])!r} >= "
            f"t_eval[{i + 1}] = {float(t[i + 1])!r}. Sort it and drop duplicates with "
            "np.unique(t_eval)"
        )
    return t


def _check_tolerance(name: str, value: object) -> float:
    return check_setting_real("steady_state", name, value, inclusive=True)


def steady_state(
    network: ReactionNetwork,
    inputs: object = None,
    *,
    y0: object = None,
    solver: Solver | None = None,
    atol: float = 1e-12,
    rtol: float = 1e-10,
    throw: bool = True,
) -> SteadyState:
    """Steady state of any mass-action network, for a batch of inputs.

    Parameters
    ----------
    network:
        Any :class:`~nncrn.network.ReactionNetwork` (compiled or not).
    inputs:
        ``(batch, n_inputs)`` array (columns in ``network.inputs`` order) or a mapping from
        input species name to a ``(batch,)`` array; None for a network without inputs.
    y0:
        Initial concentrations: None (each species' ``initial``), ``(n_species,)``,
        ``(batch, n_species)`` or a mapping by species name. Input species always take the
        ``inputs``. See :func:`nncrn.network.initial_state`.
    solver:
        A :class:`Solver`; default :class:`TorchODE` (batched).
    atol, rtol:
        Steady-state criterion, per item: ``||f(y)||_inf <= atol + rtol * ||y||_inf`` with
        ``f`` the mass-action RHS (concentration per unit time) and the norms over the
        dynamic species. Near a stable fixed point the error is about ``||f|| / lambda`` with
        ``lambda`` the slowest decay rate; a compiled network's slowest rate is
        ``>= 2 sqrt(eps)`` (0.063 at ``eps = 1e-3``), so the defaults ``1e-12`` / ``1e-10``
        put a smoothed-ReLU value as small as ``eps / |z| ~ 5e-5`` within ~1e-8 relative of
        its closed form, while staying ~100x above float64 roundoff of ``f`` for
        concentrations up to ~1e3.
    throw:
        Raise :class:`~nncrn.ConvergenceError` if some item did not converge (default);
        False warns with :class:`~nncrn.ConvergenceWarning` and returns per-item flags.

    Returns
    -------
    SteadyState
        ``concentrations (batch, n_species)``, ``outputs (batch, n_outputs)``, per-item
        ``converged``, ``residual``, ``time``, ``n_steps`` and the total ``n_rhs``.
    """
    network = require_network(network, "steady_state")
    solver = check_solver(solver)
    atol = _check_tolerance("atol", atol)
    rtol = _check_tolerance("rtol", rtol)
    if atol == 0 and rtol == 0:
        raise InputError("steady_state needs atol > 0 or rtol > 0; got both 0")
    from nncrn.simulate._torch_ode import TorchODE

    if y0 is None and isinstance(solver, TorchODE):
        # inputs straight to the solver: no (batch, n_species) initial state to validate
        x = input_concentrations_shared(network, inputs)
        result = solver.steady_state_from_inputs(network, x, atol, rtol)
    else:
        result = solver.steady_state(network, initial_state(network, inputs, y0), atol, rtol)
    report_convergence(
        result.converged, throw=throw, what="reach steady state",
        fix=f"{solver.fix_hint}, or loosen steady_state(atol=..., rtol=...)",
    )  # fmt: skip
    return result


def integrate(
    network: ReactionNetwork,
    inputs: object,
    t_eval: object,
    *,
    y0: object = None,
    solver: Solver | None = None,
    throw: bool = True,
) -> Trajectory:
    """Concentrations of every batch item at the chemical times ``t_eval``.

    Parameters
    ----------
    network, inputs, y0, solver:
        As for :func:`steady_state` (``inputs`` may be None for a network without inputs).
    t_eval:
        ``(n_times,)`` strictly increasing times ``>= 0`` (chemical time units, i.e. the
        inverse units of first-order rate constants). ``t = 0`` returns the initial state.
    throw:
        Raise :class:`~nncrn.ConvergenceError` if some item did not reach ``t_eval[-1]``;
        False warns instead.

    Returns
    -------
    Trajectory
        ``concentrations (batch, n_times, n_species)``, ``outputs (batch, n_times,
        n_outputs)``, per-item ``converged`` and ``n_steps``, total ``n_rhs``.
    """
    network = require_network(network, "integrate")
    solver = check_solver(solver)
    t = check_t_eval(t_eval)
    y = initial_state(network, inputs, y0)
    result = solver.integrate(network, y, t)
    report_convergence(
        result.converged, throw=throw, what=f"reach t = {t[-1]:g}", fix=solver.fix_hint
    )
    return result
