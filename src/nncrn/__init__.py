"""nncrn: compile neural networks into chemical reaction networks, simulate and export them.

The public API is re-exported here name by name. ``nncrn.nn`` (torch activation modules)
and ``nncrn.export`` (SBML, Antimony, CRN text) are subpackages loaded on first access, so
``import nncrn`` imports neither torch nor libsbml.
"""

from __future__ import annotations

import importlib
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from nncrn._errors import (
    ConvergenceError,
    ConvergenceWarning,
    FormatError,
    InputError,
    NetworkError,
    NNCRNError,
    NNCRNWarning,
    UnsupportedModelError,
)
from nncrn.compile import (
    ApproximationWarning,
    ChemicalSigmoidScheme,
    DualRail,
    Polynomial,
    Scheme,
    SmoothReLUScheme,
    compile_network,
    relu_deviation_bound,
    with_argmax,
)
from nncrn.network import KINETICS, Reaction, ReactionNetwork, Readout, Role, Species
from nncrn.simulate import (
    DirectMethod,
    NextReactionMethod,
    ScipyODE,
    SSAResult,
    SteadyState,
    TauLeaping,
    TorchODE,
    Trajectory,
    fixed_point,
    gillespie,
    integrate,
    noise_study,
    settling_time,
    steady_state,
)

try:
    __version__ = version("nncrn")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

_LAZY_SUBMODULES = ("nn", "export", "train")
# names whose modules import torch: loaded on first access
_LAZY_NAMES = {"fit": "nncrn.train"}


def __getattr__(name: str) -> Any:
    # `nncrn.nn.SmoothReLU` and `nncrn.fit` without importing torch at `import nncrn` time.
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f"nncrn.{name}")
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(_LAZY_NAMES[name]), name)
    from nncrn.compile import renamed_scheme  # SmoothReLU -> SmoothReLUScheme, ...

    return renamed_scheme("nncrn", name)


__all__ = [
    "KINETICS",
    "ApproximationWarning",
    "ChemicalSigmoidScheme",
    "ConvergenceError",
    "ConvergenceWarning",
    "DirectMethod",
    "DualRail",
    "FormatError",
    "InputError",
    "NNCRNError",
    "NNCRNWarning",
    "NetworkError",
    "NextReactionMethod",
    "Polynomial",
    "Reaction",
    "ReactionNetwork",
    "Readout",
    "Role",
    "SSAResult",
    "Scheme",
    "ScipyODE",
    "SmoothReLUScheme",
    "Species",
    "SteadyState",
    "TauLeaping",
    "TorchODE",
    "Trajectory",
    "UnsupportedModelError",
    "__version__",
    "compile_network",
    "fit",
    "fixed_point",
    "gillespie",
    "integrate",
    "noise_study",
    "relu_deviation_bound",
    "settling_time",
    "steady_state",
    "with_argmax",
]
