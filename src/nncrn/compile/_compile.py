"""``compile_network``: a trained model -> a reaction network whose steady state computes it."""

from __future__ import annotations

import math
import os
import warnings
from importlib import metadata as _metadata
from typing import Any

import numpy as np

from nncrn._errors import InputError, NNCRNWarning, UnsupportedModelError
from nncrn.compile._layers import DenseLayer, LayerStack
from nncrn.compile._scheme import Scheme, SmoothReLU
from nncrn.network import ReactionNetwork

__all__ = ["ApproximationWarning", "compile_network", "layer_stack", "relu_deviation_bound"]

_OUTPUTS = (None, "smooth_relu", "linear")


class ApproximationWarning(NNCRNWarning):
    """The compiled network computes a stated approximation of the model (ReLU -> sigma_eps)."""


def _from_package(model: object, package: str) -> bool:
    """Whether ``model``'s class (or a base) comes from ``package``, without importing it."""
    return any(c.__module__.split(".")[0] == package for c in type(model).__mro__)


def layer_stack(model: object) -> LayerStack:
    """Parse ``model`` into a framework-neutral :class:`LayerStack` (no chemistry).

    Accepts a torch ``nn.Sequential``, a fitted scikit-learn ``MLPClassifier`` or
    ``MLPRegressor``, an ONNX model (path, ``str`` or ``onnx.ModelProto``), or a
    :class:`LayerStack` (returned as is).
    """
    if isinstance(model, LayerStack):
        return model
    if isinstance(model, str | os.PathLike) or _from_package(model, "onnx"):
        from nncrn.compile._onnx import parse_onnx

        return parse_onnx(model)
    if _from_package(model, "torch"):
        from nncrn.compile._torch import parse_torch

        return parse_torch(model)
    if _from_package(model, "sklearn"):
        from nncrn.compile._sklearn import parse_sklearn

        return parse_sklearn(model)
    raise UnsupportedModelError(
        f"cannot compile an object of type {type(model).__name__}; compile_network takes a "
        "torch nn.Sequential, a fitted scikit-learn MLPClassifier/MLPRegressor, an ONNX model "
        "(path or onnx.ModelProto) or an nncrn.compile.LayerStack"
    )


def _model_eps(stack: LayerStack) -> float | None:
    """The one ``eps`` of the stack's ``smooth_relu`` layers (None if it has none)."""
    found = {layer.source: layer.eps for layer in stack.layers if layer.activation == "smooth_relu"}
    values = set(found.values())
    if len(values) > 1:
        listing = ", ".join(f"{src}: eps={e!r}" for src, e in found.items())
        raise UnsupportedModelError(
            f"the model's SmoothReLU layers use different eps ({listing}); one reaction network "
            "has one leak rate eps — retrain with a single eps"
        )
    return values.pop() if values else None


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


def _input_ranges(input_range: object, n: int) -> list[tuple[float, float]] | None:
    if input_range is None:
        return None
    try:
        arr = np.array(input_range, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"input_range {input_range!r} is not numeric; pass (low, high) or one (low, high) "
            f"pair per feature, shape ({n}, 2)"
        ) from None
    if arr.shape == (2,):
        arr = np.tile(arr, (n, 1))
    if arr.shape != (n, 2):
        raise InputError(
            f"input_range has shape {arr.shape}; pass (low, high) for every feature or one "
            f"(low, high) pair per feature, shape ({n}, 2) for this model's {n} inputs"
        )
    for j, (low, high) in enumerate(arr):
        if not math.isfinite(low) or math.isnan(high) or not high > low:
            raise InputError(
                f"input_range for feature {j} (species X{j}) is ({low}, {high}); low must be "
                "finite and high > low (high may be inf)"
            )
    return [(float(lo), float(hi)) for lo, hi in arr]


def _version() -> str:
    try:
        return _metadata.version("nncrn")
    except _metadata.PackageNotFoundError:
        return "unknown"


def compile_network(
    model: object,
    *,
    scheme: Scheme | None = None,
    input_range: object = None,
    output: str | None = None,
) -> ReactionNetwork:
    """Compile a trained feed-forward model into a mass-action reaction network.

    Parameters
    ----------
    model:
        torch ``nn.Sequential`` of ``Linear`` + ``nncrn.nn.SmoothReLU``/``ReLU``/``Identity``,
        fitted scikit-learn ``MLPClassifier``/``MLPRegressor`` (``relu``/``identity``), ONNX
        model, or :class:`LayerStack`.
    scheme:
        Construction scheme. Default: :class:`SmoothReLU` with the model's own SmoothReLU
        ``eps`` (so the steady state equals the model exactly), else ``eps = 1e-3``.
    input_range:
        None (features are concentrations, >= 0), ``(low, high)`` for every feature, or
        ``(n_inputs, 2)`` per-feature pairs; ``high`` may be inf. The shift ``feature - low``
        is folded into the first layer's biases (``b' = b + W @ low``).
    output:
        None: a linear readout (dual-rail ``Y{i}p - Y{i}n``) if the last layer is linear,
        else smoothed ReLU. ``"smooth_relu"`` forces ``sigma_eps`` on a linear last layer
        (the network then computes ``sigma_eps(logits)``). ``"linear"`` requires a linear
        last layer.

    A model with plain ReLU compiles with an :class:`ApproximationWarning` that states the
    worst-case deviation (:func:`relu_deviation_bound`), also stored in ``metadata["relu_bound"]``.
    """
    stack = layer_stack(model)
    if output not in _OUTPUTS:
        raise ValueError(f"output={output!r}; it must be one of {_OUTPUTS}")
    model_eps = _model_eps(stack)
    if scheme is None:
        scheme = SmoothReLU(1e-3 if model_eps is None else model_eps)
    elif not isinstance(scheme, Scheme):
        raise TypeError(
            f"scheme must be an nncrn.compile.Scheme such as SmoothReLU(eps=1e-3), got "
            f"{type(scheme).__name__}"
        )
    if isinstance(scheme, SmoothReLU):
        scheme.check_stack(stack)
    eps = float(getattr(scheme, "eps", 0.0))
    meta: dict[str, Any] = {"source": stack.source}
    layers = list(stack.layers)
    last = layers[-1]
    if output == "linear" and last.activation != "identity":
        raise UnsupportedModelError(
            f"output='linear' but the last layer ({last.source or 'output layer'}) has activation "
            f"{last.activation!r}: its neurons are non-linear, and reading them linearly would not "
            "compute the model. Use output=None (smoothed ReLU readout) or remove the final "
            "activation from the model"
        )
    if output == "smooth_relu" and last.activation == "identity":
        act, act_eps = ("smooth_relu", eps) if isinstance(scheme, SmoothReLU) else ("relu", None)
        layers[-1] = DenseLayer(last.weight, last.bias, act, act_eps, last.source)
        meta["output_note"] = (
            "output='smooth_relu' was forced on a linear last layer: the outputs are "
            "sigma_eps(logits), not the logits"
        )
    stack = LayerStack(tuple(layers), stack.source, stack.dropped)
    meta["output"] = "linear" if stack.layers[-1].activation == "identity" else scheme.name
    bound = None
    if any(layer.activation == "relu" for layer in stack.layers) and eps > 0:
        bound = relu_deviation_bound(stack, eps)
        warnings.warn(
            f"{stack.source} uses plain ReLU, which the {scheme.name} scheme replaces by "
            f"sigma_eps with eps={eps!r}: every output is within {bound:.4g} of the model's "
            "(worst case from |W| and sqrt(eps) per ReLU layer). Train with nncrn.nn.SmoothReLU "
            "for an exact compilation",
            ApproximationWarning,
            stacklevel=2,
        )
    meta["relu_bound"] = bound
    ranges = _input_ranges(input_range, stack.n_inputs)
    if ranges is not None:
        first = stack.layers[0]
        low = np.array([lo for lo, _ in ranges])
        shifted = DenseLayer(first.weight, first.bias + first.weight @ low, first.activation,
                             first.eps, first.source)  # fmt: skip
        stack = LayerStack((shifted, *stack.layers[1:]), stack.source, stack.dropped)
    names, classes = [f"y{i}" for i in range(stack.n_outputs)], None
    if stack.source.startswith("sklearn."):
        from nncrn.compile._sklearn import sklearn_output_names

        names, classes = sklearn_output_names(model, stack.n_outputs)
    if stack.dropped:
        warnings.warn(
            f"{stack.source}: not compiled (no effect on the argmax or in inference): "
            + "; ".join(stack.dropped),
            NNCRNWarning,
            stacklevel=2,
        )
    meta.update(dropped=list(stack.dropped), classes=classes, nncrn_version=_version())
    return scheme.build(stack, output_names=names, input_range=ranges, metadata=meta)
