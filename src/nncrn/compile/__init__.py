"""Compile trained feed-forward models (torch, scikit-learn, ONNX) into reaction networks.

torch, scikit-learn and onnx are imported only when a model of theirs is compiled.
"""

from nncrn._activations import ActivationError, analyse_activation, check_activation
from nncrn.compile._argmax import argmax_map, with_argmax
from nncrn.compile._compile import (
    ApproximationWarning,
    compile_network,
    layer_stack,
    relu_deviation_bound,
)
from nncrn.compile._complex import complex_inputs, complex_outputs
from nncrn.compile._dual_rail import DualRail, competition_violations, dual_rail_inputs
from nncrn.compile._layers import ACTIVATIONS, DenseLayer, LayerStack
from nncrn.compile._polynomial import Polynomial
from nncrn.compile._scheme import Scheme, SmoothReLUScheme
from nncrn.compile._sigmoid import ChemicalSigmoidScheme, chemical_sigmoid

# Names before 0.2: the schemes shared their names with the torch modules of nncrn.nn.
_RENAMED = {"SmoothReLU": "SmoothReLUScheme", "ChemicalSigmoid": "ChemicalSigmoidScheme"}


def __getattr__(name: str) -> object:
    return renamed_scheme(__name__, name)


def renamed_scheme(module: str, name: str) -> object:
    """The scheme a pre-0.2 name meant, with a DeprecationWarning naming the new one."""
    if name in _RENAMED:
        import warnings

        new = _RENAMED[name]
        warnings.warn(
            f"{module}.{name} (the compile scheme) is now {module}.{new}, so that it no longer "
            f"shares a name with the torch module nncrn.nn.{name}; the old name will be removed",
            DeprecationWarning,
            stacklevel=3,
        )
        return globals()[new]
    raise AttributeError(f"module {module!r} has no attribute {name!r}")


__all__ = [
    "ACTIVATIONS",
    "ActivationError",
    "ApproximationWarning",
    "ChemicalSigmoidScheme",
    "DenseLayer",
    "DualRail",
    "LayerStack",
    "Polynomial",
    "Scheme",
    "SmoothReLUScheme",
    "analyse_activation",
    "argmax_map",
    "check_activation",
    "chemical_sigmoid",
    "competition_violations",
    "compile_network",
    "complex_inputs",
    "complex_outputs",
    "dual_rail_inputs",
    "layer_stack",
    "relu_deviation_bound",
    "with_argmax",
]
