"""Reference solver: scipy's stiff integrators, one input at a time, analytic sparse Jacobian."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.integrate as si
import scipy.sparse as sp

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork
from nncrn.simulate._results import SteadyState, Trajectory
from nncrn.simulate._settled import absent, exhausted, newton, stable
from nncrn.simulate._solver import (
    Solver,
    check_setting_int,
    check_setting_real,
    make_steady_state,
    make_trajectory,
)
from nncrn.simulate._structure import MassActionStructure

__all__ = ["ScipyODE"]

# Implicit methods only: the networks are stiff (rates spread over orders of magnitude).
_METHODS = {"BDF": si.BDF, "Radau": si.Radau, "LSODA": si.LSODA}
_POLISH = 4  # Newton steps from a stable state: quadratic convergence takes it to roundoff
_TIE_NEWTON = 60  # Newton steps on a completion network: an exact tie halves at each one
_ROUNDOFF = 1e-13  # relative size of a last Newton step that is float64 roundoff


@dataclass(frozen=True)
class ScipyODE(Solver):
    """Reference solver: :mod:`scipy.integrate`'s stiff methods, one batch item at a time.

    Slow (a Python loop over the batch) but independent of the torch solver, so the two
    check each other.

    Steady states: each item is integrated until it meets the criterion of
    :func:`~nncrn.simulate.steady_state` *and* has settled: it is an isolated, linearly
    stable steady state that Newton's method confirms within the tolerance, or, in a
    network whose every reaction runs to completion (dual-rail networks), every reaction
    has a reactant at ~0. A small residual on a slow approach, near a saddle or on a
    continuum of steady states (where the limit depends on the transient) is not
    convergence: the integration goes on to ``t_max`` and such an item is refused;
    :meth:`integrate` it instead.

    Parameters
    ----------
    method:
        ``"BDF"`` (default: variable order 1-5, cheap steps on long stiff transients),
        ``"Radau"`` or ``"LSODA"``.
    rtol, atol:
        Integration tolerances (relative; absolute in concentration units). Tight by default
        (``1e-9``, ``1e-12``) because this is the reference the fast solver is tested against.
    t_max:
        Chemical time after which :meth:`steady_state` gives up (default ``1e8``: far past the
        ``~1/(2 sqrt(eps))`` relaxation time of any useful compiled network).
    max_steps:
        Step budget per item and call.
    """

    method: str = "BDF"
    rtol: float = 1e-9
    atol: float = 1e-12
    t_max: float = 1e8
    max_steps: int = 100_000

    def __post_init__(self) -> None:
        if self.method not in _METHODS:
            raise InputError(
                f"ScipyODE(method={self.method!r}) is not supported; choose one of "
                f"{sorted(_METHODS)} (stiff methods: compiled networks are stiff)"
            )
        for name in ("rtol", "atol", "t_max"):
            object.__setattr__(self, name, check_setting_real("ScipyODE", name, getattr(self, name)))
        object.__setattr__(
            self, "max_steps", check_setting_int("ScipyODE", "max_steps", self.max_steps)
        )

    @property
    def fix_hint(self) -> str:
        return "increase ScipyODE(t_max=...) or ScipyODE(max_steps=...)"

    # ------------------------------------------------------------------ one item
    def _stepper(
        self, s: MassActionStructure, g: np.ndarray, yd: np.ndarray, t_bound: float,
        dead: np.ndarray,
    ):  # fmt: skip
        """The SciPy stepper; species ``dead`` (see ``._settled.absent``) are decoupled at 0."""
        keep = None if not dead.any() else sp.diags((~dead).astype(np.float64))

        def fun(t: float, y: np.ndarray) -> np.ndarray:
            f = s.rhs(g, y)
            if keep is not None:
                f[dead] = 0.0
            return f

        def jac(t: float, y: np.ndarray):
            j = s.jacobian(g, y)
            # zero rows and columns: I - h gamma J is the identity there, so no pivoting
            # can carry roundoff into them
            return j if keep is None else sp.csc_matrix(keep @ j @ keep)

        kwargs = {"rtol": self.rtol, "atol": self.atol, "jac": jac}
        if self.method == "LSODA":  # LSODA wants a dense Jacobian
            kwargs["jac"] = lambda t, y: jac(t, y).toarray()
        return _METHODS[self.method](fun, 0.0, yd.copy(), t_bound, **kwargs)

    def _steady_one(
        self, s: MassActionStructure, laws: np.ndarray | None, reactants: np.ndarray | None,
        y: np.ndarray, atol: float, rtol: float, dead_full: np.ndarray,
    ):  # fmt: skip
        """Integrate until the state passes the residual criterion and is settled.

        Settled (see :mod:`._settled`): in a network whose reactions all run to completion,
        every reaction exhausted (Newton steps are tried where the integrator is slow);
        otherwise an isolated, stable steady state within one Newton step of the tolerance
        (tested at doubling times, as it costs an eigenvalue computation). A residual
        criterion met far from the answer (a slow mode, a saddle passed by, a continuum of
        steady states) is not convergence: the integration goes on, and the item is refused
        if it never settles.
        """
        g, dyn = s.coefficients(y), s.dynamic
        out = y.copy()
        totals = None if laws is None else laws @ y[dyn]
        start_scale = float(np.max(np.abs(y[dyn]), initial=0.0))
        dead = dead_full[dyn]
        live = None if not dead.any() else ~dead

        def check(yd: np.ndarray) -> tuple[bool, float]:
            res = float(np.max(np.abs(s.rhs(g, yd)), initial=0.0))
            return res <= atol + rtol * float(np.max(np.abs(yd), initial=0.0)), res

        def done(yd: np.ndarray) -> bool:
            return reactants is None or exhausted(reactants, y, dyn, yd, atol, rtol)

        ok, res = check(y[dyn])
        if ok and done(y[dyn]):
            # Already at a steady state: the chemistry stays there, stable or not.
            return out, True, res, 0.0, 0, 1
        stepper = self._stepper(s, g, y[dyn], self.t_max, dead)
        steps = n_newton = 0
        settled, next_test = False, 0.0
        yd = y[dyn]
        while stepper.status == "running" and steps < self.max_steps:
            if not _advance(s, g, stepper):
                break
            steps += 1
            ok, res = check(stepper.y)
            if not ok:
                continue
            yd = stepper.y
            if reactants is not None:
                if not done(yd):  # a slow tie: Newton halves it at each step
                    yn, rn, n, _ = newton(s, g, yd, res, laws, totals, _TIE_NEWTON, atol, dead)
                    n_newton += n
                    if check(yn)[0] and done(yn):
                        yd, res = yn, rn
                settled = done(yd)
            elif stepper.t >= next_test:
                next_test = 2.0 * stepper.t
                if stable(s, g, yd, laws, atol, rtol, start_scale, live):
                    yn, rn, n, last = newton(s, g, yd, res, laws, totals, _POLISH, atol, dead)
                    n_newton += n
                    scale = float(np.max(np.abs(yn), initial=0.0))
                    settled = last <= atol + max(rtol, _ROUNDOFF) * scale
                    if settled:
                        yd, res = yn, rn
            if settled:
                break
        out[dyn] = yd if settled else stepper.y
        if not settled:
            res = check(stepper.y)[1]
        nfev = stepper.nfev + stepper.njev + steps + 1 + 2 * n_newton
        return out, settled, res, stepper.t, steps, nfev

    def _integrate_one(self, s: MassActionStructure, view, y: np.ndarray, t_eval: np.ndarray):
        if s.n_dynamic == 0:  # nothing changes: every time holds the initial state
            return np.tile(y, (t_eval.size, 1)), True, 0, 0
        # Times the integration never reaches (it failed or ran out of steps) stay NaN: the
        # state there is unknown, and any number would read as a result.
        out = np.full((t_eval.size, y.size), np.nan)
        done = t_eval <= 0.0  # the initial state itself
        out[done] = y
        if done.all():
            return out, True, 0, 0
        const = np.setdiff1d(np.arange(y.size), s.dynamic)  # constant species
        dead = absent(view, y)[s.dynamic]
        stepper = self._stepper(s, s.coefficients(y), y[s.dynamic], float(t_eval[-1]), dead)
        steps = 0
        while stepper.status == "running" and steps < self.max_steps:
            if not _advance(s, s.coefficients(y), stepper):
                break
            steps += 1
            hit = ~done & (t_eval <= stepper.t)
            if hit.any():
                vals = np.atleast_2d(stepper.dense_output()(t_eval[hit])).T
                out[np.ix_(np.flatnonzero(hit), s.dynamic)] = vals
                out[np.ix_(np.flatnonzero(hit), const)] = y[const]
                done |= hit
        ok = stepper.status == "finished" and bool(done.all())
        return out, ok, steps, stepper.nfev + stepper.njev

    # ------------------------------------------------------------------ batch
    def steady_state(
        self, network: ReactionNetwork, y0: np.ndarray, atol: float, rtol: float
    ) -> SteadyState:
        from nncrn.simulate._completion import completion_reactants
        from nncrn.simulate._conservation import conservation_basis

        s = MassActionStructure.build(network)
        laws = conservation_basis(network.stoichiometry, s.dynamic)
        reactants = completion_reactants(network.stoichiometry)
        y0 = np.asarray(y0, dtype=np.float64)
        view = network.stoichiometry
        rows = [self._steady_one(s, laws, reactants, y, atol, rtol, absent(view, y)) for y in y0]
        y, ok, res, t, steps, nrhs = (np.array(col) for col in zip(*rows, strict=True))
        return make_steady_state(
            network, y, converged=ok, residual=res, time=t, n_steps=steps,
            n_rhs=int(nrhs.sum()), solver=self, atol=atol, rtol=rtol,
        )  # fmt: skip

    def integrate(self, network: ReactionNetwork, y0: np.ndarray, t_eval: np.ndarray) -> Trajectory:
        s = MassActionStructure.build(network)
        view = network.stoichiometry
        y0 = np.asarray(y0, dtype=np.float64)
        rows = [self._integrate_one(s, view, y, t_eval) for y in y0]
        y, ok, steps, nrhs = (np.array(col) for col in zip(*rows, strict=True))
        return make_trajectory(
            network, t_eval, y, converged=ok, n_steps=steps, n_rhs=int(nrhs.sum()), solver=self,
            atol=self.atol, rtol=self.rtol,
        )  # fmt: skip


def _advance(s: MassActionStructure, g: np.ndarray, stepper) -> bool:
    """One step of ``stepper``, its step size kept below ``1 / lambda`` of a growing mode.

    Implicit methods are stable for ``h lambda >> 1`` with ``lambda > 0`` too: a step far
    longer than a growing mode's time lands on the unstable fixed point it grows from and
    stays (a neuron growing at rate ``z = 1e10`` from ``Y = 0`` sat at the negative root
    ``-eps / z``). ``max_step`` is capped at ``1 / max(J_ii)``: exact for triangular
    Jacobians (every compiled network), a self-growth bound otherwise.

    False when the step failed: SciPy's factorisation of ``I - h gamma J`` met an exactly
    singular matrix (then the item is not converged, and nothing escapes).
    """
    diag = s.jacobian(g, stepper.y).diagonal()
    grow = float(np.max(diag, initial=0.0))
    stepper.max_step = 1.0 / grow if grow > 0 else np.inf
    try:
        stepper.step()
    except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
        if "singular" not in str(exc):
            raise
        return False
    return stepper.status != "failed"
