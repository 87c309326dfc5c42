"""Each result's ``.plot()`` draws through nncrn.plot and returns the Axes it drew into."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from nncrn._errors import InputError
from nncrn.plot import plot_trajectory
from tests.plot import _factories as make


def test_steady_state_plot_has_a_marker_line_per_output_and_marks_unconverged(ax):
    ss = make.steady(batch=5)
    assert ss.plot(ax) is ax
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), ss.outputs[:, 1])
    assert len(ax.collections) == 1  # the crossed-out item 1
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Y0", "Y1", "not converged"]


def test_steady_state_plot_of_species(ax):
    make.steady().plot(ax, species=["X", "H", "Y0"])
    assert len(ax.lines) == 3


def test_trajectory_plot_draws_items_times_outputs_lines(ax):
    tr = make.trajectory(batch=3, n_times=7)
    tr.plot(ax)
    assert len(ax.lines) == 3 * 2
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), tr.t)


def test_trajectory_plot_one_item_with_steady_lines_on_a_log_axis(ax):
    tr = make.trajectory(batch=3, n_times=7)
    plot_trajectory(tr, ax, items=2, steady=tr.outputs[:, -1], labels=["a", "b"], logx=True)
    assert len(ax.lines) == 2 + 2  # two outputs, two dotted steady levels
    assert ax.get_xscale() == "log"
    assert ax.lines[0].get_xdata().size == 6  # t = 0 left out of the log axis
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(InputError, match="item 3 is not in the batch of 3"):
        tr.plot(ax, items=3)


def test_ssa_plot_draws_runs_times_species_lines_for_one_item(ax):
    res = make.ssa(batch=2, runs=3, n_times=5)
    res.plot(ax, item=1)
    assert len(ax.lines) == 3 * 2 + 1  # the output species Y0, Y1 per run; the burn-in mark
    np.testing.assert_allclose(ax.lines[1].get_ydata(), res.counts[1, 0, :, 3] / 10.0)
    ax.clear()
    res.plot(ax, species="X")
    assert len(ax.lines) == 3 + 1


def test_ssa_plot_without_samples_says_how_to_get_them(ax):
    res = make.ssa(n_times=0)
    with pytest.raises(InputError, match="n_times=0"):
        res.plot(ax)


@pytest.mark.parametrize("labels", [True, False])
def test_noise_study_plot(ax, labels):
    assert make.noise_study(labels).plot(ax) is ax
    assert len(ax.containers) == (2 if labels else 1)  # error-bar series
    assert ax.get_xscale() == "log"
    assert ax.get_ylabel() == "fraction of runs"  # one answer per run (from the initial state)


def test_noise_study_plot_counts_readings(ax):
    # runs from the steady state are read several times: the fractions are of readings
    make.noise_study(readings=40).plot(ax)
    assert ax.get_ylabel() == "fraction of readings"
    assert ax.get_title().startswith("8 runs x 40 readings per input")


@pytest.mark.parametrize("labels", [True, False])
def test_rate_noise_and_early_readout_plots(ax, labels):
    make.rate_noise(labels).plot(ax)
    assert len(ax.get_xticks()) == 3
    ax.clear()
    make.early_readout(labels).plot(ax)
    assert len(ax.lines) == (2 if labels else 1)


def test_plot_without_axes_draws_into_the_current_one():
    fig = plt.figure()
    try:
        got = make.early_readout().plot()
        assert isinstance(got, Axes) and got.figure is fig
    finally:
        plt.close(fig)
