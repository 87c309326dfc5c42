"""Input species that reactions consume or produce are ordinary species in every format.

nncrn integrates every species some reaction changes (``network.stoichiometry.dynamic``);
only inputs that are pure catalysts (AJD) stay at their input values. Dual-rail networks
consume their inputs, so writing them as constant boundary species would make every
other tool simulate a different ODE.
"""

from __future__ import annotations

import numpy as np
import pytest

import nncrn
from nncrn.export import from_antimony, from_sbml, to_antimony, to_sbml
from nncrn.network import Reaction, ReactionNetwork, Species

libsbml = pytest.importorskip("libsbml")


def _species(text: str, name: str):
    doc = libsbml.readSBMLFromString(text)
    sp = doc.getModel().getSpecies(name)
    return doc, sp  # the species lives only as long as its document


def _consumed_input() -> ReactionNetwork:
    return ReactionNetwork(
        [Species("X", "input", 0.7), Species("Y", "output", 0.2)],
        [Reaction.parse("X -> Y", 0.5), Reaction.parse("Y -> X", 0.3),
         Reaction.parse("2 Y -> 0", 0.1)],
    )  # fmt: skip


def _dual_rail() -> ReactionNetwork:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[2.0, -1.0], [1.0, 1.0], [-1.0, 3.0]]))
        model[0].bias.zero_()
        model[2].weight.copy_(torch.tensor([[1.0, -2.0, 1.0], [-1.0, 1.0, 2.0]]))
        model[2].bias.zero_()
    return nncrn.compile_network(model, scheme=nncrn.DualRail())


def _roadrunner_trajectory(net: ReactionNetwork, inputs, times: np.ndarray) -> np.ndarray:
    roadrunner = pytest.importorskip("roadrunner")
    rr = roadrunner.RoadRunner(to_sbml(net))
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-15
    for name, value in zip(net.inputs, inputs, strict=True):
        rr.setValue(f"init([{name}])", float(value))
    rr.reset()
    selections = [f"[{n}]" for n in net.species_names]
    return np.asarray(rr.simulate(0.0, float(times[-1]), len(times), selections))


def _nncrn_trajectory(net: ReactionNetwork, inputs, times: np.ndarray) -> np.ndarray:
    traj = nncrn.integrate(net, np.array([inputs]), times,
                           solver=nncrn.ScipyODE(rtol=1e-11, atol=1e-14))  # fmt: skip
    return traj.concentrations[0]


def test_consumed_input_is_an_ordinary_species_in_sbml():
    net = _consumed_input()
    assert net.stoichiometry.dynamic.tolist() == [True, True]
    text = to_sbml(net)
    _doc, x = _species(text, "X")
    assert not x.getBoundaryCondition() and not x.getConstant()
    back = from_sbml(text)
    assert [r.equation() for r in back.reactions] == ["X -> Y", "Y -> X", "2 Y -> 0"]
    assert back.species[0].role.value == "input"  # the annotation keeps the role
    assert back == net


def test_consumed_input_round_trips_through_antimony():
    pytest.importorskip("antimony")
    net = _consumed_input()
    text = to_antimony(net)
    body = text.split("\nmodel ", 1)[1]
    assert "  species X in cell;" in body and "$X" not in body
    assert from_antimony(text) == net


def test_catalyst_input_stays_a_boundary_species():
    net = ReactionNetwork(
        [Species("X", "input", 0.7), Species("Y", "output")],
        [Reaction.parse("X + Y -> X + 2 Y", 0.5), Reaction.parse("2 Y -> Y", 1.0)],
    )
    for text in (to_sbml(net), to_sbml(net, stochastic_volume=10.0)):
        _doc, x = _species(text, "X")
        assert x.getBoundaryCondition() and x.getConstant()
    assert "species $X in cell;" in to_antimony(net)


def test_consumed_input_is_dynamic_in_the_stochastic_export():
    text = to_sbml(_consumed_input(), stochastic_volume=10.0)
    _doc, x = _species(text, "X")
    assert not x.getBoundaryCondition() and not x.getConstant()
    assert x.getInitialAmount() == 7.0


def test_roadrunner_matches_nncrn_on_a_consumed_input():
    net = _consumed_input()
    times = np.linspace(0.0, 20.0, 11)
    ours = _nncrn_trajectory(net, [0.7], times)
    theirs = _roadrunner_trajectory(net, [0.7], times)
    assert ours[-1, 0] < 0.2  # X is drained: holding it at 0.7 would be wrong
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-12)


def test_dual_rail_network_round_trips_and_matches_roadrunner():
    pytest.importorskip("antimony")
    net = _dual_rail()
    assert any(r.net().get("X0", 0) < 0 for r in net.reactions)  # dual rail consumes inputs
    assert net.stoichiometry.dynamic[list(net.species_names).index("X0")]
    assert from_sbml(to_sbml(net)) == net
    assert from_antimony(to_antimony(net)) == net
    assert "$X0" not in to_antimony(net).split("\nmodel ", 1)[1]

    x = [0.5, 0.8]
    times = np.linspace(0.0, 40.0, 9)
    ours = _nncrn_trajectory(net, x, times)
    theirs = _roadrunner_trajectory(net, x, times)
    np.testing.assert_allclose(theirs, ours, rtol=1e-6, atol=1e-9)
    # and both compute the network: y = W2 relu(W1 x) = (-0.5, 4.9), up to slow annihilation
    names = list(net.species_names)
    outputs = [theirs[-1, names.index(ro.plus)] - theirs[-1, names.index(ro.minus)]
               for ro in net.readout]  # fmt: skip
    np.testing.assert_allclose(outputs, [-0.5, 4.9], atol=1e-3)
