"""Reference solver: scipy's stiff integrators, one input at a time, analytic sparse Jacobian."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.integrate as si
import scipy.sparse.linalg as spla

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork
from nncrn.simulate._results import SteadyState, Trajectory
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


@dataclass(frozen=True)
class ScipyODE(Solver):
    """Reference solver: :mod:`scipy.integrate`'s stiff methods, one batch item at a time.

    Slow (a Python loop over the batch) but independent of the torch solver, so the two
    check each other.

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
    def _stepper(self, s: MassActionStructure, g: np.ndarray, yd: np.ndarray, t_bound: float):
        def fun(t: float, y: np.ndarray) -> np.ndarray:
            return s.rhs(g, y)

        def jac(t: float, y: np.ndarray):
            return s.jacobian(g, y)

        kwargs = {"rtol": self.rtol, "atol": self.atol, "jac": jac}
        if self.method == "LSODA":  # LSODA wants a dense Jacobian
            kwargs["jac"] = lambda t, y: jac(t, y).toarray()
        return _METHODS[self.method](fun, 0.0, yd.copy(), t_bound, **kwargs)

    def _steady_one(self, s: MassActionStructure, y: np.ndarray, atol: float, rtol: float):
        g, dyn = s.coefficients(y), s.dynamic
        out = y.copy()

        def check(yd: np.ndarray) -> tuple[bool, float]:
            res = float(np.max(np.abs(s.rhs(g, yd)), initial=0.0))
            return res <= atol + rtol * float(np.max(np.abs(yd), initial=0.0)), res

        ok, res = check(y[dyn])
        if ok:
            return out, True, res, 0.0, 0, 1
        stepper = self._stepper(s, g, y[dyn], self.t_max)
        steps = 0
        while stepper.status == "running" and steps < self.max_steps:
            stepper.step()
            steps += 1
            ok, res = check(stepper.y)
            if ok:
                break
        yd, n_newton = stepper.y, 0
        if ok:  # the criterion holds: Newton now takes the last digits to roundoff level
            yd, res, n_newton = _polish(s, g, yd, res)
        out[dyn] = yd
        return out, ok, res, stepper.t, steps, stepper.nfev + stepper.njev + steps + 1 + n_newton

    def _integrate_one(self, s: MassActionStructure, y: np.ndarray, t_eval: np.ndarray):
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
        stepper = self._stepper(s, s.coefficients(y), y[s.dynamic], float(t_eval[-1]))
        steps = 0
        while stepper.status == "running" and steps < self.max_steps:
            stepper.step()
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
        s = MassActionStructure.build(network)
        rows = [self._steady_one(s, y, atol, rtol) for y in np.asarray(y0, dtype=np.float64)]
        y, ok, res, t, steps, nrhs = (np.array(col) for col in zip(*rows, strict=True))
        return make_steady_state(
            network, y, converged=ok, residual=res, time=t, n_steps=steps,
            n_rhs=int(nrhs.sum()), solver=self,
        )  # fmt: skip

    def integrate(self, network: ReactionNetwork, y0: np.ndarray, t_eval: np.ndarray) -> Trajectory:
        s = MassActionStructure.build(network)
        rows = [self._integrate_one(s, y, t_eval) for y in np.asarray(y0, dtype=np.float64)]
        y, ok, steps, nrhs = (np.array(col) for col in zip(*rows, strict=True))
        return make_trajectory(
            network, t_eval, y, converged=ok, n_steps=steps, n_rhs=int(nrhs.sum()), solver=self
        )


def _polish(
    s: MassActionStructure, g: np.ndarray, yd: np.ndarray, res: float, max_iter: int = 3
) -> tuple[np.ndarray, float, int]:
    """Newton steps ``y <- y - J^{-1} f(y)`` from a converged state, kept while the residual falls.

    Near a stable steady state Newton converges quadratically; a step that raises the
    residual, makes a concentration negative or meets a singular Jacobian (a conservation
    law) is discarded, so the result is never worse than the integrator's.
    """
    n = 0
    for _ in range(max_iter):
        if res == 0.0:
            break
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # a singular Jacobian (conservation law) gives a warning and NaNs: step discarded
            warnings.simplefilter("ignore", spla.MatrixRankWarning)
            step = spla.spsolve(s.jacobian(g, yd), s.rhs(g, yd))
        trial = yd - np.atleast_1d(step)
        if not np.isfinite(trial).all() or (trial < 0).any():
            break
        r_new = float(np.max(np.abs(s.rhs(g, trial)), initial=0.0))
        n += 2
        if not r_new < res:
            break
        yd, res = trial, r_new
    return yd, res, n
