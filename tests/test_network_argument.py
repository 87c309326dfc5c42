"""Every public function that takes a network refuses anything else, with the way to get one."""

from __future__ import annotations

import pytest

import nncrn
from nncrn.export import to_antimony, to_crn_text, to_sbml
from nncrn.network import initial_state, input_concentrations
from nncrn.simulate import (
    TorchODE,
    fixed_point,
    gillespie,
    integrate,
    noise_study,
    settling_time,
    steady_state,
)

CALLS = {
    "steady_state": lambda n: steady_state(n, [[1.0]]),
    "integrate": lambda n: integrate(n, [[1.0]], [0.0, 1.0]),
    "fixed_point": lambda n: fixed_point(n, [[1.0]]),
    "settling_time": lambda n: settling_time(n, [[1.0]]),
    "gillespie": lambda n: gillespie(n, [[1.0]], volume=10.0, t_end=1.0),
    "noise_study": lambda n: noise_study(n, [[1.0]], volumes=[10.0], t_end=1.0, runs=2),
    "to_sbml": to_sbml,
    "to_antimony": to_antimony,
    "to_crn_text": to_crn_text,
    "fit": lambda n: nncrn.fit(n, [[1.0]], [0]),
    "input_concentrations": lambda n: input_concentrations(n, [[1.0]]),
    "initial_state": lambda n: initial_state(n, [[1.0]]),
    "TorchODE.prepare": lambda n: TorchODE().prepare(n),
    "TorchODE.steady_path": lambda n: TorchODE().steady_path(n),
    "TorchODE.linear_algebra": lambda n: TorchODE().linear_algebra(n),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_a_path_is_refused_with_the_loader_named(name):
    with pytest.raises(nncrn.InputError, match=rf"{name} expects an nncrn.ReactionNetwork.*got str.*ReactionNetwork.load"):
        CALLS[name]("network.json")


@pytest.mark.parametrize("name", ["steady_state", "to_sbml", "fit"])
def test_other_objects_are_refused_with_the_compiler_named(name):
    with pytest.raises(nncrn.InputError, match=r"got NoneType.*compile_network"):
        CALLS[name](None)
