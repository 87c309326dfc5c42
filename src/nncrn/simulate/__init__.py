"""Simulate any mass-action ReactionNetwork: steady states, trajectories, stochastic samples."""

# -- results (shared)
from nncrn.simulate._results import SteadyState, Trajectory

# -- deterministic solvers (ODE)

# -- closed form

# -- stochastic

__all__ = [
    "SteadyState",
    "Trajectory",
]
