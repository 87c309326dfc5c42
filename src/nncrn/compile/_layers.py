"""Framework-neutral description of a feed-forward network: what model parsers produce.

Parsers for torch, scikit-learn and ONNX turn a model into a :class:`LayerStack`; schemes
turn a :class:`LayerStack` into a :class:`~nncrn.ReactionNetwork`. Neither side knows the
other's framework.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from nncrn._activations import check_eps, smooth_relu
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
                f"{where}: weight must be (n_out, n_in) and bias (n_out,); got {w.shape} and "
                f"{b.shape}"
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
        if self.activation == "smooth_relu":
            if self.eps is None:
                raise UnsupportedModelError(
                    f"{where}: activation 'smooth_relu' needs its eps; pass "
                    "DenseLayer(..., eps=...)"
                )
            object.__setattr__(self, "eps", check_eps(self.eps, f"{where}: eps"))
        elif self.eps is not None:
            raise UnsupportedModelError(
                f"{where}: eps={self.eps!r} given for activation {self.activation!r}; only "
                "'smooth_relu' layers carry an eps"
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

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The layer's own function: ``x (batch, n_in)`` -> ``(batch, n_out)``, numpy float64."""
        z = np.asarray(x, dtype=np.float64) @ self.weight.T + self.bias
        if self.activation == "relu":
            return np.maximum(z, 0.0)
        if self.activation == "smooth_relu":
            return smooth_relu(z, self.eps)  # type: ignore[arg-type]
        return z


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
        for prev, nxt in itertools.pairwise(layers):
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

    @property
    def n_outputs(self) -> int:
        return self.layers[-1].n_out

    def forward(self, x: object) -> np.ndarray:
        """The network's own function (ReLU as ReLU) on ``x (batch, n_inputs)``, in numpy float64.

        This is the model being compiled, not the chemistry; compare with
        :meth:`Scheme.forward <nncrn.compile.Scheme.forward>` for what the network computes.
        """
        h = np.asarray(x, dtype=np.float64)
        for layer in self.layers:
            h = layer(h)
        return h
