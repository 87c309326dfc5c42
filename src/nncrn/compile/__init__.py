"""Compile trained feed-forward models (torch, scikit-learn, ONNX) into reaction networks.

torch, scikit-learn and onnx are imported only when a model of theirs is compiled.
"""

from nncrn.compile._compile import (
    ApproximationWarning,
    compile_network,
    layer_stack,
    relu_deviation_bound,
)
from nncrn.compile._layers import ACTIVATIONS, DenseLayer, LayerStack
from nncrn.compile._scheme import Scheme, SmoothReLU

__all__ = [
    "ACTIVATIONS",
    "ApproximationWarning",
    "DenseLayer",
    "LayerStack",
    "Scheme",
    "SmoothReLU",
    "compile_network",
    "layer_stack",
    "relu_deviation_bound",
]
