"""Fuel depletion of a simulated DSD-level network: how much of each fuel is left, when."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, Role

__all__ = ["FuelDepletion", "fuel_depletion"]


@dataclass(frozen=True)
class FuelDepletion:
    """The fuel left along a simulation of a DSD-level network (:func:`fuel_depletion`).

    ``min_fraction[j]`` is the smallest remaining share of its initial amount over every
    fuel and every item at ``t[j]``, ``fuel[j]`` the fuel that reaches it;
    ``first_below[threshold]`` the earliest formal time at which some fuel falls below
    that share (linear between the sampled times; None if none does by ``t[-1]``). The
    condensed rates of the design assume every fuel at its initial amount, so they hold
    only roughly once ``min_fraction`` leaves 1.
    """

    t: np.ndarray
    min_fraction: np.ndarray
    fuel: tuple[str, ...]
    first_below: dict[float, float | None]

    def as_dict(self) -> dict[str, object]:
        return {"t": self.t.tolist(), "min_fraction": self.min_fraction.tolist(),
                "fuel": list(self.fuel),
                "first_below": {str(k): v for k, v in self.first_below.items()}}  # fmt: skip


def fuel_depletion(
    network: ReactionNetwork,
    trajectory: object,
    thresholds: Sequence[float] = (0.9, 0.5),
) -> FuelDepletion:
    """Fuel left over time in a simulated DSD-level network (:func:`nncrn.dsd.dsd_network`).

    Fuels are the auxiliary species the network starts with (every fuel complex of the
    design). ``trajectory`` is what :func:`nncrn.integrate` returned for ``network``;
    sample it densely enough to place the threshold crossings (they are interpolated
    linearly between samples).
    """
    t = np.asarray(getattr(trajectory, "t", None), dtype=float)
    conc = np.asarray(getattr(trajectory, "concentrations", None), dtype=float)
    species = tuple(getattr(trajectory, "species", ()))
    if conc.ndim != 3 or species != network.species_names or conc.shape[1] != t.shape[0]:
        raise InputError("fuel_depletion needs the trajectory that nncrn.integrate returned "
                         "for this network (same species, concentrations items x times x "
                         "species)")  # fmt: skip
    for th in thresholds:
        if not (isinstance(th, int | float) and 0 < th < 1):
            raise InputError(f"threshold {th!r}: give a share of the initial amount in (0, 1)")
    fuels = [i for i, s in enumerate(network.species) if s.role is Role.AUXILIARY and s.initial > 0]
    if not fuels:
        raise InputError("the network has no fuels (auxiliary species with an initial amount)")
    initial = np.array([network.species[i].initial for i in fuels])
    share = (conc[:, :, fuels] / initial).min(axis=0)  # times x fuels, worst item
    lowest = share.argmin(axis=1)
    low = share[np.arange(len(t)), lowest]
    names = tuple(network.species[fuels[k]].name for k in lowest)
    first: dict[float, float | None] = {}
    for th in thresholds:
        below = np.flatnonzero(low < th)
        if below.size == 0:
            first[float(th)] = None
            continue
        j = int(below[0])
        if j == 0:
            first[float(th)] = float(t[0])
            continue
        # linear between the last sample at or above th and the first below it
        f0, f1 = low[j - 1], low[j]
        first[float(th)] = float(t[j - 1] + (f0 - th) / (f0 - f1) * (t[j] - t[j - 1]))
    return FuelDepletion(t, low, names, first)
