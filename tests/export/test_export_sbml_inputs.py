"""Inputs in feature units and unit scales in the exports (a modeller's view of the SBML)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncrn._errors import InputError
from nncrn.export import (
    from_antimony,
    from_crn_text,
    from_sbml,
    to_antimony,
    to_crn_text,
    to_sbml,
)

libsbml = pytest.importorskip("libsbml")
torch = pytest.importorskip("torch")

FEATURES = ["sepal length (cm)", "sepal width (cm)", "petal length (cm)", "petal width (cm)"]
CLASSES = ["setosa", "versicolor", "virginica"]


def _iris_like(scale: bool = True):
    """A 4-5-3 smooth network reading features with offsets (and a min-max scale)."""
    from nncrn.compile import compile_network
    from nncrn.nn import SmoothReLU

    torch.manual_seed(3)
    model = torch.nn.Sequential(torch.nn.Linear(4, 5), SmoothReLU(1e-3),
                                torch.nn.Linear(5, 3)).double()  # fmt: skip
    ranges = [(-2.5, math.inf), (0.0, math.inf), (-1.0, math.inf), (0.5, math.inf)]
    kwargs = {"input_scale": [0.25, 1.0, 0.5, 2.0]} if scale else {}
    net = compile_network(model, input_range=ranges, **kwargs)
    return net.with_metadata(classes=CLASSES, feature_names=FEATURES)


def _problems(text: str) -> list[str]:
    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    return [doc.getError(i).getMessage() for i in range(doc.getNumErrors())]


def test_features_are_parameters_that_set_the_inputs_through_their_offset_and_scale():
    from nncrn.simulate import steady_state

    net = _iris_like()
    row = np.array([0.3, 1.2, 0.4, 0.9])
    text = to_sbml(net, inputs=row)
    assert _problems(text) == []  # no errors, and no unit warnings either
    model = libsbml.readSBMLFromString(text).getModel()
    # X1 has low 0 and scale 1: a concentration already, no parameter
    ids = {"X0": "sepal_length__cm_", "X2": "petal_length__cm_", "X3": "petal_width__cm_"}
    assert model.getNumInitialAssignments() == 3
    for species, pid in ids.items():
        p = model.getParameter(pid)
        assert p.getConstant() and p.getName() == FEATURES[int(species[1])]
        assert p.getValue() == row[int(species[1])]  # the value given, not worked back
        assert model.getInitialAssignment(species) is not None
    # the species' own initial concentrations are the network's map of the row
    from nncrn.network import input_concentrations

    conc = input_concentrations(net, row[None])[0]
    for j, name in enumerate(net.inputs):
        assert model.getSpecies(name).getInitialConcentration() == pytest.approx(conc[j], 1e-15)

    # libRoadRunner: set a feature in feature units, reset, simulate; outputs equal nncrn's
    roadrunner = pytest.importorskip("roadrunner")
    rr = roadrunner.RoadRunner(text)
    rr.integrator.relative_tolerance = 1e-10
    rr.integrator.absolute_tolerance = 1e-13
    new = row.copy()
    new[2] = 1.7
    rr.setValue("init(petal_length__cm_)", 1.7)
    rr.reset()
    assert rr["[X2]"] == pytest.approx((1.7 + 1.0) * 0.5, rel=1e-14)
    rr.simulate(0, 800, 2)
    theirs = np.array([rr[c] for c in CLASSES])
    ours = steady_state(net, new[None]).outputs[0]
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-9)


def test_round_trip_is_exact_and_an_edited_feature_is_read_as_the_new_input():
    net = _iris_like()
    text = to_sbml(net, inputs=[0.3, 1.2, 0.4, 0.9])
    back = from_sbml(text)
    from nncrn.network import input_concentrations

    conc = input_concentrations(net, np.array([[0.3, 1.2, 0.4, 0.9]]))[0]
    assert [back.species[back.index(n)].initial for n in net.inputs] == conc.tolist()
    assert back.reactions == net.reactions and back.readout == net.readout
    # without inputs= the file round-trips to the network itself
    assert from_sbml(to_sbml(net)) == net
    # a modeller edits the feature in the file: the import reads the new input
    edited = text.replace('name="petal length (cm)" value="0.4"',
                          'name="petal length (cm)" value="2.0"')
    assert edited != text
    x2 = from_sbml(edited)
    assert x2.species[x2.index("X2")].initial == pytest.approx((2.0 + 1.0) * 0.5)


def test_identity_inputs_get_no_parameters_and_omex_leaves_them_out():
    from nncrn.compile import compile_network
    from nncrn.nn import SmoothReLU

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), SmoothReLU(1e-3), torch.nn.Linear(3, 1))
    plain = compile_network(model.double())
    model_ = libsbml.readSBMLFromString(to_sbml(plain)).getModel()
    assert model_.getNumInitialAssignments() == 0
    scaled = _iris_like()
    no_features = to_sbml(scaled, feature_parameters=False)
    assert "initialAssignment" not in no_features and from_sbml(no_features) == scaled


def test_inputs_set_the_start_in_every_format_and_by_feature_name():
    net = _iris_like(scale=False)
    by_name = dict(zip(FEATURES, [0.3, 1.2, 0.4, 0.9], strict=True))
    expected = [0.3 + 2.5, 1.2, 0.4 + 1.0, 0.9 - 0.5]
    for text, read in ((to_sbml(net, inputs=by_name), from_sbml),
                       (to_antimony(net, inputs=by_name), from_antimony),
                       (to_crn_text(net, inputs=by_name), from_crn_text)):  # fmt: skip
        back = read(text)
        got = [back.species[back.index(n)].initial for n in net.inputs]
        np.testing.assert_allclose(got, expected, rtol=1e-14)


@pytest.mark.parametrize(
    ("inputs", "match"),
    [
        (np.zeros((2, 4)), r"one row of features.*got shape \(2, 4\).*to_omex"),
        ([0.1, 0.2], "2 columns but the network has 4 input species"),
        ([-9.0, 0.0, 0.0, 1.0], "outside its declared input_range"),
        ({"sepal length (cm)": [1.0, 2.0]}, "one row of features"),
        ("abc", "must be numbers"),
    ],
)
def test_bad_inputs_are_named(inputs, match):
    with pytest.raises(InputError, match=match):
        to_sbml(_iris_like(), inputs=inputs)


def test_units_declare_the_scale_and_keep_the_numbers():
    net = _iris_like()
    text = to_sbml(net, concentration_unit="nM", time_unit="min")
    assert _problems(text) == []
    model = libsbml.readSBMLFromString(text).getModel()
    assert model.getSubstanceUnits() == "nanomole" and model.getTimeUnits() == "minute"
    nano = model.getUnitDefinition("nanomole").getUnit(0)
    assert (nano.getKind(), nano.getScale()) == (libsbml.UNIT_KIND_MOLE, -9)
    minute = model.getUnitDefinition("minute").getUnit(0)
    assert (minute.getKind(), minute.getMultiplier()) == (libsbml.UNIT_KIND_SECOND, 60.0)
    # a second-order rate constant: (nmol/L)^-1 min^-1
    second_order = model.getUnitDefinition("rate_order_2")
    units = {second_order.getUnit(i).getKind(): second_order.getUnit(i)
             for i in range(second_order.getNumUnits())}  # fmt: skip
    assert units[libsbml.UNIT_KIND_MOLE].getScale() == -9
    assert units[libsbml.UNIT_KIND_MOLE].getExponent() == -1
    assert units[libsbml.UNIT_KIND_SECOND].getMultiplier() == 60.0
    assert "1 nM" in model.getNotesString()
    assert from_sbml(text) == net  # the numbers are the network's
    with pytest.raises(InputError, match="concentration_unit must be one of"):
        to_sbml(net, concentration_unit="mol")
    with pytest.raises(InputError, match="counts molecules"):
        to_sbml(net, concentration_unit="nM", stochastic_volume=100.0)


def test_antimony_and_crn_text_carry_the_readout():
    net = _iris_like()
    text = to_antimony(net)
    for cls, ro in zip(CLASSES, net.readout, strict=True):
        assert f"  {cls} := {ro.plus} - {ro.minus};" in text
    assert from_antimony(text) == net
    crn = to_crn_text(net)
    assert f"# output setosa = {net.readout[0].plus} - {net.readout[0].minus}" in crn
    assert from_crn_text(crn) == net
