"""Antimony text (Tellurium's human-readable model language) to and from a network.

The writer produces the same model as :func:`~nncrn.export.to_sbml` (compartment ``cell``
of volume 1, input species that no reaction changes as boundary species ``$X``, any other
input as an ordinary species, parameters ``k_r{i}``, laws ``cell * k_r{i} * X^a * ...``).
Antimony's ``->`` declares a *reversible* reaction and ``=>`` an irreversible one; nncrn
reactions are irreversible, so the writer uses ``=>``. Reactions are grouped by the layer
their label names, with the label as a comment and as the reaction's display name
(``r3 is "..."``).

What labels keep: Antimony strings cannot hold ``"`` or line breaks, so a ``"`` becomes
``'`` and runs of whitespace (tabs, newlines) collapse to one space; a backslash is
written doubled (Antimony's escape) and reads back as one backslash. A label with a
control character XML cannot hold is refused (Antimony models load through SBML).

Names: Antimony reserves keywords, built-in functions and constants (``time``, ``pi``,
``exp``, ``species``, ``model``, ``in``, ... :data:`~nncrn.export._common.ANTIMONY_RESERVED`);
:func:`to_antimony` refuses a network with such a species name (a
:class:`~nncrn.FormatError` listing them) instead of writing text Antimony cannot load.
Rename those species, or use SBML or CRN text, which have no reserved words.

Roles, input ranges, readout and metadata travel in ``//@nncrn`` pragma comments (see
:mod:`nncrn.export._common`), which Antimony ignores and :func:`from_antimony` reads.

Precision: Antimony stores numbers as doubles but prints them with 15 significant digits
when it converts to SBML. :func:`from_antimony` therefore takes a parameter value or
initial concentration from a literal ``name = number`` assignment in the text when that
literal agrees with Antimony's value to 15 digits, so a round trip is exact. It likewise
takes a reaction's display name from its ``r3 is "..."`` line when the two agree, since the
SBML route decodes text that looks like an XML entity (``&amp;``). Subnormal numbers
(below ``2.2e-308``) do not survive the SBML route and are refused by the writer.
"""

from __future__ import annotations

import re

from nncrn._errors import FormatError
from nncrn.export._common import (
    ANTIMONY_RESERVED,
    PRAGMA,
    NncrnInfo,
    check_sbml_numbers,
    check_xml_labels,
    element_ids,
    held_inputs,
    import_optional,
    layer_of,
    one_line,
    parse_pragma,
    pragma_lines,
    provenance_text,
)
from nncrn.export._sbml_read import model_to_network, read_document
from nncrn.network import ReactionNetwork, require_network

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


def _check_names(network: ReactionNetwork) -> None:
    clash = [s.name for s in network.species if s.name in ANTIMONY_RESERVED]
    if clash:
        raise FormatError(
            f"species {', '.join(map(repr, clash))} "
            + ("is an Antimony reserved word" if len(clash) == 1 else "are Antimony reserved words")
            + " (a keyword, built-in function or constant), so Antimony could not load the "
            "text. Rename "
            + ("it" if len(clash) == 1 else "them")
            + f" (e.g. {clash[0]!r} -> {clash[0] + '_'!r}) before to_antimony, or export "
            "SBML (to_sbml) or CRN text (to_crn_text), which have no reserved words"
        )


def _label_text(label: str) -> str:
    """A label as the body of an Antimony string: no ``"``, no line break, backslashes doubled."""
    return one_line(label, keep_controls=True).replace("\\", "\\\\").replace('"', "'")


def to_antimony(network: ReactionNetwork) -> str:
    """Readable Antimony model of ``network``; antimony turns it into the SBML of :func:`to_sbml`.

    Pure string building: needs no optional package.

    Raises
    ------
    FormatError
        A species name is an Antimony reserved word (``time``, ``pi``, ``species``, ...), or
        a label holds a control character XML cannot represent.
    InputError
        A subnormal initial concentration or rate constant (the SBML route cannot parse it).
    """
    network = require_network(network, "to_antimony")
    _check_names(network)
    check_xml_labels(network, "Antimony (which loads through SBML)", readouts=False)
    check_sbml_numbers(network, "Antimony")
    ids = element_ids(network)
    compartment, reaction_ids, param_ids = ids.compartment, ids.reactions, ids.params
    boundary = held_inputs(network)
    lines = [
        f"// nncrn reaction network ({provenance_text(network)})",
        "// Mass action without factorials: '2 Y => Y; cell * k * Y^2' means dY/dt = -k Y^2.",
        "// '=>' is an irreversible reaction; input species no reaction changes ($X) are held",
        "// constant, inputs that reactions consume or produce change like any species.",
        *pragma_lines(network, "//", initial=False),
        "",
        f"model {ids.model}",
        f"  compartment {compartment} = 1;",
    ]
    if network.species:
        lines += ["", "  // Species (a leading '$' marks a boundary species, held constant)"]
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
            lines += ["", f"  // --- {one_line(group)}"]
        law = _law(compartment, param_ids[i], r.reactants)
        text = f"{_side(r.reactants, boundary)} => {_side(r.products, boundary)}".strip()
        note = f"  // {one_line(r.label)}" if r.label and r.label != group else ""
        lines.append(f"  {reaction_ids[i]}: {text}; {law};{note}")
    if network.reactions:
        lines += ["", "  // Rate constants"]
        lines += [f"  {p} = {r.rate!r};" for p, r in zip(param_ids, network.reactions, strict=True)]
    labelled = [(rid, r.label) for rid, r in zip(reaction_ids, network.reactions, strict=True)
                if r.label]  # fmt: skip
    if labelled:
        lines += ["", "  // Reaction labels"]
        lines += [f'  {rid} is "{_label_text(label)}";' for rid, label in labelled]
    lines += ["end", ""]
    return "\n".join(lines)


_ASSIGN = re.compile(
    r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*;?\s*$"
)
_DISPLAY_NAME = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s+is\s+"([^"]*)"\s*;?\s*(?://.*)?$')
_ESCAPED = re.compile(r"\\(.)")
_XML_REF = re.compile(r"&(amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);")
_XML_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_decoded(text: str) -> str:
    """``text`` as an XML reader returns it when libsbml wrote it unescaped."""

    def ref(m: re.Match) -> str:
        body = m.group(1)
        if body in _XML_NAMED:
            return _XML_NAMED[body]
        code = int(body[2:], 16) if body[1] == "x" else int(body[1:])
        return chr(code) if code <= 0x10FFFF else m.group(0)

    return _XML_REF.sub(ref, text)


def from_antimony(text: str) -> ReactionNetwork:
    """Load Antimony text with the antimony package and read the resulting SBML model.

    ``//@nncrn`` pragmas restore roles, input ranges, readout and metadata. Needs the
    ``antimony`` package (``pip install 'nncrn[interop]'``).
    """
    antimony = import_optional("antimony", "Antimony import", extra="interop")
    if not isinstance(text, str):
        raise FormatError(f"from_antimony expects Antimony text (str), got {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    info: NncrnInfo | None = None
    literals: dict[str, float] = {}
    display: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(f"//{PRAGMA}"):
            info = info or NncrnInfo()
            parse_pragma(stripped[len(PRAGMA) + 2 :], info, f"Antimony line {lineno}")
        elif m := _ASSIGN.match(line.split("//")[0]):
            literals[m.group(1)] = float(m.group(2))
        elif m := _DISPLAY_NAME.match(line):
            display[m.group(1)] = _ESCAPED.sub(r"\1", m.group(2))
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        raise FormatError(f"Antimony text does not load: {antimony.getLastError().strip()}")
    sbml = antimony.getSBMLString(antimony.getMainModuleName())
    antimony.clearPreviousLoads()
    model = read_document(sbml).getModel()
    _restore_literals(model, literals)
    _restore_display_names(model, display)
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


def _restore_display_names(model, display: dict[str, str]) -> None:
    """Put back reaction names the SBML route decoded (``&amp;`` -> ``&``), where they agree."""
    for i in range(model.getNumReactions()):
        rx = model.getReaction(i)
        literal = display.get(rx.getId())
        if literal is not None and rx.isSetName():
            if rx.getName() in (literal, _xml_decoded(literal)):
                rx.setName(literal)
