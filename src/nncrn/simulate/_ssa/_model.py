r"""Counts, volume and propensities: the stochastic reading of :data:`~nncrn.network.KINETICS`.

Rate law
--------
The deterministic rate law of nncrn (:data:`nncrn.network.KINETICS`) is mass action *without*
factorials: a reaction ``sum_i nu_i S_i -> ...`` with rate constant ``k`` proceeds at

    v(x) = k * prod_i x_i ** nu_i                      (concentration per unit time),

so ``2 Y -> Y`` at ``k`` gives ``dy/dt = -k y**2``.  In a volume ``Omega`` a concentration
``x_i`` is ``n_i / Omega`` molecules, and the expected number of firings per unit time must be
``Omega * v(x)`` when counts are large.  The propensity that achieves this *and* vanishes when
fewer than ``nu_i`` molecules are present replaces each power by a falling factorial:

    a(n) = k * Omega * prod_i  n_i! / ((n_i - nu_i)! * Omega ** nu_i)
         = k * Omega ** (1 - order) * prod_i n_i (n_i - 1) ... (n_i - nu_i + 1),

with ``order = sum_i nu_i``.  Examples: ``0 -> Y`` fires at ``k Omega``; ``X + Y -> ...`` at
``k n_X n_Y / Omega``; ``2 Y -> Y`` at ``k n (n - 1) / Omega`` (not ``k n (n - 1) / (2 Omega)``:
the ``1/2!`` of the combinatorial convention is absent because the ODE has no ``1/2``).
Since ``n (n - 1) / Omega**2 -> x**2`` as ``Omega -> inf`` with ``x = n / Omega`` fixed, the
chemical master equation converges to the ODE (Kurtz), with relative fluctuations of order
``1 / sqrt(Omega)``.  This is the only place the stochastic convention is stated; every
solver in :mod:`nncrn.simulate` reads the scaled constants ``k * Omega ** (1 - order)``
prepared here.

Counts
------
Concentrations become counts as ``round(x * Omega)`` (inputs and ``y0``); counts given
directly must already be integers.  Input species (role ``input``) *start* at the rounded
input counts and then follow the reactions like every other species, exactly as in the
ODE solvers: an input that only catalyses (the AJD construction) is changed by no
reaction and so keeps its count, while one that is consumed (dual-rail networks) is
consumed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork
from nncrn.network._inputs import fill_state
from nncrn.network._numbers import as_real, fmt_number

__all__ = ["SSAModel", "build_model", "check_volume", "start_counts", "to_counts"]

_MAX_COUNT = 2**53  # counts beyond this lose integer precision in the float propensities


def check_volume(volume: object) -> float:
    """Validate ``volume`` (the system size Omega, in units of 1 / concentration)."""
    v = as_real(volume)
    if v is None:
        raise InputError(
            f"volume must be a positive number; got {fmt_number(volume)} (a "
            f"{type(volume).__name__})"
        )
    if not math.isfinite(v) or v <= 0:
        raise InputError(
            f"volume must be finite and > 0 (it converts concentrations to molecule counts, "
            f"count = round(concentration * volume)); got {fmt_number(volume)}"
        )
    return v


def to_counts(conc: np.ndarray, volume: float, what: str) -> np.ndarray:
    """Round concentrations ``(..., n_species)`` to int64 counts ``round(conc * volume)``."""
    scaled = np.rint(np.asarray(conc, dtype=np.float64) * volume)
    if scaled.size and scaled.max() > _MAX_COUNT:
        raise InputError(
            f"{what} times volume {volume:g} gives {scaled.max():.3g} molecules, above the "
            f"largest exact count 2**53; use a smaller volume"
        )
    return scaled.astype(np.int64)


def start_counts(
    network: ReactionNetwork, x: np.ndarray, counts: object, volume: float
) -> np.ndarray:
    """Validated int64 start counts ``(batch, n_species)`` from ``initial_counts``.

    ``counts`` takes the same forms as ``y0`` (see :func:`nncrn.network.initial_state`):
    an array ``(n_species,)`` or ``(batch, n_species)`` (a network without inputs takes its
    batch from it), or a mapping from species name to a count or a ``(batch,)`` array of
    counts; species not named start at ``round(initial * volume)``. Input species start
    at ``round(input * volume)`` whatever ``counts`` says, as concentrations do.
    """
    default = np.rint(np.array([s.initial for s in network.species]) * volume)
    arr = fill_state(network, x, counts, default, "initial_counts")
    bad = ~np.isfinite(arr) | (arr < 0) | (arr != np.round(arr)) | (arr > _MAX_COUNT)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"initial count of {network.species_names[col]!r} is {float(arr[row, col])!r} in "
            f"row {row} (counting from 0); molecule counts must be integers in [0, 2**53] — round them, or pass "
            "concentrations as y0 (they are rounded to round(y0 * volume))"
        )
    return arr.astype(np.int64)


@dataclass(frozen=True, eq=False)
class SSAModel:
    """Arrays the stochastic kernels read, for one network at one volume (CSR by reaction).

    ``react_*`` list each reaction's reactants (species, coefficient); ``net_*`` its net
    changes; ``dep_*`` the reactions whose propensity may change when a
    reaction fires (Gibson & Bruck's dependency graph); ``scaled`` the constants
    ``k * volume ** (1 - order)``; ``order`` the molecularities.
    """

    volume: float
    n_species: int
    scaled: np.ndarray
    order: np.ndarray
    react_ptr: np.ndarray
    react_sp: np.ndarray
    react_nu: np.ndarray
    net_ptr: np.ndarray
    net_sp: np.ndarray
    net_nu: np.ndarray
    dep_ptr: np.ndarray
    dep_idx: np.ndarray

    def propensities(self, counts: np.ndarray) -> np.ndarray:
        """Propensities ``(..., n_reactions)`` (events per unit time) at ``counts``."""
        n = np.asarray(counts, dtype=np.float64)
        out = np.broadcast_to(self.scaled, (*n.shape[:-1], self.scaled.size)).copy()
        rows = np.repeat(np.arange(self.scaled.size), np.diff(self.react_ptr))
        with np.errstate(over="ignore", invalid="ignore"):
            for k in range(int(self.react_nu.max(initial=0))):
                sel = self.react_nu > k
                # numpy's stub types ufunc.at's indices as integer arrays only; a tuple with
                # an Ellipsis is a valid index at run time
                np.multiply.at(out, (..., rows[sel]), np.maximum(n[..., self.react_sp[sel]] - k, 0))  # type: ignore[arg-type]
        return out


def _csr(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n_rows: int):
    order = np.argsort(rows, kind="stable")
    ptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.add.at(ptr, rows + 1, 1)
    return np.cumsum(ptr), cols[order].astype(np.int64), vals[order].astype(np.int64)


def build_model(network: ReactionNetwork, volume: float) -> SSAModel:
    """Prepare the kernel arrays of ``network`` at ``volume``.

    Every species a reaction changes is simulated (inputs included); the others never
    change, so their counts stay where they start.
    """
    view = network.stoichiometry
    n_r, n_s = view.n_reactions, view.n_species
    order = view.order.astype(np.int64)
    with np.errstate(over="ignore"):
        scaled = view.rates * volume ** (1.0 - order.astype(np.float64))
    if not np.all(np.isfinite(scaled) & (scaled > 0)):
        j = int(np.flatnonzero(~(np.isfinite(scaled) & (scaled > 0)))[0])
        raise InputError(
            f"reaction {j} ({network.reactions[j].equation()}) at rate {view.rates[j]:g} has "
            f"scaled propensity constant k*volume**(1-order) = {float(scaled[j])!r} at volume "
            f"{volume:g}, which overflows float64; use a volume closer to 1"
        )
    react = _csr(view.reactant_rows, view.reactant_cols, view.reactant_coeffs, n_r)
    net = _csr(view.net_rows, view.net_cols, view.net_coeffs, n_r)
    changes = sp.csr_matrix(
        (np.ones(view.net_rows.size), (view.net_rows, view.net_cols)), shape=(n_r, n_s)
    )
    needs = sp.csr_matrix(
        (np.ones(view.reactant_rows.size), (view.reactant_rows, view.reactant_cols)),
        shape=(n_r, n_s),
    )
    dep = (changes @ needs.T).tocsr()
    dep.sort_indices()
    return SSAModel(
        volume=volume, n_species=n_s, scaled=scaled, order=order,
        react_ptr=react[0], react_sp=react[1], react_nu=react[2],
        net_ptr=net[0], net_sp=net[1], net_nu=net[2],
        dep_ptr=dep.indptr.astype(np.int64), dep_idx=dep.indices.astype(np.int64),
    )  # fmt: skip


def check_initial_propensities(
    model: SSAModel, counts: np.ndarray, network: ReactionNetwork
) -> None:
    """Raise :class:`InputError` when some propensity is not finite at the initial counts."""
    a = model.propensities(counts)
    bad = ~np.isfinite(a)
    if bad.any():
        row, j = np.argwhere(bad)[0]
        raise InputError(
            f"the propensity of reaction {j} ({network.reactions[j].equation()}) overflows "
            f"float64 at the initial counts of batch item {row} (volume {model.volume:g}); "
            "use a smaller volume or smaller initial concentrations"
        )
