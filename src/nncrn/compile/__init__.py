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
from nncrn.compile._scheme import Scheme, SmoothReLU
from nncrn.compile._sigmoid import ChemicalSigmoid, chemical_sigmoid

__all__ = [
    "ACTIVATIONS",
    "ActivationError",
    "ApproximationWarning",
    "ChemicalSigmoid",
    "DenseLayer",
    "DualRail",
    "LayerStack",
    "Polynomial",
    "Scheme",
    "SmoothReLU",
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
