"""Mass-action right-hand side evaluated from a :class:`~nncrn.network.StoichiometryView`.

One vectorised numpy implementation shared by the reference solver, the closed-form
oracle's residual and the tests; the batched torch solver has its own, equivalent kernels.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nncrn.network import StoichiometryView

__all__ = ["reaction_rates", "rhs"]


def _rates_species_major(view: StoichiometryView, yt: np.ndarray) -> np.ndarray:
    """``(n_reactions, batch)`` rates for species-major ``yt (n_species, batch)``.

    Species-major so that every gather and product moves whole contiguous rows; reactant
    ``j`` of every reaction is one gather (padded with a row of ones), and powers other
    than 1 (rare) are applied to those entries only.
    """
    nr = view.n_reactions
    rows, cols = view.reactant_rows, view.reactant_cols
    rates = np.repeat(view.rates[:, None], yt.shape[1], axis=1)
    if rows.size == 0:
        return rates
    ext = np.concatenate([yt, np.ones((1, yt.shape[1]))])
    # Reactant entries are grouped by reaction (rows non-decreasing): slot within reaction.
    starts = np.r_[0, np.cumsum(np.bincount(rows, minlength=nr))[:-1]]
    slot = np.arange(rows.size) - starts[rows]
    for j in range(int(slot.max()) + 1):
        idx = np.full(nr, yt.shape[0])
        power = np.ones(nr, dtype=np.int64)
        at = slot == j
        idx[rows[at]], power[rows[at]] = cols[at], view.reactant_coeffs[at]
        factor = ext[idx]
        high = np.flatnonzero(power != 1)
        if high.size:  # a float power on every entry would cost ~10x the gather
            factor[high] **= power[high][:, None]
        rates *= factor
    return rates


def reaction_rates(view: StoichiometryView, y: np.ndarray) -> np.ndarray:
    """``(batch, n_reactions)`` rates ``k_r prod_s y_s ** a_rs`` (no factorials) for ``y (batch, n_species)``."""
    y = np.asarray(y, dtype=np.float64)
    flat = y.reshape(int(np.prod(y.shape[:-1])), y.shape[-1])  # also with no species
    return _rates_species_major(view, flat.T).T.reshape((*y.shape[:-1], view.n_reactions))


def rhs(view: StoichiometryView, y: np.ndarray) -> np.ndarray:
    """``dy/dt`` of shape ``(batch, n_species)`` under mass action without factorials."""
    y = np.asarray(y, dtype=np.float64)
    flat = y.reshape(int(np.prod(y.shape[:-1])), y.shape[-1])  # also with no species
    rates = _rates_species_major(view, flat.T)
    net = sp.csr_array(
        (view.net_coeffs.astype(np.float64), (view.net_rows, view.net_cols)),
        shape=(view.n_reactions, view.n_species),
    )
    return np.asarray(net.T @ rates).T.reshape(y.shape)
