"""Recurrent neural chemical reaction networks (RNCRN) that reproduce a dynamical system.

Executive species ``X_1..X_N`` carry the dynamics; fast chemical perceptrons ``Y_1..Y_M``
(the smoothed-ReLU species of the feed-forward construction) sit at their quasi-steady
state when their time scale ``mu`` is small (Dack, Qureshi, Ouldridge & Plesa,
"Recurrent neural chemical reaction networks that approximate arbitrary dynamics",
arXiv 2406.03456):

* :class:`RNCRN`: the parameters, the reduced vector field and :meth:`RNCRN.to_network`,
  the mass-action :class:`~nncrn.network.ReactionNetwork` at a chosen ``mu``;
* :func:`train`: regression of a target vector field (a :class:`Target`, a callable or
  samples) on a box, with a penalty on the spread of the rate constants;
* :func:`verify`: vector-field error, fixed points, limit-cycle period and time averages
  of the *full* compiled network at ``mu`` against the target's;
* :func:`design_cycle`: a designer limit cycle, the target whose attracting orbit is a
  closed curve drawn as points, at a chosen period (:func:`cycle_samples`: the curve and
  attracting padding around it, as training samples);
* :data:`TARGETS`: the paper's four systems (bistable, tristable, the Bessel oscillator,
  the Hastings–Powell food chain);
* :func:`stochastic_run`: the compiled network under exact SSA at a chosen volume (does
  the oscillation survive at a thousand molecules?).
"""

from nncrn.rncrn._analysis import FixedPoint, find_fixed_points
from nncrn.rncrn._design import cycle_samples, design_cycle
from nncrn.rncrn._model import RNCRN
from nncrn.rncrn._targets import TARGETS, Target, get_target
from nncrn.rncrn._train import TrainResult, sample_box, train
from nncrn.rncrn._verify import (
    StochasticRun,
    Verification,
    simulate_network,
    stochastic_run,
    verify,
)

__all__ = [
    "RNCRN",
    "TARGETS",
    "FixedPoint",
    "StochasticRun",
    "Target",
    "TrainResult",
    "Verification",
    "cycle_samples",
    "design_cycle",
    "find_fixed_points",
    "get_target",
    "sample_box",
    "simulate_network",
    "stochastic_run",
    "train",
    "verify",
]
