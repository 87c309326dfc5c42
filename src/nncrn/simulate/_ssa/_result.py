"""Batch-first result of a stochastic simulation and its steady-state estimators."""

from __future__ import annotations

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
from nncrn._errors import InputError

if TYPE_CHECKING:
    import pandas
    from matplotlib.axes import Axes

__all__ = ["SSAResult"]


@dataclass(frozen=True, eq=False)
class SSAResult:
    """Stochastic trajectories of a batch of inputs, ``runs`` ensemble members each.

    Attributes
    ----------
    species, output_names:
        Names of the species and readout axes.
    volume:
        The system size Omega; concentration = count / volume.
    t:
        ``(n_times,)`` sample times (chemical time units).
    counts:
        ``(batch, runs, n_times, n_species)`` molecule counts at ``t``: whole numbers,
        stored as float64 (exact up to 2**53) so that a run that stopped early
        (``completed`` False) can hold NaN at the sample times it never reached.
    burn_in, n_windows:
        Time averages are taken over ``[burn_in, t[-1]]``, split into ``n_windows``
        equal windows for the batch-means standard error.
    time_average, time_average_se:
        ``(batch, runs, n_species)`` time-averaged concentrations after the burn-in and
        their batch-means standard error (std of the window means / sqrt(n_windows);
        valid when a window is longer than the correlation time). NaN for a run that did
        not complete: it covered only part of the window.
    outputs, outputs_se:
        ``(batch, runs, n_outputs)`` the same for the readout values.
    completed:
        ``(batch, runs)`` bool: the run reached ``t_end`` (no step limit, no explosive
        growth past ``max_count``, no overflow).
    n_events, n_steps:
        ``(batch, runs)`` reaction firings and solver steps (equal for exact solvers;
        leaps plus exact steps for tau-leaping).
    solver:
        ``repr`` of the solver.
    """

    species: tuple[str, ...]
    output_names: tuple[str, ...]
    volume: float
    t: np.ndarray
    counts: np.ndarray
    burn_in: float
    n_windows: int
    time_average: np.ndarray
    time_average_se: np.ndarray
    outputs: np.ndarray
    outputs_se: np.ndarray
    completed: np.ndarray
    n_events: np.ndarray
    n_steps: np.ndarray
    solver: str

    @property
    def concentrations(self) -> np.ndarray:
        """``(batch, runs, n_times, n_species)`` sampled concentrations ``counts / volume``."""
        return self.counts / self.volume

    def concentration(self, name: str) -> np.ndarray:
        """``(batch, runs, n_times)`` sampled concentration of species ``name``."""
        return self.concentrations[..., self.species.index(name)]

    @property
    def answers(self) -> np.ndarray:
        """``(batch, runs)`` answer of each run: argmax of its time-averaged readout.

        -1 for a run without one (it did not complete, so its averages are NaN); such runs
        never agree with a reference answer.
        """
        if not self.output_names:
            raise InputError(
                "the network has no readout, so there is no answer to take an argmax of"
            )
        missing = np.isnan(self.outputs).any(axis=-1)
        answers = np.argmax(np.where(np.isnan(self.outputs), -np.inf, self.outputs), axis=-1)
        return np.where(missing, -1, answers)

    def agreement(self, reference: np.ndarray) -> np.ndarray:
        """``(batch,)`` fraction of runs whose answer equals the reference answer.

        ``reference`` is either ``(batch, n_outputs)`` deterministic outputs (e.g.
        ``steady_state(...).outputs``; their argmax is the reference answer) or ``(batch,)``
        integer class labels.
        """
        ref = np.asarray(reference)
        batch = self.outputs.shape[0]
        if ref.shape == (batch, len(self.output_names)):
            ref = np.argmax(ref, axis=-1)
        elif ref.shape != (batch,):
            raise InputError(
                f"reference has shape {ref.shape}; pass deterministic outputs of shape "
                f"({batch}, {len(self.output_names)}) or labels of shape ({batch},)"
            )
        answers = self.answers
        return np.mean((answers == ref[:, None]) & (answers >= 0), axis=1)

    def to_dataframe(
        self, *, samples: bool = False, species: bool | str | Sequence[str] | None = None
    ) -> pandas.DataFrame:
        """Per-run summary, or with ``samples=True`` the sampled concentrations.

        Default: one row per (item, run) (MultiIndex ``(item, run)``) with the time-averaged
        readout outputs, their standard errors ``"<output>_se"``, ``completed``,
        ``n_events`` and ``n_steps``; ``species=True`` (or names) appends the species'
        time averages ``"[S]"`` and their standard errors ``"[S]_se"``.

        ``samples=True``: one row per (item, run, time) with the concentrations
        ``counts / volume`` of ``species`` (default all) as columns ``"[S]"``; NaN where a
        run stopped early. ``frame.groupby(level=["item", "time"]).mean()`` is the
        ensemble mean. Needs pandas (``pip install pandas``).
        """
        pd = require_pandas("SSAResult.to_dataframe")
        batch, runs = self.completed.shape
        if samples:
            cols = species_columns(True if species is None else species, self.species,
                                   "SSAResult.to_dataframe")  # fmt: skip
            index = pd.MultiIndex.from_product([range(batch), range(runs), self.t],
                                               names=["item", "run", "time"])  # fmt: skip
            values = self.counts[..., cols] / self.volume
            return pd.DataFrame(values.reshape(len(index), len(cols)), index=index,
                                columns=[f"[{self.species[c]}]" for c in cols])  # fmt: skip
        cols = species_columns(species, self.species, "SSAResult.to_dataframe")
        data: list[tuple[str, np.ndarray]] = [
            *((n, self.outputs[..., j]) for j, n in enumerate(self.output_names)),
            *((f"{n}_se", self.outputs_se[..., j]) for j, n in enumerate(self.output_names)),
            ("completed", self.completed),
            ("n_events", self.n_events),
            ("n_steps", self.n_steps),
            *((f"[{self.species[c]}]", self.time_average[..., c]) for c in cols),
            *((f"[{self.species[c]}]_se", self.time_average_se[..., c]) for c in cols),
        ]
        names = unique_columns([n for n, _ in data], "SSAResult.to_dataframe")
        index = pd.MultiIndex.from_product([range(batch), range(runs)], names=["item", "run"])
        columns = {n: np.reshape(v, batch * runs) for n, (_, v) in zip(names, data, strict=True)}
        return pd.DataFrame(columns, index=index)

    def plot(self, ax: Axes | None = None, **kwargs: Any) -> Axes:
        """Sampled concentrations of one item, a line per run; see :func:`nncrn.plot.plot_ssa`."""
        from nncrn.plot import plot_ssa

        return plot_ssa(self, ax, **kwargs)

    def _repr_html_(self) -> str:
        batch, runs = self.completed.shape
        rows = []
        for k in range(min(batch * runs, HTML_ROWS)):
            i, r = divmod(k, runs)
            rows.append([i, r, *self.outputs[i, r], bool(self.completed[i, r]),
                         int(self.n_events[i, r])])  # fmt: skip
        header = ["item", "run", *(f"{n} (time avg.)" for n in self.output_names), "completed",
                  "events"]  # fmt: skip
        return html_table(repr(self), header, rows, n_rows=batch * runs, noun="runs")

    def __repr__(self) -> str:
        b, r = self.completed.shape
        return (
            f"SSAResult(batch={b}, runs={r}, volume={self.volume:g}, n_times={self.t.size}, "
            f"completed={int(self.completed.sum())}/{b * r}, "
            f"mean_events={float(self.n_events.mean()):.3g}, solver={self.solver})"
        )
