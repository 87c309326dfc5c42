"""Batch-first result values returned by every deterministic solver."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from nncrn._errors import ConvergenceError, ConvergenceWarning

__all__ = ["SteadyState", "Trajectory", "report_convergence"]


@dataclass(frozen=True, eq=False)
class SteadyState:
    """Steady states of a batch of inputs.

    Attributes
    ----------
    species, output_names:
        Names of the columns of ``concentrations`` and ``outputs``.
    concentrations:
        ``(batch, n_species)`` final concentrations.
    outputs:
        ``(batch, n_outputs)`` readout values (``network.readout``).
    converged:
        ``(batch,)`` bool: the steady-state criterion ``||f(y)||_inf <= atol + rtol ||y||_inf``
        holds for the item.
    residual:
        ``(batch,)`` final ``||f(y)||_inf`` (concentration per unit time).
    time:
        ``(batch,)`` chemical (or pseudo-) time reached when the item stopped.
    n_steps:
        ``(batch,)`` accepted steps per item.
    n_rhs:
        Right-hand-side evaluations for the whole batch (one evaluation of a batch counts once).
    solver:
        ``repr`` of the solver that produced the result.
    """

    species: tuple[str, ...]
    output_names: tuple[str, ...]
    concentrations: np.ndarray
    outputs: np.ndarray
    converged: np.ndarray
    residual: np.ndarray
    time: np.ndarray
    n_steps: np.ndarray
    n_rhs: int
    solver: str

    def concentration(self, name: str) -> np.ndarray:
        """``(batch,)`` steady-state concentration of species ``name``."""
        return self.concentrations[:, self.species.index(name)]

    def __repr__(self) -> str:
        b = self.concentrations.shape[0]
        return (
            f"SteadyState(batch={b}, converged={int(self.converged.sum())}/{b}, "
            f"max_residual={float(np.max(self.residual, initial=0.0)):.3g}, solver={self.solver})"
        )


@dataclass(frozen=True, eq=False)
class Trajectory:
    """Concentrations of a batch of inputs at the times ``t``.

    Attributes
    ----------
    t:
        ``(n_times,)`` output times.
    concentrations:
        ``(batch, n_times, n_species)``. An item that did not converge (it blew up, or ran
        out of steps) holds NaN at every time after the last one its integration reached:
        the state there is unknown, and a number (the initial or the last state) would read
        as a result.
    outputs:
        ``(batch, n_times, n_outputs)`` readout values (NaN where ``concentrations`` are).
    converged:
        ``(batch,)`` bool: the item was integrated to ``t[-1]`` within the solver's tolerances.
    n_steps:
        ``(batch,)`` accepted steps per item.
    n_rhs:
        Right-hand-side evaluations for the whole batch.
    """

    species: tuple[str, ...]
    output_names: tuple[str, ...]
    t: np.ndarray
    concentrations: np.ndarray
    outputs: np.ndarray
    converged: np.ndarray
    n_steps: np.ndarray
    n_rhs: int
    solver: str

    def concentration(self, name: str) -> np.ndarray:
        """``(batch, n_times)`` concentration of species ``name``."""
        return self.concentrations[:, :, self.species.index(name)]

    def __repr__(self) -> str:
        b = self.concentrations.shape[0]
        return (
            f"Trajectory(batch={b}, n_times={self.t.shape[0]}, "
            f"converged={int(self.converged.sum())}/{b}, solver={self.solver})"
        )


def report_convergence(converged: np.ndarray, *, throw: bool, what: str, fix: str) -> None:
    """Raise :class:`ConvergenceError` (or warn) when some items did not converge.

    ``what`` says what was attempted ("reach steady state"), ``fix`` which setting to change.
    """
    failed = int(np.size(converged) - np.count_nonzero(converged))
    if failed == 0:
        return
    first = np.flatnonzero(~np.asarray(converged))[:5].tolist()
    msg = (
        f"{failed} of {np.size(converged)} batch items did not {what} (first: {first}); {fix}. "
        "Pass throw=False to get the partial result with per-item `converged` flags"
    )
    if throw:
        raise ConvergenceError(msg)
    warnings.warn(msg.replace("Pass throw=False to get", "Returning"), ConvergenceWarning, stacklevel=3)
