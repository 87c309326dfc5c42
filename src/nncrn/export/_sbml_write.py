"""Write a :class:`~nncrn.ReactionNetwork` as SBML Level 3 Version 2 (python-libsbml).

What the document contains and why:

* one compartment ``cell`` of volume 1 (litre); every species lives in it and is declared
  by concentration (``hasOnlySubstanceUnits="false"``) with its initial concentration;
* input species are constant boundary species: reactions use them as catalysts and
  nothing changes them, which is how nncrn holds inputs at their given values;
* every rate constant is a named global parameter ``k_r{i}`` (reaction index ``i``), so
  a user can perturb one in any SBML tool;
* kinetic law of reaction ``i``: ``cell * k_r{i} * X^a * Y^b ...`` — explicit mass action
  on concentrations *without* factorials (``2 Y -> Y`` gives ``cell * k * Y^2``, i.e.
  ``dy/dt = -k y^2``). The ``cell`` factor converts concentration/time to the amount/time
  SBML expects, so the concentration dynamics stay the same if the volume is changed;
* units: concentrations in mole/litre, time in seconds; ``k`` of a reaction of order
  ``n`` has unit ``(mole/litre)^(1-n) / second``. The scale itself is arbitrary;
* provenance (nncrn version, source model, scheme, eps) in the model's notes; roles,
  input ranges, readout and the full metadata in ``nncrn`` annotations, so
  :func:`~nncrn.export.from_sbml` restores the network exactly. Reaction labels are
  reaction names.

Stochastic use. The kinetic laws state deterministic rates. Tools that reinterpret them
stochastically disagree for a reactant with coefficient > 1: libRoadRunner's Gillespie
evaluates the law on molecule counts (``2 Y -> Y`` propensity ``k n^2``), GillesPy2 and
rebop use ``k n (n-1)``, Catalyst ``k n (n-1) / 2``. nncrn's own SSA uses
``k n (n-1) / Omega`` (volume ``Omega``), the propensity whose large-volume limit is this
file's ODE. Compare stochastic results across tools only with that in mind.

To set inputs in libRoadRunner, assign the current value (``rr["[X0]"] = v``) after
``reset()``: changing ``init([X0])`` of a constant species regenerates the whole model.

libsbml prints doubles with 15 significant digits; the writer rewrites every parameter
value and initial concentration with Python's shortest round-trip repr so that a file
round trip is exact.
"""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape, quoteattr

from nncrn.export._common import (
    element_ids,
    import_optional,
    nncrn_version,
    provenance_text,
)
from nncrn.network import ReactionNetwork, Role
from nncrn.network._network import thaw_json

__all__ = ["NNCRN_NS", "to_sbml"]

NNCRN_NS = "https://nncrn.org/sbml/annotation/1"
"""XML namespace of nncrn's SBML annotations (format version 1)."""

_XHTML = "http://www.w3.org/1999/xhtml"


def _check(rc: int, what: str) -> None:
    import libsbml

    if rc != libsbml.LIBSBML_OPERATION_SUCCESS:
        raise RuntimeError(
            f"libsbml refused to {what}: {libsbml.OperationReturnValue_toString(rc)}"
        )


def _rate_unit(model, order: int, cache: dict[int, str]) -> str:
    """Unit definition ``(mole/litre)^(1-order) / second`` for a rate constant."""
    import libsbml

    if order in cache:
        return cache[order]
    uid = f"rate_order_{order}"
    ud = model.createUnitDefinition()
    _check(ud.setId(uid), f"set unit id {uid}")
    for kind, exponent in (
        (libsbml.UNIT_KIND_MOLE, 1 - order),
        (libsbml.UNIT_KIND_LITRE, order - 1),
        (libsbml.UNIT_KIND_SECOND, -1),
    ):
        if exponent:
            unit = ud.createUnit()
            unit.setKind(kind)
            unit.setExponent(exponent)
            unit.setScale(0)
            unit.setMultiplier(1.0)
    cache[order] = uid
    return uid


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
        if coeff == 1:
            law.addChild(_name(species))
        else:
            power = libsbml.ASTNode(libsbml.AST_POWER)
            power.addChild(_name(species))
            exponent = libsbml.ASTNode(libsbml.AST_INTEGER)
            exponent.setValue(int(coeff))
            power.addChild(exponent)
            law.addChild(power)
    return law


def _annotation(network: ReactionNetwork, model_version: str) -> str:
    readouts = "".join(
        f"<nncrn:readout name={quoteattr(ro.name)} plus={quoteattr(ro.plus)}"
        + (f" minus={quoteattr(ro.minus)}" if ro.minus is not None else "")
        + "/>"
        for ro in network.readout or ()
    )
    meta = escape(json.dumps(thaw_json(network.metadata)))
    return (
        f'<annotation><nncrn:network xmlns:nncrn="{NNCRN_NS}" version="1" '
        f'kinetics="{network.kinetics}" nncrnVersion={quoteattr(model_version)}>'
        f"{readouts}<nncrn:metadata>{meta}</nncrn:metadata></nncrn:network></annotation>"
    )


def _species_annotation(species) -> str:
    extra = ""
    if species.input_range is not None:
        low, high = species.input_range
        extra = f' low="{low!r}" high="{high!r}"'
    return (
        f'<annotation><nncrn:species xmlns:nncrn="{NNCRN_NS}" '
        f'role="{species.role.value}"{extra}/></annotation>'
    )


def to_sbml(network: ReactionNetwork) -> str:
    """SBML Level 3 Version 2 text of ``network`` (see the module docstring for the encoding).

    The text passes libsbml's ``checkConsistency()`` without errors and reads back with
    :func:`~nncrn.export.from_sbml` into an equal network. Needs ``nncrn[interop]``.
    """
    libsbml = import_optional("libsbml", "SBML export")
    compartment, reaction_ids, param_ids = element_ids(network)
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    _check(model.setId("nncrn_network"), "set the model id")
    model.setName(str(network.metadata.get("name", "nncrn reaction network")))
    model.setSubstanceUnits("mole")
    model.setTimeUnits("second")
    model.setVolumeUnits("litre")
    model.setExtentUnits("mole")

    comp = model.createCompartment()
    _check(comp.setId(compartment), f"set compartment id {compartment!r}")
    comp.setSize(1.0)
    comp.setSpatialDimensions(3)
    comp.setUnits("litre")
    comp.setConstant(True)

    exact: dict[str, float] = {}
    for s in network.species:
        sp = model.createSpecies()
        _check(sp.setId(s.name), f"use species name {s.name!r} as an SBML id")
        sp.setCompartment(compartment)
        sp.setInitialConcentration(s.initial)
        sp.setHasOnlySubstanceUnits(False)
        boundary = s.role is Role.INPUT
        sp.setBoundaryCondition(boundary)
        sp.setConstant(boundary)
        _check(sp.setMetaId(f"meta_{s.name}"), "set a species metaid")
        _check(sp.setAnnotation(_species_annotation(s)), "annotate a species")
        exact[s.name] = s.initial

    units: dict[int, str] = {}
    for i, r in enumerate(network.reactions):
        p = model.createParameter()
        _check(p.setId(param_ids[i]), f"set parameter id {param_ids[i]!r}")
        p.setValue(r.rate)
        p.setConstant(True)
        p.setUnits(_rate_unit(model, r.order, units))
        exact[param_ids[i]] = r.rate

        rx = model.createReaction()
        _check(rx.setId(reaction_ids[i]), f"set reaction id {reaction_ids[i]!r}")
        if r.label:
            rx.setName(r.label)
        rx.setReversible(False)
        for side, create in ((r.reactants, rx.createReactant), (r.products, rx.createProduct)):
            for species, coeff in side.items():
                ref = create()
                ref.setSpecies(species)
                ref.setStoichiometry(float(coeff))
                ref.setConstant(True)
        law = rx.createKineticLaw()
        _check(law.setMath(_mass_action(compartment, param_ids[i], r.reactants)), "set a law")

    version = nncrn_version()
    _check(model.setMetaId("nncrn_model"), "set the model metaid")
    notes = (
        f'<body xmlns="{_XHTML}"><p>Generated by {escape(provenance_text(network))}.</p>'
        "<p>Mass-action kinetics without factorials: a reaction with reactants "
        "a X + b Y and rate constant k proceeds at k [X]^a [Y]^b.</p></body>"
    )
    _check(model.setNotes(notes), "set the model notes")
    _check(model.setAnnotation(_annotation(network, version)), "annotate the model")
    return _restore_precision(libsbml.writeSBMLToString(doc), exact)


_TAG = re.compile(r"<(parameter|species)\b[^>]*>")
_ATTR = {"parameter": "value", "species": "initialConcentration"}


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
