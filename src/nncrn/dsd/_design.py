"""ReactionNetwork -> DSD design: one module of fuels per formal reaction, written as PIL."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

from nncrn._errors import UnsupportedModelError
from nncrn.dsd._complex import Complex, pil_text
from nncrn.dsd._schemes import SCHEMES, DSDScheme, Qian2011, Soloveichik2010
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
        in one tube that is one species, at the sum of the concentrations the modules ask
        for, named after the first module that uses it.
        """
        first: dict[tuple, Complex] = {}
        total: dict[tuple, float] = {}
        keys: dict[str, tuple] = {}
        for f in self.fuels:
            key = (f.strands, f.structure)
            first.setdefault(key, f)
            total[key] = total.get(key, 0.0) + f.concentration
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


def _factor(scheme: DSDScheme) -> float:
    """How many displacement steps share a module's rate (2: the commit competes with the
    reverse strand in the three-domain gate)."""
    return 2.0 if isinstance(scheme, Qian2011) else 1.0


def _auto_time_unit(scheme: DSDScheme, reactions: tuple[Reaction, ...]) -> float:
    """Seconds per formal time unit that balance the fuels of uni- and bimolecular modules.

    In formal units one displacement step has the rate ``Q = q c_u tau``. A unimolecular
    rate ``k`` needs a gate at ``a k / Q`` units and a bimolecular one a buffering strand at
    ``Q C / (a k)`` (``C``: the fuel concentration in units, ``a``: :func:`_factor`); ``Q``
    is chosen so that the scarcest of both is as plentiful as it can be (their geometric
    balance), which keeps every fuel far above the signals for as long as possible.
    """
    a, cap = _factor(scheme), scheme.fuel_concentration / scheme.concentration_unit
    uni = [r.rate for r in reactions if r.order == 1]
    bi = [r.rate for r in reactions if r.order == 2]
    if uni and bi:
        big_q = math.sqrt(a * min(uni) * a * max(bi) / cap)
        big_q = max(big_q, a * max(uni) / cap)  # no gate above C
    elif uni:
        big_q = a * max(uni) / cap
    elif bi:
        big_q = a * max(bi)
    else:
        big_q = 1.0
    return big_q / (scheme.rate * scheme.concentration_unit)


def _concentrations(scheme: DSDScheme, r: Reaction, fuels: tuple[Complex, ...], tau: float
                    ) -> tuple[Complex, ...]:  # fmt: skip
    """Set the fuel concentrations that give reaction ``r`` its rate (scheme.assumptions).

    Zeroth order: the two fuels that react are at ``sqrt(k / Q)`` units each (for a given
    product of concentrations, the pair that lasts longest); first order: the gate at
    ``a k / Q``; second order: the gate at C and the buffering (backward or reverse)
    strand of the first reactant at ``Q C / (a k)``.
    """
    cu, cmax = scheme.concentration_unit, scheme.fuel_concentration
    big_q, a = scheme.rate * cu * tau, _factor(scheme)
    gate = fuels[0].name  # join gate (2010) / gate (2011)
    conc = {f.name: cmax for f in fuels}
    if r.order == 0:
        pair = math.sqrt(r.rate / big_q) * cu
        partner = (
            gate.replace("join", "source") if "join" in gate else gate.replace("gate", "commit")
        )
        conc[gate] = conc[partner] = pair
    elif r.order == 1:
        conc[gate] = a * r.rate / big_q * cu
    elif isinstance(scheme, Soloveichik2010):
        conc[gate.replace("join", "back0")] = big_q * cmax / (a * r.rate)
    else:
        first = next(iter(r.reactants))
        conc[gate.replace("gate", f"rev-{first}")] = big_q * cmax / (a * r.rate)
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
        at most 2.
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
                  "nncrn.dsd implements it; split it into bimolecular steps"  # fmt: skip
            raise SchemeRefusal(f"scheme {scheme.name!r} cannot implement {why}; {fix}")
    auto = _auto_time_unit(scheme, network.reactions)
    tau = float(time_unit) if time_unit is not None else auto
    if not (math.isfinite(tau) and tau > 0):
        raise UnsupportedModelError(f"time_unit {time_unit!r}: give seconds > 0")
    modules = tuple(
        Module(i, r, _concentrations(scheme, r, scheme.module(i, r), tau))
        for i, r in enumerate(network.reactions)
    )
    signals = tuple(scheme.signal(s) for s in network.species_names)
    lengths: dict[str, int] = {}
    for c in (*signals, *(f for m in modules for f in m.fuels)):
        for d in c.domains:
            lengths.setdefault(d.rstrip("*"), scheme.length(d.rstrip("*")))
    return DSDDesign(network, scheme, signals, modules, tau, lengths)
