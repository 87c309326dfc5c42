"""scikit-learn estimators whose predictions are computed by a compiled reaction network.

:class:`CRNClassifier` and :class:`CRNRegressor` train an MLP (:mod:`nncrn.data`), compile
it with a chosen scheme (``network_``) and answer ``predict`` from the network's steady
states, so a CRN drops into pipelines, grid searches and ``cross_val_score``.
"""

from nncrn.estimator._estimators import CRNClassifier, CRNRegressor

__all__ = ["CRNClassifier", "CRNRegressor"]
