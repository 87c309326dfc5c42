"""Mass-action right-hand side evaluated from a :class:`~nncrn.network.StoichiometryView`.

One vectorised numpy implementation shared by the reference solver, the closed-form
oracle's residual and the tests; the batched torch solver has its own, equivalent kernels.
"""

from __future__ import annotations

import numpy as np

from nncrn.network import StoichiometryView

__all__ = ["reaction_rates", "rhs"]


def reaction_rates(view: StoichiometryView, y: np.ndarray) -> np.ndarray:
    """``(batch, n_reactions)`` rates ``k_r prod_s y_s ** a_rs`` (no factorials) for ``y (batch, n_species)``."""
    y = np.asarray(y, dtype=np.float64)
    rates = np.broadcast_to(view.rates, (*y.shape[:-1], view.n_reactions)).copy()
    factors = y[..., view.reactant_cols] ** view.reactant_coeffs
    # Multiply each reactant factor into its reaction; np.multiply.at handles repeated rows.
    np.multiply.at(rates, (..., view.reactant_rows), factors)
    return rates


def rhs(view: StoichiometryView, y: np.ndarray) -> np.ndarray:
    """``dy/dt`` of shape ``(batch, n_species)`` under mass action without factorials."""
    rates = reaction_rates(view, y)
    out = np.zeros(np.shape(y), dtype=np.float64)
    np.add.at(out, (..., view.net_cols), rates[..., view.net_rows] * view.net_coeffs)
    return out
