"""Reaction: name-keyed stoichiometry and one mass-action rate constant."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from nncrn._errors import NetworkError
from nncrn.network._grammar import MAX_COEFFICIENT, parse_terms
from nncrn.network._numbers import as_integer, as_real, fmt_number
from nncrn.network._species import check_name

__all__ = ["KINETICS", "MAX_COEFFICIENT", "Reaction", "check_text"]

KINETICS = "mass_action"
"""The one rate-law convention of nncrn: deterministic mass action *without* factorials.

A reaction ``sum_s a_s S -> ...`` with rate constant ``k`` proceeds at rate
``k * prod_s x_s ** a_s`` (concentrations ``x``), so ``2 Y -> Y`` at rate ``k`` gives
``dy/dt = -k y**2`` (not ``-k y**2 / 2``). This is the convention of Anderson, Joshi &
Deshpande (2021), of SBML kinetic laws written as ``k * Y * Y``, and of libRoadRunner.
"""

_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text: str, what: str, fix: str) -> None:
    """Refuse a lone surrogate (``"\\ud800"``) in free text such as a label.

    A lone surrogate is not a character: no UTF-8 file (network JSON aside, which escapes
    it) can hold one, so a label with one could not be exported to CRN text, Antimony or
    SBML. ``what`` leads the message (``"reaction 3 (A -> B) has label"``).
    """
    bad = _SURROGATE.search(text)
    if bad is not None:
        raise NetworkError(
            f"{what} {text!r}, which contains the lone surrogate {bad.group()!r} (U+"
            f"{ord(bad.group()):04X}) at position {bad.start()}: half of a UTF-16 pair, not a "
            f"character, so no text file can hold it. {fix.capitalize()} with the character "
            "meant (decode the source text as UTF-8, or join the surrogate pair)"
        )


def _raw_equation(reactants: object, products: object) -> str:
    """The reaction as text for a message, from the (not yet validated) sides."""

    def side(value: object) -> str:
        if not isinstance(value, Mapping) or not value:
            return "0"
        terms = []
        for name, coeff in value.items():
            shown = fmt_number(coeff)
            terms.append(str(name) if shown == "1" else f"{shown} {name}")
        return " + ".join(terms)

    return f"{side(reactants)} -> {side(products)}"


def _freeze_side(side: object, what: str, equation: str) -> Mapping[str, int]:
    if side is None:
        return MappingProxyType({})
    if not isinstance(side, Mapping):
        raise NetworkError(
            f"reaction {what} must be a mapping from species name to stoichiometric "
            f"coefficient, e.g. {{'X': 1, 'Y': 2}}; got {type(side).__name__}"
        )
    out: dict[str, int] = {}
    for name, coeff in side.items():
        check_name(name)
        n = as_integer(coeff)
        if n is None:
            raise NetworkError(
                f"species {name!r} has {what} coefficient {fmt_number(coeff)} (a "
                f"{type(coeff).__name__}); coefficients must be positive integers, e.g. 2"
            )
        if n <= 0:
            raise NetworkError(
                f"species {name!r} has {what} coefficient {fmt_number(coeff)}; coefficients "
                "must be positive integers (leave a species out instead of giving it 0)"
            )
        if n > MAX_COEFFICIENT:
            raise NetworkError(
                f"reaction {equation} gives species {name!r} the {what} coefficient "
                f"{fmt_number(n)}, above the limit of {MAX_COEFFICIENT} (2**15) on "
                "stoichiometric coefficients; such a reaction cannot be simulated. Split it "
                "into elementary steps or rescale the species"
            )
        out[name] = n
    return MappingProxyType(out)


def _format_side(side: Mapping[str, int]) -> str:
    if not side:
        return "0"
    return " + ".join(name if c == 1 else f"{c} {name}" for name, c in side.items())


@dataclass(frozen=True, eq=False)
class Reaction:
    """An irreversible mass-action reaction ``reactants -> products`` at rate constant ``rate``.

    Under the library's kinetics convention (see :data:`nncrn.network.KINETICS`) its rate is
    ``rate * prod_s x_s ** reactants[s]`` with no factorials, so ``2 Y -> Y`` at rate ``k``
    contributes ``-k y**2`` to ``dy/dt``.

    Parameters
    ----------
    reactants, products:
        Mappings from species name to positive integer coefficient; empty for ``0``.
    rate:
        Rate constant, finite and > 0. Negative neural-network weights are encoded by the
        choice of reaction (a degradation), never by a negative rate.
    label:
        Free-form description (e.g. ``"layer 1 weight w[3,0]"``) kept for readable exports.
    """

    reactants: Mapping[str, int]
    products: Mapping[str, int]
    rate: float
    label: str = ""

    def __post_init__(self) -> None:
        equation = _raw_equation(self.reactants, self.products)
        object.__setattr__(self, "reactants", _freeze_side(self.reactants, "reactant", equation))
        object.__setattr__(self, "products", _freeze_side(self.products, "product", equation))
        rate = as_real(self.rate)
        if rate is None:
            raise NetworkError(
                f"reaction {self} has rate constant {fmt_number(self.rate)} (a "
                f"{type(self.rate).__name__}); rate constants must be finite and > 0 and given "
                "as a real number (not a string, bool or complex), e.g. 0.5 (a negative weight "
                "is encoded by a degradation reaction, not a negative rate)"
            )
        if not math.isfinite(rate) or rate <= 0:
            raise NetworkError(
                f"reaction {self} has rate constant {fmt_number(self.rate)}; rate constants must "
                "be finite and > 0 (a negative weight is encoded by a degradation reaction, not a "
                "negative rate; drop reactions whose rate is 0)"
            )
        object.__setattr__(self, "rate", rate)
        if not isinstance(self.label, str):
            raise NetworkError(f"reaction label must be a string, got {type(self.label).__name__}")
        check_text(self.label, f"reaction {self} has label", "relabel the reaction")

    @classmethod
    def parse(cls, text: str, rate: float, label: str = "") -> Reaction:
        """Build a reaction from ``"A + 2 B -> C"`` text (``0`` or nothing for no species).

        >>> Reaction.parse("X + Y -> X + 2 Y", 0.5)
        Reaction('X + Y -> X + 2 Y', rate=0.5)
        """
        if text.count("->") != 1:
            raise NetworkError(
                f"cannot parse reaction {text!r}: expected exactly one '->' as in 'A + 2 B -> C'"
            )
        left, right = text.split("->")
        where = f"reaction {_short(text)}"
        return cls(_merged(parse_terms(left, where)), _merged(parse_terms(right, where)), rate, label)

    @property
    def order(self) -> int:
        """Molecularity: the sum of reactant coefficients."""
        return sum(self.reactants.values())

    def net(self) -> dict[str, int]:
        """Net change of each species whose amount changes (products minus reactants)."""
        out = {s: self.products.get(s, 0) - c for s, c in self.reactants.items()}
        for s, c in self.products.items():
            out.setdefault(s, c)
        return {s: c for s, c in out.items() if c != 0}

    def key(self) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
        """Order-independent identity of the reaction's stoichiometry (rate excluded)."""
        return (tuple(sorted(self.reactants.items())), tuple(sorted(self.products.items())))

    def equation(self) -> str:
        """The reaction as text, ``"X + Y -> X + 2 Y"``."""
        return f"{_format_side(self.reactants)} -> {_format_side(self.products)}"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Reaction):
            return NotImplemented
        return self.key() == other.key() and self.rate == other.rate and self.label == other.label

    def __hash__(self) -> int:
        return hash((self.key(), self.rate, self.label))

    def __repr__(self) -> str:
        return f"Reaction({self.equation()!r}, rate={self.rate!r})"

    def __str__(self) -> str:
        return self.equation()


def _short(text: str) -> str:
    """``repr(text)``, cut to 80 characters for a message."""
    return repr(text) if len(text) <= 80 else f"{text[:60]!r}... ({len(text)} characters)"


def _merged(terms: list[tuple[str, int]]) -> dict[str, int]:
    """``[("Y", 1), ("Y", 2)]`` -> ``{"Y": 3}``: a species written twice on one side."""
    out: dict[str, int] = {}
    for name, coeff in terms:
        out[name] = out.get(name, 0) + coeff
    return out
