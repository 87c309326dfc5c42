"""SBML export checked by libsbml and by an independent simulator (libRoadRunner)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from nncrn._errors import FormatError, UnsupportedModelError
from nncrn.export import from_sbml, to_sbml
from nncrn.network import Reaction
from nncrn.simulate._massaction import rhs

from .export_helpers import ajd_forward, ajd_network

libsbml = pytest.importorskip("libsbml")
DATA = Path(__file__).parents[1] / "data"


def _roadrunner(text: str):
    roadrunner = pytest.importorskip("roadrunner")
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-15
    return rr


def test_consistency_check_has_no_errors_and_no_warnings(small_ajd):
    doc = libsbml.readSBMLFromString(to_sbml(small_ajd))
    assert (doc.getLevel(), doc.getVersion()) == (3, 2)
    doc.checkConsistency()
    problems = [doc.getError(i) for i in range(doc.getNumErrors())]
    errors = [p.getMessage() for p in problems if p.getSeverity() >= libsbml.LIBSBML_SEV_ERROR]
    warnings = [p.getMessage() for p in problems if p.getSeverity() < libsbml.LIBSBML_SEV_ERROR]
    assert errors == []
    assert warnings == []  # units declared per reaction order: not even unit warnings


def test_document_structure(small_ajd):
    model = libsbml.readSBMLFromString(to_sbml(small_ajd)).getModel()
    assert model.getNumCompartments() == 1 and model.getCompartment(0).getSize() == 1
    x0 = model.getSpecies("X0")
    assert x0.getBoundaryCondition() and x0.getConstant()
    assert not model.getSpecies("Y1_0").getBoundaryCondition()
    for i, r in enumerate(small_ajd.reactions):
        p = model.getParameter(f"k_r{i}")
        assert p.getValue() == r.rate and p.getConstant()
        law = libsbml.formulaToL3String(model.getReaction(f"r{i}").getKineticLaw().getMath())
        assert f"k_r{i}" in law and law.startswith("cell")
    notes = model.getNotesString()
    assert "nncrn" in notes and "eps: 0.01" in notes
    assert (
        "Gillespie" in to_sbml.__module__
        or "Gillespie" in __import__("nncrn.export._sbml_write", fromlist=["x"]).__doc__
    )


def test_roadrunner_matches_closed_form_layer_by_layer():
    rng = np.random.default_rng(3)
    eps = 1e-2
    params = [(rng.normal(size=(3, 2)), rng.normal(size=3)),
              (rng.normal(size=(2, 3)) / 2, rng.normal(size=2))]  # fmt: skip
    net = ajd_network([w for w, _ in params], [b for _, b in params], eps)
    rr = _roadrunner(to_sbml(net))  # CVODE; not steadyState(), which may find a negative root
    names = [s.name for s in net.species]
    for x in ([0.7, 0.3], [-0.9, 2.0], [0.0, 0.0], [1.5, -1.0]):
        # Inputs without a range are concentrations: shift the features to be >= 0.
        a = np.asarray(x) + 1.0
        for j, v in enumerate(a):
            rr.setValue(f"init([X{j}])", float(v))
        rr.reset()
        # Convergence rate >= 2 sqrt(eps) = 0.2 per unit time: t = 400 leaves e^-80.
        result = rr.simulate(0, 400, 2, ["time"] + [f"[{n}]" for n in names])
        final = dict(zip(names, np.asarray(result)[-1, 1:], strict=True))
        for layer, (w, b) in enumerate(params, 1):
            expected = ajd_forward([(w, b)], a, eps)
            got = np.array([final[f"Y{layer}_{i}"] for i in range(len(b))])
            np.testing.assert_allclose(got, expected, rtol=1e-6)
            a = expected


def _trajectory_nncrn(net, times):
    view = net.stoichiometry
    y0 = np.array([s.initial for s in net.species])
    sol = solve_ivp(lambda t, y: rhs(view, y[None])[0], (0, times[-1]), y0, t_eval=times,
                    method="LSODA", rtol=1e-11, atol=1e-13)  # fmt: skip
    assert sol.success
    return sol.y.T


def test_foreign_enzyme_model_matches_roadrunner():
    text = (DATA / "enzyme_mass_action.xml").read_text()
    net = from_sbml(text)
    assert net.species_names == ("E", "S", "ES", "P", "Feed")
    assert net.species[0].initial == pytest.approx(0.2)  # amount 0.4 in volume 2
    eqs = {r.key(): (r.rate, r.label) for r in net.reactions}
    expected = {
        # kon * E_amount * S is amount/time; per volume: 1.2 * 2 / 2 for concentrations
        "E + S -> ES": (pytest.approx(1.2), "E + S <=> ES (forward)"),
        "ES -> E + S": (pytest.approx(0.3), "E + S <=> ES (reverse)"),
        "ES -> E + P": (pytest.approx(0.8), "catalysis"),
        "Feed -> Feed + S": (pytest.approx(0.05), "inflow"),
        "ES + 2 P -> ES": (pytest.approx(0.5 / 4 / 2), "leak"),
    }
    assert eqs == {Reaction.parse(eq, 1.0).key(): v for eq, v in expected.items()}
    assert net.metadata["source"]["model_id"] == "enzyme"
    times = np.linspace(0, 20, 41)
    ours = _trajectory_nncrn(net, times)
    rr = _roadrunner(text)
    theirs = np.asarray(rr.simulate(0, 20, 41, [f"[{n}]" for n in net.species_names]))
    np.testing.assert_allclose(ours, theirs, rtol=1e-7, atol=1e-10)


def _minimal(body: str, law: str = "<ci> k </ci>", extra: str = "") -> str:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level3/version2/core" level="3" version="2">
 <model id="m">
  <listOfCompartments><compartment id="c" size="1" constant="true"/></listOfCompartments>
  <listOfSpecies>
   <species id="A" compartment="c" initialConcentration="1" hasOnlySubstanceUnits="false"
    boundaryCondition="false" constant="false"/>
  </listOfSpecies>
  <listOfParameters><parameter id="k" value="2" constant="true"/></listOfParameters>
  {extra}
  <listOfReactions>
   <reaction id="decay" reversible="false">
    <listOfReactants><speciesReference species="A" stoichiometry="1" constant="true"/>
    </listOfReactants>
    <kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML">{law}</math></kineticLaw>
   </reaction>
  </listOfReactions>
  {body}
 </model>
</sbml>"""


def test_minimal_foreign_model_reads():
    net = from_sbml(_minimal("", "<apply><times/><ci> k </ci><ci> A </ci></apply>"))
    assert net.reactions[0].equation() == "A -> 0" and net.reactions[0].rate == 2.0


def test_non_mass_action_law_names_reaction_and_law():
    mm = (
        "<apply><divide/><apply><times/><ci> k </ci><ci> A </ci></apply>"
        "<apply><plus/><cn> 1 </cn><ci> A </ci></apply></apply>"
    )
    with pytest.raises(
        UnsupportedModelError, match=r"reaction 'decay' has kinetic law 'k \* A / \(1 \+ A\)'"
    ):
        from_sbml(_minimal("", mm))
    with pytest.raises(UnsupportedModelError, match="reactant 'A' has coefficient 1"):
        from_sbml(_minimal("", "<ci> k </ci>"))


@pytest.mark.parametrize(
    ("body", "match"),
    [
        ('<listOfRules><rateRule variable="A"><math xmlns="http://www.w3.org/1998/Math/MathML">'
         "<cn> 1 </cn></math></rateRule></listOfRules>", "rate rule for 'A'"),
        ('<listOfRules><assignmentRule variable="k"><math xmlns="http://www.w3.org/1998/Math/MathML">'
         "<cn> 1 </cn></math></assignmentRule></listOfRules>", "assignment rule for 'k'"),
        ('<listOfEvents><event id="kick" useValuesFromTriggerTime="true">'
         '<trigger initialValue="false" persistent="true"><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><gt/><csymbol'
         ' encoding="text" definitionURL="http://www.sbml.org/sbml/symbols/time"> t </csymbol>'
         "<cn> 1 </cn></apply></math></trigger></event></listOfEvents>", "events"),
    ],
)  # fmt: skip
def test_rules_and_events_are_refused(body, match):
    law = "<apply><times/><ci> k </ci><ci> A </ci></apply>"
    if "assignmentRule" in body:
        text = _minimal(body, law).replace('id="k" value="2" constant="true"',
                                           'id="k" value="2" constant="false"')  # fmt: skip
    else:
        text = _minimal(body, law)
    with pytest.raises(UnsupportedModelError, match=match):
        from_sbml(text)


def test_malformed_xml_is_a_format_error(small_ajd):
    text = to_sbml(small_ajd)
    with pytest.raises(FormatError, match="SBML is malformed: line"):
        from_sbml(text[: len(text) // 2])
    with pytest.raises(FormatError):
        from_sbml("")


def test_two_compartments_with_species_are_refused():
    text = (DATA / "enzyme_mass_action.xml").read_text()
    text = text.replace(
        '<compartment id="cyt"',
        '<compartment id="nuc" spatialDimensions="3" size="1" constant="true"/>'
        '<compartment id="cyt"',
    ).replace('<species id="P" compartment="cyt"', '<species id="P" compartment="nuc"')
    with pytest.raises(UnsupportedModelError, match="2 compartments"):
        from_sbml(text)


def test_rates_survive_libsbml_printing_exactly():
    from nncrn.network import ReactionNetwork, Species

    rate = 1.0000000000000044  # libsbml alone would print 1
    net = ReactionNetwork([Species("A", initial=1 / 3)], [Reaction.parse("A -> 0", rate)])
    back = from_sbml(to_sbml(net))
    assert back.reactions[0].rate == rate and back.species[0].initial == 1 / 3
    assert math.isclose(rate, 1.0, rel_tol=1e-14)


def test_roadrunner_steady_state_is_right_after_simulate():
    # The README's call: libRoadRunner's steadyState() polishes with Newton's method; from
    # the initial state (outputs at 0) it can return another root of the polynomial
    # equations, a negative one; after simulate() it returns nncrn's steady state.
    from nncrn.simulate import steady_state

    rng = np.random.default_rng(11)
    params = [(rng.normal(size=(4, 3)) * 2, rng.normal(size=4)),
              (rng.normal(size=(3, 4)) * 2, rng.normal(size=3))]  # fmt: skip
    net = ajd_network([w for w, _ in params], [b for _, b in params], 1e-3)
    x = np.array([[0.4, 1.3, 0.8]])
    ours = steady_state(net, x).concentrations[0]
    rr = _roadrunner(to_sbml(net))
    names = [s.name for s in net.species]
    for j, v in enumerate(x[0]):
        rr.setValue(f"init([X{j}])", float(v))
    rr.reset()
    rr.steadyState()  # from the initial state: a wrong root, with a negative species
    direct = np.array([rr[f"[{n}]"] for n in names])
    assert direct.min() < 0 and np.abs(direct - ours).max() > 1.0  # the README's warning
    rr.reset()
    rr.simulate(0, 600, 2)
    rr.steadyState()
    theirs = np.array([rr[f"[{n}]"] for n in names])
    np.testing.assert_allclose(theirs, ours, rtol=1e-8, atol=1e-10)


def test_the_readout_is_named_assignment_rules_and_inputs_carry_feature_names():
    # A modeller reading the SBML sees the outputs as model variables named after the
    # classes (assignment rules: class := Yp - Yn) and the inputs named after the features.
    import torch

    from nncrn.compile import compile_network
    from nncrn.nn import SmoothReLU
    from nncrn.simulate import steady_state

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), SmoothReLU(1e-3),
                                torch.nn.Linear(5, 3)).double()  # fmt: skip
    features = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
    classes = ["setosa", "versicolor", "2 virginica"]  # a leading digit is not an SBML id
    net = compile_network(model, input_range=(0, 10)).with_metadata(
        classes=classes, feature_names=features)  # fmt: skip
    text = to_sbml(net)
    model_ = libsbml.readSBMLFromString(text).getModel()
    rules = {model_.getRule(i).getVariable(): libsbml.formulaToL3String(model_.getRule(i).getMath())
             for i in range(model_.getNumRules())}  # fmt: skip
    ids = ["setosa", "versicolor", "_2_virginica"]
    assert sorted(rules) == sorted(ids)
    for sid, ro in zip(ids, net.readout, strict=True):
        expected = ro.plus if ro.minus is None else f"{ro.plus} - {ro.minus}"
        assert rules[sid] == expected
    assert model_.getParameter("_2_virginica").getName() == "2 virginica"
    names = [model_.getSpecies(s).getName() for s in net.inputs]
    assert names == features
    assert from_sbml(text) == net  # the rules are the readout: the round trip is exact

    x = np.array([[5.1, 3.5, 1.4, 0.2]])
    ours = steady_state(net, x).outputs[0]
    rr = _roadrunner(text)
    for s, v in zip(net.inputs, x[0], strict=True):
        rr[f"[{s}]"] = float(v)
    rr.simulate(0, 800, 2)
    theirs = np.array([rr[sid] for sid in ids])
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-9)


def test_readout_ids_that_collide_or_repeat_fall_back_and_stay_unique():
    # A class named like a species gets a trailing '_' (SBML has one id namespace);
    # repeated class names cannot name distinct outputs, so the readout names are used.
    import torch

    from nncrn.compile import compile_network
    from nncrn.nn import SmoothReLU

    torch.manual_seed(1)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), SmoothReLU(1e-3),
                                torch.nn.Linear(3, 2)).double()  # fmt: skip
    net = compile_network(model, input_range=(0, 1))
    for classes, expected in ((["X0", "b c"], ["X0_", "b_c"]), (["a", "a"], list(net.outputs))):
        text = to_sbml(net.with_metadata(classes=classes))
        m = libsbml.readSBMLFromString(text).getModel()
        assert sorted(m.getRule(i).getVariable() for i in range(m.getNumRules())) == sorted(expected)
        assert from_sbml(text) == net.with_metadata(classes=classes)
