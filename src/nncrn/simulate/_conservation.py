"""Linear conservation laws of a network: vectors ``c`` with ``c . (products - reactants) = 0``.

A conserved total ``c . y`` is fixed by the initial state, and so is the steady state the
chemistry reaches (``Y + Yc = 1`` in a chemical sigmoid, ``A + B`` in ``A <-> B``). Newton's
method on ``f(y) = 0`` conserves these totals only in exact arithmetic: its Jacobian is
singular along them, so near-Newton steps amplify roundoff into drift along ``c`` while the
residual stays tiny. :func:`conservation_basis` gives an orthonormal basis of the laws, and
the steady-state solver projects every iterate back onto the totals of the initial state.

Only stoichiometric laws are found, not balances that particular rate constants create
(``A -> 0`` and ``A -> B`` at equal rates keep ``A + 2 B``): those depend on the rates, and
with rates spread over many orders of magnitude (``1e12`` next to ``1``) a numerical null
space of the rate-weighted stoichiometry mistakes stiff couplings for balances. A network
whose steady states form such a continuum is reported as not converged by the solver.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from nncrn.network import StoichiometryView

__all__ = ["conservation_basis"]

# An eigenvalue of N^T N below this fraction of the largest is a conservation law; the
# smallest non-zero singular value of a small-integer stoichiometry matrix is far above
# sqrt(1e-12) of the largest (about pi / n for a chain of n species).
_NULL = 1e-12


def conservation_basis(view: StoichiometryView, dynamic: np.ndarray) -> np.ndarray | None:
    """``(n_laws, len(dynamic))`` orthonormal conservation laws over the ``dynamic`` species.

    ``dynamic`` lists species indices (in the caller's order); None when there is no law.
    Computed from the Gram matrix ``N^T N`` of the integer net stoichiometry ``N``
    restricted to those species, after dropping the species no law can contain (see the
    loop below): ``O(nnz)`` for compiled feed-forward networks, ``O(n^3)`` at worst.
    """
    dynamic = np.asarray(dynamic, dtype=np.int64)
    nd = dynamic.size
    if nd == 0:
        return None
    pos = np.full(view.n_species, -1, dtype=np.int64)
    pos[dynamic] = np.arange(nd)
    cols = pos[np.asarray(view.net_cols, dtype=np.int64)]
    keep = cols >= 0
    n = sp.csr_matrix(
        (np.asarray(view.net_coeffs, dtype=np.float64)[keep],
         (np.asarray(view.net_rows, dtype=np.int64)[keep], cols[keep])),
        shape=(view.n_reactions, nd),
    )  # fmt: skip
    # A reaction that changes one species alone (0 -> Y, Y -> 0, 2 Y -> Y) forces that
    # species' coefficient in every law to 0; drop such species and repeat. Every compiled
    # AJD network drops all of them here, so the O(n^3) eigen-decomposition below only ever
    # sees the species that can carry a law.
    live = np.ones(nd, dtype=bool)
    n = n.tocsc()
    while True:
        sub = n[:, np.flatnonzero(live)]
        per_row = np.diff(sub.tocsr().indptr)
        single = sub[per_row == 1]
        forced = np.unique(single.tocoo().col)
        if forced.size == 0:
            break
        live[np.flatnonzero(live)[forced]] = False
    keep = np.flatnonzero(live)
    if keep.size == 0:
        return None
    sub = n[:, keep]
    gram = (sub.T @ sub).toarray()
    values, vectors = np.linalg.eigh(gram)
    null = values <= _NULL * max(float(values[-1]), 1.0)
    if not null.any():
        return None
    basis = np.zeros((int(null.sum()), nd))
    basis[:, keep] = vectors[:, null].T
    return basis
