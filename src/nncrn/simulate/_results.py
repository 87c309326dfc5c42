"""Batch-first result values returned by every deterministic solver."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from nncrn._display import (
    HTML_ROWS,
    html_table,
    require_pandas,
    species_columns,
    unique_columns,
)
from nncrn._errors import ConvergenceError, ConvergenceWarning

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes

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

    def to_dataframe(self, *, species: bool | str | Sequence[str] = False) -> pandas.DataFrame:
        """One row per batch item: the readout outputs, then ``converged`` and ``residual``.

        The index is the batch position, named ``item``; the output columns are named by
        ``output_names``. ``species=True`` (or a name, or a list of names) appends those
        species' concentrations as columns ``"[S]"`` (brackets: a readout is often named
        like its species). Needs pandas (``pip install pandas``).
        """
        pd = require_pandas("SteadyState.to_dataframe")
        cols = species_columns(species, self.species, "SteadyState.to_dataframe")
        data: list[tuple[str, np.ndarray]] = [
            *((n, self.outputs[:, j]) for j, n in enumerate(self.output_names)),
            ("converged", self.converged),
            ("residual", self.residual),
            *((f"[{self.species[c]}]", self.concentrations[:, c]) for c in cols),
        ]
        names = unique_columns([n for n, _ in data], "SteadyState.to_dataframe")
        index = pd.RangeIndex(self.concentrations.shape[0], name="item")
        return pd.DataFrame(dict(zip(names, (v for _, v in data), strict=True)), index=index)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Outputs per batch item; see :func:`nncrn.plot.plot_steady_state` (returns the Axes)."""
        from nncrn.plot import plot_steady_state

        return plot_steady_state(self, ax, **kwargs)

    def _repr_html_(self) -> str:
        rows = [
            [i, *self.outputs[i], bool(self.converged[i]), float(self.residual[i])]
            for i in range(min(self.outputs.shape[0], HTML_ROWS))
        ]
        return html_table(repr(self), ["item", *self.output_names, "converged", "residual"],
                          rows, n_rows=self.outputs.shape[0], noun="items")  # fmt: skip

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

    def to_dataframe(self, *, species: bool | str | Sequence[str] = False) -> pandas.DataFrame:
        """Wide frame: one row per (item, time), one column per readout output.

        The index is a MultiIndex ``(item, time)``, so ``frame.loc[0]`` is item 0's time
        series indexed by time (``frame.loc[0].plot()`` draws it) and
        ``frame.xs(t, level="time")`` the batch at time ``t``. ``species=True`` (or names)
        appends concentration columns ``"[S]"``. An item that did not converge holds NaN
        after the last time it reached (``converged`` stays on the result). For the long
        (tidy) layout seaborn takes, melt it::

            frame.reset_index().melt(id_vars=["item", "time"], var_name="output")

        Needs pandas (``pip install pandas``).
        """
        pd = require_pandas("Trajectory.to_dataframe")
        cols = species_columns(species, self.species, "Trajectory.to_dataframe")
        batch, n_t = self.concentrations.shape[:2]
        names = unique_columns(
            [*self.output_names, *(f"[{self.species[c]}]" for c in cols)], "Trajectory.to_dataframe"
        )
        values = np.concatenate([self.outputs, self.concentrations[..., cols]], axis=-1)
        index = pd.MultiIndex.from_product([range(batch), self.t], names=["item", "time"])
        return pd.DataFrame(values.reshape(batch * n_t, len(names)), index=index, columns=names)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Outputs against time; see :func:`nncrn.plot.plot_trajectory` (returns the Axes)."""
        from nncrn.plot import plot_trajectory

        return plot_trajectory(self, ax, **kwargs)

    def _repr_html_(self) -> str:
        t_end = f"{self.t[-1]:g}" if self.t.size else "-"
        rows = [
            [i, bool(self.converged[i]), int(self.n_steps[i]),
             *(self.outputs[i, -1] if self.t.size else [None] * len(self.output_names))]
            for i in range(min(self.outputs.shape[0], HTML_ROWS))
        ]  # fmt: skip
        header = ["item", "converged", "steps", *(f"{n} at t={t_end}" for n in self.output_names)]
        return html_table(repr(self), header, rows, n_rows=self.outputs.shape[0], noun="items")

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
