"""Reference solver: scipy's stiff integrators, one input at a time, analytic sparse Jacobian."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import scipy.integrate as si
import scipy.sparse as sp
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

    def _steady_one(
        self, s: MassActionStructure, laws: np.ndarray | None, y: np.ndarray, atol: float,
        rtol: float,
    ):  # fmt: skip
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
            if not _advance(s, g, stepper):
                break
            steps += 1
            ok, res = check(stepper.y)
            if ok:
                break
        yd, n_newton = stepper.y, 0
        if ok:  # the criterion holds: Newton now takes the last digits to roundoff level
            totals = None if laws is None else laws @ y[dyn]
            yd, res, n_newton = _polish(s, g, yd, res, laws, totals)
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
        from nncrn.simulate._conservation import conservation_basis

        s = MassActionStructure.build(network)
        laws = conservation_basis(network.stoichiometry, s.dynamic)
        y0 = np.asarray(y0, dtype=np.float64)
        rows = [self._steady_one(s, laws, y, atol, rtol) for y in y0]
        y, ok, res, t, steps, nrhs = (np.array(col) for col in zip(*rows, strict=True))
        return make_steady_state(
            network, y, converged=ok, residual=res, time=t, n_steps=steps,
            n_rhs=int(nrhs.sum()), solver=self, atol=atol, rtol=rtol,
        )  # fmt: skip

    def integrate(self, network: ReactionNetwork, y0: np.ndarray, t_eval: np.ndarray) -> Trajectory:
        s = MassActionStructure.build(network)
        rows = [self._integrate_one(s, y, t_eval) for y in np.asarray(y0, dtype=np.float64)]
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


def _polish(
    s: MassActionStructure, g: np.ndarray, yd: np.ndarray, res: float,
    laws: np.ndarray | None, totals: np.ndarray | None, max_iter: int = 3,
) -> tuple[np.ndarray, float, int]:  # fmt: skip
    """Newton steps ``y <- y - J^{-1} f(y)`` from a converged state, kept while the residual falls.

    Near a stable steady state Newton converges quadratically; a step that raises the
    residual, makes a concentration negative or meets a singular Jacobian is discarded, so
    the result is never worse than the integrator's. With conservation laws ``C``
    (orthonormal rows, ``C J = 0``) the step solves ``(J - C^T C) dy = -f``, whose solution
    has ``C dy = 0``, and the result is projected onto the initial totals: a plain Newton
    step moves along the singular directions of ``J`` (``A + B -> 2 A`` from ``(0.5, 0.5)``
    went to ``(0.625, 0)``, off ``A + B = 1``).
    """
    n = 0
    for _ in range(max_iter):
        if res == 0.0:
            break
        jac = s.jacobian(g, yd)
        if laws is not None:
            jac = jac - sp.csc_matrix(laws.T @ laws)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # a singular Jacobian gives a warning and NaNs: step discarded
            warnings.simplefilter("ignore", spla.MatrixRankWarning)
            try:
                step = spla.spsolve(sp.csc_matrix(jac), s.rhs(g, yd))
            except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
                if "singular" not in str(exc):
                    raise
                break
        trial = yd - np.atleast_1d(step)
        if laws is not None:
            trial = trial - laws.T @ (laws @ trial - totals)
        if not np.isfinite(trial).all() or (trial < 0).any():
            break
        r_new = float(np.max(np.abs(s.rhs(g, trial)), initial=0.0))
        n += 2
        if not r_new < res:
            break
        yd, res = trial, r_new
    return yd, res, n
