"""Translation schemes: one formal reaction -> the fuel complexes of its DSD module.

Each scheme is a frozen dataclass whose fields are the design knobs (domain lengths,
fuel concentration, the unit of concentration). Domains of formal species are named
``<role>_<species>``; domains private to module ``i`` carry a hyphen (``f-m3``), which no
species name can contain, so the two never collide.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from nncrn._errors import InputError
from nncrn.dsd._complex import Complex, Kind
from nncrn.network import Reaction

__all__ = ["DSDScheme", "Qian2011", "Soloveichik2010", "binding_rate", "expand"]

K_NUC = 3e5
"""Peppercorn's toehold nucleation rate per nucleotide (/M/s): a toehold of ``n`` nt binds
at ``K_NUC * n`` /M/s."""


def binding_rate(toehold_length: int) -> float:
    """Bimolecular rate (/M/s) at which a toehold of this length binds its complement."""
    return K_NUC * toehold_length


def expand(side: Mapping[str, int]) -> list[str]:
    """``{'X': 1, 'Y': 2}`` -> ``['X', 'Y', 'Y']``: one entry per molecule."""
    return [s for s, c in side.items() for _ in range(c)]


@dataclass(frozen=True)
class DSDScheme(ABC):
    """A published CRN-to-DSD translation scheme with its design knobs.

    Parameters
    ----------
    toehold_length:
        Length (nt) of every toehold domain; 5-7 nt makes toehold binding reversible but
        strong enough for displacement (peppercorn binds a toehold at 3e5 /M/s per nt).
    branch_length:
        Length (nt) of branch-migration and history domains; long enough (>= 12 nt) never
        to dissociate spontaneously.
    fuel_concentration:
        ``C_max``, the concentration (M) of every fuel held in excess. Formal rates are
        reproduced only while the signals stay well below it.
    concentration_unit:
        Molar concentration of one formal unit (default 1 nM), so that inputs of a few
        units are 1000-fold below the fuels.
    """

    toehold_length: int = 7
    branch_length: int = 15
    fuel_concentration: float = 1e-6
    concentration_unit: float = 1e-9

    name: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    assumptions: ClassVar[str] = ""
    max_order: ClassVar[int] = 2

    def __post_init__(self) -> None:
        for field, low in (("toehold_length", 3), ("branch_length", 8)):
            value = getattr(self, field)
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise InputError(
                    f"{type(self).__name__}({field}={value!r}): give a whole number of "
                    f"nucleotides >= {low}"
                )
        if not self.toehold_length < self.branch_length:
            raise InputError(
                f"{type(self).__name__}: toehold_length {self.toehold_length} must be shorter "
                f"than branch_length {self.branch_length}, or toeholds would not dissociate"
            )
        for field in ("fuel_concentration", "concentration_unit"):
            value = getattr(self, field)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InputError(f"{type(self).__name__}({field}={value!r}): give a molar "
                                 "concentration > 0, e.g. 1e-6")  # fmt: skip
        if self.concentration_unit >= self.fuel_concentration:
            raise InputError(
                f"{type(self).__name__}: concentration_unit {self.concentration_unit} M is not "
                f"below fuel_concentration {self.fuel_concentration} M; fuels must be in excess "
                "of the signals (e.g. 1e-9 and 1e-6)"
            )

    def length(self, domain: str) -> int:
        """Length of a domain: toehold domains are named ``t`` or ``t...``."""
        return self.toehold_length if domain.startswith("t") else self.branch_length

    @property
    def rate(self) -> float:
        """``q``: the rate (/M/s) of one toehold-mediated displacement step."""
        return binding_rate(self.toehold_length)

    @abstractmethod
    def signal(self, species: str) -> Complex:
        """The single strand that stands for one formal species."""

    @abstractmethod
    def signal_of(self, strand: tuple[str, ...]) -> str | None:
        """The formal species a free strand stands for (any history), None if none."""

    def refusal(self, reaction: Reaction) -> str | None:
        """Why this scheme cannot implement ``reaction`` correctly; None if it can.

        A scheme's rates are mapped (:func:`nncrn.dsd.translate`) up to its
        ``max_order``; a scheme adds its own limits.
        """
        if reaction.order > self.max_order:
            return f"{reaction.equation()}: it is of order {reaction.order}, and nncrn.dsd " \
                   f"maps the rates of its {self.name} modules up to order {self.max_order}"  # fmt: skip
        return None

    @abstractmethod
    def module(self, index: int, reaction: Reaction) -> tuple[Complex, ...]:
        """The fuels (gates and helper strands) that implement reaction ``index``."""

    def _conc(self, value: float) -> float:
        return float(value)


def _fuel(name: str, strands: list[list[str]], structure: list[str], conc: float) -> Complex:
    return Complex(name, tuple(tuple(s) for s in strands), tuple(structure), Kind.FUEL, conc)


@dataclass(frozen=True)
class Soloveichik2010(DSDScheme):
    """Soloveichik, Seelig & Winfree (2010), PNAS 107:5393: join and fork gates.

    A formal species ``X`` is the strand ``h ta_X b_X tc_X`` (history, toehold, branch
    migration domain, second toehold). Reactants bind a join gate one after another
    (each releasing a backward strand held in excess, which keeps the binding reversible
    and buffers the bimolecular rate); the last releases an output strand that opens a
    fork gate, which releases the products, each with a fresh history domain.
    ``0 -> Y`` reads a fuel strand in place of a reactant.
    """

    name: ClassVar[str] = "soloveichik2010"
    reference: ClassVar[str] = (
        "Soloveichik, Seelig & Winfree, DNA as a universal substrate for chemical "
        "kinetics, PNAS 107:5393 (2010)"
    )
    assumptions: ClassVar[str] = (
        "fork gates and backward strands at C_max far above every signal; a unimolecular "
        "rate k is q*[join gate] and a bimolecular rate k is n*q*[join gate]/[backward "
        "strand] in the free signals (the first binding step, n ways, in fast equilibrium), "
        "so the join gate must stay at or below C_max: k <= q*C_max; the gates hold a share "
        "of their first reactant (inputs are corrected for it), which slows the network "
        "but keeps its steady states; reactants of one reaction are distinct species"
    )

    def signal(self, species: str) -> Complex:
        return Complex(species, ((f"h_{species}", f"ta_{species}", f"b_{species}",
                                  f"tc_{species}"),), ("....",), Kind.SIGNAL)  # fmt: skip

    def signal_of(self, strand: tuple[str, ...]) -> str | None:
        if len(strand) != 4 or not strand[1].startswith("ta_"):
            return None
        s = strand[1][3:]
        return s if strand[2:] == (f"b_{s}", f"tc_{s}") else None

    def refusal(self, reaction: Reaction) -> str | None:
        repeated = [s for s, c in reaction.reactants.items() if c > 1]
        if repeated:
            s = repeated[0]
            return (
                f"{reaction.equation()}: it reads {s} twice, so both binding steps of the join "
                f"gate use {s}'s toehold and its backward strand carries {s}'s domains; "
                "with 7-nt toeholds and 15-nt domains peppercorn enumerates 149 reactions for "
                "the module and they are not a CRN bisimulation of the formal reaction"
            )
        return super().refusal(reaction)

    def module(self, index: int, reaction: Reaction) -> tuple[Complex, ...]:
        m = f"m{index}"
        c = self.fuel_concentration
        reactants = expand(reaction.reactants)
        products = expand(reaction.products)
        fuels: list[Complex] = []
        dom = {s: (f"ta_{s}", f"b_{s}", f"tc_{s}") for s in (*reactants, *products)}
        if not reactants:
            key = f"-{m}"  # a fuel strand stands in for the missing reactant
            dom[key] = (f"ta-{m}", f"b-{m}", f"tc-{m}")
            fuels.append(_fuel(f"{m}-source", [[f"h-{m}", *dom[key]]], ["...."], c))
            reactants = [key]
        n = len(reactants)
        tops: list[list[str]] = []
        bottom: list[str] = []
        for i in range(n - 1):
            _, b, tc = dom[reactants[i]]
            ta_next = dom[reactants[i + 1]][0]
            tops.append([b, tc, ta_next])
            bottom = [f"{ta_next}*", f"{tc}*", f"{b}*", *bottom]
            fuels.append(_fuel(f"{m}-back{i}", [[b, tc, ta_next]], ["..."], c))
        _, x, y = dom[reactants[-1]]
        out = [x, y]
        for j, p in enumerate(products):
            out += [f"h-{m}-{j}", dom[p][0]]
        tops.append(out)
        bottom = [f"{y}*", f"{x}*", *bottom, f"{dom[reactants[0]][0]}*"]
        structure = ["(((" for _ in range(n - 1)] + ["((" + ".." * len(products)]
        structure.append(")" * (len(bottom) - 1) + ".")
        gate = _fuel(f"{m}-join", [*tops, bottom], structure, c)
        fuels.insert(0, gate)
        if products:
            strands = [[f"h-{m}-{j}", *dom[p]] for j, p in enumerate(products)]
            base: list[str] = []
            for j, p in enumerate(products):
                base = [f"{dom[p][0]}*", f"h-{m}-{j}*", *base]
            base.append(f"{y}*")
            fork = ["((.." for _ in products] + [")" * (len(base) - 1) + "."]
            fuels.insert(1, _fuel(f"{m}-fork", [*strands, base], fork, c))
        return tuple(fuels)


@dataclass(frozen=True)
class Qian2011(DSDScheme):
    """Qian, Soloveichik & Winfree (2011), DNA 16: the three-domain scheme, one toehold ``t``.

    A formal species ``X`` is the strand ``h_X t r_X`` (history, the shared toehold,
    recognition). One gate per reaction takes the reactants in turn (each releases a
    reverse strand ``r t`` held in excess); an irreversible commit step (a fuel ``t f g``
    displacing a single-domain strand, which nothing can displace back) follows, and only
    then do forward strands ``t h_P`` release the products. The commit step is the
    correction of the published gate, whose every step is a toehold exchange and which
    therefore also runs backwards (not a bisimulation of an irreversible reaction).
    """

    name: ClassVar[str] = "qian2011"
    # the gate takes its reactants in turn: order 3 (the argmax stage's and the chemical
    # sigmoid's X + Y + Z reactions) is one more toehold exchange before the commit step
    max_order: ClassVar[int] = 3
    reference: ClassVar[str] = (
        "Qian, Soloveichik & Winfree, Efficient Turing-universal computation with DNA "
        "polymers, DNA Computing and Molecular Programming 16, LNCS 6518 (2011)"
    )
    assumptions: ClassVar[str] = (
        "reverse and forward strands at C_max far above every signal, each toehold "
        "exchange in fast equilibrium (q/2 each way, the commit step q); a bimolecular rate "
        "k is (q/3)*[gate]/C_max in the free signals, so k <= q/3 with the gate at C_max (a "
        "trimolecular one (q/3)*[gate]/C_max^2, so k <= q/(3 C_max)); a "
        "unimolecular rate k is q*g^2/(2g + C_max) with gate and commit strand at g; a "
        "source 0 -> Y is q*[gate]*[commit]; the gates hold a share of their first reactant "
        "(inputs are corrected for it), which slows the network but keeps its steady states"
    )

    def signal(self, species: str) -> Complex:
        return Complex(species, ((f"h_{species}", "t", f"r_{species}"),), ("...",), Kind.SIGNAL)

    def signal_of(self, strand: tuple[str, ...]) -> str | None:
        if len(strand) != 3 or strand[1] != "t" or not strand[2].startswith("r_"):
            return None
        s = strand[2][2:]
        return s if strand[0] == f"h_{s}" else None

    def module(self, index: int, reaction: Reaction) -> tuple[Complex, ...]:
        m = f"m{index}"
        c = self.fuel_concentration
        reactants = expand(reaction.reactants)
        products = expand(reaction.products)
        f, g = f"f-{m}", f"g-{m}"
        strands = [[f"r_{s}", "t"] for s in reactants]
        structure = ["((" for _ in reactants]
        strands += [[f], [g, "t"]]
        structure += ["(", "(("]
        strands += [[f"h_{p}", "t", f"r_{p}"] for p in products]
        structure += ["((." for _ in products]
        strands.append([f])
        structure.append("(")
        bottom = [f"{f}*"]
        for p in reversed(products):
            bottom += ["t*", f"h_{p}*"]
        bottom += ["t*", f"{g}*", f"{f}*"]
        for s in reversed(reactants):
            bottom += ["t*", f"r_{s}*"]
        bottom.append("t*")
        strands.append(bottom)
        structure.append(")" * (len(bottom) - 1) + ".")
        fuels = [_fuel(f"{m}-gate", strands, structure, c),
                 _fuel(f"{m}-commit", [["t", f, g]], ["..."], c)]  # fmt: skip
        for s in dict.fromkeys(reactants):
            fuels.append(_fuel(f"{m}-rev-{s}", [[f"r_{s}", "t"]], [".."], c))
        for p in dict.fromkeys(products):
            fuels.append(_fuel(f"{m}-fwd-{p}", [["t", f"h_{p}"]], [".."], c))
        return tuple(fuels)


SCHEMES: dict[str, type[DSDScheme]] = {"soloveichik2010": Soloveichik2010, "qian2011": Qian2011}
