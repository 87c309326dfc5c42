"""The readout of an SBML export as assignment rules a modeller can read and plot.

Each readout value becomes a non-constant global parameter, named after its class where
the network carries one class per readout (``metadata["classes"]``), else after the
readout, with an assignment rule ``setosa := Y2_0`` (single rail) or
``setosa := Y0p - Y0n`` (dual rail). Any SBML tool then shows the network's outputs as
model variables (libRoadRunner: ``rr["setosa"]``). In the stochastic export the species are
counts, so the rule divides by the compartment size to stay a concentration.

The ids are SBML ``SId``s made from the names (other characters become ``_``, a
leading digit gets a ``_`` before it, an id already used gets a trailing ``_``); the
parameter's ``name`` keeps the original text. The nncrn readout annotation records the id
(``sbml="..."``) so that :func:`~nncrn.export.from_sbml` knows these rules are the
readout it restores from the annotation, not dynamics it would have to refuse.
"""

from __future__ import annotations

import re

from nncrn.export._common import fresh
from nncrn.network import ReactionNetwork

__all__ = ["OutputIds", "list_contents", "output_ids", "output_lists", "sbml_id"]

SBO_CONCENTRATION = 196  # SBO:0000196, concentration of an entity pool

_NOT_ID = re.compile(r"[^A-Za-z0-9_]")

OutputIds = list[tuple[str, str]]  # (SBML id, display name), one per readout


def sbml_id(name: str) -> str:
    """``name`` as an SBML ``SId``: other characters become ``_``, a leading digit gets ``_``."""
    sid = _NOT_ID.sub("_", name) or "_"
    return "_" + sid if sid[0].isdigit() else sid


def output_ids(network: ReactionNetwork, taken: set[str]) -> OutputIds:
    """``(id, name)`` of each readout's parameter; ``taken`` (ids in use) gains the new ids."""
    readout = network.readout or ()
    classes = network.metadata.get("classes")
    names = [ro.name for ro in readout]
    if isinstance(classes, list | tuple) and len(classes) == len(readout):
        labels = [str(c) for c in classes]
        if len(set(labels)) == len(labels):
            names = labels
    return [(fresh(sbml_id(name), taken), name) for name in names]


def output_lists(libsbml, network: ReactionNetwork, outputs: OutputIds, compartment: str,
                 unit: str, counts: bool) -> tuple[str, str]:  # fmt: skip
    """The ``<parameter>`` and ``<assignmentRule>`` elements (text, without their list tags)."""
    if not outputs:
        return "", ""
    doc = libsbml.SBMLDocument(3, 2)
    model = doc.createModel()
    for (sid, _), ro in zip(outputs, network.readout or (), strict=True):
        p = model.createParameter()
        p.setId(sid)
        p.setConstant(False)
        p.setValue(0.0)  # overwritten by the rule; a value keeps validators quiet
        p.setUnits(unit)
        p.setSBOTerm(SBO_CONCENTRATION)
        formula = ro.plus if ro.minus is None else f"{ro.plus} - {ro.minus}"
        if counts:
            formula = f"({formula}) / {compartment}"
        rule = model.createAssignmentRule()
        rule.setVariable(sid)
        rule.setMath(libsbml.parseL3Formula(formula))
    found = list_contents(libsbml.writeSBMLToString(doc), ("Parameters", "Rules"))
    return found["Parameters"], found["Rules"]


def list_contents(text: str, tags: tuple[str, ...]) -> dict[str, str]:
    """The elements inside each ``<listOf{tag}>`` of a scratch document's text ("" if none),
    to be spliced into the document being written."""
    found = {}
    for tag in tags:
        m = re.search(rf"<listOf{tag}>\n(.*?)^ *</listOf{tag}>\n", text, re.DOTALL | re.MULTILINE)
        found[tag] = m.group(1) if m else ""
    return found
