"""Relaxation time of the chemistry linearised at a steady state: the clock of a noise study.

Started at its deterministic steady state, a stochastic network needs no time to settle on
average; what remains is for its fluctuations to reach their stationary size. In the linear
noise approximation the covariance relaxes as ``exp(-2 t / tau)``, with ``tau`` the
relaxation time of the slowest mode of the Jacobian at the steady state, and successive
readings are correlated over ``tau``. So ``tau`` sets both the burn-in and how long a run
must be read to see independent fluctuations.
"""

from __future__ import annotations

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork

__all__ = ["jacobian", "relaxation_time"]


def jacobian(network: ReactionNetwork, conc: np.ndarray) -> np.ndarray:
    """``(batch, n_species, n_species)`` Jacobian of the mass-action rates at ``conc``.

    Rates follow :data:`~nncrn.network.KINETICS` (``v_j = k_j prod_i x_i ** nu_ij``), so
    ``dv_j / dx_i = k_j nu_ij x_i ** (nu_ij - 1) prod_{l != i} x_l ** nu_lj``.
    """
    view = network.stoichiometry
    x = np.atleast_2d(np.asarray(conc, dtype=np.float64))
    rows, cols, nus = view.reactant_rows, view.reactant_cols, view.reactant_coeffs
    dv = np.zeros((x.shape[0], view.n_reactions, view.n_species))
    for p in range(rows.size):
        j, i, nu = int(rows[p]), int(cols[p]), int(nus[p])
        d = view.rates[j] * nu * x[:, i] ** (nu - 1)
        for q in np.flatnonzero(rows == j):
            if q != p:
                d = d * x[:, cols[q]] ** nus[q]
        dv[:, j, i] += d
    net = np.zeros((view.n_species, view.n_reactions))
    np.add.at(net, (view.net_cols, view.net_rows), view.net_coeffs)
    return np.einsum("sr,brk->bsk", net, dv)


def relaxation_time(network: ReactionNetwork, conc: np.ndarray) -> np.ndarray:
    """``(batch,)`` slowest relaxation time ``1 / min(-Re lambda)`` at steady states ``conc``.

    Species that no reaction changes (catalytic inputs) and exactly conserved combinations
    (zero eigenvalues, ``|lambda| <= 1e-9 max |lambda|``) do not relax and are left out.
    A steady state with a growing mode (``Re lambda > 0``) raises :class:`InputError`: its
    fluctuations have no stationary size to measure.
    """
    view = network.stoichiometry
    moving = np.unique(view.net_cols[view.net_coeffs != 0])
    jac = jacobian(network, conc)[:, moving][:, :, moving]
    out = np.full(jac.shape[0], np.inf)
    for b in range(jac.shape[0]):
        lam = np.linalg.eigvals(jac[b]) if moving.size else np.zeros(0)
        scale = np.abs(lam).max(initial=0.0)
        lam = lam[np.abs(lam) > 1e-9 * scale]
        if lam.size == 0:
            continue
        if lam.real.max() > 1e-9 * scale:
            raise InputError(
                f"the steady state of input {b} (counting from 0) is unstable (the linearised "
                f"chemistry has a growing mode, eigenvalue {complex(lam[np.argmax(lam.real)]):.3g}"
                "): its fluctuations have no stationary size. Pass t_end and burn_in, and "
                "from_steady_state=False, to read the runs over a window you choose"
            )
        out[b] = 1.0 / float((-lam.real).min())
    return out
