"""Linear conservation laws of a network: vectors ``c`` with ``c . f(y) = 0`` for every ``y``.

A conserved total ``c . y`` is fixed by the initial state, and so is the steady state the
chemistry reaches (``Y + Yc = 1`` in a chemical sigmoid, ``A + B`` in ``A <-> B``). Newton's
method on ``f(y) = 0`` conserves these totals only in exact arithmetic: its Jacobian is
singular along them, so near-Newton steps amplify roundoff into drift along ``c`` while the
residual stays tiny. :func:`conservation_basis` gives an orthonormal basis of the laws, and
the steady-state solver projects every iterate back onto the totals of the initial state.

Mass action writes ``f(y) = sum_s y^s v_s`` over the distinct reactant complexes ``s``, with
``v_s = sum_{r from s} k_r (products_r - s)``; the monomials ``y^s`` are independent
functions, so the laws are the vectors orthogonal to every ``v_s``. Stoichiometric laws
(orthogonal to each reaction's net change) are among them; reactions that share a reactant
complex can add laws of their rates (``A -> B`` at rate 1 and ``A -> C`` at rate 3 keep
``3 B - C``). A complex's reactions are merged only when their rates lie within a factor
``_SPREAD``: with rates far apart (``1e12`` next to ``1``) the weighted sum could not tell
a balance from a stiff coupling, and those reactions count one by one (stoichiometric laws
only). A network whose steady states form a continuum that no law found here describes is
reported as not converged by the solver.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from nncrn._errors import NNCRNWarning
from nncrn.network import ReactionNetwork, StoichiometryView, require_network

__all__ = ["conservation_basis", "conservation_laws"]

# An eigenvalue of N^T N below this fraction of the largest is a conservation law; the
# smallest non-zero singular value of a small-integer stoichiometry matrix is far above
# sqrt(1e-12) of the largest (about pi / n for a chain of n species).
_NULL = 1e-12
# Rate-weighted rows (merged complexes) go through an SVD instead, which resolves singular
# values to roundoff; below this fraction of the largest one is a law.
_SVD_NULL = 1e-9
# Largest set of coupled species whose laws are searched (dense decomposition, O(n^3)).
_MAX_COMPONENT = 2000
# Reactions of one reactant complex are merged when their rates are within this factor.
_SPREAD = 1e4
# A merged entry below this fraction of the sum of its terms' magnitudes is cancellation
# (``X + Y -> X + 2 Y`` and ``X + Y -> X`` at equal rates leave ``Y`` unchanged).
_CANCEL = 1e-12


def _complexes(view: StoichiometryView) -> np.ndarray:
    """``(n_reactions,)`` index of each reaction's reactant complex (equal complexes, one index)."""
    rows = np.asarray(view.reactant_rows, dtype=np.int64)
    cols = np.asarray(view.reactant_cols, dtype=np.int64)
    coeffs = np.asarray(view.reactant_coeffs, dtype=np.int64)
    order = np.lexsort((cols, rows))
    rows, cols, coeffs = rows[order], cols[order], coeffs[order]
    counts = np.bincount(rows, minlength=view.n_reactions)
    width = int(counts.max(initial=0))
    if width == 0:  # every reaction starts from the empty complex
        return np.zeros(view.n_reactions, dtype=np.int64)
    keys = np.full((view.n_reactions, 2 * width), -1, dtype=np.int64)
    start = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.arange(rows.size) - start[rows]
    keys[rows, 2 * slot] = cols
    keys[rows, 2 * slot + 1] = coeffs
    # one integer per complex where it fits in int64 (a 1-D unique is ~20x faster)
    bases = keys.max(axis=0, initial=0) + 2  # entries lie in [-1, max]
    if np.sum(np.log2(bases.astype(np.float64))) < 62:
        weights = np.cumprod(np.concatenate(([1], bases[:-1])))
        return np.unique((keys + 1) @ weights, return_inverse=True)[1].reshape(-1)
    return np.unique(keys, axis=0, return_inverse=True)[1].reshape(-1)


def _rows(view: StoichiometryView, net: sp.csr_matrix) -> tuple[sp.csr_matrix, bool]:
    """The rows laws must be orthogonal to: ``v_s`` per mergeable complex, else per reaction.

    Returns the rows and whether any complex was merged (rows then carry rate weights).
    """
    group = _complexes(view)
    rates = np.asarray(view.rates, dtype=np.float64)
    n_groups = int(group.max(initial=-1)) + 1
    size = np.bincount(group, minlength=n_groups)
    if n_groups == 0 or size.max() == 1:  # every compiled network: no complex is shared
        return net, False
    k_max = np.zeros(n_groups)
    k_min = np.full(n_groups, np.inf)
    np.maximum.at(k_max, group, rates)
    np.minimum.at(k_min, group, rates)
    merge = (size > 1) & (k_max <= _SPREAD * k_min)
    if not merge.any():
        return net, False
    n = view.n_reactions
    m = merge[group]
    target = np.where(m, group, n_groups + np.arange(n))
    weight = np.where(m, rates / k_max[group], 1.0)
    combine = sp.csr_matrix((weight, (target, np.arange(n))), shape=(n_groups + n, n))
    rows = (combine @ net).tocoo()
    scale = np.asarray((combine @ abs(net)).tocsr()[rows.row, rows.col]).ravel()
    data = np.where(np.abs(rows.data) <= _CANCEL * scale, 0.0, rows.data)
    rows = sp.csr_matrix((data, (rows.row, rows.col)), shape=rows.shape)
    rows.eliminate_zeros()
    rows = rows[np.diff(rows.indptr) > 0]
    peak = abs(rows).max(axis=1).toarray().ravel()
    return sp.diags(1.0 / peak) @ rows, True


def conservation_basis(view: StoichiometryView, dynamic: np.ndarray) -> np.ndarray | None:
    """``(n_laws, len(dynamic))`` orthonormal conservation laws over the ``dynamic`` species.

    ``dynamic`` lists species indices (in the caller's order); None when there is no law.
    Species outside ``dynamic`` (held inputs and catalysts) are constants here, so complexes
    that differ in them stay apart: the laws hold for every value of the held species.
    Computed from the stoichiometry restricted to the dynamic species, after dropping the
    species no law can contain (:func:`_unforced`, ``O(nnz)``), one set of coupled species
    at a time (laws split over them): ``O(nnz)`` for compiled feed-forward networks and
    chains with inflow or outflow, ``O(m^3)`` for the largest coupled set of ``m`` species.
    Sets above ``_MAX_COMPONENT`` species are skipped with an :class:`NNCRNWarning`.
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
    n, weighted = _rows(view, n)
    keep = _unforced(n.tocsr(), nd)
    if keep.size == 0:
        return None
    sub = n.tocsc()[:, keep].tocsr()
    blocks = []
    for members in _components(sub):
        block = sub[:, members]
        block = block[np.diff(block.indptr) > 0]
        if members.size > _MAX_COMPONENT:
            warnings.warn(
                f"conservation laws were not searched among {members.size} coupled species "
                f"(the largest set searched is {_MAX_COMPONENT}: a dense decomposition of it "
                "costs O(n^3)); laws among them, if any, are not kept by TorchODE's steady "
                "states, which then report the affected items as not converged",
                NNCRNWarning, stacklevel=3,
            )  # fmt: skip
            continue
        null_vectors = _null_space(block, weighted, members.size)
        if null_vectors.shape[0]:
            full = np.zeros((null_vectors.shape[0], nd))
            full[:, keep[members]] = null_vectors
            blocks.append(full)
    if not blocks:
        return None
    return np.concatenate(blocks)


def _unforced(rows: sp.csr_matrix, nd: int) -> np.ndarray:
    """Species that a law may contain: repeatedly drop those a one-species row forces to 0.

    A row that changes one (remaining) species alone (``0 -> Y``, ``Y -> 0``, ``2 Y -> Y``)
    forces that species' coefficient in every law to 0. A work-list over the sparse rows:
    ``O(nnz)``, where re-scanning every row per dropped species was quadratic on a chain.
    Every compiled AJD network drops all its species here.
    """
    csc = rows.tocsc()
    count = np.diff(rows.indptr).astype(np.int64)
    live = np.ones(nd, dtype=bool)
    row_ptr, row_idx = rows.indptr, rows.indices
    col_ptr, col_idx = csc.indptr, csc.indices
    stack = np.flatnonzero(count == 1).tolist()
    while stack:
        r = stack.pop()
        if count[r] != 1:
            continue
        cols = row_idx[row_ptr[r] : row_ptr[r + 1]]
        alive = cols[live[cols]]
        if alive.size != 1:
            continue
        c = int(alive[0])
        live[c] = False
        touched = col_idx[col_ptr[c] : col_ptr[c + 1]]
        count[touched] -= 1
        stack.extend(touched[count[touched] == 1].tolist())
    return np.flatnonzero(live)


def _components(rows: sp.csr_matrix) -> list[np.ndarray]:
    """Column (species) sets coupled through shared rows: laws split over them."""
    n_rows, n_cols = rows.shape
    pattern = rows.copy()
    pattern.data = np.ones_like(pattern.data)
    # bipartite graph rows + species; species that appear in no row are components alone
    graph = sp.bmat([[None, pattern], [pattern.T, None]]).tocsr()
    _, label = csgraph.connected_components(graph, directed=False)
    species_label = label[n_rows:]
    order = np.argsort(species_label, kind="stable")
    cuts = np.flatnonzero(np.diff(species_label[order])) + 1
    return np.split(order, cuts) if n_cols else []


def _null_space(block: sp.csr_matrix, weighted: bool, n: int) -> np.ndarray:
    """Orthonormal rows spanning the vectors orthogonal to every row of ``block (m, n)``."""
    if block.shape[0] == 0:
        return np.eye(n)
    if weighted:
        _, s, vt = np.linalg.svd(block.toarray(), full_matrices=True)
        rank = int((s > _SVD_NULL * s[0]).sum()) if s.size and s[0] > 0 else 0
        return vt[rank:]
    gram = (block.T @ block).toarray()
    values, vectors = np.linalg.eigh(gram)
    return vectors[:, values <= _NULL * max(float(values[-1]), 1.0)].T


def conservation_laws(network: ReactionNetwork) -> np.ndarray:
    """``(n_laws, n_species)`` linear conservation laws of ``network``: ``laws @ y`` is constant.

    Rows are orthonormal, in ``network.species`` order, 0 on species no reaction changes
    (inputs and other held catalysts, whose amounts are constant anyway). These are the laws
    :class:`TorchODE`'s steady states keep at the initial totals (module docstring: the
    stoichiometric ones and those the rates create where reactions share a reactant
    complex). ``(0, n_species)`` when there is none.

    >>> from nncrn.network import Reaction, ReactionNetwork, Species
    >>> net = ReactionNetwork([Species("A"), Species("B")],
    ...                       [Reaction.parse("A -> B", 2.0), Reaction.parse("B -> A", 1.0)])
    >>> conservation_laws(net).round(6)
    array([[0.707107, 0.707107]])
    """
    network = require_network(network, "conservation_laws")
    view = network.stoichiometry
    dynamic = np.flatnonzero(view.dynamic)
    basis = conservation_basis(view, dynamic)
    out = np.zeros((0 if basis is None else basis.shape[0], view.n_species))
    if basis is not None:
        out[:, dynamic] = basis
        out *= np.where(out[np.arange(len(out)), np.abs(out).argmax(1)] < 0, -1.0, 1.0)[:, None]
    return out
