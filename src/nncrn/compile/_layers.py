"""Framework-neutral description of a feed-forward network: what model parsers produce.

Parsers for torch, scikit-learn and ONNX turn a model into a :class:`LayerStack`; schemes
turn a :class:`LayerStack` into a :class:`~nncrn.ReactionNetwork`. Neither side knows the
other's framework.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from nncrn._activations import (
    check_activation,
    check_eps,
    chemical_sigmoid,
    polynomial_root,
    smooth_relu,
    trim,
)
from nncrn._errors import UnsupportedModelError

__all__ = ["ACTIVATIONS", "DenseLayer", "Function", "LayerStack", "check_finite"]

ACTIVATIONS = ("smooth_relu", "relu", "identity", "polynomial", "chemical_sigmoid")
"""Activations a parser may report. ``smooth_relu`` carries its ``eps``; ``polynomial``
(root of ``P(y) + z Q(y)``, :class:`nncrn.nn.PolynomialActivation`) carries
``params={"P": ..., "Q": ...}`` and ``chemical_sigmoid`` carries ``params={"rate": ...}``."""

_PARAMS: dict[str, tuple[str, ...]] = {
    "smooth_relu": (), "relu": (), "identity": (), "polynomial": ("P", "Q"),
    "chemical_sigmoid": ("rate",),
}  # fmt: skip


def _check_params(activation: str, params: Mapping[str, Any] | None, where: str) -> Mapping:
    """``params`` validated for ``activation``, as a read-only mapping of floats / float tuples."""
    need = _PARAMS[activation]
    given = dict(params or {})
    if set(given) != set(need):
        what = f"params with keys {list(need)}" if need else "no params"
        raise UnsupportedModelError(
            f"{where}: activation {activation!r} takes {what}, got params={params!r}; pass "
            + (f"DenseLayer(..., params={{{', '.join(f'{k!r}: ...' for k in need)}}})" if need
               else "params=None")
        )  # fmt: skip
    if activation == "polynomial":
        P, Q = trim(given["P"]), trim(given["Q"])
        check_activation(P, Q)  # ActivationError (an UnsupportedModelError) with the reason
        given = {"P": tuple(float(v) for v in P), "Q": tuple(float(v) for v in Q)}
    elif activation == "chemical_sigmoid":
        try:
            rate = float(given["rate"])
        except (TypeError, ValueError):
            rate = math.nan
        if not math.isfinite(rate) or rate <= 0:
            raise UnsupportedModelError(
                f"{where}: chemical_sigmoid rate is {given['rate']!r}; it must be finite and > 0 "
                "(nncrn.nn.ChemicalSigmoid(rate) checks the same)"
            )
        given = {"rate": rate}
    return MappingProxyType(given)


@dataclass(frozen=True)
class Function:
    """What a non-linear layer computes, as a comparable value: ``kind`` and its parameters.

    Canonical: a ``polynomial`` layer whose ``P, Q`` are ``eps - y^2`` and ``y`` (the
    rectified root with ``k = 2``) *is* ``smooth_relu`` with that ``eps``, so it is stored
    as one; ``smooth_relu`` with ``eps = 0`` and ``relu`` compare equal (:meth:`same`).
    Made by :attr:`DenseLayer.function` and :meth:`Scheme.model_activation
    <nncrn.compile.Scheme.model_activation>`.
    """

    kind: str
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(
        cls, activation: str, eps: float | None = None, params: Mapping | None = None
    ) -> Function:
        if activation == "smooth_relu":
            return cls("smooth_relu", (("eps", float(eps or 0.0)),))
        if activation == "polynomial" and params is not None:
            P, Q = tuple(params["P"]), tuple(params["Q"])
            if Q == (0.0, 1.0) and len(P) == 3 and P[1:] == (0.0, -1.0):
                return cls("smooth_relu", (("eps", P[0]),))
            return cls("polynomial", (("P", P), ("Q", Q)))
        return cls(activation, tuple(sorted((params or {}).items())))

    def get(self, key: str) -> Any:
        return dict(self.params)[key]

    def layer_args(self) -> tuple[str, float | None, dict[str, Any] | None]:
        """``(activation, eps, params)`` for a :class:`DenseLayer` computing this function."""
        if self.kind == "smooth_relu":
            return "smooth_relu", self.get("eps"), None
        return self.kind, None, dict(self.params) or None

    def same(self, other: Function, rel: float = 1e-6) -> bool:
        """Equal kinds and parameters to ``rel`` (float32-stored models, e.g. ONNX, round them)."""
        a, b = (("relu", ()) if f.kind == "smooth_relu" and f.get("eps") == 0 else
                (f.kind, f.params) for f in (self, other))  # fmt: skip
        if a[0] != b[0] or len(a[1]) != len(b[1]):
            return False
        for (ka, va), (kb, vb) in zip(a[1], b[1], strict=True):
            va, vb = np.atleast_1d(va), np.atleast_1d(vb)
            if ka != kb or va.shape != vb.shape or not np.allclose(va, vb, rtol=rel, atol=0.0):
                return False
        return True

    def __str__(self) -> str:
        if self.kind == "polynomial":
            P, Q = self.get("P"), self.get("Q")
            if Q == (0.0, 1.0) and len(P) > 3 and all(v == 0 for v in P[1:-1]) and P[-1] == -1:
                return f"RectifiedRoot(k={len(P) - 1}, eps={P[0]!r})"
            return f"PolynomialActivation(P={list(P)}, Q={list(Q)})"
        names = {"smooth_relu": "SmoothReLU", "relu": "ReLU", "identity": "Identity",
                 "chemical_sigmoid": "ChemicalSigmoid"}  # fmt: skip
        return names[self.kind] + f"({', '.join(f'{k}={v!r}' for k, v in self.params)})" * (
            bool(self.params)
        )


def check_finite(where: str, name: str, values: np.ndarray) -> None:
    """Refuse NaN/inf in a parameter array, naming the first bad entry as ``name[i, j]``."""
    bad = ~np.isfinite(values)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise UnsupportedModelError(
            f"{where}: {name}[{', '.join(map(str, idx))}] is {values[idx]} ({int(bad.sum())} "
            "non-finite values); a network with NaN or inf parameters cannot be compiled — "
            "retrain or repair the model"
        )


@dataclass(frozen=True, eq=False)
class DenseLayer:
    """``activation(weight @ x + bias)``; ``weight`` is ``(n_out, n_in)`` like torch's Linear."""

    weight: np.ndarray
    bias: np.ndarray
    activation: str
    eps: float | None = None
    source: str = ""
    params: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        w = np.array(self.weight, dtype=np.float64)
        b = np.array(self.bias, dtype=np.float64)
        where = self.source or "layer"
        if w.ndim != 2 or b.shape != (w.shape[0],):
            raise UnsupportedModelError(
                f"{where}: weight must be (n_out, n_in) and bias (n_out,); got {w.shape} and "
                f"{b.shape}"
            )
        check_finite(where, "weight", w)
        check_finite(where, "bias", b)
        if self.activation not in ACTIVATIONS:
            raise UnsupportedModelError(
                f"{where}: activation {self.activation!r} is not one of {ACTIVATIONS}"
            )
        params = _check_params(self.activation, self.params, where)
        object.__setattr__(self, "params", params or None)
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
        if self.activation == "polynomial":
            P, Q = self.params["P"], self.params["Q"]  # type: ignore[index]
            return polynomial_root(np.array(P), np.array(Q), z)
        if self.activation == "chemical_sigmoid":

            return chemical_sigmoid(z, self.params["rate"])  # type: ignore[index]
        return z

    @property
    def function(self) -> Function:
        """The activation as a comparable :class:`Function` (``identity`` for linear layers)."""
        return Function.of(self.activation, self.eps, self.params)


@dataclass(frozen=True, eq=False)
class LayerStack:
    """A feed-forward network as consecutive dense layers plus what the parser dropped.

    ``dropped`` lists human-readable notes on layers that were skipped because they do not
    change the function in inference (e.g. ``"Dropout at index 2 (identity in eval mode)"``
    or ``"final Softmax (argmax unchanged)"``); the compiler reports them in a warning and
    in the network's metadata.

    ``complex_inputs`` / ``complex_outputs``: the first layer reads, the last layer writes,
    complex values as interleaved real features ``[Re v_0, Im v_0, Re v_1, ...]`` (a model
    of :class:`nncrn.nn.ComplexLinear` layers); the compiler then names the readouts
    ``y{k}_re``, ``y{k}_im``. Both need an even number of features.
    """

    layers: tuple[DenseLayer, ...]
    source: str
    dropped: tuple[str, ...] = field(default_factory=tuple)
    complex_inputs: bool = False
    complex_outputs: bool = False

    def __post_init__(self) -> None:
        layers = tuple(self.layers)
        if not layers:
            raise UnsupportedModelError(f"{self.source}: the model has no dense layer to compile")
        if layers[-1].n_out == 0:
            raise UnsupportedModelError(
                f"{self.source}: the last layer ({layers[-1].source or 'output layer'}) has 0 "
                f"outputs (weight shape {layers[-1].weight.shape}); a reaction network needs at "
                "least one readout. Give the model's last layer at least one output"
            )
        for prev, nxt in itertools.pairwise(layers):
            if prev.n_out != nxt.n_in:
                raise UnsupportedModelError(
                    f"{self.source}: {nxt.source or 'a layer'} expects {nxt.n_in} inputs but the "
                    f"previous layer has {prev.n_out} outputs"
                )
        for flag, n, what in ((self.complex_inputs, layers[0].n_in, "inputs"),
                              (self.complex_outputs, layers[-1].n_out, "outputs")):  # fmt: skip
            if flag and n % 2:
                raise UnsupportedModelError(
                    f"{self.source}: complex_{what}=True but the network has {n} real {what}; "
                    "complex values are pairs (real part, imaginary part), so the count must "
                    "be even"
                )
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "dropped", tuple(self.dropped))
        object.__setattr__(self, "complex_inputs", bool(self.complex_inputs))
        object.__setattr__(self, "complex_outputs", bool(self.complex_outputs))

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


def relu_deviation_bound(stack: LayerStack, eps: float) -> float:
    """Worst-case ``|network - model|`` over outputs when ReLU units become ``sigma_eps`` units.

    Per unit ``0 < sigma_eps(z) - relu(z) <= sqrt(eps)`` and ``sigma_eps`` is 1-Lipschitz, so
    the error vector obeys ``e_l = |W_l| e_{l-1} + sqrt(eps)`` after a ReLU layer and
    ``e_l = |W_l| e_{l-1}`` after a smooth or linear one, from ``e_0 = 0``.
    """
    e = np.zeros(stack.n_inputs)
    for layer in stack.layers:
        e = np.abs(layer.weight) @ e + (math.sqrt(eps) if layer.activation == "relu" else 0.0)
    return float(np.max(e, initial=0.0))
