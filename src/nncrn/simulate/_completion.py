"""Networks whose every reaction runs to completion: the answer is the completion state.

A network is *non-competitive* when every species a reaction consumes (net change < 0) is
a reactant of that reaction only, and *acyclic* when the graph "reactant -> product of the
same reaction" has no cycle and every reaction consumes something (the rate-independent
constructions, e.g. dual-rail ReLU networks, are built so). Then no reaction's reactants are
taken by another one, no reaction can fire forever, and each runs until one of its reactants
is used up: the state at completion depends on the stoichiometry and the initial amounts
only. Written out with reaction extents ``y = y0 + N xi``: ``N`` has full column rank (a
reaction whose consumed species comes first in the acyclic order is the only one changing
it), and going through the reactions in that order, each extent is fixed by which
reactant runs out, so on the stoichiometric class of ``y0`` one state has every reaction
exhausted.

Such completion states are often non-hyperbolic steady states (a dead neuron's rails sit
at 0 with a zero Jacobian), so the eigenvalue test of :mod:`._ptc` refuses them although
they are exact; for these networks convergence is decided the way the construction
guarantees it instead: the residual criterion, and every reaction exhausted.
"""

from __future__ import annotations

import numpy as np

from nncrn.network import StoichiometryView
from nncrn.simulate._structure import _topological_levels

__all__ = ["completion_levels", "completion_reactants"]


def completion_reactants(view: StoichiometryView) -> np.ndarray | None:
    """``(n_reactions, width)`` reactant species of each reaction (-1 pads), or None.

    None unless the network is non-competitive and acyclic (module docstring) and has at
    least one reaction. Mirrors ``nncrn.compile.competition_violations``, which the
    compiler uses to certify its dual-rail networks (simulate does not import compile).
    """
    found = _completion(view)
    return None if found is None else found[0]


def completion_levels(view: StoichiometryView) -> list[np.ndarray] | None:
    """Reactions grouped so that each group's reactants are final once earlier groups ran.

    None unless the network runs to completion (see :func:`completion_reactants`). A
    reaction's group is the deepest level of its reactants in the acyclic order; every
    reaction producing one of its reactants has reactants of a strictly lower level, so it
    sits in an earlier group, and reactions of one group consume disjoint species.
    """
    found = _completion(view)
    if found is None:
        return None
    species_level = found[1]
    rr = np.asarray(view.reactant_rows, dtype=np.int64)
    rc = np.asarray(view.reactant_cols, dtype=np.int64)
    level = np.zeros(view.n_reactions, dtype=np.int64)
    np.maximum.at(level, rr, species_level[rc])
    return [np.flatnonzero(level == v) for v in np.unique(level)]


def _completion(view: StoichiometryView) -> tuple[np.ndarray, np.ndarray] | None:
    """(reactant table, level of each species) of a completion network, else None."""
    n_r, n_s = view.n_reactions, view.n_species
    if n_r == 0:
        return None
    rr = np.asarray(view.reactant_rows, dtype=np.int64)
    rc = np.asarray(view.reactant_cols, dtype=np.int64)
    nr = np.asarray(view.net_rows, dtype=np.int64)
    nc = np.asarray(view.net_cols, dtype=np.int64)
    nv = np.asarray(view.net_coeffs, dtype=np.int64)
    consumed = nv < 0
    if np.bincount(nr[consumed], minlength=n_r).min() == 0:
        return None  # some reaction consumes nothing: it can fire forever
    uses = np.bincount(rc, minlength=n_s)  # reactions each species is a reactant of
    if (uses[nc[consumed]] > 1).any():
        return None  # a consumed species is also a reactant of another reaction
    pr = np.asarray(view.product_rows, dtype=np.int64)
    pc = np.asarray(view.product_cols, dtype=np.int64)
    # edges reactant -> product of the same reaction (a species to itself excluded)
    by_reaction: list[list[int]] = [[] for _ in range(n_r)]
    for r, s in zip(pr.tolist(), pc.tolist(), strict=True):
        by_reaction[r].append(s)
    src, dst = [], []
    for r, s in zip(rr.tolist(), rc.tolist(), strict=True):
        for p in by_reaction[r]:
            if p != s:
                src.append(s)
                dst.append(p)
    edges = np.unique(np.asarray(src, np.int64) * n_s + np.asarray(dst, np.int64))
    levels = _topological_levels(n_s, edges // n_s, edges % n_s)
    if levels is None:
        return None
    species_level = np.zeros(n_s, dtype=np.int64)
    for depth, members in enumerate(levels):
        species_level[members] = depth
    width = int(np.bincount(rr, minlength=n_r).max())
    out = np.full((n_r, max(width, 1)), -1, dtype=np.int64)
    order = np.argsort(rr, kind="stable")
    rows, cols = rr[order], rc[order]
    start = np.concatenate(([0], np.cumsum(np.bincount(rows, minlength=n_r))[:-1]))
    out[rows, np.arange(rows.size) - start[rows]] = cols
    return out, species_level
