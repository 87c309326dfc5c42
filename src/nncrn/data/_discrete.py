"""Discretized weights for a trained MLP: post-training or quantization-aware."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nncrn._errors import InputError

__all__ = ["Discretization", "discretize_mlp"]

_WEIGHT_LEVEL_METHODS = ("binary", "ternary", "linear", "exponential")


@dataclass(frozen=True)
class Discretization:
    """How to discretize a model's weights.

    ``method``: ``"binary"`` (``alpha {-1, 1}``), ``"ternary"`` (``alpha {-1, 0, 1}``),
    ``"linear"`` or ``"exponential"`` levels of ``bits`` bits (sign included; ignored
    for binary/ternary). ``qat``: quantization-aware training for ``qat_epochs`` epochs
    (straight-through, :func:`nncrn.train.qat_fit`) instead of rounding the trained
    weights once. ``biases``: discretize the biases too (default False: a real bias is one
    initial amount or one rate constant in every scheme, so rounding it gains nothing).
    """

    method: str
    bits: int = 2
    qat: bool = False
    qat_epochs: int = 300
    biases: bool = False

    def __post_init__(self) -> None:
        from nncrn.train import check_bits

        if self.method not in _WEIGHT_LEVEL_METHODS:
            raise InputError(
                f"Discretization(method={self.method!r}); choose one of {_WEIGHT_LEVEL_METHODS}"
            )
        if self.method in ("binary", "ternary"):
            object.__setattr__(self, "bits", 1 if self.method == "binary" else 2)
        else:
            object.__setattr__(self, "bits", check_bits(self.bits, "Discretization"))
        if not isinstance(self.qat_epochs, int) or self.qat_epochs < 1:
            raise InputError(f"Discretization(qat_epochs={self.qat_epochs!r}) must be an integer >= 1")

    @property
    def integer_levels(self) -> bool:
        """Whether every layer's weights are integer multiples of one unit (dual-rail ready)."""
        return self.method in ("binary", "ternary", "linear")

    def describe(self) -> str:
        """E.g. ``"ternary, QAT 100 epochs"`` or ``"exponential, 3 bits"``."""
        kind = self.method if self.method in ("binary", "ternary") else f"{self.method}, {self.bits} bits"
        extra = [f"QAT {self.qat_epochs} epochs"] if self.qat else []
        extra += ["biases too"] if self.biases else []
        return ", ".join([kind, *extra])


def discretize_mlp(model, X: object, y: object, how: Discretization, *, seed: int = 0):
    """A copy of ``model`` with discretized ``Linear`` weights (and biases if ``how.biases``).

    ``X (n, d)`` and ``y (n,)`` are the training features the model reads and class
    indices, used by quantization-aware training only. With ``how.qat`` the weights come
    out of :func:`nncrn.train.qat_fit` on their levels and are not rounded again.
    """
    from nncrn.train import qat_fit, quantize_model

    if not isinstance(how, Discretization):
        raise InputError(f"discretize_mlp needs a Discretization, got {type(how).__name__}")
    if how.qat:
        out, _ = qat_fit(model, np.asarray(X, dtype=np.float64), y, bits=how.bits,
                         method=how.method, epochs=how.qat_epochs, rng=seed)  # fmt: skip
        if how.biases:
            out = quantize_model(out, how.bits, how.method, biases=True, weights=False)
        return out
    return quantize_model(model, how.bits, how.method, biases=how.biases)
