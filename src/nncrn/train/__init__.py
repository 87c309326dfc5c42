"""Training at the chemical level: fit rate constants, discretize them, test robustness.

``nncrn.train`` reads a network's structure from its reactions (see ``extract_terms``); it
never imports ``nncrn.compile``.
"""

from nncrn.train._discretize import METHODS, check_bits, discretization_levels, discretize
from nncrn.train._fit import History, fit
from nncrn.train._params import Constraints, cluster_levels
from nncrn.train._quantize import STEQuantizer, discretize_network, qat_fit, quantize_model
from nncrn.train._robustness import EarlyReadout, NoiseRobustness, early_readout, rate_noise
from nncrn.train._terms import Terms, extract_terms

__all__ = [
    "METHODS",
    "Constraints",
    "EarlyReadout",
    "History",
    "NoiseRobustness",
    "STEQuantizer",
    "Terms",
    "check_bits",
    "cluster_levels",
    "discretization_levels",
    "discretize",
    "discretize_network",
    "early_readout",
    "extract_terms",
    "fit",
    "qat_fit",
    "quantize_model",
    "rate_noise",
]
