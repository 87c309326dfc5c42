"""Training at the chemical level: fit rate constants, discretize them, test robustness.

* :func:`fit` trains the weight and bias rate constants of a network on data and returns a
  new network. Gradients of the steady state: an exact torch graph of the layer-wise closed
  form for feed-forward networks (smoothed-ReLU neurons, dual-rail outputs), or the implicit
  function theorem on :func:`nncrn.simulate.steady_state` for any other network.
  :class:`Constraints` puts every trained rate in ``[k_min, k_max]`` through the
  parametrisation, adds an L1 penalty and caps the number of distinct rate values.
* :func:`discretize`, :func:`quantize_model` (torch weights before compiling),
  :func:`discretize_network` (rate constants after) and :func:`qat_fit` (straight-through
  quantization-aware training): linear, exponential, binary and ternary level sets.
* :func:`rate_noise` (log-normal rate noise, batched draws) and :func:`early_readout`.
* :class:`Koopman`, :func:`koopman_train`, :class:`KoopmanAccelerator`: Koopman-operator
  (DMD) acceleration of any torch optimizer loop: fit one linear operator per node on a
  window of weight snapshots and jump ahead (Dogra & Redman 2020); ``fit(...,
  accelerate=Koopman(...))`` uses it on rate constants. :func:`fit_koopman` and
  :func:`partition` are the pieces.

``nncrn.train`` reads a network's structure from its reactions (see :func:`extract_terms`);
it never imports ``nncrn.compile``.
"""

from nncrn.train._discretize import METHODS, check_bits, discretization_levels, discretize
from nncrn.train._fit import History, fit
from nncrn.train._koopman import KOOPMAN_PRESET, Koopman, KoopmanOperators, fit_koopman
from nncrn.train._koopman_loop import (
    Jump,
    KoopmanAccelerator,
    KoopmanHistory,
    koopman_train,
    partition,
)
from nncrn.train._params import Constraints, cluster_levels
from nncrn.train._quantize import STEQuantizer, discretize_network, qat_fit, quantize_model
from nncrn.train._robustness import EarlyReadout, NoiseRobustness, early_readout, rate_noise
from nncrn.train._terms import Terms, extract_terms

__all__ = [
    "KOOPMAN_PRESET",
    "METHODS",
    "Constraints",
    "EarlyReadout",
    "History",
    "Jump",
    "Koopman",
    "KoopmanAccelerator",
    "KoopmanHistory",
    "KoopmanOperators",
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
    "fit_koopman",
    "koopman_train",
    "partition",
    "qat_fit",
    "quantize_model",
    "rate_noise",
]
