"""Read SBML mass-action models (nncrn's own and others') into a :class:`ReactionNetwork`.

Every SBML construct is either translated exactly or refused with a message:

* SBML core only: a document that uses an SBML Level 3 package marked
  ``required="true"`` (``comp`` hierarchical models above all, whose submodels would
  otherwise be dropped silently) is refused, naming the package; flatten ``comp`` models
  first (libsbml's ``"flatten comp"`` converter). Optional packages (``required="false"``:
  ``layout``, ``render``, ``fbc`` bounds, ...) cannot change the kinetics and are ignored;
* kinetic laws must be products of constants (numbers, parameters, local parameters,
  compartment sizes) and integer powers of species, whose exponents equal the reactant
  coefficients (species in the law that are not reactants become catalysts; ``A^0`` is
  1). A local parameter shadows a global parameter, compartment or species of the same id,
  as SBML specifies. A law ``forward - reverse`` (reversible reaction) becomes two
  irreversible reactions; a term whose constant is 0 (``kr = 0``) is dropped. Anything
  else (Michaelis-Menten, functions, ``time``, division by zero, ...) is refused, naming
  reaction and law;
* stoichiometries must be non-negative integers; a Level 1/2 speciesReference without a
  ``stoichiometry`` attribute has the default 1 (Level 3 has no default and needs one);
  ``stoichiometryMath`` is refused;
* two SBML reactions with the same stoichiometry are refused, naming both ids (merge them:
  rate constants add);
* one compartment of constant, set size ``V`` holds every species. Since SBML laws are in
  amount/time, the nncrn rate constant is ``(constant factors) * V^m / V``, where ``m``
  counts factors of species declared by amount (``hasOnlySubstanceUnits``); all species
  become concentrations (an initial amount ``n`` becomes ``n / V``);
* boundary or constant species never change, so they become catalysts of the reactions
  that would consume or produce them (``S_ext -> A`` becomes ``S_ext -> S_ext + A``);
* rules, events, initial assignments, constraints, conversion factors, ``fast``
  reactions and non-integer stoichiometries are refused.
* nncrn's stochastic export (``to_sbml(network, stochastic_volume=...)``, marked by a
  ``stochasticVolume`` annotation) is refused: its counts are rounded and its laws are
  propensities with falling factorials.

Precision: the values are libsbml's doubles, read exactly from the text. A UTF-8
byte-order mark before the XML is ignored.
"""

from __future__ import annotations

import math
import re
from collections.abc import Set

import numpy as np

from nncrn._errors import FormatError, UnsupportedModelError
from nncrn.export._common import NncrnInfo, import_optional
from nncrn.export._sbml_write import NNCRN_NS
from nncrn.network import Reaction, ReactionNetwork, Readout, Role, Species
from nncrn.network._grammar import MAX_COEFFICIENT
from nncrn.network._jsontext import loads

__all__ = ["from_sbml", "model_to_network", "read_document", "refuse_surrogates"]


def read_document(text: str):
    """Parse SBML text with libsbml; XML or SBML errors become a :class:`FormatError`."""
    libsbml = import_optional("libsbml", "SBML import")
    if not isinstance(text, str):
        raise FormatError(f"from_sbml expects SBML text (str), got {type(text).__name__}")
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise FormatError(
            "the SBML text is empty (nothing but whitespace); pass the contents of an SBML "
            "file, which starts with '<?xml' and holds an <sbml> element"
        )
    refuse_surrogates(text, "the SBML text")
    _check_xml_shape(text)
    doc = libsbml.readSBMLFromString(text)
    _refuse_packages(doc, text)
    errors = [
        doc.getError(i)
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    if errors:
        first = errors[0]
        raise FormatError(
            f"SBML is malformed: line {first.getLine()}: {first.getMessage().strip()} "
            f"({len(errors)} error(s) in all)"
        )
    if doc.getModel() is None:
        raise FormatError("SBML document contains no <model>")
    return doc


_SURROGATE = re.compile("[\ud800-\udfff]")


def refuse_surrogates(text: str, what: str) -> None:
    """Refuse a lone surrogate (``"\\ud800"``): not a character, so no file holds one and
    the readers' C libraries cannot take the text."""
    bad = _SURROGATE.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise FormatError(
            f"{what} holds the lone surrogate {bad.group()!r} (U+{ord(bad.group()):04X}) on "
            f"line {line}: half of a UTF-16 pair, not a character, so it is not text any "
            "file can hold. Decode the file as UTF-8 (open(path, encoding='utf-8')) and "
            "pass that text"
        )


MAX_XML_DEPTH = 500
"""How deeply SBML elements may nest. libsbml crashes the process (a C stack overflow, no
exception) on MathML nested a few thousand deep; nncrn's own files nest about 10 deep and
a kinetic law a few dozen at most."""

_XML_SKIP = re.compile(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.DOTALL)
_XML_TAG_BODY = r"""(?:[^<>"']|"[^"<]*"|'[^'<]*')*"""
_XML_EMPTY = re.compile(rf"<[A-Za-z_]{_XML_TAG_BODY}/>")
_XML_END = re.compile(rf"</{_XML_TAG_BODY}>")
_XML_START = re.compile(rf"<[A-Za-z_]{_XML_TAG_BODY}>")
_XML_OTHER = re.compile(r"[^\x00\x01]+")


def _check_xml_shape(text: str) -> None:
    """Refuse entity declarations and nesting deeper than :data:`MAX_XML_DEPTH`, before libsbml.

    Entities (``<!ENTITY ...>``) are refused because libsbml expands them, so a few
    lines could stand for nesting or text of any size. The depth is counted on the raw
    text with regular expressions and numpy (no Python loop over elements), since the
    crash happens inside libsbml's reader.
    """
    if "<!ENTITY" in text:
        raise FormatError(
            "the SBML text declares an XML entity (<!ENTITY ...>); SBML does not use entities "
            "and nncrn refuses them (an entity can expand to text of any size). Remove the "
            "DOCTYPE declaration and write the text out"
        )
    marks = _XML_SKIP.sub("", text.replace("\x00", "").replace("\x01", ""))
    marks = _XML_START.sub("\x00", _XML_END.sub("\x01", _XML_EMPTY.sub("", marks)))
    marks = _XML_OTHER.sub("", marks)
    if len(marks) <= 2 * MAX_XML_DEPTH:
        return
    steps = np.where(np.frombuffer(marks.encode("ascii"), dtype=np.uint8) == 0, 1, -1)
    depth = int(np.cumsum(steps, dtype=np.int64).max())
    if depth > MAX_XML_DEPTH:
        raise FormatError(
            f"the SBML elements nest {depth} deep, more than the {MAX_XML_DEPTH} levels nncrn "
            "reads (its own files nest about 10 deep; libsbml itself crashes on a few "
            "thousand). A kinetic law nested this deeply is not mass action; write it as a "
            "flat product k * A * B"
        )


_SBML_TAG = re.compile(r"<(?:\w+:)?sbml\b[^>]*>")
_REQUIRED = re.compile(r"""\b([A-Za-z_][\w.-]*):required\s*=\s*["'](?:true|1)["']""")
_COMP_URI = re.compile(r"^http://www\.sbml\.org/sbml/level3/version\d+/comp/version\d+$")


def _refuse_packages(doc, text: str) -> None:
    """Refuse SBML Level 3 packages that change the model's meaning (``required="true"``).

    ``comp`` is refused by its namespace (its submodels would be dropped); any other
    package by the ``prefix:required="true"`` attribute of the ``<sbml>`` element, whether
    libsbml knows the package or not.
    """
    if doc.getLevel() < 3:  # packages are Level 3; libsbml lists Level 2 annotation layouts
        return
    ns = doc.getNamespaces()
    uris = [ns.getURI(i) for i in range(ns.getLength())] if ns else []
    comp = next((uri for uri in uris if _COMP_URI.match(uri)), None)
    if comp is not None:
        raise UnsupportedModelError(
            f"the SBML document uses the 'comp' package ({comp}): a hierarchical model whose "
            "submodels nncrn would drop, since it reads SBML core only. Flatten it first, e.g. "
            "with libsbml: props = libsbml.ConversionProperties(); props.addOption('flatten "
            "comp', True); doc.convert(props); then pass libsbml.writeSBMLToString(doc)"
        )
    tag = _SBML_TAG.search(text)
    for prefix in _REQUIRED.findall(tag.group(0) if tag else ""):
        uri = (ns.getURI(prefix) if ns else "") or "undeclared"
        raise UnsupportedModelError(
            f"the SBML document requires the SBML Level 3 package {prefix!r} ({uri}, "
            'required="true": it changes the model\'s mathematics); nncrn reads SBML core '
            "only. Convert the model to core SBML (libsbml's converters) or remove the package"
        )


def from_sbml(text: str) -> ReactionNetwork:
    """Read a mass-action SBML model (any level/version libsbml reads) into a network.

    nncrn's own annotations restore roles, input ranges, readout and metadata; a foreign
    model gets role ``auxiliary`` everywhere and ``metadata["source"]`` naming the model.
    See the module docstring for what is translated and what is refused.
    """
    doc = read_document(text)
    model = doc.getModel()
    return model_to_network(model, _annotation_info(model))


class _Law:
    """A kinetic law flattened into mass-action terms ``(constant, {species: exponent})``."""

    def __init__(self, reaction, local: dict[str, float | None],
                 globals_: dict[str, float | None], species: set[str]):  # fmt: skip
        import libsbml

        self.libsbml = libsbml
        self.reaction = reaction
        self.local = local
        self.globals = globals_
        # SBML: a local parameter shadows any global id, species included.
        self.species = species - local.keys()
        self.formula = libsbml.formulaToL3String(reaction.getKineticLaw().getMath())

    def value(self, name: str) -> float | None:
        return self.local[name] if name in self.local else self.globals.get(name)

    def divide(self, numerator: float, node) -> float:
        """``numerator / value(node)``; a zero denominator is refused, naming it."""
        den = self._number(node)
        if den is None:
            raise self.refuse("a species or expression in a denominator")
        return self._quotient(numerator, den, node)

    def _quotient(self, numerator: float, den: float, node) -> float:
        """``numerator / den``, ``den`` the value of ``node``; a zero is refused, naming it."""
        if den == 0:
            raise UnsupportedModelError(
                f"reaction {self.reaction.getId()!r} has kinetic law '{self.formula}', which "
                f"divides by zero (its denominator '{self.libsbml.formulaToL3String(node)}' is 0); fix the "
                "value of that parameter, compartment size or number"
            )
        return numerator / den

    def refuse(self, why: str) -> UnsupportedModelError:
        return UnsupportedModelError(
            f"reaction {self.reaction.getId()!r} has kinetic law '{self.formula}', which is not "
            f"mass action ({why}); nncrn reads only laws of the form k * A^a * B^b (or "
            "forward - reverse for a reversible reaction). Rewrite the model as elementary "
            "mass-action steps"
        )

    def terms(self, node) -> list[tuple[float, dict[str, int]]]:
        lib = self.libsbml
        if node.getType() == lib.AST_MINUS and node.getNumChildren() == 2:
            return [self.term(node.getChild(0)), self.term(node.getChild(1))]
        return [self.term(node)]

    def term(self, node) -> tuple[float, dict[str, int]]:
        const = [1.0]
        exps: dict[str, int] = {}
        self._collect(node, const, exps)
        return const[0], exps

    def _number(self, node) -> float | None:
        lib = self.libsbml
        t = node.getType()
        if t == lib.AST_INTEGER:
            return float(node.getInteger())
        if t == lib.AST_RATIONAL:
            return self._quotient(float(node.getNumerator()), float(node.getDenominator()), node)
        if t in (lib.AST_REAL, lib.AST_REAL_E):
            return float(node.getReal())
        if t == lib.AST_NAME and node.getName() not in self.species:
            value = self.value(node.getName())
            if value is None:
                raise self.refuse(f"{node.getName()!r} has no constant value")
            return value
        if t == lib.AST_DIVIDE:
            num, den = self._number(node.getChild(0)), self._number(node.getChild(1))
            if num is None or den is None:
                return None
            return self._quotient(num, den, node.getChild(1))
        return None

    def _collect(self, node, const: list[float], exps: dict[str, int]) -> None:
        lib = self.libsbml
        t = node.getType()
        value = self._number(node)
        if value is not None:
            const[0] *= value
        elif t == lib.AST_TIMES:
            for i in range(node.getNumChildren()):
                self._collect(node.getChild(i), const, exps)
        elif t == lib.AST_NAME:
            exps[node.getName()] = exps.get(node.getName(), 0) + 1
        elif t == lib.AST_DIVIDE:
            const[0] = self.divide(const[0], node.getChild(1))
            self._collect(node.getChild(0), const, exps)
        elif t in (lib.AST_POWER, lib.AST_FUNCTION_POWER) and node.getNumChildren() == 2:
            base, exponent = node.getChild(0), self._number(node.getChild(1))
            if base.getType() != lib.AST_NAME or base.getName() not in self.species:
                raise self.refuse("a power of a non-species expression")
            name = base.getName()
            if exponent is None:
                raise self.refuse(f"species {name!r} raised to a power that is not a constant")
            if not math.isfinite(exponent):
                raise self.refuse(f"species {name!r} raised to the power {exponent}")
            if exponent != int(exponent):
                raise self.refuse(f"species {name!r} raised to the non-integer power {exponent:g}")
            if exponent < 0:
                raise self.refuse(f"species {name!r} raised to the negative power {exponent:g}")
            if exponent:  # A^0 is 1
                exps[name] = exps.get(name, 0) + int(exponent)
        else:
            raise self.refuse(f"it contains '{lib.formulaToL3String(node)}'")


def _refuse_global(model, outputs: Set[str] = frozenset(), features: Set[str] = frozenset()) -> None:
    """Refuse what a mass-action network cannot express; the assignment rules of nncrn's
    own readout parameters (``outputs``, from the annotation) are the readout itself, and
    the initial assignments of its input species from feature parameters (``features``:
    the species) are their initial concentrations."""
    species = {model.getSpecies(i).getId() for i in range(model.getNumSpecies())}
    rules = [model.getRule(i) for i in range(model.getNumRules())]
    rules = [r for r in rules if not (r.isAssignment() and r.getVariable() in outputs
                                      and r.getVariable() not in species)]  # fmt: skip
    assignments = [model.getInitialAssignment(i) for i in range(model.getNumInitialAssignments())]
    assignments = [a for a in assignments if a.getSymbol() not in features]
    checks = [
        (len(rules), "rules", lambda i: rules[i], _rule_kind),
        (model.getNumEvents(), "events", lambda i: model.getEvent(i), None),
        (len(assignments), "initial assignments", lambda i: assignments[i], None),
        (model.getNumConstraints(), "constraints", lambda i: model.getConstraint(i), None),
    ]  # fmt: skip
    for count, what, get, describe in checks:
        if count:
            first = get(0)
            detail = describe(first) if describe else _element_name(first)
            raise UnsupportedModelError(
                f"the SBML model has {count} {what} (first: {detail}); a mass-action "
                f"ReactionNetwork cannot express {what}. Remove them or rewrite the model as "
                "reactions only"
            )
    if model.isSetConversionFactor():
        raise UnsupportedModelError("the SBML model sets a conversionFactor; nncrn cannot read it")


def _from_feature(model, species: str, parameter: str, extra: dict) -> float:
    """Initial concentration ``(feature - low) * scale`` of an input set by a feature parameter."""
    p = model.getParameter(parameter)
    if p is None or not p.isSetValue():
        raise FormatError(
            f"species {species!r} is set from the feature parameter {parameter!r} (nncrn "
            "annotation), which the model does not define with a value; restore the parameter "
            "or remove the annotation's feature attribute"
        )
    low = extra.get("input_range", (0.0, math.inf))[0]
    return (float(p.getValue()) - low) * extra.get("input_scale", 1.0)


def _element_name(element) -> str:
    for attr in ("getId", "getSymbol", "getMetaId"):
        value = getattr(element, attr, lambda: "")()
        if value:
            return repr(value)
    return "unnamed"


def _rule_kind(rule) -> str:
    kind = (
        "rate rule"
        if rule.isRate()
        else "assignment rule"
        if rule.isAssignment()
        else ("algebraic rule")
    )
    return f"{kind} for {rule.getVariable()!r}" if rule.getVariable() else kind


def _compartment_volume(model, species_list) -> float:
    used = {sp.getCompartment() for sp in species_list}
    if len(used) > 1:
        raise UnsupportedModelError(
            f"the SBML model places species in {len(used)} compartments {sorted(used)}; nncrn "
            "networks are one well-mixed volume. Merge the compartments or export them apart"
        )
    if not used:
        return 1.0
    comp = model.getCompartment(used.pop())
    if comp is None or not comp.isSetSize() or not math.isfinite(comp.getSize()):
        raise UnsupportedModelError("the SBML compartment of the species has no size; set one")
    if comp.getSize() <= 0:
        raise UnsupportedModelError(f"compartment {comp.getId()!r} has size {comp.getSize()}")
    return float(comp.getSize())


def model_to_network(model, info: NncrnInfo | None) -> ReactionNetwork:
    """Translate a libsbml ``Model``; ``info`` carries nncrn extras (annotations, pragmas)."""
    _refuse_global(model, info.outputs if info is not None else set(),
                   set(info.features) if info is not None else set())  # fmt: skip
    species_list = [model.getSpecies(i) for i in range(model.getNumSpecies())]
    volume = _compartment_volume(model, species_list)
    ids = {sp.getId() for sp in species_list}
    fixed = {sp.getId() for sp in species_list if sp.getBoundaryCondition() or sp.getConstant()}
    by_amount = {sp.getId() for sp in species_list if sp.getHasOnlySubstanceUnits()}
    species = []
    for sp in species_list:
        if sp.isSetConversionFactor():
            raise UnsupportedModelError(f"species {sp.getId()!r} sets a conversionFactor")
        if sp.isSetInitialConcentration():
            initial = sp.getInitialConcentration()
        elif sp.isSetInitialAmount():
            initial = sp.getInitialAmount() / volume
        else:
            raise UnsupportedModelError(
                f"species {sp.getId()!r} has no initial amount or concentration; set one"
            )
        extra = info.species.get(sp.getId(), {}) if info else {}
        if info is not None and sp.getId() in info.features:
            value = _from_feature(model, sp.getId(), info.features[sp.getId()], extra)
            # the written concentration, exact, unless the feature was edited since
            if not math.isclose(value, initial, rel_tol=1e-12, abs_tol=1e-300):
                initial = value
        species.append(
            Species(sp.getId(), extra.get("role", Role.AUXILIARY), initial,
                    extra.get("input_range"), extra.get("input_scale", 1.0))
        )  # fmt: skip

    globals_ = {}
    for i in range(model.getNumParameters()):
        p = model.getParameter(i)
        globals_[p.getId()] = p.getValue() if p.isSetValue() else None
    for i in range(model.getNumCompartments()):
        c = model.getCompartment(i)
        globals_[c.getId()] = c.getSize() if c.isSetSize() else None

    reactions = []
    seen: dict[tuple, tuple[str, float]] = {}
    for i in range(model.getNumReactions()):
        for r, sbml_id in _reaction(model.getReaction(i), globals_, ids, fixed, by_amount,
                                    volume, own=info is not None):  # fmt: skip
            if r.key() in seen:
                first, rate = seen[r.key()]
                raise UnsupportedModelError(
                    f"SBML reactions {first!r} and {sbml_id!r} are both {r.equation()}; an nncrn "
                    "network holds each reaction once. Merge them into one reaction whose rate "
                    f"constant is the sum ({rate!r} + {r.rate!r})"
                )
            seen[r.key()] = (sbml_id, r.rate)
            reactions.append(r)

    if info is not None:
        readout = tuple(info.readout) if info.readout is not None else None
        metadata = info.metadata or {}
    else:
        readout = None
        metadata = {"source": {"format": "sbml", "model_id": model.getId(),
                               "model_name": model.getName()}}  # fmt: skip
    return ReactionNetwork(tuple(species), tuple(reactions), readout, metadata)


def _side(rx, n: int, get, what: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for j in range(n):
        ref = get(j)
        if rx.getLevel() < 3 and ref.isSetStoichiometryMath():
            raise UnsupportedModelError(
                f"reaction {rx.getId()!r}: {what} {ref.getSpecies()!r} has a stoichiometryMath "
                "(a computed stoichiometry); mass-action networks need constant integer "
                "stoichiometries. Replace it by a number"
            )
        if not ref.isSetStoichiometry() and rx.getLevel() >= 3:
            raise UnsupportedModelError(
                f"reaction {rx.getId()!r}: {what} {ref.getSpecies()!r} has no stoichiometry "
                '(SBML Level 3 has no default); set it, e.g. stoichiometry="1"'
            )
        c = ref.getStoichiometry()  # Levels 1 and 2: the default is 1
        if not math.isfinite(c):
            raise FormatError(
                f"reaction {rx.getId()!r}: {what} {ref.getSpecies()!r} has stoichiometry {c}; "
                "stoichiometries must be finite non-negative integers, e.g. 1 or 2"
            )
        if c > MAX_COEFFICIENT:
            raise FormatError(
                f"reaction {rx.getId()!r}: {what} {ref.getSpecies()!r} has stoichiometry {c:g}, "
                f"above the limit of {MAX_COEFFICIENT} (2**15) on stoichiometric coefficients; "
                "split the reaction into elementary steps or rescale the species"
            )
        if c != int(c) or c < 0:
            raise UnsupportedModelError(
                f"reaction {rx.getId()!r}: {what} {ref.getSpecies()!r} has stoichiometry {c}; "
                "mass-action networks need non-negative integer stoichiometries"
            )
        if c:
            out[ref.getSpecies()] = out.get(ref.getSpecies(), 0) + int(c)
    return out


def _reaction(rx, globals_, ids, fixed, by_amount, volume,
              own: bool) -> list[tuple[Reaction, str]]:  # fmt: skip
    """The irreversible reactions of SBML reaction ``rx``, each with its SBML id (and tail)."""
    if rx.isSetFast() and rx.getFast():
        raise UnsupportedModelError(f"reaction {rx.getId()!r} is 'fast'; nncrn cannot read it")
    law = rx.getKineticLaw()
    if law is None or not law.isSetMath():
        raise UnsupportedModelError(f"reaction {rx.getId()!r} has no kinetic law")
    local = {
        law.getParameter(j).getId():
            law.getParameter(j).getValue() if law.getParameter(j).isSetValue() else None
        for j in range(law.getNumParameters())
    }  # fmt: skip
    parsed = _Law(rx, local, globals_, ids)
    reactants = _side(rx, rx.getNumReactants(), rx.getReactant, "reactant")
    products = _side(rx, rx.getNumProducts(), rx.getProduct, "product")
    terms = list(zip(parsed.terms(law.getMath()), [(reactants, products), (products, reactants)],
                     strict=False))  # fmt: skip
    if len(terms) == 2 and any(const for (const, _), _ in terms):
        # forward - 0 * reverse (a reversible reaction whose kr is 0) is one reaction
        terms = [t for t in terms if t[0][0] != 0]
    label = rx.getName() if own else (rx.getName() or rx.getId())
    suffix = [""] if len(terms) == 1 else [" (forward)", " (reverse)"]
    out = []
    for ((const, exps), (lhs, rhs)), tail in zip(terms, suffix, strict=True):
        for s, c in lhs.items():
            if exps.get(s, 0) != c:
                raise parsed.refuse(
                    f"reactant {s!r} has coefficient {c} but appears with exponent {exps.get(s, 0)}"
                )
        lhs, rhs = dict(lhs), dict(rhs)
        for s, e in exps.items():
            if s not in lhs:  # a modifier: mass action makes it a catalyst
                lhs[s] = e
                rhs[s] = rhs.get(s, 0) + e
        for s in fixed & (lhs.keys() | rhs.keys()):
            if lhs.get(s):
                rhs[s] = lhs[s]
            else:
                del rhs[s]
        amount_factors = sum(e for s, e in exps.items() if s in by_amount)
        rate = const * volume**amount_factors / volume
        if not (math.isfinite(rate) and rate > 0):
            raise UnsupportedModelError(
                f"reaction {rx.getId()!r}{tail} has rate constant {rate!r} after unit "
                "conversion; rate constants must be finite and > 0 (drop reactions whose "
                "rate is 0)"
            )
        out.append((Reaction(lhs, rhs, rate, f"{label}{tail}" if label else ""),
                    f"{rx.getId()}{tail}"))  # fmt: skip
    return out


def _annotation_info(model) -> NncrnInfo | None:
    """Read nncrn's annotations, or None for a foreign model."""
    top = _child(model.getAnnotation(), "network")
    if top is None:
        return None
    if top.hasAttr("stochasticVolume"):
        raise UnsupportedModelError(
            "this SBML was written by to_sbml(network, stochastic_volume="
            f"{top.getAttrValue('stochasticVolume')}): its species are rounded molecule counts "
            "and its kinetic laws are SSA propensities with falling factorials, not mass "
            "action on concentrations, so it cannot be read back exactly; from_sbml reads "
            "the default export, to_sbml(network)"
        )
    readout: list[Readout] = []
    info = NncrnInfo(readout=readout)
    for i in range(top.getNumChildren()):
        node = top.getChild(i)
        if node.getURI() != NNCRN_NS:
            continue
        if node.getName() == "readout":
            minus = node.getAttrValue("minus") if node.hasAttr("minus") else None
            readout.append(Readout(node.getAttrValue("name"), node.getAttrValue("plus"),
                                   minus))  # fmt: skip
            if node.hasAttr("sbml"):
                info.outputs.add(node.getAttrValue("sbml"))
        elif node.getName() == "metadata":
            text = "".join(node.getChild(j).getCharacters() for j in range(node.getNumChildren()))
            info.metadata = loads(text, "the nncrn metadata annotation") if text.strip() else {}
    for i in range(model.getNumSpecies()):
        sp = model.getSpecies(i)
        node = _child(sp.getAnnotation(), "species")
        if node is None:
            continue
        entry: dict = {"role": node.getAttrValue("role") or "auxiliary"}
        if node.hasAttr("low"):
            try:
                entry["input_range"] = (float(node.getAttrValue("low")),
                                        float(node.getAttrValue("high")))  # fmt: skip
            except ValueError:
                raise FormatError(f"species {sp.getId()!r}: malformed nncrn input range") from None
        if node.hasAttr("feature"):
            info.features[sp.getId()] = node.getAttrValue("feature")
        if node.hasAttr("scale"):
            try:
                entry["input_scale"] = float(node.getAttrValue("scale"))
            except ValueError:
                raise FormatError(f"species {sp.getId()!r}: malformed nncrn input scale") from None
        info.species[sp.getId()] = entry
    return info


def _child(annotation, name: str):
    if annotation is None:
        return None
    for i in range(annotation.getNumChildren()):
        node = annotation.getChild(i)
        if node.getName() == name and node.getURI() == NNCRN_NS:
            return node
    return None
