"""Abstract base of the deterministic solvers and helpers that package their results."""

from __future__ import annotations

import abc

import numpy as np

from nncrn.network import ReactionNetwork
from nncrn.simulate._results import SteadyState, Trajectory

__all__ = ["Solver", "make_steady_state", "make_trajectory", "steady_criterion"]


class Solver(abc.ABC):
    """A deterministic mass-action solver; settings are dataclass fields of subclasses.

    Both methods take validated initial states ``y0`` of shape ``(batch, n_species)`` (see
    :func:`nncrn.network.initial_state`) and never raise on non-convergence: they flag it
    per item, and the public functions :func:`nncrn.simulate.steady_state` and
    :func:`nncrn.simulate.integrate` decide whether to raise or warn.
    """

    @abc.abstractmethod
    def steady_state(
        self, network: ReactionNetwork, y0: np.ndarray, atol: float, rtol: float
    ) -> SteadyState:
        """Steady state reached from each row of ``y0``.

        An item has converged when ``||f(y)||_inf <= atol + rtol * ||y||_inf`` (concentration
        per unit time; the norms run over the dynamic species).
        """

    @abc.abstractmethod
    def integrate(self, network: ReactionNetwork, y0: np.ndarray, t_eval: np.ndarray) -> Trajectory:
        """Concentrations at the times ``t_eval`` (``(n_times,)``, increasing, ``>= 0``)."""

    @property
    @abc.abstractmethod
    def fix_hint(self) -> str:
        """Which setting of this solver to increase when items do not converge."""


def steady_criterion(f: np.ndarray, y: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """``(batch,)`` bool ``||f||_inf <= atol + rtol ||y||_inf`` for ``f, y (batch, n)``."""
    res = np.max(np.abs(f), axis=1, initial=0.0)
    scale = np.max(np.abs(y), axis=1, initial=0.0)
    return res <= atol + rtol * scale


def make_steady_state(
    network: ReactionNetwork,
    y: np.ndarray,
    *,
    converged: np.ndarray,
    residual: np.ndarray,
    time: np.ndarray,
    n_steps: np.ndarray,
    n_rhs: int,
    solver: object,
) -> SteadyState:
    """Package solver arrays (numpy, batch first) into a :class:`SteadyState`."""
    y = np.asarray(y, dtype=np.float64)
    return SteadyState(
        species=network.species_names,
        output_names=network.outputs,
        concentrations=y,
        outputs=network.read_outputs(y),
        converged=np.asarray(converged, dtype=bool),
        residual=np.asarray(residual, dtype=np.float64),
        time=np.asarray(time, dtype=np.float64),
        n_steps=np.asarray(n_steps, dtype=np.int64),
        n_rhs=int(n_rhs),
        solver=repr(solver),
    )


def make_trajectory(
    network: ReactionNetwork,
    t: np.ndarray,
    y: np.ndarray,
    *,
    converged: np.ndarray,
    n_steps: np.ndarray,
    n_rhs: int,
    solver: object,
) -> Trajectory:
    """Package ``y (batch, n_times, n_species)`` into a :class:`Trajectory`."""
    y = np.asarray(y, dtype=np.float64)
    return Trajectory(
        species=network.species_names,
        output_names=network.outputs,
        t=np.asarray(t, dtype=np.float64),
        concentrations=y,
        outputs=network.read_outputs(y),
        converged=np.asarray(converged, dtype=bool),
        n_steps=np.asarray(n_steps, dtype=np.int64),
        n_rhs=int(n_rhs),
        solver=repr(solver),
    )
