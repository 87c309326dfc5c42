"""Abstract base of the deterministic solvers and helpers that package their results."""

from __future__ import annotations

import abc
import math

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork
from nncrn.network._numbers import as_integer, as_real, fmt_number
from nncrn.simulate._results import SteadyState, Trajectory

__all__ = [
    "Solver",
    "check_setting_int",
    "check_setting_real",
    "make_steady_state",
    "make_trajectory",
    "physical",
    "steady_criterion",
]


def check_setting_real(
    owner: str, name: str, value: object, *, low: float = 0.0, inclusive: bool = False,
    hint: str = "",
) -> float:
    """Validate a real-valued setting: a finite real number ``> low`` (``>= low`` if ``inclusive``).

    ``owner`` names the call or class (``"TorchODE"``, ``"steady_state"``) and ``name`` the
    parameter, so the message reads ``TorchODE(rtol='a') must be ...``. Strings, booleans
    and complex numbers are rejected rather than converted. Returns the value as a float.
    ``hint`` is appended to the message (e.g. ``"; or None for the default"``).
    """
    real = as_real(value)
    ok = real is not None and math.isfinite(real) and (real >= low if inclusive else real > low)
    if not ok:
        got = "" if real is not None else f" (a {type(value).__name__})"
        bound = f">= {low:g}" if inclusive else f"> {low:g}"
        raise InputError(
            f"{owner}({name}={fmt_number(value)}){got}: {name} must be a finite number {bound}"
            f"{hint}"
        )
    return real  # type: ignore[return-value]


def check_setting_int(owner: str, name: str, value: object, *, low: int = 1, hint: str = "") -> int:
    """Validate an integer setting ``>= low`` (integral floats such as ``1e5`` are accepted;
    ``1.5``, strings and booleans are not). Returns it as an int."""
    n = as_integer(value)
    if n is None or n < low:
        got = "" if as_real(value) is not None else f" (a {type(value).__name__})"
        raise InputError(
            f"{owner}({name}={fmt_number(value)}){got}: {name} must be an integer >= {low}{hint}"
        )
    return n


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


def physical(y: np.ndarray, atol: float, rtol: float) -> np.ndarray:
    """``(batch,)`` bool: every value of ``y (batch, ..., n_species)`` is finite and not negative
    beyond ``atol + rtol * max |y_s|`` (per species, the max over the item's other axes).

    Mass-action kinetics keeps every concentration non-negative from a non-negative start,
    so a state below that bound is a numerical failure, however small its residual: an
    implicit step far longer than ``1 / lambda`` of a growing mode can land on the negative
    root of the rate law (``Y = -eps / z`` of a neuron) and stay there.
    """
    y = np.asarray(y, dtype=np.float64)
    flat = y.reshape(y.shape[0], -1, y.shape[-1])
    finite = np.isfinite(flat).all(axis=(1, 2))
    with np.errstate(invalid="ignore"):
        floor = atol + rtol * np.nanmax(np.abs(flat), axis=1, initial=0.0)
        low = (flat < -floor[:, None, :]).any(axis=(1, 2))
    return finite & ~low


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
    atol: float,
    rtol: float,
) -> SteadyState:
    """Package solver arrays (numpy, batch first) into a :class:`SteadyState`.

    An item whose state is not :func:`physical` (within ``atol``, ``rtol``) is not converged.
    """
    y = np.asarray(y, dtype=np.float64)
    return SteadyState(
        species=network.species_names,
        output_names=network.outputs,
        concentrations=y,
        outputs=network.read_outputs(y),
        converged=np.asarray(converged, dtype=bool) & physical(y, atol, rtol),
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
    atol: float,
    rtol: float,
) -> Trajectory:
    """Package ``y (batch, n_times, n_species)`` into a :class:`Trajectory`.

    An item is integrated only if the solver says so and every point of it is
    :func:`physical` within the solver's tolerances ``atol``, ``rtol``.
    """
    y = np.asarray(y, dtype=np.float64)
    return Trajectory(
        species=network.species_names,
        output_names=network.outputs,
        t=np.asarray(t, dtype=np.float64),
        concentrations=y,
        outputs=network.read_outputs(y),
        converged=np.asarray(converged, dtype=bool) & physical(y, atol, rtol),
        n_steps=np.asarray(n_steps, dtype=np.int64),
        n_rhs=int(n_rhs),
        solver=repr(solver),
    )
