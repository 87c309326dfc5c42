"""Min-max scaling kept as the network's input map, not folded into its weights."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nncrn._errors import InputError

__all__ = ["MinMaxScaling", "infer_input_range"]


@dataclass(frozen=True)
class MinMaxScaling:
    """``u = (x - low) / span`` per feature, fitted on training features.

    A network trained on ``u`` is compiled with ``input_scale = 1 / span`` (the factor the
    input species keep, so the weights stay what was trained: discretized levels stay
    levels) and the offset ``-low / span`` folded into the first layer's bias
    (:func:`nncrn.data.fold_offset`). A constant feature gets ``span = 1``.
    """

    low: np.ndarray
    span: np.ndarray

    @classmethod
    def fit(cls, X: object) -> MinMaxScaling:
        """The scaling that maps each column of ``X (n, d)`` onto ``[0, 1]``."""
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[0] == 0 or not np.isfinite(X).all():
            raise InputError(
                f"MinMaxScaling.fit needs a non-empty (n, d) array of finite features; got "
                f"shape {X.shape}"
            )
        low = X.min(axis=0)
        span = X.max(axis=0) - low
        span[span == 0] = 1.0  # a constant feature: any scale works
        return cls(low, span)

    @property
    def input_scale(self) -> np.ndarray:
        """``1 / span`` ``(d,)``: the factor the model's first layer reads features with."""
        return 1.0 / self.span

    def transform(self, X: object) -> np.ndarray:
        """``(X - low) / span``, shape ``(n, d)``."""
        return (np.asarray(X, dtype=np.float64) - self.low) / self.span


def infer_input_range(X: object) -> list[tuple[float, float]] | None:
    """Input range from training features: concentrations as they are when all are >= 0.

    A feature with negative training values gets ``low = min - 10% of its span`` so slightly
    lower values at prediction time still map to non-negative concentrations; ``high`` is
    unbounded because large concentrations are chemically harmless. ``None`` when every
    feature is >= 0 (each is then a concentration itself).
    """
    X = np.asarray(X, dtype=np.float64)
    low = X.min(axis=0)
    if (low >= 0).all():
        return None
    span = np.maximum(X.max(axis=0) - low, 1e-12)
    lows = np.where(low >= 0, 0.0, low - 0.1 * span)
    return [(float(v), float("inf")) for v in lows]
