"""Antimony text (Tellurium's human-readable model language) to and from a network.

The writer produces the same model as :func:`~nncrn.export.to_sbml` (compartment ``cell``
of volume 1, input species as boundary species ``$X``, parameters ``k_r{i}``, laws
``cell * k_r{i} * X^a * ...``). Antimony's ``->`` declares a *reversible* reaction and
``=>`` an irreversible one; nncrn reactions are irreversible, so the writer uses ``=>``.
Reactions are grouped by the layer their label names, with the label as a comment and as
the reaction's display name (``r3 is "..."``; a ``"`` in a label becomes ``'``).

Roles, input ranges, readout and metadata travel in ``//@nncrn`` pragma comments (see
:mod:`nncrn.export._common`), which Antimony ignores and :func:`from_antimony` reads.

Precision: Antimony stores numbers as doubles but prints them with 15 significant digits
when it converts to SBML. :func:`from_antimony` therefore takes a parameter value or
initial concentration from a literal ``name = number`` assignment in the text when that
literal agrees with Antimony's value to 15 digits, so a round trip is exact.
"""

from __future__ import annotations

import re

from nncrn._errors import FormatError
from nncrn.export._common import (
    PRAGMA,
    NncrnInfo,
    element_ids,
    import_optional,
    layer_of,
    parse_pragma,
    pragma_lines,
    provenance_text,
)
from nncrn.export._sbml_read import model_to_network, read_document
from nncrn.network import ReactionNetwork, Role, require_network

__all__ = ["from_antimony", "to_antimony"]


def _law(compartment: str, param: str, reactants) -> str:
    factors = [compartment, param]
    factors += [s if c == 1 else f"{s}^{c}" for s, c in reactants.items()]
    return " * ".join(factors)


def _side(side, boundary: set[str]) -> str:
    terms = []
    for s, c in side.items():
        name = f"${s}" if s in boundary else s
        terms.append(name if c == 1 else f"{c} {name}")
    return " + ".join(terms)


def to_antimony(network: ReactionNetwork) -> str:
    """Readable Antimony model of ``network``; antimony turns it into the SBML of :func:`to_sbml`.

    Pure string building: needs no optional package.
    """
    network = require_network(network, "to_antimony")
    compartment, reaction_ids, param_ids = element_ids(network)
    boundary = {s.name for s in network.species if s.role is Role.INPUT}
    lines = [
        f"// nncrn reaction network ({provenance_text(network)})",
        "// Mass action without factorials: '2 Y => Y; cell * k * Y^2' means dY/dt = -k Y^2.",
        "// '=>' is an irreversible reaction; input species ($X) are held constant.",
        *pragma_lines(network, "//", initial=False),
        "",
        "model nncrn_network",
        f"  compartment {compartment} = 1;",
    ]
    if network.species:
        lines += ["", "  // Species (input species are boundary species, held constant)"]
        lines += [
            f"  species {'$' if s.name in boundary else ''}{s.name} in {compartment};"
            for s in network.species
        ]
    lines += ["", "  // Initial concentrations"]
    lines += [f"  {s.name} = {s.initial!r};" for s in network.species]
    group = None
    lines += ["", "  // Reactions"]
    for i, r in enumerate(network.reactions):
        key = layer_of(r.label)
        if key is not None and key != group:
            group = key
            lines += ["", f"  // --- {group}"]
        law = _law(compartment, param_ids[i], r.reactants)
        text = f"{_side(r.reactants, boundary)} => {_side(r.products, boundary)}".strip()
        note = f"  // {_one_line(r.label)}" if r.label and r.label != group else ""
        lines.append(f"  {reaction_ids[i]}: {text}; {law};{note}")
    if network.reactions:
        lines += ["", "  // Rate constants"]
        lines += [f"  {p} = {r.rate!r};" for p, r in zip(param_ids, network.reactions, strict=True)]
    labelled = [(rid, r.label) for rid, r in zip(reaction_ids, network.reactions, strict=True)
                if r.label]  # fmt: skip
    if labelled:
        lines += ["", "  // Reaction labels"]
        lines += [f'  {rid} is "{_one_line(label).replace(chr(34), chr(39))}";'
                  for rid, label in labelled]  # fmt: skip
    lines += ["end", ""]
    return "\n".join(lines)


def _one_line(text: str) -> str:
    return " ".join(text.split())


_ASSIGN = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*;?\s*$"
)


def from_antimony(text: str) -> ReactionNetwork:
    """Load Antimony text with the antimony package and read the resulting SBML model.

    ``//@nncrn`` pragmas restore roles, input ranges, readout and metadata. Needs the
    ``antimony`` package (``pip install 'nncrn[interop]'``).
    """
    antimony = import_optional("antimony", "Antimony import", extra="interop")
    if not isinstance(text, str):
        raise FormatError(f"from_antimony expects Antimony text (str), got {type(text).__name__}")
    info: NncrnInfo | None = None
    literals: dict[str, float] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(f"//{PRAGMA}"):
            info = info or NncrnInfo()
            parse_pragma(stripped[len(PRAGMA) + 2 :], info, f"Antimony line {lineno}")
        elif m := _ASSIGN.match(line.split("//")[0]):
            literals[m.group(1)] = float(m.group(2))
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        raise FormatError(f"Antimony text does not load: {antimony.getLastError().strip()}")
    sbml = antimony.getSBMLString(antimony.getMainModuleName())
    antimony.clearPreviousLoads()
    model = read_document(sbml).getModel()
    _restore_literals(model, literals)
    if info is not None and info.readout is None:
        info.readout = []
    return model_to_network(model, info)


def _restore_literals(model, literals: dict[str, float]) -> None:
    """Put back digits Antimony's 15-digit printing dropped (only where the values agree)."""

    def agrees(printed: float, literal: float) -> bool:
        return float(f"{literal:.15g}") == printed or literal == printed

    for i in range(model.getNumParameters()):
        p = model.getParameter(i)
        lit = literals.get(p.getId())
        if lit is not None and p.isSetValue() and agrees(p.getValue(), lit):
            p.setValue(lit)
    for i in range(model.getNumSpecies()):
        sp = model.getSpecies(i)
        lit = literals.get(sp.getId())
        if lit is not None and sp.isSetInitialConcentration():
            if agrees(sp.getInitialConcentration(), lit):
                sp.setInitialConcentration(lit)
