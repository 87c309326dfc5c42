"""Write a simulation experiment on a :class:`~nncrn.ReactionNetwork` as SED-ML text.

The document is SED-ML Level 1 Version 3 (the version COPASI, Tellurium/libRoadRunner and
the BioSimulators tools all run) and describes, for the SBML that
:func:`~nncrn.export.to_sbml` writes (``model_source``, ``model.xml`` in an OMEX archive):

* one model per input row, ``model_row{k}``: the SBML with one ``changeAttribute`` per input
  species setting its ``initialConcentration`` to the row's input concentration,
  ``(feature - low) * input_scale`` (:func:`nncrn.network.input_concentrations`, which also
  validates the rows). Without ``inputs`` there is one model, ``model``, with the initial
  concentrations the SBML states. Every other species starts at its ``initial``, as in
  :func:`nncrn.integrate` without ``y0``;
* a uniform time course from 0 to ``t_end`` with ``n_points`` output points (CVODE,
  KISAO:0000019, at relative/absolute tolerance ``rtol``/``atol``: KISAO:0000209/0000211),
  one task ``task_row{k}`` per model; with ``steady_state=True`` also a steady-state
  simulation (KISAO:0000407, steady-state root finding) and tasks ``steady_row{k}``. A
  root finder started from the initial state can land on a root that is not the one the
  dynamics reach (a network can have several non-negative roots); the time course is the
  reliable answer, the steady-state task a convenience. Dual-rail networks conserve sums
  of species, so their Jacobian is singular: a tool's Newton solver needs its
  conservation-law reduction on (COPASI does this by default; libRoadRunner needs
  ``conservedMoietyAnalysis = True``);
* one data generator per row and readout, ``[plus] - [minus]`` (or ``[plus]``) in MathML,
  named after the readout; a report ``report_time_course`` with time and every readout
  of every row (columns ``time``, then row by row), and a plot ``plot_readouts`` of the
  readouts over time (with ``plot=True``); ``report_steady_state`` with the steady values.

Species are concentrations in the SBML (``hasOnlySubstanceUnits="false"``), so variables
address species by id and tools report concentrations, the quantity nncrn's readouts use.

The text is written with the standard library, not python-libsedml: libsedml's Python
bindings register the same SWIG types as python-libsbml's (``ASTNode``, ``XMLNode``), and
once both are imported into one process libsbml hands out libsedml proxies for kinetic
laws (whose ``getType()`` is no longer a number), which breaks
:func:`~nncrn.export.from_sbml` and any libsbml code in that process. The tests read every
document back with libsedml in a separate process (zero errors).
"""

from __future__ import annotations

import math
import sys
import xml.etree.ElementTree as ET

import numpy as np

from nncrn._errors import InputError
from nncrn.export._common import check_xml_labels
from nncrn.network import ReactionNetwork, input_concentrations, require_network, require_readout

__all__ = ["SBML_LANGUAGE", "SEDML_NS", "to_sedml"]

SBML_LANGUAGE = "urn:sedml:language:sbml.level-3.version-2"
"""SED-ML language URN of the SBML :func:`~nncrn.export.to_sbml` writes."""
SEDML_NS = "http://sed-ml.org/sed-ml/level1/version3"
"""XML namespace of SED-ML Level 1 Version 3."""

_SBML_NS = "http://www.sbml.org/sbml/level3/version2/core"
_MATHML_NS = "http://www.w3.org/1998/Math/MathML"
_TIME = "urn:sedml:symbol:time"
_CVODE = "KISAO:0000019"
_STEADY = "KISAO:0000407"
_RTOL = "KISAO:0000209"
_ATOL = "KISAO:0000211"


def _species_xpath(name: str) -> str:
    return f"/sbml:sbml/sbml:model/sbml:listOfSpecies/sbml:species[@id='{name}']"


def _positive(value: object, what: str, fix: str) -> float:
    try:
        v = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a finite number > 0; got {value!r}. {fix}") from None
    if not math.isfinite(v) or v <= 0:
        raise InputError(f"{what} must be a finite number > 0; got {value!r}. {fix}")
    return v


def _n_points(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 2:
        raise InputError(
            f"n_points must be an integer >= 2 (output times 0, ..., t_end, evenly spaced); "
            f"got {value!r}"
        )
    return int(value)


def _rows(network: ReactionNetwork, inputs: object) -> np.ndarray | None:
    """Input concentrations ``(batch, n_inputs)``, or None for the SBML's own initial values."""
    if inputs is None:
        return None
    conc = input_concentrations(network, inputs)
    tiny = (conc != 0) & (np.abs(conc) < sys.float_info.min)
    if tiny.any():
        row, col = np.argwhere(tiny)[0]
        raise InputError(
            f"input {network.inputs[col]!r} has concentration {float(conc[row, col])!r} in row "
            f"{row}, a subnormal double (below {sys.float_info.min!r}) that SBML tools cannot "
            "parse as an initial concentration; round it to 0"
        )
    return conc


def _sub(parent: ET.Element, tag: str, **attrs: object) -> ET.Element:
    """Child element with attributes in the order given (numbers as shortest round-trip reprs)."""
    return ET.SubElement(parent, tag, {k: v if isinstance(v, str) else repr(v)
                                       for k, v in attrs.items()})  # fmt: skip


def to_sedml(
    network: ReactionNetwork,
    inputs: object = None,
    *,
    t_end: float = 100.0,
    n_points: int = 101,
    steady_state: bool = False,
    plot: bool = True,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    model_source: str = "model.xml",
) -> str:
    """SED-ML (Level 1 Version 3) text of a time course of ``network``, one run per input row.

    Parameters
    ----------
    network
        The network; its SBML (:func:`~nncrn.export.to_sbml`) is the model, found at
        ``model_source`` (relative to the SED-ML file, as in an OMEX archive).
    inputs
        Feature rows ``(batch, n_inputs)`` in ``network.inputs`` order, or a mapping from
        input name to a ``(batch,)`` array; each row becomes a model whose input species
        start at ``(feature - low) * input_scale``. None: one run from the initial
        concentrations the SBML states.
    t_end, n_points
        The time course: ``n_points`` evenly spaced output times from 0 to ``t_end``
        (chemical time, seconds in the SBML). The default 100 is 20 time constants of an
        AJD network with ``eps = 0.01`` (every neuron settles at rate >= ``2 sqrt(eps)``);
        raise it for smaller ``eps`` or deeper networks.
    steady_state
        Also write a steady-state simulation (KISAO:0000407) of every row, with a report.
    plot
        Write a 2-D plot of every readout of every row over time.
    rtol, atol
        Tolerances the document asks the integrator for (KISAO:0000209 / 0000211); tools
        that do not know them keep their own defaults.
    model_source
        Where the SBML lives, relative to the SED-ML file.

    Raises
    ------
    InputError
        Bad rows (shape, range, non-finite), a bad time span or tolerance, or a network
        without readout (there would be nothing to report).
    FormatError
        A readout name with a control character XML cannot hold.

    Notes
    -----
    Needs no optional package: the text is plain XML (see the module docstring).
    """
    network = require_network(network, "to_sedml")
    require_readout(network, "to_sedml", "outputs to report")
    t_end = _positive(t_end, "t_end", "It is the end of the time course, in chemical time")
    n_points = _n_points(n_points)
    rtol = _positive(rtol, "rtol", "It is the integrator's relative tolerance, e.g. 1e-10")
    atol = _positive(atol, "atol", "It is the integrator's absolute tolerance, e.g. 1e-12")
    if not isinstance(model_source, str) or not model_source.strip():
        raise InputError(f"model_source must be a non-empty path to the SBML; got {model_source!r}")
    check_xml_labels(network, "SED-ML")
    rows = _rows(network, inputs)
    suffixes = [""] if rows is None else [f"_row{k}" for k in range(rows.shape[0])]

    root = ET.Element("sedML", {"xmlns": SEDML_NS, "xmlns:sbml": _SBML_NS,
                                "level": "1", "version": "3"})  # fmt: skip
    models = _sub(root, "listOfModels")
    for k, suffix in enumerate(suffixes):
        model = _sub(models, "model", id=f"model{suffix}",
                     name="nncrn network" + (f", input row {k}" if suffix else ""),
                     language=SBML_LANGUAGE, source=model_source)  # fmt: skip
        if rows is None:
            continue
        changes = _sub(model, "listOfChanges")
        for name, value in zip(network.inputs, rows[k], strict=True):
            _sub(changes, "changeAttribute", newValue=float(value),
                 target=f"{_species_xpath(name)}/@initialConcentration")  # fmt: skip

    sims = _sub(root, "listOfSimulations")
    course = _sub(sims, "uniformTimeCourse", id="time_course", name="uniform time course",
                  initialTime=0.0, outputStartTime=0.0, outputEndTime=t_end,
                  numberOfPoints=n_points - 1)  # L1V3's numberOfPoints counts steps; fmt: skip
    algorithm = _sub(course, "algorithm", kisaoID=_CVODE)
    parameters = _sub(algorithm, "listOfAlgorithmParameters")
    for kisao, value in ((_RTOL, rtol), (_ATOL, atol)):
        _sub(parameters, "algorithmParameter", kisaoID=kisao, value=value)
    runs = [("time_course", "task", "time course")]
    if steady_state:
        steady = _sub(sims, "steadyState", id="steady_state", name="steady state")
        _sub(steady, "algorithm", kisaoID=_STEADY)
        runs.append(("steady_state", "steady", "steady state"))

    tasks = _sub(root, "listOfTasks")
    for sim_id, prefix, what in runs:
        for k, suffix in enumerate(suffixes):
            _sub(tasks, "task", id=f"{prefix}{suffix}",
                 name=what + (f", input row {k}" if suffix else ""),
                 modelReference=f"model{suffix}", simulationReference=sim_id)  # fmt: skip

    generators = _sub(root, "listOfDataGenerators")
    time_ids = []
    for suffix in suffixes:
        time_ids.append(f"time{suffix}")
        dg = _sub(generators, "dataGenerator", id=time_ids[-1], name="time")
        variables = _sub(dg, "listOfVariables")
        _sub(variables, "variable", id=f"t{suffix}", symbol=_TIME, taskReference=f"task{suffix}")
        _math(dg, [f"t{suffix}"])
    columns = _readout_generators(generators, network, suffixes, "task")

    outputs = _sub(root, "listOfOutputs")
    report = _sub(outputs, "report", id="report_time_course", name="readouts over time")
    data_sets = _sub(report, "listOfDataSets")
    _sub(data_sets, "dataSet", id="ds_time", label="time", dataReference=time_ids[0])
    for dg_id, label in columns:
        _sub(data_sets, "dataSet", id=f"ds_{dg_id}", label=label, dataReference=dg_id)
    if plot:
        figure = _sub(outputs, "plot2D", id="plot_readouts", name="readouts over time")
        curves = _sub(figure, "listOfCurves")
        per_row = len(columns) // len(suffixes)
        for i, (dg_id, label) in enumerate(columns):
            _sub(curves, "curve", id=f"curve_{dg_id}", name=label, logX="false",
                 xDataReference=time_ids[i // per_row], logY="false", yDataReference=dg_id)  # fmt: skip
    if steady_state:
        report = _sub(outputs, "report", id="report_steady_state", name="readouts at steady state")
        data_sets = _sub(report, "listOfDataSets")
        for dg_id, label in _readout_generators(generators, network, suffixes, "steady"):
            _sub(data_sets, "dataSet", id=f"ds_{dg_id}", label=label, dataReference=dg_id)

    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, "unicode") + "\n"


def _math(parent: ET.Element, names: list[str]) -> None:
    """MathML of ``names[0] - names[1]`` (or of ``names[0]``) under ``parent``."""
    math_el = ET.SubElement(parent, "math", {"xmlns": _MATHML_NS})
    if len(names) == 1:
        ET.SubElement(math_el, "ci").text = f" {names[0]} "
        return
    apply = ET.SubElement(math_el, "apply")
    ET.SubElement(apply, "minus")
    for name in names:
        ET.SubElement(apply, "ci").text = f" {name} "


def _readout_generators(
    generators: ET.Element, network: ReactionNetwork, suffixes: list[str], prefix: str
) -> list[tuple[str, str]]:
    """One data generator ``[plus] - [minus]`` per row and readout; ``[(id, label), ...]``."""
    columns = []
    for k, suffix in enumerate(suffixes):
        for j, ro in enumerate(network.readout or ()):
            dg_id = f"{prefix}{suffix}_out{j}"
            label = ro.name + (f" [row {k}]" if suffix else "")
            dg = _sub(generators, "dataGenerator", id=dg_id, name=label)
            variables = _sub(dg, "listOfVariables")
            parts = [("plus", ro.plus)] + ([("minus", ro.minus)] if ro.minus else [])
            for part, species in parts:
                _sub(variables, "variable", id=f"{dg_id}_{part}", name=species,
                     target=_species_xpath(species), taskReference=f"{prefix}{suffix}")  # fmt: skip
            _math(dg, [f"{dg_id}_{part}" for part, _ in parts])
            columns.append((dg_id, label))
    return columns
