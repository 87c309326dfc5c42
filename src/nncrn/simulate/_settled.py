"""Whether a state that meets the residual criterion is the steady state: :class:`ScipyODE`'s test.

A small residual ``||f(y)||`` says that the trajectory moves slowly, not that it has
arrived: near a stable steady state the distance left is about ``||f|| / |lambda|``
(``lambda`` the slowest decay rate), which a slow mode makes large; near a saddle the
trajectory only passes by; on a continuum of steady states (``2 A -> 0, A -> B``) the
point reached depends on the transient, and a Newton step there moves along the continuum
to another steady state. So :class:`ScipyODE` accepts a state only where it can tell the
distance left:

* an isolated, linearly stable steady state (:func:`stable`, the numpy twin of the test of
  :mod:`._ptc`): Newton steps then converge quadratically, and the last one, the distance
  left to first order, must be within the tolerance (:func:`newton`);
* in a network whose every reaction runs to completion (:mod:`._completion`), a state
  with every reaction exhausted (:func:`exhausted`), the one the construction guarantees;
  Newton steps there are kept where they reach such a state (an exact dual-rail tie runs
  down like ``1 / t``, which an integrator takes ~1e9 time units to finish and Newton
  halves at each step).

Anything else (a continuum, a non-hyperbolic point, a saddle) is not converged: the
integrator goes on, and the item is refused if it never settles.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from nncrn.simulate._structure import MassActionStructure

__all__ = ["absent", "exhausted", "newton", "stable"]

_STABLE = 1e-13  # eigenvalues need real part < -_STABLE * max |eigenvalue| (as in ._ptc)
_EDGE = 1e-5  # species below this fraction of ||y|| may be on their way to 0 (as in ._ptc)
_ROUNDOFF = 8  # negatives below this many epsilons times ||y||_inf are roundoff
_SIGMA = 1e-10  # shift of the Newton matrix: keeps it invertible on a dead (zero) block


def absent(view, y: np.ndarray) -> np.ndarray:
    """``(n_species,)`` bool: species at 0 in ``y`` that no sequence of reactions can produce.

    A reaction can fire once every reactant is present; its products then are. Species
    outside this closure of ``y``'s support stay at exactly 0 for all time. An integrator
    must keep them there: roundoff (an ``I - h gamma J`` pivoted on another row) put
    ``5.6e-45`` into an autocatalytic ``S0`` (``S0 -> 2 S0``) that started at 0, and the
    trajectory ran to ``S0 = 0.75`` where the chemistry keeps ``S0 = 0``.
    """
    rows = np.asarray(view.reactant_rows, dtype=np.int64)
    cols = np.asarray(view.reactant_cols, dtype=np.int64)
    prow = np.asarray(view.product_rows, dtype=np.int64)
    pcol = np.asarray(view.product_cols, dtype=np.int64)
    need = np.bincount(rows, minlength=view.n_reactions)
    present = np.asarray(y) > 0
    while True:
        ready = np.bincount(rows, weights=present[cols], minlength=view.n_reactions) >= need
        new = present.copy()
        new[pcol[ready[prow]]] = True
        if (new == present).all():
            return ~present
        present = new


def stable(
    s: MassActionStructure, g: np.ndarray, yd: np.ndarray, laws: np.ndarray | None,
    atol: float, rtol: float, start_scale: float, live: np.ndarray | None = None,
) -> bool:  # fmt: skip
    """``yd`` is an isolated, linearly stable steady state (see ``._ptc._stable``).

    Every eigenvalue of ``J - C^T C`` (``C`` the orthonormal conservation laws) must have
    real part below ``-_STABLE * max |eigenvalue|``; where setting the species below
    ``_EDGE * max(||y||, start_scale)`` to 0 still leaves a steady state within the
    tolerance, that state must pass too (near a continuum the eigenvalues are only small).
    ``live`` (dynamic positions, bool) restricts the test to the species the chemistry can
    produce (see :func:`absent`); the others stay at 0 whatever their eigenvalues.
    """
    if live is not None and not live.all():
        laws = _restrict(laws, live)
    if not _stable_at(s, g, yd, laws, live):
        return False
    scale = max(float(np.max(np.abs(yd), initial=0.0)), start_scale)
    tiny = (yd > 0) & (yd <= _EDGE * scale)
    if not tiny.any():
        return True
    edge = np.where(tiny, 0.0, yd)
    r = float(np.max(np.abs(s.rhs(g, edge)), initial=0.0))
    if r > atol + rtol * float(np.max(np.abs(edge), initial=0.0)):
        return True
    return _stable_at(s, g, edge, laws, live)


def _restrict(laws: np.ndarray | None, live: np.ndarray) -> np.ndarray | None:
    """Orthonormal laws of the species ``live`` (the others held at 0 keep them laws)."""
    if laws is None:
        return None
    _, sv, vt = np.linalg.svd(laws[:, live], full_matrices=False)
    keep = sv > 1e-9 * float(np.max(sv, initial=0.0))
    return vt[keep] if keep.any() else None


def _stable_at(s: MassActionStructure, g: np.ndarray, yd: np.ndarray, laws, live) -> bool:
    jac = s.jacobian(g, yd)
    if live is not None and not live.all():
        jac = jac[live][:, live]
    if jac.shape[0] == 0:
        return True
    if s.levels is not None and laws is None:  # triangular: the eigenvalues are the diagonal
        lam = jac.diagonal()
    else:
        dense = jac.toarray()
        if laws is not None:
            dense = dense - laws.T @ laws
        with np.errstate(all="ignore"):
            try:
                lam = np.linalg.eigvals(dense)
            except np.linalg.LinAlgError:  # no convergence of the eigenvalue iteration
                return False
    if not np.isfinite(lam).all():
        return False
    scale = float(np.max(np.abs(lam), initial=0.0))
    return bool((lam.real < -_STABLE * scale).all())


def exhausted(
    reactants: np.ndarray, y: np.ndarray, dyn: np.ndarray, yd: np.ndarray, atol: float,
    rtol: float,
) -> bool:  # fmt: skip
    """Every reaction has a reactant below ``atol + rtol ||yd||_inf`` (``._ptc._exhausted``).

    ``reactants`` is :func:`._completion.completion_reactants` (full species indices, -1
    pads), ``y`` the full state whose dynamic positions ``dyn`` take ``yd``.
    """
    full = y.copy()
    full[dyn] = yd
    tol = atol + rtol * float(np.max(np.abs(yd), initial=0.0))
    vals = np.where(reactants >= 0, full[np.maximum(reactants, 0)], np.inf)
    return bool((vals.min(axis=1) <= tol).all())


def newton(
    s: MassActionStructure, g: np.ndarray, yd: np.ndarray, res: float,
    laws: np.ndarray | None, totals: np.ndarray | None, max_iter: int, atol: float,
    dead: np.ndarray | None = None,
) -> tuple[np.ndarray, float, int, float]:  # fmt: skip
    """Newton steps from ``yd``, each kept while it lowers the residual.

    The step solves ``(sigma I - J + C^T C) dy = f`` (``sigma = _SIGMA``): with the
    conservation laws ``C`` moved out of the null space the step keeps ``C dy = 0`` (a plain
    Newton step on ``A + B -> 2 A`` went off ``A + B = 1``), and the result is projected
    onto the initial ``totals``. A step that raises the residual, makes a concentration
    negative beyond roundoff or meets a singular matrix is discarded, so the result is
    never worse than ``yd``. Species ``dead`` (dynamic positions, see :func:`absent`) are
    kept at 0.

    Returns ``(y, residual, rhs evaluations, last step)``: ``last step`` is
    ``||dy||_inf`` of the last step computed (from the final state when that step was
    discarded; otherwise the step that led to it, an upper bound of the distance left near
    an isolated root, where Newton converges quadratically); ``inf`` when the matrix was
    singular, 0 at a zero residual.
    """
    n, last = 0, np.inf
    eps = np.finfo(np.float64).eps
    for _ in range(max_iter):
        if res == 0.0:
            return yd, res, n, 0.0
        mat = sp.identity(yd.size, format="csc") * _SIGMA - s.jacobian(g, yd)
        if laws is not None:
            mat = mat + sp.csc_matrix(laws.T @ laws)
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            # a singular matrix gives a warning and NaNs: step discarded
            warnings.simplefilter("ignore", spla.MatrixRankWarning)
            try:
                step = np.atleast_1d(spla.spsolve(sp.csc_matrix(mat), s.rhs(g, yd)))
            except RuntimeError as exc:  # SuperLU: "Factor is exactly singular"
                if "singular" not in str(exc):
                    raise
                return yd, res, n, np.inf
        if not np.isfinite(step).all():
            return yd, res, n, np.inf
        trial = yd + step
        if laws is not None:
            trial = trial - laws.T @ (laws @ trial - totals)
        if dead is not None:
            trial[dead] = 0.0  # species the chemistry cannot produce (see absent)
        floor = 1e-3 * atol + _ROUNDOFF * eps * float(np.max(np.abs(trial), initial=0.0))
        trial = np.where((trial < 0) & (trial >= -floor), 0.0, trial)
        last = float(np.max(np.abs(trial - yd), initial=0.0))
        if (trial < 0).any():
            break
        r_new = float(np.max(np.abs(s.rhs(g, trial)), initial=0.0))
        n += 1
        if not r_new < res:
            break
        yd, res = trial, r_new
    return yd, res, n, last
