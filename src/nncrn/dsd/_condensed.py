"""The DSD-level network: condensed enumerated reactions as a ReactionNetwork, with leaks."""

from __future__ import annotations

import math
from dataclasses import dataclass

from nncrn._errors import InputError
from nncrn.dsd._complex import pil_text
from nncrn.dsd._design import DSDDesign
from nncrn.dsd._enumerate import Enumeration, enumerate_pil
from nncrn.dsd._schemes import Qian2011
from nncrn.dsd._verify import _needed_size, interpret
from nncrn.network import Reaction, ReactionNetwork, Role, Species
from nncrn.network._metadata import thaw_json

__all__ = ["ModuleEnumeration", "dsd_network", "enumerate_modules"]


@dataclass(frozen=True)
class ModuleEnumeration:
    """The condensed enumeration of module ``index`` with its reactants."""

    index: int
    enumeration: Enumeration


def enumerate_modules(
    design: DSDDesign, *, max_complex_size: int = 8, time_limit: float | None = 60.0
) -> tuple[ModuleEnumeration, ...]:
    """Enumerate each module of ``design`` in its own tube (its reactants and fuels)."""
    scheme = design.scheme
    out = []
    for m in design.modules:
        tube = [scheme.signal(s) for s in m.reaction.reactants] + list(m.fuels)
        size = max(max_complex_size, _needed_size(tube))
        enum = enumerate_pil(pil_text(tube, design.lengths), max_complex_size=size,
                             time_limit=time_limit)  # fmt: skip
        out.append(ModuleEnumeration(m.index, enum))
    return tuple(out)


def _leak_reactions(design: DSDDesign, leak: float) -> list[tuple[dict, dict, float]]:
    """``fuel + fuel -> products`` for every module that has products and inputs."""
    out = []
    canonical = design.canonical_fuels()
    for m in design.modules:
        r = m.reaction
        if not r.products or (r.order == 0 and isinstance(design.scheme, Qian2011)):
            continue
        # join + fork (2010), gate + commit (2011)
        a, b = (canonical[f.name].name for f in m.fuels[:2])
        out.append(({_fuel_name(a): 1, _fuel_name(b): 1}, dict(r.products), leak))
    return out


def _gate_leak_reactions(design: DSDDesign, leak: float) -> list[tuple[dict, dict, float]]:
    """``gate -> products`` for every module with products: the gate that holds the
    products (three-domain gate; the 2010 fork gate) releases them without its input."""
    out = []
    canonical = design.canonical_fuels()
    for m in design.modules:
        if not m.reaction.products:
            continue
        holder = next(f for f in m.fuels if f.name.endswith(("-gate", "-fork")))
        out.append(({_fuel_name(canonical[holder.name].name): 1}, dict(m.reaction.products),
                    leak))  # fmt: skip
    return out


def _fuel_name(name: str) -> str:
    index, _, rest = name.partition("-")
    return f"{index}__{rest.replace('-', '_')}"


def dsd_network(
    design: DSDDesign,
    *,
    leak: float = 0.0,
    gate_leak: float = 0.0,
    enumerations: tuple[ModuleEnumeration, ...] | None = None,
    max_complex_size: int = 8,
    time_limit: float | None = 60.0,
) -> ReactionNetwork:
    """The design's condensed DSD-level reactions as a :class:`~nncrn.ReactionNetwork`.

    Each module is enumerated with its reactants (``enumerations``, from
    :func:`enumerate_modules`, to reuse a run); the condensed reactions of all modules
    are joined, every signal strand (whatever its history) becomes its formal species,
    fuels become species ``m<i>__<fuel>`` whose initial concentration is the amount
    supplied, and intermediates and wastes become ``m<i>__<name>``. Concentrations are in
    formal units (``scheme.concentration_unit``) and time in ``design.time_unit``, so
    the network is simulated with the same inputs as the formal one and every
    simulator, exporter and analysis of nncrn applies to it. Fuels are consumed as in the
    tube: this network shows fuel depletion, which the formal rates (fuels in excess)
    ignore.

    ``leak`` (/M/s) adds, for each module with products, the reaction ``fuel + fuel ->
    products`` between its two main fuels (join and fork gate; gate and commit strand),
    the leak for which these schemes are known. ``gate_leak`` (/s) adds, for each module
    with products, ``gate -> products``: the gate that holds the products (three-domain
    gate; 2010 fork gate) releases them without its input (spontaneous fraying, or a
    gate synthesized or annealed imperfectly), a first-order leak at that rate per gate.
    """
    for name, value, unit in (("leak", leak, "/M/s"), ("gate_leak", gate_leak, "/s")):
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise InputError(f"{name} {value!r}: give a rate constant >= 0 in {unit}, e.g. 1e-2")
    scheme = design.scheme
    cu, tau = scheme.concentration_unit, design.time_unit
    if enumerations is None:
        enumerations = enumerate_modules(design, max_complex_size=max_complex_size,
                                         time_limit=time_limit)  # fmt: skip
    formal = {s.name: s for s in design.network.species}
    species: dict[str, Species] = dict(formal)
    canonical = design.canonical_fuels()
    rates: dict[tuple, float] = {}
    sides: dict[tuple, tuple[dict, dict]] = {}

    def add(reactants: dict, products: dict, rate: float) -> None:
        key = (tuple(sorted(reactants.items())), tuple(sorted(products.items())))
        rates[key] = rates.get(key, 0.0) + rate
        sides[key] = (reactants, products)

    for me in enumerations:
        module = design.modules[me.index]
        names = {c.name for c in module.fuels}
        impl = interpret(me.enumeration, scheme, names)
        rename: dict[str, str] = {}
        for state, cplxs in me.enumeration.macrostates.items():
            if state in impl.signals:
                rename[state] = impl.signals[state]
                continue
            fuel = next((c.name for c in cplxs if c.name in names), None)
            if fuel is not None:
                fuel = canonical[fuel].name
            new = _fuel_name(fuel) if fuel else f"m{me.index}__{state.replace('-', '_')}"
            if new in formal:
                raise InputError(
                    f"the network has a species named {new!r}, which the DSD-level network "
                    "needs for a fuel or intermediate; rename that species"
                )
            rename[state] = new
            initial = canonical[fuel].concentration / cu if fuel else 0.0
            species.setdefault(new, Species(new, Role.AUXILIARY, initial))
        for r in me.enumeration.reactions:
            react: dict[str, int] = {}
            prod: dict[str, int] = {}
            for s in r.reactants:
                react[rename[s]] = react.get(rename[s], 0) + 1
            for s in r.products:
                prod[rename[s]] = prod.get(rename[s], 0) + 1
            scale = tau * (cu if len(r.reactants) == 2 else 1.0)
            add(react, prod, r.rate * scale)
    if leak > 0:
        for react, prod, k in _leak_reactions(design, leak):
            add(react, prod, k * cu * tau)
    if gate_leak > 0:
        for react, prod, k in _gate_leak_reactions(design, gate_leak):
            add(react, prod, k * tau)
    reactions = [Reaction(*sides[k], rate, "dsd") for k, rate in rates.items()]
    meta = thaw_json(design.network.metadata)
    meta["dsd"] = {"scheme": scheme.name, "time_unit_s": tau, "concentration_unit_M": cu,
                   "leak_per_M_per_s": float(leak), "gate_leak_per_s": float(gate_leak)}  # fmt: skip
    used = {s for r in reactions for s in (*r.reactants, *r.products)} | set(formal)
    ordered = [species[n] for n in species if n in used]
    return ReactionNetwork(tuple(ordered), tuple(reactions), design.network.readout, meta)
