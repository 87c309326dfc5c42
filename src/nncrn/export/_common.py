"""Pieces every exchange format shares: optional imports, ids, names and nncrn pragmas.

Species names are the same identifiers in every format (nncrn names are ASCII
identifiers, which is what SBML ``SId`` and CRN-text identifiers accept). Antimony also
reserves some identifiers (``time``, ``pi``, ``exp``, ``species``, ``model``, ...; see
:data:`ANTIMONY_RESERVED`): :func:`~nncrn.export.to_antimony` refuses a network with such
a species name rather than writing text Antimony cannot load. A foreign name that is not
an identifier is sanitised once, by :func:`sanitise_names`, and the mapping
``{new_name: original}`` is kept in ``metadata["renamed_species"]``.

The ids the writers add (model ``nncrn_network``, compartment ``cell``, reactions
``r{i}``, rate parameters ``k_r{i}``) share one namespace with the species; an id a
species already uses gets a trailing ``_`` (:func:`element_ids`).

Input species that some reaction consumes or produces (dual-rail schemes) are ordinary
species in every format; only inputs that no reaction changes (pure catalysts, as in the
AJD construction) are written as constant boundary species (:func:`held_inputs`), which
is how nncrn's simulators treat them too.

Formats without annotations (Antimony, CRN text) carry what they cannot express natively
(roles, input ranges, readout, metadata) in *pragma* comment lines, one JSON object per
line, e.g. ``#@nncrn species {"name": "X_0", "role": "input", "input_range": [-1.0, null]}``.
Other tools read them as ordinary comments.
"""

from __future__ import annotations

import importlib
import json
import math
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from nncrn._errors import FormatError, InputError, NetworkError
from nncrn.network import ReactionNetwork, Readout, Role, Species
from nncrn.network._jsontext import loads
from nncrn.network._metadata import thaw_json

__all__ = [
    "ANTIMONY_RESERVED",
    "PRAGMA",
    "ElementIds",
    "MissingExtraError",
    "NncrnInfo",
    "check_sbml_numbers",
    "check_xml_labels",
    "element_ids",
    "held_inputs",
    "import_optional",
    "layer_of",
    "nncrn_version",
    "one_line",
    "parse_pragma",
    "pragma_lines",
    "provenance_text",
    "sanitise_names",
]

PRAGMA = "@nncrn"


class MissingExtraError(ImportError):
    """An optional dependency of an exchange format is not installed."""


def import_optional(module: str, what: str, extra: str = "interop") -> ModuleType:
    """Import ``module`` lazily; a missing package names the extra that installs it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtraError(
            f"{what} needs the optional package {module!r}, which is not installed; "
            f"install it with: pip install 'nncrn[{extra}]'"
        ) from None


def nncrn_version() -> str:
    """Installed nncrn version, written into exported files as provenance."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("nncrn")
    except PackageNotFoundError:
        return "unknown"


def fresh(base: str, taken: set[str]) -> str:
    """``base`` or ``base_``, ``base__``, ... : the first not in ``taken`` (which it joins)."""
    name = base
    while name in taken:
        name += "_"
    taken.add(name)
    return name


@dataclass(frozen=True)
class ElementIds:
    """Ids of the elements a writer adds next to the species."""

    model: str
    compartment: str
    reactions: list[str]
    params: list[str]


def element_ids(network: ReactionNetwork) -> ElementIds:
    """Model id, compartment id, reaction ids ``r{i}`` and rate-parameter ids ``k_r{i}``.

    SBML and Antimony share one namespace between the model, species, compartments,
    parameters and reactions, so an id that a species already uses gets a trailing ``_``
    (a species named ``nncrn_network`` makes the model ``nncrn_network_``).
    """
    taken = set(network.species_names)
    model = fresh("nncrn_network", taken)
    compartment = fresh("cell", taken)
    reactions = [fresh(f"r{i}", taken) for i in range(network.n_reactions)]
    params = [fresh(f"k_r{i}", taken) for i in range(network.n_reactions)]
    return ElementIds(model, compartment, reactions, params)


def held_inputs(network: ReactionNetwork) -> set[str]:
    """Input species that no reaction changes: the ones written as constant boundary species.

    nncrn's simulators integrate every species some reaction changes
    (``network.stoichiometry.dynamic``), inputs included; an input a reaction consumes or
    produces (dual-rail schemes) must stay an ordinary species in an exported model.
    """
    dynamic = network.stoichiometry.dynamic
    return {
        s.name
        for s, changes in zip(network.species, dynamic, strict=True)
        if s.role is Role.INPUT and not changes
    }


# Characters XML 1.0 cannot hold at all (not even as character references).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def check_xml_labels(network: ReactionNetwork, fmt: str, *, readouts: bool = True) -> None:
    """Refuse reaction labels (and readout names) that XML (SBML, Antimony's SBML) cannot hold."""
    texts = [
        (f"reaction {i} ({r.equation()}) has label", r.label, "relabel the reaction", True)
        for i, r in enumerate(network.reactions)
    ]
    if readouts:
        texts += [(f"readout {ro.name!r} has name", ro.name, "rename the readout", False)
                  for ro in network.readout or ()]  # fmt: skip
    for what, text, fix, label in texts:
        bad = _NOT_XML.search(text)
        if bad is not None:
            char = bad.group()
            # CRN text writes a label on one line: whitespace (\x0b, \x0c, \x1c-\x1f) is a space
            crn = "writes it as a space" if label and char.isspace() else "keeps it"
            raise FormatError(
                f"{what} {text!r}, which contains the control character {char!r} "
                f"(U+{ord(char):04X}); XML 1.0 has no way to write it, so {fmt} cannot "
                f"hold it. {fix.capitalize()} without control characters (tabs and line "
                f"breaks are fine), or export CRN text (to_crn_text), which {crn}"
            )


def check_sbml_numbers(network: ReactionNetwork, fmt: str, *, initials: bool = True) -> None:
    """Refuse subnormal initial concentrations and rate constants, which libsbml cannot parse.

    libsbml reads a double written below ``sys.float_info.min`` (``2.2e-308``, e.g.
    ``5e-324``) as an error and the value as NaN, so a file holding one does not read back.
    ``initials=False`` checks the rate constants only (a stochastic export writes rounded
    molecule counts, not the concentrations).
    """
    tiny = sys.float_info.min

    def check(value: float, what: str, fix: str) -> None:
        if value != 0 and abs(value) < tiny:
            raise InputError(
                f"{what} is {value!r}, a subnormal double (nonzero but below {tiny!r}); "
                f"libsbml, and so {fmt} readers such as libRoadRunner, cannot parse such a "
                f"number. {fix}, or export CRN text (to_crn_text), which keeps it exactly"
            )

    for s in network.species if initials else ():
        check(s.initial, f"initial concentration of species {s.name!r}",
              "Set it to 0.0 or rescale the concentration unit")  # fmt: skip
    for i, r in enumerate(network.reactions):
        check(r.rate, f"rate constant of reaction {i} ({r.equation()})",
              "Rescale the time or concentration unit, or drop the reaction")  # fmt: skip


ANTIMONY_RESERVED = frozenset(
    # keywords of Antimony's lexer (case-sensitive)
    "module model end species formula reaction DNA gene geneProduct operator compartment "
    "has in is var const substanceOnly ext import event at after function unit delete "
    "constraint maximize minimize "
    # built-in functions (libsbml's L3 parser)
    "abs acos arccos acosh arccosh acot arccot acoth arccoth acsc arccsc acsch arccsch asec "
    "arcsec asech arcsech asin arcsin arcsinh atan arctan atanh arctanh ceil ceiling cos "
    "cosh cot coth csc csch delay exp factorial floor log ln log10 piecewise power pow sqr "
    "sqrt rateOf root sec sech sin sinh tan tanh and not or xor eq equals geq gt leq lt neq "
    "divide minus plus times quotient max min rem implies normal truncatedNormal uniform "
    "exponential truncatedExponential gamma truncatedGamma poisson truncatedPoisson "
    "bernoulli binomial cauchy chisquare laplace lognormal rayleigh "
    # built-in constants
    "true True TRUE false False FALSE pi exponentiale exponentialE avogadro time inf INF "
    "infinity NaN nan NAN notanumber".split()
)
"""Identifiers Antimony (3.x) reserves: keywords, built-in functions and constants."""


_NOT_ID = re.compile(r"[^A-Za-z0-9_]")


def sanitise_names(names: Iterable[str]) -> dict[str, str]:
    """Map each foreign name to an identifier: invalid characters become ``_``.

    A name that would start with a digit gets an ``s_`` prefix; a clash with another name
    gets ``_2``, ``_3``, ... Valid identifiers map to themselves and win clashes.
    """
    names = list(dict.fromkeys(names))
    valid = {n for n in names if n.isascii() and n.isidentifier()}
    taken = set(valid)
    out: dict[str, str] = {}
    for n in names:
        if n in valid:
            out[n] = n
            continue
        base = _NOT_ID.sub("_", n) or "_"
        if base[0].isdigit():
            base = "s_" + base
        cand, i = base, 2
        while cand in taken:
            cand, i = f"{base}_{i}", i + 1
        taken.add(cand)
        out[n] = cand
    return out


@dataclass
class NncrnInfo:
    """What a format carries beyond reactions: per-species extras, readout, metadata."""

    species: dict[str, dict[str, Any]] = field(default_factory=dict)
    readout: list[Readout] | None = None
    metadata: dict[str, Any] | None = None
    # SBML ids of the readout's assignment-rule parameters (see export._sbml_outputs)
    outputs: set[str] = field(default_factory=set)
    # input species -> SBML id of the feature parameter that sets it (export._sbml_inputs)
    features: dict[str, str] = field(default_factory=dict)


def _range_to_json(rng: tuple[float, float] | None) -> list | None:
    if rng is None:
        return None
    return [rng[0], None if math.isinf(rng[1]) else rng[1]]


def range_from_json(value: object, where: str) -> tuple | None:
    """A pragma's ``input_range`` (``[low, high]``, ``high`` null for infinity) as a pair.

    Only the shape is checked here; :class:`~nncrn.network.Species` checks the numbers.
    """
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != 2:
        raise FormatError(
            f"{where} has input_range {json.dumps(value)}; write [low, high] with numbers "
            "(high may be null for infinity), or null"
        )
    return (value[0], math.inf if value[1] is None else value[1])


def pragma_lines(network: ReactionNetwork, comment: str, *, initial: bool,
                 output_ids: list[str] | None = None) -> list[str]:  # fmt: skip
    """The pragma comment lines that carry roles, input ranges, readout and metadata.

    ``output_ids``: the ids of the readout's assignment rules, where the format writes them
    (Antimony), recorded so that the reader knows the rules are the readout.
    """
    lines = []
    for s in network.species:
        entry: dict[str, Any] = {"name": s.name, "role": s.role.value}
        if initial:
            entry["initial"] = s.initial
        if s.input_range is not None:
            entry["input_range"] = _range_to_json(s.input_range)
        if s.input_scale != 1.0:
            entry["input_scale"] = s.input_scale
        lines.append(f"{comment}{PRAGMA} species {json.dumps(entry)}")
    for i, ro in enumerate(network.readout or ()):
        entry = {"name": ro.name, "plus": ro.plus, "minus": ro.minus}
        if output_ids is not None:
            entry["rule"] = output_ids[i]
        lines.append(f"{comment}{PRAGMA} readout {json.dumps(entry)}")
    lines.append(f"{comment}{PRAGMA} metadata {json.dumps(thaw_json(network.metadata))}")
    return lines


def _check_species_pragma(value: dict, where: str) -> None:
    """Validate a species pragma as :class:`Species` does, naming the line; normalise ``value``."""
    name = value["name"]
    rng = range_from_json(value.get("input_range"), f"{where}: species {name!r}")
    safe = sanitise_names([name])[name]  # a foreign name is renamed later, not refused
    try:
        species = Species(safe, value.get("role", Role.AUXILIARY.value), value.get("initial", 0.0),
                          rng, value.get("input_scale", 1.0))  # fmt: skip
    except NetworkError as exc:
        raise FormatError(f"{where}: {str(exc).replace(repr(safe), repr(name), 1)}") from None
    value.update(role=species.role.value, initial=species.initial, input_range=species.input_range,
                 input_scale=species.input_scale)  # fmt: skip


def parse_pragma(body: str, info: NncrnInfo, where: str) -> None:
    """Add one pragma (the text after ``@nncrn``) to ``info``; malformed ones are errors."""
    kind, _, payload = body.strip().partition(" ")
    value = loads(payload, f"{where}: the @nncrn {kind} pragma")
    if kind == "species":
        if not isinstance(value, dict) or not isinstance(value.get("name"), str):
            raise FormatError(f"{where}: @nncrn species pragma needs an object with a 'name'")
        if value["name"] in info.species:
            raise FormatError(f"{where}: species {value['name']!r} is declared twice")
        _check_species_pragma(value, where)
        info.species[value["name"]] = value
    elif kind == "readout":
        if not isinstance(value, dict):
            raise FormatError(f"{where}: @nncrn readout pragma needs an object")
        try:
            ro = Readout(value["name"], value["plus"], value.get("minus"))
        except KeyError as exc:
            raise FormatError(f"{where}: @nncrn readout pragma lacks {exc.args[0]!r}") from None
        info.readout = [*(info.readout or []), ro]
        if isinstance(value.get("rule"), str):
            info.outputs.add(value["rule"])
    elif kind == "metadata":
        if not isinstance(value, dict):
            raise FormatError(f"{where}: @nncrn metadata pragma must hold a JSON object")
        info.metadata = value
    else:
        raise FormatError(
            f"{where}: unknown pragma '@nncrn {kind}'; known: species, readout, metadata"
        )


_LAYER = re.compile(r"^(.*?\blayer\s*\d+)", re.IGNORECASE)


def layer_of(label: str) -> str | None:
    """The ``... layer N`` prefix of a reaction label, used to group reactions in text."""
    m = _LAYER.match(label)
    return m.group(1) if m else None


# Line breaks of any kind (str.splitlines, Antimony's lexer), other control characters,
# and what XML cannot hold.
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")


def one_line(text: str, *, keep_controls: bool = False) -> str:
    """``text`` safe inside a one-line comment: control characters become spaces, runs collapse.

    With ``keep_controls=True`` only whitespace (``str.split``'s: line breaks, tabs, and
    also ``\x0b``, ``\x0c``, ``\x1c``-``\x1f``, ``\x85``) becomes single spaces, and other
    control characters stay, so a reaction label keeps them through a file round trip.
    """
    return " ".join((text if keep_controls else _NOT_ONE_LINE.sub(" ", text)).split())


def provenance_text(network: ReactionNetwork) -> str:
    """One human-readable line of provenance for file headers and SBML notes.

    Free text from ``metadata`` (a multi-line ``source``, say) is flattened by
    :func:`one_line`, so it can never end the comment it is written into.
    """
    meta: Mapping[str, Any] = network.metadata
    parts = [f"nncrn {nncrn_version()}"]
    for key in ("source", "scheme", "eps"):
        if key in meta:
            value = meta[key]
            text = json.dumps(thaw_json(value)) if not isinstance(value, str) else value
            parts.append(f"{key}: {one_line(text)}")
    return "; ".join(parts)
