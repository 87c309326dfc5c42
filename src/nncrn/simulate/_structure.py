"""The mass-action RHS reduced to the dynamic species, for the solvers' hot loops.

Species that no reaction changes (pure catalysts, e.g. the inputs of a compiled network)
are constants of the motion, so within one solve each reaction's rate factors into an
item-specific constant ``c_r = k_r prod_{s constant} x_s^a_rs`` times a *dynamic monomial*
``prod_{s dynamic} y_s^a_rs``. Reactions sharing a monomial and an affected species merge
into one *term* with coefficient ``G_t = sum_r nu_r c_r``, so

    f_i(y) = sum_{terms t with out_t = i} G_t * monomial_{m_t}(y).

``G`` is computed once per solve; every RHS and Jacobian evaluation then costs O(terms)
instead of O(reactions). For a compiled network this is a large saving: all the
``X_j + Y_i -> X_j + 2 Y_i`` reactions of neuron ``i`` collapse into one term
(``G = sum_j w_ij x_j``), e.g. 7,730 reactions become ~1,300 terms on a 64-100-10 network.
The reduction is exact and general: any network, any reaction order. Everything is kept in
coordinate (sparse) form; nothing is a dense reaction-by-species matrix.

The numpy methods serve the one-item-at-a-time reference solver; the batched torch kernels
(:mod:`._torch_kernels`) read the same arrays.

Two further facts let the batched solvers avoid dense linear algebra:

* A term whose reactions have no constant factor has the same coefficient for every batch
  item (``shared_value``); only the other terms (for a compiled network, one per first-layer
  neuron: ``G = w . x + b``) need per-item coefficients.
* ``levels``: the Jacobian's sparsity graph without its diagonal, when it has no cycle, is
  a DAG whose topological levels make ``I/h - J`` triangular with a diagonal block per
  level. A compiled feed-forward network always has this form (a neuron depends only on
  itself and the previous layer), so Newton and Rosenbrock systems cost one forward
  substitution, not an LU factorisation, and steady states can be solved one level at a
  time (:mod:`._sweep`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nncrn.network import ReactionNetwork

__all__ = ["MassActionStructure"]


def _topological_levels(n: int, src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, ...] | None:
    """Nodes grouped by longest-path depth in the graph ``src -> dst``, or None if it has a cycle.

    Kahn's algorithm, one frontier at a time: O(edges) work plus one pass per level.
    """
    adj = sp.csr_matrix((np.ones(src.size, dtype=np.int64), (src, dst)), shape=(n, n))
    indeg = np.bincount(dst, minlength=n)
    frontier = np.flatnonzero(indeg == 0)
    levels, seen = [], 0
    while frontier.size:
        levels.append(frontier)
        seen += frontier.size
        succ = adj[frontier].indices
        hit = np.bincount(succ, minlength=n)
        indeg = indeg - hit
        frontier = np.flatnonzero((indeg == 0) & (hit > 0))
    return tuple(levels) if seen == n else None


def _padded(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int, pad: int):
    """Pack (row, col, val) entries into ``(n_rows, width)`` arrays, padded with ``(pad, 0)``."""
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    counts = np.bincount(rows, minlength=n_rows)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    slot = np.arange(rows.size) - starts[rows]
    width = max(1, int(counts.max(initial=0)))
    species = np.full((n_rows, width), pad, dtype=np.int64)
    power = np.zeros((n_rows, width), dtype=np.int64)
    species[rows, slot] = cols
    power[rows, slot] = vals
    return species, power


@dataclass(frozen=True, eq=False)
class MassActionStructure:
    """Index arrays of the reduced RHS (see the module docstring).

    Attributes
    ----------
    n_species:
        Species in the network; ``dynamic`` ``(n_dynamic,)`` lists the integrated ones.
    rates, const_species, const_power:
        ``(n_reactions,)`` rate constants and ``(n_reactions, w)`` constant reactant factors,
        padded with species ``n_species`` (a trailing column of ones) and power 0.
    net_reaction, net_term, net_coeff:
        Net stoichiometry entries: reaction, term they add to, coefficient.
    mono_species, mono_power:
        ``(n_monomials, w)`` dynamic factors (dynamic positions, padded with ``n_dynamic``).
    term_mono, term_out:
        ``(n_terms,)`` monomial and affected dynamic species of each term.
    jac_term, jac_slot, jac_entry, jac_flat:
        Jacobian contributions ``G_t * d monomial / d y_slot``: term, slot of its monomial,
        and the index of the distinct Jacobian entry (``jac_flat[entry] = out * n_dynamic + in``).
    shared_term, shared_value:
        ``(n_terms,)``: whether ``G_t`` is the same for every item (no reaction of the term has
        a constant reactant), and that value (0 for per-item terms).
    cmono_species, cmono_power, reaction_cmono:
        Distinct constant-species monomials ``(n_cmono, w)`` (padded with ``n_species``) and
        the one of each reaction: ``c_r = k_r * cmono[reaction_cmono[r]]``.
    levels:
        Dynamic positions grouped by topological level of the Jacobian graph (see the module
        docstring), or None when that graph has a cycle (feedback, conservation laws).
    """

    n_species: int
    dynamic: np.ndarray
    rates: np.ndarray
    const_species: np.ndarray
    const_power: np.ndarray
    net_reaction: np.ndarray
    net_term: np.ndarray
    net_coeff: np.ndarray
    mono_species: np.ndarray
    mono_power: np.ndarray
    term_mono: np.ndarray
    term_out: np.ndarray
    jac_term: np.ndarray
    jac_slot: np.ndarray
    jac_entry: np.ndarray
    jac_flat: np.ndarray
    shared_term: np.ndarray
    shared_value: np.ndarray
    cmono_species: np.ndarray
    cmono_power: np.ndarray
    reaction_cmono: np.ndarray
    levels: tuple[np.ndarray, ...] | None

    @property
    def n_dynamic(self) -> int:
        return int(self.dynamic.shape[0])

    @property
    def n_reactions(self) -> int:
        return int(self.rates.shape[0])

    @property
    def n_terms(self) -> int:
        return int(self.term_mono.shape[0])

    @classmethod
    def build(cls, network: ReactionNetwork) -> MassActionStructure:
        v = network.stoichiometry
        n, nr = v.n_species, v.n_reactions
        dynamic = np.flatnonzero(v.dynamic)
        nd = dynamic.size
        dpos = np.full(n, -1, dtype=np.int64)
        dpos[dynamic] = np.arange(nd)
        rows = np.asarray(v.reactant_rows, dtype=np.int64)
        cols = np.asarray(v.reactant_cols, dtype=np.int64)
        pows = np.asarray(v.reactant_coeffs, dtype=np.int64)
        is_dyn = dpos[cols] >= 0
        const_species, const_power = _padded(rows[~is_dyn], cols[~is_dyn], pows[~is_dyn], nr, n)
        dyn_species, dyn_power = _padded(rows[is_dyn], dpos[cols[is_dyn]], pows[is_dyn], nr, nd)
        # Distinct dynamic monomials (rows are sorted by species, so equal monomials match).
        if nr:
            keys = np.concatenate([dyn_species, dyn_power], axis=1)
            uniq, mono_of = np.unique(keys, axis=0, return_inverse=True)
            mono_of = mono_of.reshape(-1)
        else:
            uniq, mono_of = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
        width = dyn_species.shape[1]
        mono_species, mono_power = uniq[:, :width], uniq[:, width:]

        net_reaction = np.asarray(v.net_rows, dtype=np.int64)
        net_out = dpos[np.asarray(v.net_cols, dtype=np.int64)]
        tkey = mono_of[net_reaction] * max(nd, 1) + net_out
        tkeys, net_term = np.unique(tkey, return_inverse=True)
        term_mono, term_out = tkeys // max(nd, 1), tkeys % max(nd, 1)

        # Jacobian: every term, every real slot of its monomial; merge equal (out, in) entries.
        t_idx, slot = np.nonzero(mono_power[term_mono] > 0)
        j_in = mono_species[term_mono[t_idx], slot]
        flat = term_out[t_idx] * nd + j_in
        jac_flat, jac_entry = np.unique(flat, return_inverse=True)

        # Per-item coefficients come only from reactions with a constant factor.
        has_const = np.zeros(nr, dtype=bool)
        has_const[rows[~is_dyn]] = True
        n_terms = term_mono.size
        per_item = np.zeros(n_terms, dtype=bool)
        per_item[net_term.reshape(-1)[has_const[net_reaction]]] = True
        coeffs = np.asarray(v.net_coeffs, dtype=np.float64)
        shared_value = np.bincount(
            net_term.reshape(-1), weights=np.asarray(v.rates)[net_reaction] * coeffs,
            minlength=n_terms,
        )  # fmt: skip
        shared_value[per_item] = 0.0
        if nr:
            ckeys = np.concatenate([const_species, const_power], axis=1)
            cuniq, reaction_cmono = np.unique(ckeys, axis=0, return_inverse=True)
            reaction_cmono = reaction_cmono.reshape(-1)
        else:
            cuniq, reaction_cmono = np.zeros((0, 2), dtype=np.int64), np.zeros(0, dtype=np.int64)
        cw = const_species.shape[1]

        off = (jac_flat // max(nd, 1)) != (jac_flat % max(nd, 1))
        levels = _topological_levels(nd, jac_flat[off] % max(nd, 1), jac_flat[off] // max(nd, 1))
        return cls(
            n_species=n, dynamic=dynamic, rates=np.asarray(v.rates, dtype=np.float64),
            const_species=const_species, const_power=const_power,
            net_reaction=net_reaction, net_term=net_term.reshape(-1),
            net_coeff=np.asarray(v.net_coeffs, dtype=np.float64),
            mono_species=mono_species, mono_power=mono_power,
            term_mono=term_mono, term_out=term_out,
            jac_term=t_idx, jac_slot=slot, jac_entry=jac_entry.reshape(-1), jac_flat=jac_flat,
            shared_term=~per_item, shared_value=shared_value,
            cmono_species=cuniq[:, :cw], cmono_power=cuniq[:, cw:], reaction_cmono=reaction_cmono,
            levels=levels,
        )  # fmt: skip

    # ------------------------------------------------------------------ numpy, one item
    def coefficients(self, y_full: np.ndarray) -> np.ndarray:
        """``(n_terms,)`` term coefficients ``G`` for the constant species of ``y_full (n_species,)``."""
        ext = np.append(np.asarray(y_full, dtype=np.float64), 1.0)
        c = self.rates * np.prod(ext[self.const_species] ** self.const_power, axis=1)
        return np.bincount(
            self.net_term, weights=c[self.net_reaction] * self.net_coeff, minlength=self.n_terms
        )

    def _factors(self, yd: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        base = np.append(yd, 1.0)[self.mono_species]
        return base, base**self.mono_power

    def rhs(self, g: np.ndarray, yd: np.ndarray) -> np.ndarray:
        """``(n_dynamic,)`` time derivative at dynamic concentrations ``yd (n_dynamic,)``."""
        mono = np.prod(self._factors(yd)[1], axis=1)
        return np.bincount(
            self.term_out, weights=g * mono[self.term_mono], minlength=self.n_dynamic
        )

    def monomial_derivatives(self, yd: np.ndarray) -> np.ndarray:
        """``(n_monomials, w)``: derivative of each monomial w.r.t. the species in each slot.

        Products of the *other* slots come from exclusive prefix and suffix products, so a
        concentration of exactly 0 needs no division.
        """
        base, f = self._factors(yd)
        ones = np.ones_like(f[:, :1])
        prefix = np.cumprod(np.concatenate([ones, f[:, :-1]], axis=1), axis=1)
        suffix = np.cumprod(np.concatenate([ones, f[:, :0:-1]], axis=1), axis=1)[:, ::-1]
        own = self.mono_power * base ** np.maximum(self.mono_power - 1, 0)
        return own * prefix * suffix

    def jacobian(self, g: np.ndarray, yd: np.ndarray) -> sp.csc_matrix:
        """``(n_dynamic, n_dynamic)`` sparse Jacobian of :meth:`rhs`."""
        d = self.monomial_derivatives(yd)[self.term_mono[self.jac_term], self.jac_slot]
        vals = np.bincount(
            self.jac_entry, weights=g[self.jac_term] * d, minlength=self.jac_flat.size
        )
        nd = self.n_dynamic
        return sp.csc_matrix((vals, (self.jac_flat // nd, self.jac_flat % nd)), shape=(nd, nd))

    # ------------------------------------------------------------------ numpy, batched
    def batch_coefficients(self, y_full: np.ndarray) -> np.ndarray:
        """``(batch, n_terms)`` term coefficients for every row of ``y_full (batch, n_species)``."""
        ext = np.concatenate([y_full, np.ones((y_full.shape[0], 1))], axis=1)
        c = np.broadcast_to(self.rates, (y_full.shape[0], self.n_reactions)).copy()
        for k in range(self.const_species.shape[1]):  # padding: the column of ones, power 0
            col, pw = self.const_species[:, k], self.const_power[:, k]
            factor = ext[:, col]
            high = np.flatnonzero(pw > 1)
            if high.size:
                factor[:, high] **= pw[high]
            c *= factor
        scatter = sp.csr_matrix(
            (self.net_coeff, (self.net_term, np.arange(self.net_term.size))),
            shape=(self.n_terms, self.net_term.size),
        )
        return np.asarray(scatter @ c[:, self.net_reaction].T).T

    def batch_jacobians(self, y_full: np.ndarray) -> np.ndarray:
        """``(batch, n_dynamic, n_dynamic)`` dense Jacobians of :meth:`rhs` at each row of ``y_full``.

        The vectorized form of :meth:`jacobian` (same terms, same prefix/suffix products), for
        solving many small systems at once.
        """
        y_full = np.asarray(y_full, dtype=np.float64)
        b, nd = y_full.shape[0], self.n_dynamic
        g = self.batch_coefficients(y_full)
        yd = np.concatenate([y_full[:, self.dynamic], np.ones((b, 1))], axis=1)
        base = yd[:, self.mono_species]  # (batch, n_monomials, w)
        f = base**self.mono_power
        ones = np.ones_like(f[:, :, :1])
        prefix = np.cumprod(np.concatenate([ones, f[:, :, :-1]], axis=2), axis=2)
        suffix = np.cumprod(np.concatenate([ones, f[:, :, :0:-1]], axis=2), axis=2)[:, :, ::-1]
        own = self.mono_power * base ** np.maximum(self.mono_power - 1, 0)
        d = (own * prefix * suffix)[:, self.term_mono[self.jac_term], self.jac_slot]
        merge = sp.csr_matrix(
            (np.ones(self.jac_entry.size), (np.arange(self.jac_entry.size), self.jac_entry)),
            shape=(self.jac_entry.size, self.jac_flat.size),
        )
        jac = np.zeros((b, nd * nd))
        jac[:, self.jac_flat] = np.asarray((g[:, self.jac_term] * d) @ merge)
        return jac.reshape(b, nd, nd)
