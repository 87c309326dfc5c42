"""Torch modules whose function a compiled reaction network computes exactly.

Train with :class:`SmoothReLU` instead of ``torch.nn.ReLU`` and the compiled network's
steady state equals the trained network's output (up to rounding), instead of being within
``sqrt(eps)`` per unit of it. Complex-valued layers (:class:`ComplexLinear`, :class:`CReLU`,
:class:`ComplexSmoothReLU`, :class:`ComplexBatchNorm1d` folded into the layer before it)
compile as real layers with 2x2 blocks ``[[A, -B], [B, A]]``.
"""

from nncrn.nn._complex import ComplexLinear, ComplexSmoothReLU, ComplexToReal, CReLU
from nncrn.nn._complex_bn import ComplexBatchNorm1d
from nncrn.nn._real import ChemicalSigmoid, PolynomialActivation, RectifiedRoot, SmoothReLU

__all__ = [
    "CReLU",
    "ChemicalSigmoid",
    "ComplexBatchNorm1d",
    "ComplexLinear",
    "ComplexSmoothReLU",
    "ComplexToReal",
    "PolynomialActivation",
    "RectifiedRoot",
    "SmoothReLU",
]
