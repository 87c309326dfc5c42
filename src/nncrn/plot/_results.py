"""Figures of simulation and robustness results: what each result's ``.plot()`` draws.

Every function draws into ``ax`` (default: the current Axes, ``pyplot.gca()``, as pandas
does) and returns it, so a caller can restyle, add lines, or place it in a grid of
subplots. Nothing here selects a matplotlib backend or saves a file.

The results are read by attribute (``result.t``, ``result.outputs``, ...), never imported:
``nncrn.plot`` sits below ``simulate`` and ``train`` in the package layers so that their
results can call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from nncrn._errors import InputError

__all__ = [
    "plot_early_readout",
    "plot_noise_study",
    "plot_rate_noise",
    "plot_ssa",
    "plot_steady_state",
    "plot_trajectory",
]

_LEGEND_MAX = 12  # more entries than this cover the data instead of labelling it


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.gca()


def _color(j: int) -> str:
    return f"C{j % 10}"


def _species_columns(result: Any, species: str | Sequence[str]) -> list[int]:
    names = [species] if isinstance(species, str) else list(species)
    missing = [s for s in names if s not in result.species]
    if missing:
        raise InputError(
            f"species {missing[0]!r} is not in the result; its species are "
            f"{list(result.species)[:20]}{' ...' if len(result.species) > 20 else ''}"
        )
    return [result.species.index(s) for s in names]


def _items(items: int | Sequence[int] | None, batch: int) -> list[int]:
    chosen = list(range(batch)) if items is None else list(np.atleast_1d(items))
    bad = [int(i) for i in chosen if not -batch <= int(i) < batch]
    if bad:
        raise InputError(f"item {bad[0]} is not in the batch of {batch}; pass items in [0, {batch})")
    return [int(i) % batch for i in chosen]


def _legend(ax: Any, n: int, legend: bool, **kwargs: Any) -> None:
    if legend and 0 < n <= _LEGEND_MAX:
        ax.legend(fontsize=8, **kwargs)


def plot_steady_state(
    result: Any, ax: Any = None, *, species: str | Sequence[str] | None = None, legend: bool = True
) -> Any:
    """One marker per batch item and readout output (or ``species``' concentrations).

    The x axis is the batch index; items whose steady state did not converge are
    crossed out in red, since their values are not answers. One line (markers, no
    connecting segments: items are independent inputs) per output.
    """
    ax = _axes(ax)
    if species is None:
        values, names = result.outputs, list(result.output_names)
        ylabel = "steady-state output"
    else:
        cols = _species_columns(result, species)
        values, names = result.concentrations[:, cols], [result.species[c] for c in cols]
        ylabel = "steady-state concentration"
    x = np.arange(values.shape[0])
    for j, name in enumerate(names):
        ax.plot(x, values[:, j], "o", color=_color(j), label=name)
    bad = ~np.asarray(result.converged, dtype=bool)
    if bad.any() and values.shape[1]:
        xb = np.repeat(x[bad], values.shape[1])
        ax.scatter(xb, values[bad].ravel(), marker="x", color="red", s=60, zorder=3,
                   label="not converged")  # fmt: skip
    ax.set_xlabel("batch item")
    ax.set_ylabel(ylabel)
    _legend(ax, len(names), legend)
    return ax


def plot_trajectory(
    result: Any,
    ax: Any = None,
    *,
    items: int | Sequence[int] | None = None,
    species: str | Sequence[str] | None = None,
    steady: np.ndarray | None = None,
    labels: Sequence[str] | None = None,
    logx: bool = False,
    legend: bool = True,
) -> Any:
    """Readout outputs (or ``species``' concentrations) against chemical time.

    One line per plotted item and column, coloured by column. ``items`` default: every
    batch item. ``steady`` optional ``(batch, n_columns)`` values drawn as dotted
    horizontal lines (e.g. ``steady_state(...).outputs``); ``labels`` legend names for the
    columns (default: the output or species names). ``logx`` plots time on a log axis,
    leaving out ``t <= 0``.
    """
    ax = _axes(ax)
    if species is None:
        values, names = result.outputs, list(result.output_names)
        ylabel = "output"
    else:
        cols = _species_columns(result, species)
        values, names = result.concentrations[..., cols], [result.species[c] for c in cols]
        ylabel = "concentration"
    if labels is not None:
        if len(labels) != len(names):
            raise InputError(f"labels has {len(labels)} names for {len(names)} columns {names}")
        names = list(labels)
    chosen = _items(items, values.shape[0])
    t = np.asarray(result.t)
    keep = t > 0 if logx else np.ones(t.shape, dtype=bool)
    for n, b in enumerate(chosen):
        for j, name in enumerate(names):
            ax.plot(t[keep], values[b, keep, j], color=_color(j), lw=1.6,
                    label=name if n == 0 else None)  # fmt: skip
            if steady is not None:
                ax.axhline(steady[b, j], color=_color(j), ls=":", lw=0.8)
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel("chemical time")
    ax.set_ylabel(ylabel)
    _legend(ax, len(names), legend, loc="best")
    return ax


def plot_ssa(
    result: Any,
    ax: Any = None,
    *,
    item: int = 0,
    species: str | Sequence[str] | None = None,
    legend: bool = True,
) -> Any:
    """Sampled concentrations of one batch item: one thin line per run and species.

    ``species`` default: the readout's species when every output is named after one (a
    compiled smoothed-ReLU network), else every species. The dashed line marks the
    burn-in, after which the time averages (``result.outputs``) are taken.
    """
    if result.t.size == 0:
        raise InputError(
            "this SSA result holds no samples (it was run with n_times=0, as noise_study "
            "does); run gillespie(..., n_times=101) to get trajectories to plot"
        )
    ax = _axes(ax)
    if species is None:
        named = [s for s in result.output_names if s in result.species]
        species = named if named and len(named) == len(result.output_names) else result.species
    cols = _species_columns(result, species)
    (b,) = _items(item, result.counts.shape[0])
    conc = result.counts[b][..., cols] / result.volume  # (runs, n_times, n_cols)
    alpha = max(0.15, 1.0 / np.sqrt(conc.shape[0]))
    for r in range(conc.shape[0]):
        for j, c in enumerate(cols):
            ax.plot(result.t, conc[r, :, j], color=_color(j), lw=0.8, alpha=alpha,
                    label=result.species[c] if r == 0 else None)  # fmt: skip
    ax.axvline(result.burn_in, color="0.4", ls="--", lw=0.8)
    ax.set_xlabel("chemical time")
    ax.set_ylabel(f"concentration (count / {result.volume:g})")
    _legend(ax, len(cols), legend)
    return ax


def plot_noise_study(study: Any, ax: Any = None) -> Any:
    """Agreement (and accuracy, given labels) of stochastic runs against volume, log x axis.

    Error bars are the studies' standard errors; the dashed line is the deterministic
    accuracy.
    """
    ax = _axes(ax)
    ax.errorbar(study.volumes, study.agreement, yerr=study.agreement_se, marker="o", capsize=3,
                label="agreement with deterministic answer")  # fmt: skip
    if study.accuracy is not None:
        ax.errorbar(study.volumes, study.accuracy, yerr=study.accuracy_se, marker="s", capsize=3,
                    label="accuracy vs labels")  # fmt: skip
        ax.axhline(study.deterministic_accuracy, ls="--", c="grey", label="deterministic accuracy")
    ax.set_xscale("log")
    ax.set_xlabel("volume Ω")
    readings = getattr(study, "readings", 1)
    ax.set_ylabel("fraction of readings" if readings > 1 else "fraction of runs")
    ax.set_ylim(0, 1.02)
    ax.legend(loc="lower right", fontsize=8)
    per_run = f" x {readings} readings" if readings > 1 else ""
    ax.set_title(f"{study.runs} runs{per_run} per input, {study.solver.split('(')[0]}")
    return ax


def plot_rate_noise(result: Any, ax: Any = None) -> Any:
    """Box plot of the per-draw agreement for each sigma of the log-normal rate noise.

    Given labels, the mean accuracy per sigma (squares) and the noise-free accuracy
    (dotted) are drawn on top.
    """
    ax = _axes(ax)
    pos = np.arange(result.sigmas.size)
    ax.boxplot(list(result.agreement), positions=pos, widths=0.35)
    ax.set_xticks(pos, [f"{s:g}" for s in result.sigmas])
    ax.set(xlabel="σ of log k", ylabel="agreement with noise-free answer", ylim=(0, 1.02),
           title=f"rate noise, {result.n_draws} draws per σ")  # fmt: skip
    if result.accuracy is not None:
        ax.plot(pos, result.accuracy.mean(1), "s--", label="mean accuracy")
        ax.axhline(result.clean_accuracy, ls=":", c="grey", label="noise-free accuracy")
        ax.legend(loc="lower left", fontsize=8)
    return ax


def plot_early_readout(result: Any, ax: Any = None) -> Any:
    """Agreement with the steady state (and accuracy, given labels) against readout time."""
    ax = _axes(ax)
    ax.semilogx(result.times, result.agreement, "o-", label="agreement with steady state")
    if result.accuracy is not None:
        ax.semilogx(result.times, result.accuracy, "s-", label="accuracy")
    undecided = getattr(result, "undecided", None)
    if undecided is not None and np.any(undecided > 0):
        ax.semilogx(result.times, undecided, ":", color="0.5",
                    label="undecided (no single largest output)")  # fmt: skip
    ax.set(xlabel="readout time T", ylabel="fraction of inputs", ylim=(0, 1.02),
           title="early readout")  # fmt: skip
    ax.legend(loc="lower right", fontsize=8)
    return ax
