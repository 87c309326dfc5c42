"""Stochastic simulation (chemical master equation) of any mass-action network.

See :mod:`nncrn.simulate._ssa._model` for the propensity convention, consistent with
:data:`nncrn.network.KINETICS`.
"""

from nncrn.simulate._ssa._gillespie import gillespie
from nncrn.simulate._ssa._noise import NoiseStudy, noise_study
from nncrn.simulate._ssa._result import SSAResult
from nncrn.simulate._ssa._solvers import DirectMethod, NextReactionMethod, SSASolver, TauLeaping

__all__ = [
    "DirectMethod",
    "NextReactionMethod",
    "NoiseStudy",
    "SSAResult",
    "SSASolver",
    "TauLeaping",
    "gillespie",
    "noise_study",
]
