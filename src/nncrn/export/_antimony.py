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

import bisect
import math
import re
import sys

from nncrn._errors import FormatError, InputError
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
from nncrn.export._sbml_inputs import with_inputs
from nncrn.export._sbml_outputs import output_ids
from nncrn.export._sbml_read import model_to_network, read_document, refuse_surrogates
from nncrn.network import ReactionNetwork, require_network
from nncrn.network._numbers import fmt_digits

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


def to_antimony(network: ReactionNetwork, *, inputs: object = None) -> str:
    """Readable Antimony model of ``network``; antimony turns it into the SBML of :func:`to_sbml`.

    The readout is written as assignment rules named after the classes (``setosa := Y0p -
    Y0n``), as in the SBML export. ``inputs``: one row of features whose concentrations the
    input species start at (as :func:`to_sbml`). Pure string building: needs no optional
    package.

    Raises
    ------
    FormatError
        A species name is an Antimony reserved word (``time``, ``pi``, ``species``, ...), or
        a label holds a control character XML cannot represent.
    InputError
        A subnormal initial concentration or rate constant (the SBML route cannot parse it).
    """
    network = require_network(network, "to_antimony")
    network, _ = with_inputs(network, inputs, "to_antimony")
    _check_names(network)
    check_xml_labels(network, "Antimony (which loads through SBML)", readouts=False)
    check_sbml_numbers(network, "Antimony")
    ids = element_ids(network)
    compartment, reaction_ids, param_ids = ids.compartment, ids.reactions, ids.params
    boundary = held_inputs(network)
    taken = {*network.species_names, ids.model, compartment, *reaction_ids, *param_ids,
             *ANTIMONY_RESERVED}  # fmt: skip
    outputs = output_ids(network, taken)
    lines = [
        f"// nncrn reaction network ({provenance_text(network)})",
        "// Mass action without factorials: '2 Y => Y; cell * k * Y^2' means dY/dt = -k Y^2.",
        "// '=>' is an irreversible reaction; input species no reaction changes ($X) are held",
        "// constant, inputs that reactions consume or produce change like any species.",
        *pragma_lines(network, "//", initial=False, output_ids=[sid for sid, _ in outputs]),
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
    if outputs:
        lines += ["", "  // Outputs (the readout), as concentrations"]
        for (sid, _), ro in zip(outputs, network.readout or (), strict=True):
            formula = ro.plus if ro.minus is None else f"{ro.plus} - {ro.minus}"
            lines.append(f"  {sid} := {formula};")
    labelled = [(rid, r.label) for rid, r in zip(reaction_ids, network.reactions, strict=True)
                if r.label]  # fmt: skip
    # display names of the outputs, where Antimony and XML can hold them as they are
    labelled += [(sid, name) for sid, name in outputs
                 if name != sid and one_line(name) == name and '"' not in name]  # fmt: skip
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


# Antimony's lexer: comments (a line comment ends at any line break, '#' starts one too),
# strings, numbers and identifiers. A line comment is cut at the first line-break
# character of any kind and strings never span lines, so text Antimony reads as code is
# never skipped here.
_TOKEN = re.compile(
    r"""(?P<skip>//[^\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*|#[^\r\n\x0b\x0c\x1c-\x1e\x85\u2028\u2029]*"""
    r"""|/\*.*?\*/|"[^"\r\n]*")"""
    r"|(?P<number>(?<![A-Za-z0-9_.])(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)",
    re.DOTALL,
)
_LINE_BREAK = re.compile("\r\n|[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _check_tokens(text: str, allow_imports: bool) -> None:
    """Refuse ``import`` (unless allowed) and numbers a double cannot hold, naming the line.

    Antimony's ``import "file"`` reads another file into the model (any path on the
    machine). A literal that overflows a double (``1e400``) is read by Antimony as ``1``
    with the unit ``e400``, and one that underflows (``1e-400``) as 0, silently.
    """
    starts = [0] + [m.end() for m in _LINE_BREAK.finditer(text)]

    def where(pos: int) -> str:
        lineno = bisect.bisect_right(starts, pos)
        line = text[starts[lineno - 1] :].splitlines()[0].strip()
        return f"Antimony line {lineno} ({line if len(line) <= 60 else line[:57] + '...'!r})"

    for m in _TOKEN.finditer(text):
        if m["name"] == "import" and not allow_imports:
            raise FormatError(
                f"{where(m.start())}: 'import' reads another file into the model, and "
                "from_antimony does not follow file references by default (a model file could "
                "name any file on this machine). Paste the imported model into the text, or "
                "pass allow_imports=True if you trust the text and the files it names"
            )
        if m["number"] is not None:
            literal = m["number"]
            value = float(literal)
            mantissa = literal.lower().partition("e")[0]
            if math.isinf(value):
                raise FormatError(
                    f"{where(m.start())}: the number {fmt_digits(literal)} is too large for a "
                    "double (above about 1.8e308), and Antimony would read it as 1 with the "
                    f"unit 'e...'; use a finite value"
                )
            if value < sys.float_info.min and mantissa.strip("0.") != "":
                raise FormatError(
                    f"{where(m.start())}: the number {fmt_digits(literal)} is below the smallest "
                    f"normal double ({sys.float_info.min!r}); Antimony reads it as 0 or "
                    "inexactly, and SBML readers cannot parse it. Use 0 or rescale the unit"
                )


def from_antimony(text: str, *, allow_imports: bool = False) -> ReactionNetwork:
    """Load Antimony text with the antimony package and read the resulting SBML model.

    ``//@nncrn`` pragmas restore roles, input ranges, readout and metadata. Needs the
    ``antimony`` package (``pip install 'nncrn[interop]'``).

    ``allow_imports``: Antimony's ``import "file"`` reads another file (any path) into
    the model; by default such text is refused with a :class:`~nncrn.FormatError` naming
    the line, since a model file should not make nncrn read other files. Pass True for
    trusted text whose imports you want followed.

    Every number in the text must be a finite double above the subnormal range: Antimony
    itself reads ``1e400`` as 1 (with a unit ``e400``), so such a literal is refused, as is
    an assignment ``k = 0.5`` whose value Antimony read differently.
    """
    antimony = import_optional("antimony", "Antimony import", extra="interop")
    if not isinstance(text, str):
        raise FormatError(f"from_antimony expects Antimony text (str), got {type(text).__name__}")
    if not isinstance(allow_imports, bool):
        raise InputError(
            f"from_antimony(allow_imports=...) must be True or False, got {allow_imports!r}"
        )
    text = text.removeprefix("\ufeff")
    refuse_surrogates(text, "the Antimony text")
    _check_tokens(text, allow_imports)
    info: NncrnInfo | None = None
    literals: dict[str, tuple[float, str] | None] = {}
    display: dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith(f"//{PRAGMA}"):
            info = info or NncrnInfo()
            parse_pragma(stripped[len(PRAGMA) + 2 :], info, f"Antimony line {lineno}")
        elif m := _ASSIGN.match(line.split("//")[0]):
            # a name assigned twice (in two modules, say) is left as Antimony read it
            once = m.group(1) not in literals
            literals[m.group(1)] = (float(m.group(2)), f"Antimony line {lineno}") if once else None
        elif m := _DISPLAY_NAME.match(line):
            display[m.group(1)] = _ESCAPED.sub(r"\1", m.group(2))
    antimony.clearPreviousLoads()
    if antimony.loadAntimonyString(text) < 0:
        raise FormatError(f"Antimony text does not load: {_utf8(antimony.getLastError).strip()}")
    main = _utf8(antimony.getMainModuleName)
    if not main:
        raise FormatError("the Antimony text defines no model; it needs 'model name ... end'")
    sbml = _utf8(lambda: antimony.getSBMLString(main))
    antimony.clearPreviousLoads()
    model = read_document(sbml).getModel()
    _restore_literals(model, literals)
    _restore_display_names(model, display)
    if info is not None and info.readout is None:
        info.readout = []
    return model_to_network(model, info)


def _utf8(call) -> str:
    """``call()``, a function of the antimony package that returns text, even where its
    bytes are not UTF-8 (an error message that quotes half of a multi-byte character)."""
    try:
        return call() or ""
    except UnicodeDecodeError as exc:
        return exc.object.decode("utf-8", "replace")


def _restore_literals(model, literals: dict[str, tuple[float, str] | None]) -> None:
    """Put back digits Antimony's 15-digit printing dropped; refuse values Antimony misread.

    Antimony prints 15 significant digits, so a value that agrees with its literal to 15
    digits is replaced by the literal. One that does not agree was not read as written
    (a number Antimony split into a value and a unit, say) and is an error naming the line.
    """

    def restore(ident: str, printed: float, kind: str, setter) -> None:
        entry = literals.get(ident)
        if entry is None:
            return
        literal, where = entry
        if float(f"{literal:.15g}") == printed or literal == printed:
            setter(literal)
            return
        raise FormatError(
            f"{where}: {ident} = {literal!r} in the text, but Antimony read the {kind} as "
            f"{printed!r}; write the number as a plain decimal (e.g. 0.25 or 2.5e-3) without "
            "units"
        )

    for i in range(model.getNumParameters()):
        p = model.getParameter(i)
        if p.isSetValue():
            restore(p.getId(), p.getValue(), "parameter", p.setValue)
    for i in range(model.getNumSpecies()):
        sp = model.getSpecies(i)
        if sp.isSetInitialConcentration():
            restore(sp.getId(), sp.getInitialConcentration(), "initial concentration",
                    sp.setInitialConcentration)  # fmt: skip
    for i in range(model.getNumCompartments()):
        c = model.getCompartment(i)
        if c.isSetSize():
            restore(c.getId(), c.getSize(), "compartment size", c.setSize)


def _restore_display_names(model, display: dict[str, str]) -> None:
    """Put back reaction names the SBML route decoded (``&amp;`` -> ``&``), where they agree."""
    for i in range(model.getNumReactions()):
        rx = model.getReaction(i)
        literal = display.get(rx.getId())
        if literal is not None and rx.isSetName():
            if rx.getName() in (literal, _xml_decoded(literal)):
                rx.setName(literal)
