"""Simulate any mass-action ReactionNetwork: steady states, trajectories, stochastic samples."""

# -- results (shared)
# -- deterministic solvers (ODE)
from nncrn.simulate._api import integrate, steady_state
from nncrn.simulate._results import SteadyState, Trajectory
from nncrn.simulate._scipy_ode import ScipyODE
from nncrn.simulate._settling import settling_time
from nncrn.simulate._solver import Solver
from nncrn.simulate._torch_ode import TorchODE

# -- closed form
# isort: split
from nncrn.simulate._closed_form import fixed_point
from nncrn.simulate._conservation import conservation_laws

# -- stochastic
from nncrn.simulate._ssa import (
    DirectMethod,
    NextReactionMethod,
    NoiseStudy,
    SSAResult,
    SSASolver,
    TauLeaping,
    gillespie,
    noise_study,
)

__all__ = [
    "DirectMethod",
    "NextReactionMethod",
    "NoiseStudy",
    "SSAResult",
    "SSASolver",
    "ScipyODE",
    "Solver",
    "SteadyState",
    "TauLeaping",
    "TorchODE",
    "Trajectory",
    "conservation_laws",
    "fixed_point",
    "gillespie",
    "integrate",
    "noise_study",
    "settling_time",
    "steady_state",
]
