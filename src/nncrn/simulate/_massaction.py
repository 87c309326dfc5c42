"""Mass-action right-hand side evaluated from a :class:`~nncrn.network.StoichiometryView`.

One vectorised numpy implementation shared by the reference solver, the closed-form
oracle's residual and the tests; the batched torch solver has its own, equivalent kernels.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nncrn.network import StoichiometryView

__all__ = ["reaction_rates", "rhs"]


def reaction_rates(view: StoichiometryView, y: np.ndarray) -> np.ndarray:
    """``(batch, n_reactions)`` rates ``k_r prod_s y_s ** a_rs`` (no factorials) for ``y (batch, n_species)``."""
    y = np.asarray(y, dtype=np.float64)
    rates = np.broadcast_to(view.rates, (*y.shape[:-1], view.n_reactions)).copy()
    if view.reactant_rows.size == 0:
        return rates
    factors = y[..., view.reactant_cols] ** view.reactant_coeffs
    # Reactant entries are grouped by reaction (rows non-decreasing), so one reduceat per
    # reaction segment multiplies the factors; reactions with no reactants keep rate k.
    starts = np.flatnonzero(np.r_[True, np.diff(view.reactant_rows) != 0])
    rates[..., view.reactant_rows[starts]] *= np.multiply.reduceat(factors, starts, axis=-1)
    return rates


def rhs(view: StoichiometryView, y: np.ndarray) -> np.ndarray:
    """``dy/dt`` of shape ``(batch, n_species)`` under mass action without factorials."""
    y = np.asarray(y, dtype=np.float64)
    rates = reaction_rates(view, y)
    net = sp.csr_array(
        (view.net_coeffs.astype(np.float64), (view.net_rows, view.net_cols)),
        shape=(view.n_reactions, view.n_species),
    )
    flat = rates.reshape(-1, view.n_reactions)
    return np.asarray(net.T @ flat.T).T.reshape(y.shape)
