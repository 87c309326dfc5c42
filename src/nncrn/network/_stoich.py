"""Array view of a network's stoichiometry for numerical backends.

Backends never loop over :class:`Reaction` objects: they read these arrays. Everything is
stored sparsely (coordinate triplets) because a compiled 784-100-10 network has ~80k
reactions and its dense reaction-by-species matrix alone would take over half a gigabyte.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

__all__ = ["StoichiometryView"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class StoichiometryView:
    """Read-only arrays describing a network; axis order is ``network.species`` order.

    Attributes
    ----------
    n_species, n_reactions:
        Sizes.
    rates:
        ``(n_reactions,)`` float64 rate constants.
    reactant_rows, reactant_cols, reactant_coeffs:
        Coordinate form of the ``(n_reactions, n_species)`` reactant matrix (reaction index,
        species index, positive coefficient).
    product_rows, product_cols, product_coeffs:
        Same for products.
    net_rows, net_cols, net_coeffs:
        Same for the net change ``products - reactants`` (entries that cancel are dropped).
    """

    n_species: int
    n_reactions: int
    rates: np.ndarray
    reactant_rows: np.ndarray
    reactant_cols: np.ndarray
    reactant_coeffs: np.ndarray
    product_rows: np.ndarray
    product_cols: np.ndarray
    product_coeffs: np.ndarray
    net_rows: np.ndarray
    net_cols: np.ndarray
    net_coeffs: np.ndarray

    @classmethod
    def build(cls, species_index: dict[str, int], reactions: tuple) -> StoichiometryView:
        rr, rc, rv, pr, pc, pv, nr, nc, nv = ([] for _ in range(9))
        for i, reaction in enumerate(reactions):
            for name, c in reaction.reactants.items():
                rr.append(i)
                rc.append(species_index[name])
                rv.append(c)
            for name, c in reaction.products.items():
                pr.append(i)
                pc.append(species_index[name])
                pv.append(c)
            for name, c in reaction.net().items():
                nr.append(i)
                nc.append(species_index[name])
                nv.append(c)

        def ints(x: list[int]) -> np.ndarray:
            return _readonly(np.asarray(x, dtype=np.int64))

        return cls(
            n_species=len(species_index),
            n_reactions=len(reactions),
            rates=_readonly(np.array([r.rate for r in reactions], dtype=np.float64)),
            reactant_rows=ints(rr), reactant_cols=ints(rc), reactant_coeffs=ints(rv),
            product_rows=ints(pr), product_cols=ints(pc), product_coeffs=ints(pv),
            net_rows=ints(nr), net_cols=ints(nc), net_coeffs=ints(nv),
        )  # fmt: skip

    def _dense(self, rows: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
        out = np.zeros((self.n_reactions, self.n_species), dtype=np.int64)
        out[rows, cols] = vals
        return _readonly(out)

    def reactant_dense(self) -> np.ndarray:
        """``(n_reactions, n_species)`` reactant coefficients (dense; for small networks)."""
        return self._dense(self.reactant_rows, self.reactant_cols, self.reactant_coeffs)

    def product_dense(self) -> np.ndarray:
        """``(n_reactions, n_species)`` product coefficients (dense; for small networks)."""
        return self._dense(self.product_rows, self.product_cols, self.product_coeffs)

    def net_dense(self) -> np.ndarray:
        """``(n_reactions, n_species)`` net stoichiometry (dense; for small networks)."""
        return self._dense(self.net_rows, self.net_cols, self.net_coeffs)

    @cached_property
    def order(self) -> np.ndarray:
        """``(n_reactions,)`` molecularity of each reaction."""
        return _readonly(
            np.bincount(self.reactant_rows, self.reactant_coeffs, self.n_reactions).astype(np.int64)
        )

    @cached_property
    def dynamic(self) -> np.ndarray:
        """``(n_species,)`` bool: species whose amount some reaction changes.

        The others (pure catalysts, such as the inputs of a compiled network) stay at their
        initial concentration, so solvers integrate only the dynamic ones.
        """
        mask = np.zeros(self.n_species, dtype=bool)
        mask[self.net_cols] = True
        return _readonly(mask)
