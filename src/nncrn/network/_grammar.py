"""The one grammar of reaction text: ``"A + 2 B -> C"`` terms, shared by every reader.

:meth:`nncrn.Reaction.parse` and the CRN text reader (:func:`nncrn.export.from_crn_text`)
read the sides of a reaction with :func:`parse_terms`, so a term one accepts the other
accepts too, with the same message where it does not (the CRN reader also takes foreign
names such as ``x'``, which it renames): a term is an optional
integer coefficient (digits 0-9, at most ``MAX_COEFFICIENT``) followed by a space or ``*``
and a species name (:func:`~nncrn.network._species.check_name`: ASCII letters, digits and
``_``, not starting with a digit).
"""

from __future__ import annotations

import re

from nncrn._errors import NetworkError
from nncrn.network._numbers import fmt_digits
from nncrn.network._species import check_name

__all__ = ["MAX_COEFFICIENT", "parse_terms"]

MAX_COEFFICIENT = 2**15
"""Largest stoichiometric coefficient a :class:`Reaction` accepts (32768).

Mass action raises a concentration to its reactant coefficient and an SSA propensity
multiplies that many falling factors, so a coefficient of a million makes every
simulator crawl and one of ``2**63`` overflows the integer arrays; no compiled network
comes near (the dual-rail scheme's integer weights stop at the same ``2**15``). Every
reader (JSON, SBML, Antimony, CRN text) refuses a larger coefficient with this limit.
"""

_DIGITS = re.compile(r"[0-9]+")
_TERM = re.compile(r"^(?:(?P<coeff>\d+)(?:\s*\*\s*|\s+))?(?P<name>[^\s+*\[\]#;,=<>]+)$")


def parse_terms(text: str, where: str, *, foreign_names: bool = False) -> list[tuple[str, int]]:
    """``[(species, coefficient), ...]`` of one side of a reaction, ``"A + 2 B"`` (``0``,
    ``∅`` or nothing: no species). ``where`` starts every error message (a reaction, a
    line of a file). Raises :class:`~nncrn.NetworkError` naming the term and the fix.

    Species names must be identifiers (:func:`~nncrn.network._species.check_name`), except
    with ``foreign_names=True``: then any token without whitespace or the separators
    ``+ * [ ] # ; , = < >`` is a name (``x'``, ``A.1`` of strand-displacement compilers), which
    the CRN text reader renames to an identifier and records. Coefficients and the names'
    first character (no digit) follow the same rules either way."""
    text = text.strip()
    if text in ("", "0", "∅"):
        return []
    out = []
    for raw in text.split("+"):
        term = raw.strip()
        if not term:
            raise NetworkError(
                f"{where}: empty term in {text!r} (a '+' with nothing on one side); remove the "
                "extra '+'"
            )
        m = _TERM.match(term)
        if m is None:
            raise NetworkError(
                f"{where}: cannot read {term!r}; a term is a species name optionally "
                "preceded by an integer coefficient and a space or '*', as in '2 Y' or '2*Y'"
            )
        name = m["name"]
        if name.isdigit():
            raise NetworkError(
                f"{where}: {term!r} is a number where a species name should be; '0' alone "
                "stands for the empty side (write 'A -> B', not 'A + 0 -> B'), and a "
                "coefficient needs a species after it, as in '2 Y'"
            )
        if m["coeff"] and len(m["coeff"].lstrip("0")) > len(str(MAX_COEFFICIENT)):
            _refuse_coefficient(fmt_digits(m["coeff"]), term, where)
        if name[0].isdigit():
            _refuse_leading_digits(term, name, m["coeff"], where)
        coeff = int(m["coeff"]) if m["coeff"] else 1
        if coeff > MAX_COEFFICIENT:
            _refuse_coefficient(str(coeff), term, where)
        if coeff == 0:
            raise NetworkError(f"{where}: coefficient 0 in {term!r}; leave the term out")
        if not foreign_names:
            check_name(name, f"{where}: species name")
        out.append((name, coeff))
    return out


def _refuse_coefficient(coeff: str, term: str, where: str) -> None:
    raise NetworkError(
        f"{where}: {term if len(term) <= 60 else term[:40] + '...'!r} has the coefficient "
        f"{coeff}, above the limit of {MAX_COEFFICIENT} (2**15) on stoichiometric "
        "coefficients; split the reaction into elementary steps or rescale the species"
    )


def _refuse_leading_digits(term: str, name: str, coeff: str | None, where: str) -> None:
    """Explain a term whose species name starts with a digit (``3A``, ``2 3A``, ``1e3``)."""
    lead = _DIGITS.match(name)
    if lead is None:  # a digit outside 0-9, such as the Arabic-Indic '٣'
        raise NetworkError(
            f"{where}: {term!r} starts with the digit {name[0]!r} (U+{ord(name[0]):04X}); species "
            "names must start with a letter or '_', and coefficients are written with the "
            "digits 0-9 and a space or '*' before the species, as in '2 Y'"
        )
    digits, rest = lead.group(), name[lead.end() :]
    try:
        float(name)
    except ValueError:
        pass
    else:
        what = f"{name!r} in {term!r}" if coeff else repr(term)
        raise NetworkError(
            f"{where}: {what} is a number where a species name should be; "
            "coefficients are integers written before a species name, as in '2 Y'"
        )
    rename = (
        f"species names must start with a letter or '_', so rename a species such as "
        f"{name!r} (e.g. '{rest}{digits}')"
    )
    if coeff:
        raise NetworkError(
            f"{where}: {term!r} has the coefficient {coeff} before {name!r}, which is not a "
            f"species name; write '{_product(coeff, digits)} {rest}' if {digits} is a second "
            f"coefficient ({coeff} x {digits}), and note that {rename}"
        )
    molecules = "molecule" if digits.lstrip("0") == "1" else "molecules"
    raise NetworkError(
        f"{where}: {term!r} is ambiguous: {digits} {molecules} of {rest!r}, or a species named "
        f"{name!r}? Write '{digits} {rest}' (or '{digits}*{rest}') for the coefficient; {rename}"
    )


def _product(coeff: str, digits: str) -> str:
    """``coeff * digits`` as text; a product too long to be a coefficient stays symbolic."""
    if len(digits) > 30:
        return f"{coeff} x {fmt_digits(digits)}"
    return str(int(coeff) * int(digits))


