"""Write a :class:`~nncrn.ReactionNetwork` as SBML Level 3 Version 2 (python-libsbml).

What the (default, deterministic) document contains and why:

* one compartment ``cell`` of volume 1 (litre); every species lives in it and is declared
  by concentration (``hasOnlySubstanceUnits="false"``) with its initial concentration;
* an input species that no reaction changes (a pure catalyst, as in the AJD construction)
  is a constant boundary species, which is how nncrn's simulators hold it at its input
  value; an input that reactions consume or produce (dual-rail schemes) is an ordinary
  species, integrated like every other (its nncrn role annotation still says ``input``);
* the model id is ``nncrn_network`` (``nncrn_network_`` if a species has that name);
* every rate constant is a named global parameter ``k_r{i}`` (reaction index ``i``), so
  a user can perturb one in any SBML tool;
* kinetic law of reaction ``i``: ``cell * k_r{i} * X^a * Y^b ...`` — explicit mass action
  on concentrations *without* factorials (``2 Y -> Y`` gives ``cell * k * Y^2``, i.e.
  ``dy/dt = -k y^2``). The ``cell`` factor converts concentration/time to the amount/time
  SBML expects, so the concentration dynamics stay the same if the volume is changed;
* units: concentrations in mole/litre, time in seconds by default (``concentration_unit=``
  and ``time_unit=`` declare scaled ones, e.g. nanomole per litre and minutes; the numbers
  stay the same); ``k`` of a reaction of order ``n`` has unit
  ``(substance/litre)^(1-n) / time``. The scale itself is arbitrary;
* inputs read through an offset or scale: a constant parameter per feature and an initial
  assignment of the input species (see :mod:`._sbml_inputs`);
* SBO terms: compartment SBO:0000290 (physical compartment), species SBO:0000247 (simple
  chemical), rate parameters SBO:0000009 (kinetic constant), reactions SBO:0000176
  (biochemical reaction), kinetic laws SBO:0000163 (irreversible mass action, continuous
  scheme: no factorials) or, in the stochastic export, its parent SBO:0000041;
* the readout as model variables (see :mod:`._sbml_outputs`): one non-constant parameter
  per readout value, named after its class where the network carries class names, with
  an assignment rule ``setosa := Y0p - Y0n`` (SBO:0000196, unit substance/litre); input
  species carry their feature names (``metadata["feature_names"]``) as SBML names;
* provenance (nncrn version, source model, scheme, eps) in the model's notes; roles,
  input ranges, readout and the full metadata in ``nncrn`` annotations, so
  :func:`~nncrn.export.from_sbml` restores the network exactly. Reaction labels are
  reaction names, kept character for character (tabs and line breaks are written as
  character references, so XML attribute normalisation cannot turn them into spaces).
  A label or readout name holding a control character XML 1.0 cannot represent
  (``"\\x01"``, ...) is refused with a :class:`~nncrn.FormatError`.

Stochastic meaning. The default document states deterministic rates, and tools that
reinterpret them stochastically disagree for a reactant with coefficient > 1:
libRoadRunner's Gillespie evaluates the law on molecule counts (``2 Y -> Y`` propensity
``k n^2``), GillesPy2 and rebop use ``k n (n-1)``, Catalyst ``k n (n-1) / 2``. None of
these is nncrn's SSA (:func:`nncrn.gillespie`), whose propensity at volume ``Omega`` is

    a(n) = k * Omega * prod_i n_i (n_i - 1) ... (n_i - nu_i + 1) / Omega^nu_i

(``2 Y -> Y``: ``k n (n-1) / Omega``; ``0 -> Y``: ``k Omega``), the propensity whose
large-volume limit is this file's ODE. For stochastic use, export with
``to_sbml(network, stochastic_volume=Omega)``: that document *means* nncrn's SSA in any
tool that takes kinetic laws of count species as propensities (tested with
libRoadRunner's Gillespie):

* the compartment ``cell`` has size ``Omega``; substance and extent units are ``item``;
* species are counts (``hasOnlySubstanceUnits="true"``), initial amount
  ``round(concentration * Omega)`` as in :func:`nncrn.gillespie`; input species that no
  reaction changes are constant boundary species held at their counts;
* the kinetic law of reaction ``i`` is the propensity above written out in MathML,
  ``cell * k_r{i} * Y * (Y - 1) * X / cell^3`` for ``2 Y + X -> ...``, with the same
  global parameters ``k_r{i}`` (unit ``(item/litre)^(1-order) / second``) and the
  literal ``1`` carrying unit ``item``;
* the model annotation records ``stochasticVolume``; :func:`~nncrn.export.from_sbml`
  refuses such a document (its counts are rounded and its laws are not mass action on
  concentrations) and asks for the default export instead.

To set inputs in libRoadRunner, assign the current value (``rr["[X0]"] = v``) after
``reset()``: changing ``init([X0])`` of a constant species regenerates the whole model.
Where a feature parameter sets the species, set the feature instead
(``rr["init(petal_length__cm_)"] = v``, then ``reset()``), in feature units.

libsbml prints doubles with 15 significant digits; the writer rewrites every parameter
value and initial concentration (stochastic export: initial amount and volume) with
Python's shortest round-trip repr so that a file round trip is exact. libsbml cannot parse
a subnormal double (nonzero, below ``2.2e-308``, e.g. ``5e-324``), so such an initial
concentration (default export only: a stochastic export writes its rounded count), rate
constant or volume is refused with an :class:`~nncrn.InputError`
instead of writing a file that does not read back.
"""

from __future__ import annotations

import json
import math
import re
import sys
from xml.sax.saxutils import escape, quoteattr

from nncrn._errors import InputError
from nncrn.export._common import (
    check_sbml_numbers,
    check_xml_labels,
    element_ids,
    held_inputs,
    import_optional,
    nncrn_version,
    one_line,
    provenance_text,
)
from nncrn.export._sbml_inputs import FeatureParameter, unit_scales, with_inputs
from nncrn.export._sbml_inputs import feature_parameters as feature_parameters_of
from nncrn.export._sbml_outputs import SBO_CONCENTRATION, list_contents, output_ids, output_lists
from nncrn.network import ReactionNetwork, require_network
from nncrn.network._metadata import thaw_json

__all__ = ["NNCRN_NS", "to_sbml"]

# Systems Biology Ontology terms on every element, so SBML tools that read SBO (and
# readers of the file) see what each element is without nncrn's annotations:
SBO_COMPARTMENT = 290  # physical compartment
SBO_SPECIES = 247  # simple chemical: an abstract, small, unstructured molecular species
SBO_RATE_CONSTANT = 9  # kinetic constant
SBO_REACTION = 176  # biochemical reaction
# Deterministic laws: "mass action rate law for irreversible reactions, continuous
# scheme" (k prod [S]^n, no factorials), the term COPASI gives its irreversible mass action.
SBO_MASS_ACTION = 163
# Stochastic export (propensities with falling factorials): the parent term "mass action
# rate law for irreversible reactions", which covers either scheme.
SBO_MASS_ACTION_ANY = 41

NNCRN_NS = "https://nncrn.org/sbml/annotation/1"
"""XML namespace of nncrn's SBML annotations (format version 1)."""

_XHTML = "http://www.w3.org/1999/xhtml"
# Escapes (beyond & < >) that make an attribute value read back exactly: attribute-value
# normalisation turns raw tabs and line breaks into spaces, but not character references.
_ATTRIBUTE_ENTITIES = {'"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}


_CHUNK = 2000  # species and reactions per scratch document (see to_sbml)


def _check(rc: int, what: str) -> None:
    import libsbml

    if rc != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(
            f"libsbml refused to {what}: {libsbml.OperationReturnValue_toString(rc)}"
        )


def _rate_unit(model, order: int, cache: dict[int, str], substance: int | None = None,
               scale: int = 0, seconds: float = 1.0) -> str:  # fmt: skip
    """Unit definition ``(substance/litre)^(1-order) / time`` for a rate constant.

    ``substance`` is a libsbml unit kind, mole by default (item for the stochastic export);
    ``scale`` the power of ten of the mole (-9: nanomole) and ``seconds`` the length of the
    time unit.
    """
    import libsbml

    if order in cache:
        return cache[order]
    uid = f"rate_order_{order}"
    ud = model.createUnitDefinition()
    _check(ud.setId(uid), f"set unit id {uid}")
    for kind, exponent, unit_scale, multiplier in (
        (libsbml.UNIT_KIND_MOLE if substance is None else substance, 1 - order, scale, 1.0),
        (libsbml.UNIT_KIND_LITRE, order - 1, 0, 1.0),
        (libsbml.UNIT_KIND_SECOND, -1, 0, seconds),
    ):
        if exponent:
            _unit(ud, kind, exponent, unit_scale, multiplier)
    cache[order] = uid
    return uid


def _unit(ud, kind: int, exponent: int, scale: int = 0, multiplier: float = 1.0) -> None:
    unit = ud.createUnit()
    unit.setKind(kind)
    unit.setExponent(exponent)
    unit.setScale(scale)
    unit.setMultiplier(multiplier)


def _base_units(model, substance: str, scale: int, seconds: float) -> tuple[str, str]:
    """The model's substance and time units: base kinds, or scaled definitions of them."""
    import libsbml

    substance_id, time_id = substance, "second"
    if scale:
        substance_id = _SCALED_MOLE[scale]
        ud = model.createUnitDefinition()
        _check(ud.setId(substance_id), f"set unit id {substance_id}")
        _unit(ud, libsbml.UNIT_KIND_MOLE, 1, scale)
    if seconds != 1.0:
        time_id = _TIME_IDS[seconds]
        ud = model.createUnitDefinition()
        _check(ud.setId(time_id), f"set unit id {time_id}")
        _unit(ud, libsbml.UNIT_KIND_SECOND, 1, 0, seconds)
    return substance_id, time_id


_SCALED_MOLE = {-3: "millimole", -6: "micromole", -9: "nanomole", -12: "picomole",
                -15: "femtomole"}  # fmt: skip
_TIME_IDS = {60.0: "minute", 3600.0: "hour"}


def _name(name: str):
    import libsbml

    node = libsbml.ASTNode(libsbml.AST_NAME)
    node.setName(name)
    return node


def _mass_action(compartment: str, param: str, reactants) -> object:
    """AST of ``compartment * param * prod_s s^a_s``."""
    import libsbml

    law = libsbml.ASTNode(libsbml.AST_TIMES)
    law.addChild(_name(compartment))
    law.addChild(_name(param))
    for species, coeff in reactants.items():
        law.addChild(_name(species) if coeff == 1 else _power(species, int(coeff)))
    return law


def _power(name: str, n: int) -> object:
    """AST of ``name ^ n`` for an integer ``n``."""
    import libsbml

    power = libsbml.ASTNode(libsbml.AST_POWER)
    power.addChild(_name(name))
    exponent = libsbml.ASTNode(libsbml.AST_INTEGER)
    exponent.setValue(n)
    power.addChild(exponent)
    return power


def _propensity(compartment: str, param: str, reactants) -> object:
    """AST of ``compartment * param * prod_s s (s - 1) ... (s - a_s + 1) / compartment^order``.

    nncrn's SSA propensity on counts ``s`` in volume ``compartment``; the literals carry
    unit ``item`` so that ``s - j`` is unit-consistent.
    """
    import libsbml

    law = libsbml.ASTNode(libsbml.AST_TIMES)
    law.addChild(_name(compartment))
    law.addChild(_name(param))
    order = 0
    for species, coeff in reactants.items():
        order += int(coeff)
        law.addChild(_name(species))
        for j in range(1, int(coeff)):
            factor = libsbml.ASTNode(libsbml.AST_MINUS)
            factor.addChild(_name(species))
            number = libsbml.ASTNode(libsbml.AST_INTEGER)
            number.setValue(j)
            _check(number.setUnits("item"), "give a number the unit item")
            factor.addChild(number)
            law.addChild(factor)
    if order == 0:
        return law
    quotient = libsbml.ASTNode(libsbml.AST_DIVIDE)
    quotient.addChild(law)
    quotient.addChild(_name(compartment) if order == 1 else _power(compartment, order))
    return quotient


def _check_volume(volume: object) -> float:
    try:
        v = float(volume)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(
            f"stochastic_volume must be a positive number or None; got {volume!r}"
        ) from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(
            "stochastic_volume must be finite and > 0 (the volume Omega of nncrn.gillespie: "
            f"count = round(concentration * Omega)), or None for the deterministic export; "
            f"got {volume!r}"
        )
    if v < sys.float_info.min:
        raise InputError(
            f"stochastic_volume {volume!r} is a subnormal double (below "
            f"{sys.float_info.min!r}), which libsbml cannot parse as a compartment size; "
            "use a volume of at least 1e-300 (and in practice one where molecule counts are "
            "not all 0)"
        )
    return v


def _count(species, volume: float) -> float:
    count = float(round(species.initial * volume))
    if count > 2.0**53:
        raise InputError(
            f"initial concentration {species.initial!r} of {species.name!r} times "
            f"stochastic_volume {volume:g} gives {count:.3g} molecules, above the largest "
            "exact count 2**53; use a smaller volume"
        )
    return count


def _feature_names(network: ReactionNetwork) -> dict[str, str]:
    """Input species -> feature name (``metadata["feature_names"]``, one per input), where
    the two differ: written as the species' SBML ``name``."""
    features = network.metadata.get("feature_names")
    inputs = list(network.inputs)
    if not isinstance(features, list | tuple) or len(features) != len(inputs):
        return {}
    return {s: str(f) for s, f in zip(inputs, features, strict=True) if str(f) != s}


def _annotation(
    network: ReactionNetwork, model_version: str, volume: float | None, output_ids: list[str]
) -> tuple[str, dict[str, str]]:
    """The model annotation, with placeholders for free text, and the text that fills them.

    Readout names and the metadata JSON are user text; libsbml would write text that looks
    like an entity reference (``&amp;``) unescaped, so they are filled in after writing.
    """
    fills: dict[str, str] = {}

    def fill(text: str, attribute: bool) -> str:
        key = f"@nncrn-fill-{len(fills)}@"
        fills[key] = escape(text, _ATTRIBUTE_ENTITIES if attribute else {})
        return key

    readouts = "".join(
        f'<nncrn:readout name="{fill(ro.name, True)}" plus={quoteattr(ro.plus)}'
        + (f" minus={quoteattr(ro.minus)}" if ro.minus is not None else "")
        + f" sbml={quoteattr(sid)}/>"
        for ro, sid in zip(network.readout or (), output_ids, strict=True)
    )
    meta = fill(json.dumps(thaw_json(network.metadata)), False)
    xml = (
        f'<annotation><nncrn:network xmlns:nncrn="{NNCRN_NS}" version="1" '
        f'kinetics="{network.kinetics}" nncrnVersion={quoteattr(model_version)}'
        + (f' stochasticVolume="{volume!r}"' if volume is not None else "")
        + f">{readouts}<nncrn:metadata>{meta}</nncrn:metadata></nncrn:network></annotation>"
    )
    return xml, fills


def _species_annotation(species, feature: str | None = None) -> str:
    extra = "" if feature is None else f" feature={quoteattr(feature)}"
    if species.input_range is not None:
        low, high = species.input_range
        extra += f' low="{low!r}" high="{high!r}"'
    if species.input_scale != 1.0:
        extra += f' scale="{species.input_scale!r}"'
    return (
        f'<annotation><nncrn:species xmlns:nncrn="{NNCRN_NS}" '
        f'role="{species.role.value}"{extra}/></annotation>'
    )


def to_sbml(
    network: ReactionNetwork,
    *,
    inputs: object = None,
    stochastic_volume: float | None = None,
    concentration_unit: str = "M",
    time_unit: str = "s",
    feature_parameters: bool = True,
) -> str:
    """SBML Level 3 Version 2 text of ``network`` (see the module docstring for the encoding).

    ``inputs``: one row of features (``(n_inputs,)``, or a mapping from input or feature
    name to a number) whose concentrations the input species start at; by default they
    start at the network's initial concentrations.

    Where a compiled network reads a feature through an offset or a scale (concentration
    ``(feature - low) * input_scale``), the feature is a constant parameter named after it
    and the input species is set by an initial assignment from it (see
    :mod:`nncrn.export._sbml_inputs`): set ``petal_length`` in feature units and
    ``reset()``. ``feature_parameters=False`` leaves them out (for tools that set the
    species' initial concentrations themselves, such as a SED-ML experiment: an initial
    assignment would override those).

    ``concentration_unit`` (``M``, ``mM``, ``uM``, ``nM``, ``pM``, ``fM``) and ``time_unit``
    (``s``, ``min``, ``h``) declare what one unit of nncrn's concentration and time is;
    the numbers are unchanged (an input of 1065 with ``"nM"`` is 1065 nM). The defaults are
    mole per litre and seconds.

    By default the kinetic laws are nncrn's deterministic mass action on concentrations
    (no factorials), and the text reads back with :func:`~nncrn.export.from_sbml` into an
    equal network. A stochastic simulator that evaluates these laws on counts (e.g.
    libRoadRunner's Gillespie) then uses ``k n^2`` for ``2 Y -> Y``, which is *not*
    nncrn's SSA.

    With ``stochastic_volume=Omega`` the document is instead the chemical master equation
    of :func:`nncrn.gillespie` at volume ``Omega``: compartment size ``Omega``, species as
    counts (``hasOnlySubstanceUnits``, substance unit ``item``, initial amount
    ``round(concentration * Omega)``, pure-catalyst inputs held as constant boundary
    counts) and kinetic laws equal to nncrn's propensities ``k Omega prod_i n_i
    (n_i-1)...(n_i-nu_i+1) / Omega^nu_i`` over the same parameters ``k_r{i}``. :func:`~nncrn.export.from_sbml`
    refuses that variant.

    Either text passes libsbml's ``checkConsistency()`` without errors. Needs
    ``nncrn[interop]``.

    Raises
    ------
    FormatError
        A reaction label or readout name holds a control character XML cannot represent.
    InputError
        A bad ``stochastic_volume``, or a subnormal rate constant or (default export)
        initial concentration (libsbml cannot parse it back).
    """
    network = require_network(network, "to_sbml")
    libsbml = import_optional("libsbml", "SBML export")
    volume = None if stochastic_volume is None else _check_volume(stochastic_volume)
    scale, seconds = unit_scales(concentration_unit, time_unit)
    if volume is not None and scale:
        raise InputError(
            "concentration_unit applies to the deterministic export; the stochastic export "
            "(stochastic_volume=...) counts molecules. Drop one of them"
        )
    network, given = with_inputs(network, inputs, "to_sbml")
    check_xml_labels(network, "SBML")
    check_sbml_numbers(network, "SBML", initials=volume is None)
    substance = "mole" if volume is None else "item"
    ids = element_ids(network)
    compartment, reaction_ids, param_ids = ids.compartment, ids.reactions, ids.params
    held = held_inputs(network)
    taken = {*network.species_names, ids.model, compartment, *reaction_ids, *param_ids}
    outputs = output_ids(network, taken)
    features = (feature_parameters_of(network, taken, given)
                if feature_parameters and volume is None else [])  # fmt: skip
    feature_of = {f.species: f.sid for f in features}
    feature_names = _feature_names(network)
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    _check(model.setId(ids.model), "set the model id")
    # Names are written into the text afterwards (_write_names): libsbml leaves text that
    # looks like an entity reference ("&amp;") unescaped and tabs/newlines raw, and XML
    # readers would decode or normalise them.
    names = {
        ("model", ids.model): one_line(str(network.metadata.get("name", "nncrn reaction network")))
    }
    substance_id, time_id = _base_units(model, substance, scale, seconds)
    model.setSubstanceUnits(substance_id)
    model.setTimeUnits(time_id)
    model.setVolumeUnits("litre")
    model.setExtentUnits(substance_id)

    exact: dict[str, float] = {}
    comp = model.createCompartment()
    _check(comp.setId(compartment), f"set compartment id {compartment!r}")
    comp.setSize(1.0 if volume is None else volume)
    if volume is not None:
        exact[compartment] = volume
    comp.setSpatialDimensions(3)
    comp.setUnits("litre")
    comp.setConstant(True)
    _check(comp.setSBOTerm(SBO_COMPARTMENT), "set the compartment's SBO term")

    units: dict[int, str] = {}
    kind = None if volume is None else libsbml.UNIT_KIND_ITEM
    for r in network.reactions:  # unit definitions in order of first use, as one pass made them
        _rate_unit(model, r.order, units, kind, scale, seconds)

    # Species, parameters and reactions are built CHUNK at a time in a scratch document and
    # their text spliced in: a libsbml document holds ~20 kB per species and reaction, so
    # one document of a 100k-species network peaked at 3 GB. The text is the same.
    lists: dict[str, list[str]] = {"Species": [], "Parameters": [], "InitialAssignments": [],
                                   "Rules": [], "Reactions": []}  # fmt: skip
    indent = ""
    for first in range(0, max(network.n_species, network.n_reactions), _CHUNK):
        part = libsbml.SBMLDocument(3, 2)
        scratch = part.createModel()
        for s in network.species[first : first + _CHUNK]:
            if s.name in feature_names:
                names[("species", s.name)] = feature_names[s.name]
            sp = scratch.createSpecies()
            _check(sp.setId(s.name), f"use species name {s.name!r} as an SBML id")
            sp.setCompartment(compartment)
            if volume is None:
                sp.setInitialConcentration(s.initial)
                exact[s.name] = s.initial
            else:
                exact[s.name] = _count(s, volume)
                sp.setInitialAmount(exact[s.name])
            sp.setHasOnlySubstanceUnits(volume is not None)
            boundary = s.name in held
            sp.setBoundaryCondition(boundary)
            sp.setConstant(boundary)
            _check(sp.setSBOTerm(SBO_SPECIES), "set a species' SBO term")
            _check(sp.setMetaId(f"meta_{s.name}"), "set a species metaid")
            _check(sp.setAnnotation(_species_annotation(s, feature_of.get(s.name))),
                   "annotate a species")  # fmt: skip
        for i in range(first, min(first + _CHUNK, network.n_reactions)):
            r = network.reactions[i]
            p = scratch.createParameter()
            _check(p.setId(param_ids[i]), f"set parameter id {param_ids[i]!r}")
            p.setValue(r.rate)
            p.setConstant(True)
            _check(p.setSBOTerm(SBO_RATE_CONSTANT), "set a parameter's SBO term")
            p.setUnits(_rate_unit(model, r.order, units, kind, scale, seconds))
            exact[param_ids[i]] = r.rate

            rx = scratch.createReaction()
            _check(rx.setId(reaction_ids[i]), f"set reaction id {reaction_ids[i]!r}")
            if r.label:
                names[("reaction", reaction_ids[i])] = r.label
            rx.setReversible(False)
            _check(rx.setSBOTerm(SBO_REACTION), "set a reaction's SBO term")
            for side, create in ((r.reactants, rx.createReactant), (r.products, rx.createProduct)):
                for species, coeff in side.items():
                    ref = create()
                    ref.setSpecies(species)
                    ref.setStoichiometry(float(coeff))
                    ref.setConstant(True)
            law = rx.createKineticLaw()
            _check(law.setSBOTerm(SBO_MASS_ACTION if volume is None else SBO_MASS_ACTION_ANY),
                   "set a kinetic law's SBO term")  # fmt: skip
            build = _mass_action if volume is None else _propensity
            _check(law.setMath(build(compartment, param_ids[i], r.reactants)), "set a law")
        text = libsbml.writeSBMLToString(part)
        del part, scratch
        for name, parts in lists.items():
            found = re.search(rf"^( *)<listOf{name}>\n(.*?)^ *</listOf{name}>\n", text,
                              re.DOTALL | re.MULTILINE)  # fmt: skip
            if found is not None:
                indent = found.group(1)
                parts.append(found.group(2))

    if outputs or features:  # readout values and features are concentrations: substance/litre
        ud = model.createUnitDefinition()
        _check(ud.setId("concentration"), "set the concentration unit id")
        _unit(ud, kind or libsbml.UNIT_KIND_MOLE, 1, scale)
        _unit(ud, libsbml.UNIT_KIND_LITRE, -1)
    if features:
        params, assignments = _feature_lists(libsbml, features)
        lists["Parameters"].append(params)
        lists["InitialAssignments"].append(assignments)
        for f in features:
            exact[f.sid] = f.value
            if f.name != f.sid:
                names[("parameter", f.sid)] = f.name
    params, rules = output_lists(libsbml, network, outputs, compartment, "concentration",
                                 counts=volume is not None)  # fmt: skip
    lists["Parameters"].append(params)
    lists["Rules"].append(rules)
    for sid, name in outputs:
        if name != sid:
            names[("parameter", sid)] = name

    version = nncrn_version()
    _check(model.setMetaId("nncrn_model"), "set the model metaid")
    if volume is None:
        meaning = (
            "<p>Mass-action kinetics without factorials: a reaction with reactants "
            "a X + b Y and rate constant k proceeds at k [X]^a [Y]^b.</p>"
        )
        if scale or seconds != 1.0:
            meaning += (
                f"<p>Units: one unit of concentration is 1 {concentration_unit}, one unit of "
                f"time 1 {time_unit}.</p>"
            )
        if features:
            meaning += (
                "<p>Inputs in feature units: set the initial value of the parameter named "
                f"after a feature (e.g. {escape(features[0].sid)}; in libRoadRunner "
                f"rr['init({escape(features[0].sid)})'] = value) and reset the model; the input "
                "species' initial assignment turns it into a concentration.</p>"
            )
    else:
        meaning = (
            f"<p>Stochastic export at volume Omega = {volume!r} (the compartment size): "
            "species are molecule counts and every kinetic law is the propensity of "
            "nncrn's SSA: a reaction with reactants a X + b Y and rate constant k fires at "
            "k Omega X(X-1)...(X-a+1) Y(Y-1)...(Y-b+1) / Omega^(a+b).</p>"
        )
    notes = (
        f'<body xmlns="{_XHTML}"><p>Generated by {escape(provenance_text(network))}.</p>'
        f"{meaning}</body>"
    )
    _check(model.setNotes(notes), "set the model notes")
    annotation, fills = _annotation(network, version, volume, [sid for sid, _ in outputs])
    _check(model.setAnnotation(annotation), "annotate the model")
    text = libsbml.writeSBMLToString(doc)
    blocks = "".join(f"{indent}<listOf{name}>\n{''.join(parts)}{indent}</listOf{name}>\n"
                     for name, parts in lists.items() if parts)  # fmt: skip
    lists.clear()
    cut = text.index("</listOfCompartments>\n") + len("</listOfCompartments>\n")
    text = _restore_precision(text[:cut] + blocks + text[cut:], exact)
    del blocks
    return _write_names(_fill(text, fills), names)


def _feature_lists(libsbml, features: list[FeatureParameter]) -> tuple[str, str]:
    """The ``<parameter>`` and ``<initialAssignment>`` elements of the feature parameters."""
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    for f in features:
        p = model.createParameter()
        _check(p.setId(f.sid), f"set parameter id {f.sid!r}")
        p.setValue(f.value)
        p.setConstant(True)
        p.setUnits("concentration")  # the feature read as a concentration, before the offset
        _check(p.setSBOTerm(SBO_CONCENTRATION), "set a feature parameter's SBO term")
        assignment = model.createInitialAssignment()
        assignment.setSymbol(f.species)
        formula = f.formula("concentration")
        math_ = libsbml.parseL3Formula(formula)
        if math_ is None:
            raise RuntimeError(f"libsbml cannot parse {formula!r}")
        _check(assignment.setMath(math_), f"set the initial assignment of {f.species!r}")
    found = list_contents(libsbml.writeSBMLToString(doc), ("Parameters", "InitialAssignments"))
    return found["Parameters"], found["InitialAssignments"]


def _fill(text: str, fills: dict[str, str]) -> str:
    """Put the annotation's free text in place, in one pass over the annotation only.

    Other user text (notes) comes before it, and filled text is not scanned again, so a
    label or metadata value that happens to spell a placeholder stays as it is.
    """
    start = text.index("<nncrn:network")
    end = text.index("</nncrn:network>", start)
    body = re.sub(r"@nncrn-fill-\d+@", lambda m: fills.get(m.group(0), m.group(0)),
                  text[start:end])  # fmt: skip
    return text[:start] + body + text[end:]


def _write_names(text: str, names: dict[tuple[str, str], str]) -> str:
    """Add ``name="..."`` after the id of each named model/reaction, escaped for any XML reader.

    Tabs and line breaks become character references, which attribute-value normalisation
    leaves alone, so the name reads back exactly.
    """

    def add(match: re.Match) -> str:
        name = names.get((match.group(1), match.group(2)))
        if name is None:
            return match.group(0)
        return f'{match.group(0)} name="{escape(name, _ATTRIBUTE_ENTITIES)}"'

    return re.sub(r'<(model|reaction|species|parameter)\b[^>]*?\sid="([^"]*)"', add, text)


_TAG = re.compile(r"<(parameter|species|compartment)\b[^>]*>")
_ATTR = {
    "parameter": "value",
    "species": "(?:initialConcentration|initialAmount)",
    "compartment": "size",
}


def _restore_precision(text: str, exact: dict[str, float]) -> str:
    """Rewrite libsbml's 15-digit numbers with round-trip reprs (ids are ours, so unique)."""

    def fix(match: re.Match) -> str:
        tag = match.group(0)
        ident = re.search(r'\sid="([^"]*)"', tag)
        if ident is None or ident.group(1) not in exact:
            return tag
        attr = _ATTR[match.group(1)]
        value = repr(exact[ident.group(1)])
        return re.sub(rf'(\s{attr}=")[^"]*"', lambda m: f'{m.group(1)}{value}"', tag)

    return _TAG.sub(fix, text)
