"""ReactionNetwork -> DSD design: one module of fuels per formal reaction, written as PIL."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from nncrn._errors import UnsupportedModelError
from nncrn.dsd._complex import Complex, pil_text
from nncrn.dsd._schemes import SCHEMES, DSDScheme, Qian2011
from nncrn.network import Reaction, ReactionNetwork, require_network

__all__ = ["DSDDesign", "DesignCost", "Module", "SchemeRefusal", "propose_scheme", "translate"]


class SchemeRefusal(UnsupportedModelError):
    """A scheme cannot implement one of the network's reactions correctly."""


@dataclass(frozen=True)
class Module:
    """The fuels that implement formal reaction ``index`` of the network."""

    index: int
    reaction: Reaction
    fuels: tuple[Complex, ...]


@dataclass(frozen=True)
class DesignCost:
    """What a design costs to order: counts and total length of the fuel strands."""

    signals: int
    fuels: int
    strands: int
    unique_strands: int
    nucleotides: int

    def as_dict(self) -> dict[str, int]:
        return {"signals": self.signals, "fuels": self.fuels, "strands": self.strands,
                "unique_strands": self.unique_strands, "nucleotides": self.nucleotides}  # fmt: skip


@dataclass(frozen=True)
class DSDDesign:
    """A domain-level strand-displacement design of a formal network.

    ``time_unit`` is the number of seconds one time unit of the formal network takes in
    the DNA implementation, ``scheme.concentration_unit`` the molar concentration of one
    formal unit; fuel concentrations were chosen so that each module runs at its formal
    rate under the scheme's assumptions (``scheme.assumptions``).
    """

    network: ReactionNetwork
    scheme: DSDScheme
    signals: tuple[Complex, ...]
    modules: tuple[Module, ...]
    time_unit: float
    lengths: dict[str, int] = field(repr=False)

    @property
    def fuels(self) -> tuple[Complex, ...]:
        return tuple(f for m in self.modules for f in m.fuels)

    def canonical_fuels(self) -> dict[str, Complex]:
        """Each fuel's name -> the one complex that stands for it in the tube.

        Modules may need the same strand (a forward or reverse strand of the same species):
        in one tube that is one species, named after the first module that uses it, at the
        sum of the concentrations the modules ask for; a buffering strand (reverse, 2011;
        backward, 2010) at ``C`` once, since the rate mapping holds it at ``C``.
        """
        first: dict[tuple, Complex] = {}
        total: dict[tuple, float] = {}
        keys: dict[str, tuple] = {}
        for f in self.fuels:
            key = (f.strands, f.structure)
            first.setdefault(key, f)
            buffer = "-rev-" in f.name or "-back" in f.name
            total[key] = max(total.get(key, 0.0), f.concentration) if buffer \
                else total.get(key, 0.0) + f.concentration  # fmt: skip
            keys[f.name] = key
        return {n: replace(first[k], concentration=total[k]) for n, k in keys.items()}

    def complexes(self) -> tuple[Complex, ...]:
        """Signals, then each distinct fuel once (shared fuels at their summed amount)."""
        fuels = {c.name: c for c in self.canonical_fuels().values()}
        return self.signals + tuple(fuels.values())

    def pil(self) -> str:
        """The design as PIL text (peppercorn, Nuskell and KinDA read it)."""
        net = self.network
        header = [
            f"DNA strand-displacement design of a {net.n_species}-species, "
            f"{net.n_reactions}-reaction network, scheme {self.scheme.name}",
            self.scheme.reference,
            f"assumptions: {self.scheme.assumptions}",
            f"1 formal unit = {self.scheme.concentration_unit:g} M; 1 formal time unit = "
            f"{self.time_unit:.6g} s",
        ]
        for m in self.modules:
            header.append(f"m{m.index}: {m.reaction.equation()}  [k = {m.reaction.rate:.6g}]")
        return pil_text(self.complexes(), self.lengths, header)

    def cost(self) -> DesignCost:
        fuels = self.complexes()[len(self.signals) :]
        strands = [s for f in fuels for s in f.strands]
        nt = sum(self.lengths[d.rstrip("*")] for s in strands for d in s)
        return DesignCost(len(self.signals), len(fuels), len(strands), len(set(strands)), nt)

    def __repr__(self) -> str:
        c = self.cost()
        return (f"DSDDesign({self.scheme.name}, {len(self.modules)} modules, {c.fuels} fuels, "
                f"{c.strands} strands, {c.nucleotides} nt)")  # fmt: skip


def propose_scheme(reaction: Reaction, refused: DSDScheme) -> str | None:
    """The name of a scheme (other than ``refused``'s) that implements ``reaction``."""
    for name, cls in SCHEMES.items():
        if name != refused.name and cls().refusal(reaction) is None:
            return name
    return None


def _factor(scheme: DSDScheme, r: Reaction) -> float:
    """``a``: with every buffering strand at ``C``, a module of order 1 or 2 whose gate's
    first step is in fast equilibrium runs at ``q [gate] / a`` (times ``[X]``, and
    ``[Y] / C`` for the bimolecular buffering) while the gate holds little of ``X``.

    Read off peppercorn's condensed steps. Three-domain gate: every toehold exchange runs
    at ``q / 2`` each way (a 7-nt toehold in, a 7-nt toehold out) and the commit step at
    ``q``; the last bound intermediate commits (``q C``) or falls back through the reverse
    exchange (``q C / 2``), so 2/3 of it commits: ``(q / 2) (2 / 3) = q / 3``. Join gate
    (2010): a unimolecular gate is read at ``q``; a bimolecular one binds its first
    reactant ``X`` by one toehold exchange at ``q / 2`` each way, plus one more for each
    ``X`` among the products (the output strand carries ``X``'s toehold), and each
    intermediate is read by the second reactant at ``q``: ``n q`` for ``n`` ways.
    """
    if isinstance(scheme, Qian2011):
        return 3.0
    if r.order == 2:
        return 1.0 / (1 + r.products.get(next(iter(r.reactants)), 0))
    return 1.0


def _ceiling(scheme: DSDScheme) -> float:
    """``m``: a bimolecular module cannot run faster than ``Q / m`` (formal units).

    With the buffering strand at ``C`` and the gate at ``G``, each of the ``n`` ways in
    which the gate binds its first reactant ``X`` (:func:`_factor`) holds ``r = G / C``
    times the free ``X``, and the module runs at ``(Q / a) r [X] [Y]`` in the free
    amounts: ``Q / 3`` (three-domain, ``a = 3``) or ``Q`` (join gate, ``a = 1 / n``) per
    unit of ``X`` held in the gate. Every gate that reads ``X`` first holds some of it,
    ``L_X / Q`` times the free ``X`` (``L_X`` the sum of ``m k`` over those modules,
    :func:`_loads`).
    """
    return 3.0 if isinstance(scheme, Qian2011) else 1.0


HEADROOM = 4.0
"""The default time unit is ``Q = HEADROOM max_X L_X`` (:func:`_loads`): the gates hold at
most a quarter of any species (a lone three-domain gate at ``C / 4``; ``C / 3`` if it reads
an input, of which it holds a quarter)."""


def _loads(scheme: DSDScheme, reactions: tuple[Reaction, ...]) -> dict[str, float]:
    """``L_X``: the sum of ``m k`` over the bimolecular modules that read ``X`` first.

    The gates hold ``L_X / Q`` of ``X`` for every unit of free ``X``: a share
    ``L_X / (Q + L_X)`` of all ``X``.
    """
    loads: dict[str, float] = {}
    for r in reactions:
        if r.order >= 2:
            first = next(iter(r.reactants))
            loads[first] = loads.get(first, 0.0) + _ceiling(scheme) * _reduced(scheme, r)
    return loads


def _reduced(scheme: DSDScheme, r: Reaction) -> float:
    """``k C^(n - 2)`` (formal units) of a reaction of order ``n >= 2``: the rate its gate
    must reach in the bound intermediates, each binding step after the first buffered by a
    reverse strand at ``C`` (three-domain gate: ``(q / 3) [gate] X Y Z / C^2`` at order 3).
    """
    cap = scheme.fuel_concentration / scheme.concentration_unit
    return r.rate * cap ** (r.order - 2)


def _auto_time_unit(scheme: DSDScheme, reactions: tuple[Reaction, ...]) -> float:
    """Seconds per formal time unit: the shortest at which every module fits its fuels.

    In formal units one displacement step has the rate ``Q = q c_u tau``. A bimolecular
    module runs at most at ``Q / m`` (:func:`_ceiling`), so ``Q = HEADROOM max L_X``; a
    unimolecular one needs its gate (join gate; three-domain gate and commit strand) at
    most at ``C``, and the steps after the gate fast beside the reaction: ``Q >= 100 k /
    C`` (three-domain: commit strand read at ``Q g >= 10 k``, the gate near ``C / 10``;
    join gate: at ``C / 100``, its fork gate read at ``100 k``; with the gate at ``C`` the
    product came out ``1 / k`` late). A longer time unit only
    makes the unimolecular gates smaller (they scale as ``1 / Q`` or ``1 / sqrt(Q)``) and
    so run out sooner.
    """
    cap = scheme.fuel_concentration / scheme.concentration_unit
    uni = [r.rate for r in reactions if r.order == 1]
    bi = [r.rate for r in reactions if r.order >= 2]
    big_q = HEADROOM * max(_loads(scheme, reactions).values()) if bi else 0.0
    if uni:  # gate at k / Q (2010); gate = commit = g, Q g^2 = k (2 g + C) (2011)
        big_q = max(big_q, 100.0 * max(uni) / cap)
    if big_q == 0.0:
        big_q = 1.0
    return big_q / (scheme.rate * scheme.concentration_unit)


def _concentrations(scheme: DSDScheme, r: Reaction, fuels: tuple[Complex, ...], tau: float,
                    held: dict[str, float]) -> tuple[Complex, ...]:  # fmt: skip
    """Set the fuel concentrations that give reaction ``r`` its rate (scheme.assumptions).

    Every buffering strand (reverse strands, 2011; backward strands, 2010) is at ``C``:
    the strand ``r_X t`` is one species in the tube, shared by every module that reads
    ``X``, so it cannot be a per-module knob. Zeroth order: the two fuels that react at
    ``sqrt(k / Q)`` units each (for a given product of concentrations, the pair that
    lasts longest). First order: the join gate at ``k / Q`` (2010); the three-domain gate
    and its commit strand both at ``g`` with ``Q g^2 = k (2 g + C)`` (the intermediate
    commits or falls back through the reverse strand at ``C``: a commit strand below
    ``C`` buffers the rate, so the gate lasts longer than at ``3 k / Q``). Second order:
    the gate at ``C r`` with ``(Q / a) r = k``: the rate in the free amounts of ``X``
    and ``Y``, so that the DSD-level network has the formal network's steady states (the
    gates hold a share of each species, which slows it down by ``1 + L_X / Q``). A
    catalyst ``X`` that no reaction changes (an input) is given as its total amount, of
    which ``1 / (1 + L_X / Q')`` is free: its gates run at ``(Q / a) r = k (1 + L_X / Q')``
    with ``Q' = Q - L_X`` (``held``: ``L_X`` of each catalyst), i.e. ``r = a k / Q'``.
    Third order (three-domain gate): each binding after the first is one more exchange
    against a reverse strand at ``C``, so ``k`` becomes ``k C`` (:func:`_reduced`).
    """
    cu, cmax = scheme.concentration_unit, scheme.fuel_concentration
    cap = cmax / cu
    big_q, a = scheme.rate * cu * tau, _factor(scheme, r)
    gate = fuels[0].name  # join gate (2010) / gate (2011)
    conc = {f.name: cmax for f in fuels}
    k = r.rate
    if r.order == 0:
        pair = math.sqrt(k / big_q) * cu
        partner = (
            gate.replace("join", "source") if "join" in gate else gate.replace("gate", "commit")
        )
        conc[gate] = conc[partner] = pair
    elif r.order == 1:
        if isinstance(scheme, Qian2011):
            g = (k + math.sqrt(k * k + big_q * k * cap)) / big_q
            conc[gate.replace("gate", "commit")] = g * cu
        else:
            g = a * k / big_q
        if g > cap * (1 + 1e-12):
            raise UnsupportedModelError(
                f"{r.equation()} at rate {k:g}: its {scheme.name} gate would have to exceed "
                f"C (Q = q c_u tau = {big_q:.4g} at time_unit {tau:.6g} s); give a longer "
                "time_unit or leave it to translate"
            )
        conc[gate] = g * cu
    else:
        first = next(iter(r.reactants))
        room = big_q - held.get(first, 0.0)
        k = _reduced(scheme, r)
        if room < a * k:
            raise UnsupportedModelError(
                f"{r.equation()} at rate {r.rate:g}: its {scheme.name} gate would have to exceed "
                f"C (Q = q c_u tau = {big_q:.4g} at time_unit {tau:.6g} s); give time_unit "
                f">= {(a * k + big_q - room) / (scheme.rate * cu):.6g} s or leave it to "
                "translate"
            )
        conc[gate] = a * k / room * cmax
    return tuple(replace(f, concentration=conc[f.name]) for f in fuels)


def translate(
    network: ReactionNetwork,
    scheme: DSDScheme | str = "qian2011",
    *,
    time_unit: float | None = None,
) -> DSDDesign:
    """Translate every reaction of ``network`` into a DSD module under ``scheme``.

    Parameters
    ----------
    network:
        Any :class:`~nncrn.ReactionNetwork` (compiled or imported) of reactions of order
        at most the scheme's ``max_order`` (2; 3 for ``Qian2011``).
    scheme:
        A :class:`DSDScheme` (``Qian2011()``, ``Soloveichik2010(toehold_length=6)``) or its
        name.
    time_unit:
        Seconds per formal time unit. Default: the one that balances the gates of
        unimolecular and the buffering strands of bimolecular reactions (see
        :func:`nncrn.dsd._design._auto_time_unit`).

    Raises
    ------
    SchemeRefusal
        When the scheme cannot implement a reaction; the message gives the reason and a
        scheme that can.
    """
    network = require_network(network, "translate")
    if isinstance(scheme, str):
        if scheme not in SCHEMES:
            raise UnsupportedModelError(
                f"unknown DSD scheme {scheme!r}; choose one of {', '.join(SCHEMES)}"
            )
        scheme = SCHEMES[scheme]()
    for r in network.reactions:
        why = scheme.refusal(r)
        if why is not None:
            other = propose_scheme(r, scheme)
            fix = f"use scheme {other!r}, which implements it" if other else "no scheme of " \
                  "nncrn.dsd implements it; split it into steps of order 3 or less"  # fmt: skip
            raise SchemeRefusal(f"scheme {scheme.name!r} cannot implement {why}; {fix}")
    auto = _auto_time_unit(scheme, network.reactions)
    changed = {s for r in network.reactions for s, n in r.net().items() if n}
    held = {s: v for s, v in _loads(scheme, network.reactions).items() if s not in changed}
    tau = float(time_unit) if time_unit is not None else auto
    if not (math.isfinite(tau) and tau > 0):
        raise UnsupportedModelError(f"time_unit {time_unit!r}: give seconds > 0")
    modules = tuple(
        Module(i, r, _concentrations(scheme, r, scheme.module(i, r), tau, held))
        for i, r in enumerate(network.reactions)
    )
    signals = tuple(scheme.signal(s) for s in network.species_names)
    lengths: dict[str, int] = {}
    for c in (*signals, *(f for m in modules for f in m.fuels)):
        for d in c.domains:
            lengths.setdefault(d.rstrip("*"), scheme.length(d.rstrip("*")))
    return DSDDesign(network, scheme, signals, modules, tau, lengths)
