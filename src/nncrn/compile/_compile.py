"""``compile_network``: a trained model -> a reaction network whose steady state computes it."""

from __future__ import annotations

import dataclasses
import math
import os
import warnings
from importlib import metadata as _metadata
from typing import Any

import numpy as np

from nncrn._errors import ApproximationWarning, InputError, NNCRNWarning, UnsupportedModelError
from nncrn.compile._dual_rail import DualRail
from nncrn.compile._layers import DenseLayer, Function, LayerStack, relu_deviation_bound
from nncrn.compile._polynomial import Polynomial, warn_replaced
from nncrn.compile._scheme import Scheme, SmoothReLUScheme
from nncrn.compile._sigmoid import ChemicalSigmoidScheme
from nncrn.network import ReactionNetwork

__all__ = ["ApproximationWarning", "compile_network", "layer_stack", "relu_deviation_bound"]

_OUTPUTS = (None, "smooth_relu", "linear")


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


def _model_function(stack: LayerStack) -> Function | None:
    """The one activation of the stack's non-linear layers (None if it has none).

    ReLU next to SmoothReLU is accepted (ReLU becomes ``sigma_eps``, with a stated bound);
    any other mix is refused: every non-linear neuron of one network has one chemistry.
    """
    found = [(layer, layer.function) for layer in stack.layers if layer.activation != "identity"]
    eps = {layer.source: f.get("eps") for layer, f in found if f.kind == "smooth_relu"}
    if len(set(eps.values())) > 1:
        listing = ", ".join(f"{src}: eps={e!r}" for src, e in eps.items())
        raise UnsupportedModelError(
            f"the model's SmoothReLU layers use different eps ({listing}); one reaction network "
            "has one leak rate eps — retrain with a single eps"
        )
    distinct: list[Function] = []
    for _, f in found:
        if not any(f.same(g) for g in distinct):
            distinct.append(f)
    if len(distinct) == 2 and {f.kind for f in distinct} == {"relu", "smooth_relu"}:
        return next(f for f in distinct if f.kind == "smooth_relu")
    if len(distinct) > 1:
        listing = "; ".join(f"{layer.source or 'a layer'}: {f}" for layer, f in found)
        raise UnsupportedModelError(
            f"{stack.source} mixes activations that one reaction network cannot compute together "
            f"({listing}); every non-linear neuron of a scheme has the same chemistry (only ReLU "
            "next to SmoothReLU is accepted, as a stated approximation). Retrain the model with "
            "one activation in every hidden layer"
        )
    return distinct[0] if distinct else None


def _scheme_for(function: Function | None) -> Scheme:
    """The scheme that compiles layers of ``function`` exactly (``SmoothReLUScheme(1e-3)`` for ReLU)."""
    if function is None or function.kind == "relu":
        return SmoothReLUScheme(1e-3)
    if function.kind == "smooth_relu":
        return SmoothReLUScheme(function.get("eps"))
    if function.kind == "chemical_sigmoid":
        return ChemicalSigmoidScheme(function.get("rate"))
    P, Q = function.get("P"), function.get("Q")
    if Q == (0.0, 1.0) and all(v == 0 for v in P[1:-1]) and P[-1] == -1:
        return Polynomial.rectified_root(len(P) - 1, P[0])
    return Polynomial(P, Q)


def _for_dual_rail(stack: LayerStack) -> LayerStack:
    """``stack`` for the rate-independent ReLU scheme, refusing bounded/polynomial activations.

    ``DualRail`` computes exact ReLU and, with ``rescale=True``, divides the outputs by the
    product of the layer units, which is right only for a positively homogeneous activation.
    A ChemicalSigmoid (bounded in (0, 1)) or a polynomial root is neither close to ReLU nor
    homogeneous, so there is no approximation statement to warn with: refuse instead. A
    polynomial layer that is ``sigma_eps`` (``RectifiedRoot(2, eps)``) is rewritten as the
    ``smooth_relu`` layer it equals, which DualRail replaces with its ``sqrt(eps)`` warning.
    """
    layers, bad = [], []
    for layer in stack.layers:
        if layer.activation in ("polynomial", "chemical_sigmoid"):
            function = layer.function
            if function.kind != "smooth_relu":
                bad.append(f"{layer.source or 'a layer'}: {function}")
                continue
            act, eps, params = function.layer_args()
            layer = DenseLayer(layer.weight, layer.bias, act, eps, layer.source, params)
        layers.append(layer)
    if bad:
        raise UnsupportedModelError(
            f"{stack.source}: the dual-rail scheme computes exact ReLU, and these layers use an "
            f"activation that ReLU does not approximate ({'; '.join(bad)}). Compile with "
            "scheme=None, which picks the scheme of the model's own activation, or retrain with "
            "torch.nn.ReLU"
        )
    return dataclasses.replace(stack, layers=tuple(layers))


def _warn_no_leak(stack: LayerStack) -> None:
    """Warn that ``SmoothReLUScheme(eps=0)`` neurons can stay at 0 whatever their input."""
    neurons = [
        layer.source or "a layer" for layer in stack.layers if layer.activation != "identity"
    ]
    if not neurons:
        return
    warnings.warn(
        f"{stack.source}: the SmoothReLUScheme with eps=0 has no leak reaction 0 -> Y, so "
        "y = 0 is a fixed point of every non-linear neuron "
        f"({', '.join(neurons[:3])}{', ...' if len(neurons) > 3 else ''}): a neuron that starts "
        "at 0 (the default initial concentration) stays at 0 whatever its input, and "
        "steady_state then returns a wrong output marked converged. Use eps > 0, e.g. "
        "scheme=SmoothReLUScheme(eps=1e-3) (within sqrt(eps) ~ 0.03 of ReLU per unit)",
        ApproximationWarning,
        stacklevel=3,
    )


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


def _input_scales(input_scale: object, n: int) -> np.ndarray | None:
    if input_scale is None:
        return None
    try:
        arr = np.array(input_scale, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"input_scale {input_scale!r} is not numeric; pass one factor > 0 or one per "
            f"feature, shape ({n},)"
        ) from None
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    if arr.shape != (n,):
        raise InputError(
            f"input_scale has shape {arr.shape}; pass one factor or one per feature, shape "
            f"({n},) for this model's {n} inputs"
        )
    bad = ~(np.isfinite(arr) & (arr > 0))
    if bad.any():
        j = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"input_scale for feature {j} (species X{j}) is {float(arr[j])!r}; every factor "
            "must be finite and > 0 (e.g. 1 / (max - min) of the training feature)"
        )
    return arr


def _scale_inputs(network: ReactionNetwork, scales: np.ndarray) -> ReactionNetwork:
    """``network`` with input species carrying ``scales`` (both rails of a dual-rail input)."""
    per = len(network.inputs) // len(scales)
    factor = dict(zip(network.inputs, np.repeat(scales, per), strict=True))
    species = tuple(
        dataclasses.replace(s, input_scale=float(factor[s.name])) if s.name in factor else s
        for s in network.species
    )
    return ReactionNetwork(species, network.reactions, network.readout, network.metadata)


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
    input_scale: object = None,
    output: str | None = None,
) -> ReactionNetwork:
    """Compile a trained feed-forward model into a mass-action reaction network.

    Parameters
    ----------
    model:
        torch ``nn.Sequential`` of ``Linear`` + ``nncrn.nn.SmoothReLU``/``PolynomialActivation``/
        ``RectifiedRoot``/``ChemicalSigmoid``/``ReLU``/``Identity``, fitted scikit-learn
        ``MLPClassifier``/``MLPRegressor`` (``relu``/``identity``), ONNX model, or
        :class:`LayerStack`. All non-linear layers must share one activation (ReLU next to
        SmoothReLU is the one accepted mix); otherwise :class:`UnsupportedModelError` names them.
        Complex layers (:class:`nncrn.nn.ComplexLinear` + ``CReLU``/``ComplexSmoothReLU``,
        a ``ComplexBatchNorm1d`` right after a ``ComplexLinear``, folded into it, and
        ``ComplexToReal`` before a real head) compile as the real layers they equal: a
        complex input ``k`` is the two input species ``X{2k}`` (real part) and ``X{2k+1}``
        (imaginary part), pass :func:`complex_inputs` ``(x)``; a complex output ``k`` is
        read out as ``y{k}_re`` and ``y{k}_im`` (:func:`complex_outputs` joins them).
    scheme:
        Construction scheme. Default: the scheme of the model's own activation, so the steady
        state equals the model exactly: :class:`SmoothReLUScheme` with the model's ``eps``,
        :class:`Polynomial` with its ``P, Q`` (``rectified_root(k, eps)`` for ``RectifiedRoot``),
        :class:`ChemicalSigmoidScheme` with its ``rate``; ``SmoothReLUScheme(1e-3)`` for ReLU or linear
        models. A scheme whose :meth:`~Scheme.model_activation` differs from a layer's
        activation replaces it, with an :class:`ApproximationWarning` saying what replaced
        what. A warning, not a refusal, because the network still computes a stated map,
        ``scheme.forward(stack, x)``, and comparing schemes on one model relies on it
        (``nncrn compare``); ReLU replaced by ``sigma_eps`` also gets a worst-case bound.
        :class:`DualRail` refuses polynomial and sigmoid layers (``_for_dual_rail``):
        its output rescaling is valid only for ReLU, so nothing true could be stated.
        ``SmoothReLUScheme(eps=0)`` (passed, or taken from a model trained with ``eps=0``) warns
        with an :class:`ApproximationWarning` when the network has non-linear neurons:
        without the leak ``0 -> Y``, a neuron that starts at 0 stays there.
    input_range:
        None (features are concentrations, >= 0), ``(low, high)`` for every feature, or
        ``(n_inputs, 2)`` per-feature pairs; ``high`` may be inf. The shift ``feature - low``
        is folded into the first layer's biases (``b' = b + W @ low``).
    input_scale:
        None (the model reads the features themselves), one factor ``> 0``, or one per
        feature: the model reads ``feature * input_scale``, e.g. ``1 / (max - min)`` of a
        min-max scaling whose offset ``-min / (max - min)`` the first layer's bias already
        holds. The factors stay out of the weights (discretized levels stay levels) and go
        to the input species (:attr:`Species.input_scale`): inputs are still passed in
        feature units and become concentrations ``(feature - low) * input_scale``; the
        first layer's biases get ``W @ (low * input_scale)``.
    output:
        None: a linear readout (dual-rail ``Y{i}p - Y{i}n``) if the last layer is linear,
        else smoothed ReLU. ``"smooth_relu"`` forces the scheme's own activation on a
        linear last layer (``sigma_eps(logits)`` for :class:`SmoothReLUScheme`). ``"linear"``
        requires a linear last layer.

    Notes
    -----
    A model with plain ReLU compiles with an :class:`ApproximationWarning` that states the
    worst-case deviation (:func:`relu_deviation_bound`), also stored in ``metadata["relu_bound"]``.
    """
    stack = layer_stack(model)
    if output not in _OUTPUTS:
        raise ValueError(f"output={output!r}; it must be one of {_OUTPUTS}")
    function = _model_function(stack)
    if scheme is None:
        scheme = _scheme_for(function)
    elif not isinstance(scheme, Scheme):
        raise TypeError(
            f"scheme must be an nncrn.compile.Scheme such as SmoothReLUScheme(eps=1e-3), got "
            f"{type(scheme).__name__}"
        )
    if isinstance(scheme, SmoothReLUScheme):
        scheme.check_stack(stack)
    own = scheme.model_activation()
    if isinstance(scheme, DualRail):  # states no model_activation; it computes exact ReLU
        own = Function.of("relu")
        stack = _for_dual_rail(stack)
    eps = own.get("eps") if own is not None and own.kind == "smooth_relu" else 0.0
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
        act, act_eps, act_params = own.layer_args() if own is not None else ("relu", None, None)
        layers[-1] = DenseLayer(last.weight, last.bias, act, act_eps, last.source, act_params)
        meta["output_note"] = (
            "output='smooth_relu' was forced on a linear last layer: the outputs are "
            "sigma_eps(logits), not the logits"
        )
    stack = dataclasses.replace(stack, layers=tuple(layers))
    if isinstance(scheme, SmoothReLUScheme) and scheme.eps == 0:
        _warn_no_leak(stack)
    meta["output"] = "linear" if stack.layers[-1].activation == "identity" else scheme.name
    bound = None
    if any(layer.activation == "relu" for layer in stack.layers) and eps > 0:
        bound = relu_deviation_bound(stack, eps)
    if isinstance(scheme, SmoothReLUScheme):  # Polynomial and ChemicalSigmoid warn in build
        warn_replaced(scheme, stack, stacklevel=3)
    meta["relu_bound"] = bound
    ranges = _input_ranges(input_range, stack.n_inputs)
    scales = _input_scales(input_scale, stack.n_inputs)
    if ranges is not None:
        first = stack.layers[0]
        low = np.array([lo for lo, _ in ranges])
        if scales is not None:
            low = low * scales
        shifted = DenseLayer(first.weight, first.bias + first.weight @ low, first.activation,
                             first.eps, first.source, first.params)  # fmt: skip
        stack = dataclasses.replace(stack, layers=(shifted, *stack.layers[1:]))
    names, classes = [f"y{i}" for i in range(stack.n_outputs)], None
    if stack.source.startswith("sklearn."):
        from nncrn.compile._sklearn import sklearn_output_names

        names, classes = sklearn_output_names(model, stack.n_outputs)
    if stack.complex_outputs:
        names = [f"y{k}_{part}" for k in range(stack.n_outputs // 2) for part in ("re", "im")]
    if stack.complex_inputs or stack.complex_outputs:
        meta["complex"] = {
            "inputs": stack.complex_inputs,
            "outputs": stack.complex_outputs,
            "layout": "complex value k is the real features 2k (real part) and 2k+1 "
            "(imaginary part): input species X{2k}, X{2k+1}; readouts y{k}_re, y{k}_im",
        }
    if stack.dropped:
        warnings.warn(
            f"{stack.source}: not compiled (no effect on the argmax or in inference): "
            + "; ".join(stack.dropped),
            NNCRNWarning,
            stacklevel=2,
        )
    meta.update(dropped=list(stack.dropped), classes=classes, nncrn_version=_version())
    network = scheme.build(stack, output_names=names, input_range=ranges, metadata=meta)
    return network if scales is None else _scale_inputs(network, scales)
