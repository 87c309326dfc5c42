"""Figures of nncrn's values (matplotlib): what the results' ``.plot()`` methods draw.

Each function draws into a given Axes (default: the current one) and returns it; none
selects a backend or writes a file. ``nncrn.plot`` sits below ``simulate`` and ``train``
in the package layers (results call it) and above ``network``.
"""

# -- network drawings
from nncrn.plot._draw import draw_network

# -- results: simulation and robustness figures
from nncrn.plot._results import (
    plot_early_readout,
    plot_noise_study,
    plot_rate_noise,
    plot_ssa,
    plot_steady_state,
    plot_trajectory,
)

__all__ = [
    # -- network drawings
    "draw_network",
    # -- results
    "plot_early_readout",
    "plot_noise_study",
    "plot_rate_noise",
    "plot_ssa",
    "plot_steady_state",
    "plot_trajectory",
]
