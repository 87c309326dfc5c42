"""Framework-neutral description of a feed-forward network: what model parsers produce.

Parsers for torch, scikit-learn and ONNX turn a model into a :class:`LayerStack`; schemes
turn a :class:`LayerStack` into a :class:`~nncrn.ReactionNetwork`. Neither side knows the
other's framework.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nncrn._errors import UnsupportedModelError

__all__ = ["ACTIVATIONS", "DenseLayer", "LayerStack"]

ACTIVATIONS = ("smooth_relu", "relu", "identity")
"""Activations a parser may report. ``smooth_relu`` carries its ``eps``."""


@dataclass(frozen=True, eq=False)
class DenseLayer:
    """``activation(weight @ x + bias)``; ``weight`` is ``(n_out, n_in)`` like torch's Linear."""

    weight: np.ndarray
    bias: np.ndarray
    activation: str
    eps: float | None = None
    source: str = ""

    def __post_init__(self) -> None:
        w = np.array(self.weight, dtype=np.float64)
        b = np.array(self.bias, dtype=np.float64)
        where = self.source or "layer"
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise UnsupportedModelError(
                f"{where}: weight must be (n_out, n_in) and bias (n_out,); got {w.shape} and {b.shape}"
            )
        for name, arr in (("weight", w), ("bias", b)):
            bad = ~np.isfinite(arr)
            if bad.any():
                idx = tuple(int(i) for i in np.argwhere(bad)[0])
                raise UnsupportedModelError(
                    f"{where}: {name}{list(idx)} is {arr[idx]} ({int(bad.sum())} non-finite "
                    f"values); a network with NaN or inf parameters cannot be compiled — retrain "
                    "or repair the model"
                )
        if self.activation not in ACTIVATIONS:
            raise UnsupportedModelError(
                f"{where}: activation {self.activation!r} is not one of {ACTIVATIONS}"
            )
        w.setflags(write=False)
        b.setflags(write=False)
        object.__setattr__(self, "weight", w)
        object.__setattr__(self, "bias", b)

    @property
    def n_in(self) -> int:
        return int(self.weight.shape[1])

    @property
    def n_out(self) -> int:
        return int(self.weight.shape[0])


@dataclass(frozen=True, eq=False)
class LayerStack:
    """A feed-forward network as consecutive dense layers plus what the parser dropped.

    ``dropped`` lists human-readable notes on layers that were skipped because they do not
    change the function in inference (e.g. ``"Dropout at index 2 (identity in eval mode)"``
    or ``"final Softmax (argmax unchanged)"``); the compiler reports them in a warning and
    in the network's metadata.
    """

    layers: tuple[DenseLayer, ...]
    source: str
    dropped: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not layers:
            raise UnsupportedModelError(f"{self.source}: the model has no dense layer to compile")
        for prev, nxt in zip(layers, layers[1:], strict=False):
            if prev.n_out != nxt.n_in:
                raise UnsupportedModelError(
                    f"{self.source}: {nxt.source or 'a layer'} expects {nxt.n_in} inputs but the "
                    f"previous layer has {prev.n_out} outputs"
                )
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "dropped", tuple(self.dropped))

    @property
    def n_inputs(self) -> int:
        return self.layers[0].n_in
