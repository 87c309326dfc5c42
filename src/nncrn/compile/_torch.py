"""Parse a torch ``nn.Sequential`` of ``Linear`` layers and activations into a :class:`LayerStack`.

torch is imported only when this module is (``compile_network`` imports it lazily).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from nncrn._errors import UnsupportedModelError
from nncrn.compile._layers import DenseLayer, LayerStack
from nncrn.nn import (
    ChemicalSigmoid,
    ComplexBatchNorm1d,
    ComplexLinear,
    ComplexSmoothReLU,
    ComplexToReal,
    CReLU,
    PolynomialActivation,
    SmoothReLU,
)

__all__ = ["parse_torch"]

SUPPORTED = (
    "Linear, nncrn.nn.SmoothReLU, ReLU, nncrn.nn.PolynomialActivation (and RectifiedRoot), "
    "nncrn.nn.ChemicalSigmoid, Identity, Flatten, Dropout (skipped), a final "
    "Softmax/LogSoftmax (dropped), and complex layers: nncrn.nn.ComplexLinear, "
    "ComplexBatchNorm1d (folded into the ComplexLinear before it), CReLU, ComplexSmoothReLU, "
    "ComplexToReal"
)
_DROPOUT = (nn.Dropout, nn.Dropout1d)
_SOFTMAX = (nn.Softmax, nn.LogSoftmax)
_ACTIVATIONS = (SmoothReLU, PolynomialActivation, ChemicalSigmoid, nn.ReLU)
_COMPLEX_ACTIVATIONS = (CReLU, ComplexSmoothReLU)


def _activation(m: nn.Module) -> tuple[str, float | None, dict | None]:
    """``(activation, eps, params)`` of a :class:`DenseLayer` computing module ``m``."""
    if isinstance(m, SmoothReLU | ComplexSmoothReLU):
        return "smooth_relu", m.eps, None
    if isinstance(m, PolynomialActivation):  # RectifiedRoot too: its P, Q say everything
        return "polynomial", None, {"P": tuple(m.P), "Q": tuple(m.Q)}
    if isinstance(m, ChemicalSigmoid):
        return "chemical_sigmoid", None, {"rate": m.rate}
    return "relu", None, None


def _check_forward(module: nn.Module, path: str) -> None:
    """Refuse a subclass of ``Sequential``/``Linear``/``ComplexLinear`` with its own ``forward``."""
    for base in (nn.Sequential, nn.Linear, ComplexLinear):
        if isinstance(module, base) and type(module).forward is not base.forward:
            where = "the model" if not path else f"module {path!r}"
            name = f"{'nncrn.nn' if base is ComplexLinear else 'nn'}.{base.__name__}"
            raise UnsupportedModelError(
                f"{where} is of class {type(module).__qualname__}, a subclass of {name} "
                f"that overrides forward(); compile_network reads the layers of an {name} "
                "and would ignore that forward, compiling another function. Rebuild the model "
                f"as a plain nn.Sequential of {SUPPORTED}"
            )


def _flatten(module: nn.Module, prefix: str = "") -> list[tuple[str, nn.Module]]:
    """Leaves of nested ``Sequential`` containers with their dotted paths (``"1.0"``).

    Walks ``_modules`` as ``Sequential.forward`` does, so a module used twice (a shared
    activation, a weight-tied Linear) appears at each of its positions; ``named_children``
    would list it once.
    """
    _check_forward(module, prefix)
    if isinstance(module, nn.Sequential):
        out = []
        for name, child in module._modules.items():
            if child is not None:
                out += _flatten(child, f"{prefix}.{name}" if prefix else name)
        return out
    return [(prefix or "0", module)]


def _domain(m: nn.Module, where: str, domain: str | None) -> str | None:
    """Whether values after ``m`` are ``"complex"`` or ``"real"`` (None: not yet known).

    Refuses a module that would receive the other kind (torch raises on it at run time, or
    a real layer would read only the real part): ``domain`` is the kind ``m`` receives.
    """
    if isinstance(m, ComplexLinear):
        need = "real" if m.real_input else "complex"
        if domain not in (None, need):
            fix = ("build it with real_input=True (it reads x + 0i)" if need == "complex" else
                   "build it with real_input=False")  # fmt: skip
            raise UnsupportedModelError(
                f"{where} is a ComplexLinear(real_input={m.real_input}) that reads {need} "
                f"values, but the layer before it outputs {domain} ones; {fix}"
            )
        return "complex"
    if isinstance(m, (*_COMPLEX_ACTIVATIONS, ComplexToReal, ComplexBatchNorm1d)):
        if domain == "real":
            raise UnsupportedModelError(
                f"{where} acts on complex values but the layer before it outputs real ones; "
                "use torch.nn.ReLU or nncrn.nn.SmoothReLU on real values"
            )
        return "real" if isinstance(m, ComplexToReal) else "complex"
    if isinstance(m, (nn.Linear, *_SOFTMAX, *_ACTIVATIONS)):
        if domain == "complex":
            raise UnsupportedModelError(
                f"{where} is a real module but its input is complex (a ComplexLinear's "
                "output); use nncrn.nn.CReLU or nncrn.nn.ComplexSmoothReLU as the activation "
                "of a complex layer, and put nncrn.nn.ComplexToReal() before a real Linear "
                "or Softmax"
            )
        return "real"
    return domain  # Identity, Flatten, Dropout keep the kind of value


def _fold(spec: list, bn: ComplexBatchNorm1d, where: str) -> None:
    """Fold ``bn``'s evaluation-mode map into the complex layer ``spec`` (rows 2k, 2k+1)."""
    weight, bias = spec[0], spec[1]
    if 2 * bn.num_features != weight.shape[0]:
        raise UnsupportedModelError(
            f"{where} normalises {bn.num_features} complex features but the ComplexLinear "
            f"before it outputs {weight.shape[0] // 2}; give it num_features="
            f"{weight.shape[0] // 2}"
        )
    M, c = (_array(t) for t in bn.affine())
    n = bn.num_features
    spec[0] = (M @ weight.reshape(n, 2, -1)).reshape(2 * n, -1)
    spec[1] = (M @ bias.reshape(n, 2, 1)).reshape(2 * n) + c.reshape(2 * n)
    spec[4] = f"{spec[4]} + {where} (folded)"


def _array(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float64).numpy()


def parse_torch(model: object) -> LayerStack:
    """The layers of ``model`` (``nn.Sequential``, nested ones flattened, or one ``nn.Linear``).

    Each ``Linear`` takes the activation that follows it (``identity`` when another
    ``Linear`` or the end follows), recorded with its parameters: ``SmoothReLU`` as
    ``smooth_relu`` with ``eps``, ``PolynomialActivation``/``RectifiedRoot`` as ``polynomial``
    with ``params={"P", "Q"}``, ``ChemicalSigmoid`` as ``chemical_sigmoid`` with
    ``params={"rate"}``, ``ReLU`` as ``relu``. Dropout is skipped and a final Softmax/LogSoftmax is
    dropped (the argmax is unchanged); both are listed in ``LayerStack.dropped``. A module
    that appears twice (a shared activation, a weight-tied ``Linear``) is compiled at each of
    its positions, as ``forward`` runs it; a ``Sequential`` or ``Linear`` subclass that
    overrides ``forward`` is refused, since its layers no longer say what it computes.

    A :class:`~nncrn.nn.ComplexLinear` becomes the real layer of :meth:`real_layer
    <nncrn.nn.ComplexLinear.real_layer>` (quantized weights as the forward pass uses them),
    ``CReLU`` is ``relu`` and ``ComplexSmoothReLU`` is ``smooth_relu`` per component, and
    ``ComplexToReal`` is the identity on those real pairs; a ``ComplexBatchNorm1d`` right after
    a ``ComplexLinear`` is folded into it with its running statistics (the evaluation-mode
    map :meth:`~nncrn.nn.ComplexBatchNorm1d.affine`); the stack records whether its
    inputs and outputs are complex. A real module receiving complex values, or the reverse,
    is refused with the module to use instead.
    """
    if not isinstance(model, nn.Sequential | nn.Linear | ComplexLinear):
        raise UnsupportedModelError(
            f"torch model of type {type(model).__name__} is not supported; compile_network "
            f"reads an nn.Sequential of {SUPPORTED}. Rebuild the model as an nn.Sequential"
        )
    modules = _flatten(model)
    source = f"torch.nn.{type(model).__name__}"
    dropped: list[str] = []
    specs: list[list] = []  # [weight, bias, activation, eps, source, params]
    awaiting = False  # the last Linear has no activation yet
    domain: str | None = None  # "complex" or "real" values flow here; None: not yet known
    complex_inputs = foldable = False  # foldable: a ComplexBatchNorm1d may fold into specs[-1]
    for k, (path, m) in enumerate(modules):
        where = f"layer {k} ({path}: {type(m).__name__})"
        before, domain = domain, _domain(m, where, domain)
        if before is None and domain is not None:
            complex_inputs = isinstance(m, ComplexToReal) or (
                isinstance(m, ComplexLinear) and not m.real_input
            )
        if isinstance(m, ComplexLinear):
            weight, bias = m.real_layer()
            specs.append([_array(weight), _array(bias), "identity", None, where, None])
            awaiting = foldable = True
            continue
        if isinstance(m, ComplexBatchNorm1d):
            if not foldable:
                raise UnsupportedModelError(
                    f"{where} does not directly follow a ComplexLinear; complex batch "
                    "normalization is compiled by folding it into the layer before it, so put "
                    "it right after a ComplexLinear (before the activation)"
                )
            _fold(specs[-1], m, where)
            continue
        if not isinstance(m, nn.Identity):
            foldable = False
        if isinstance(m, ComplexToReal):
            continue  # the compiled layers already hold complex values as real pairs
        if isinstance(m, nn.Linear):
            if isinstance(m.weight, nn.parameter.UninitializedParameter):
                raise UnsupportedModelError(
                    f"{where} is an uninitialized LazyLinear; run one forward pass first"
                )
            bias_np = _array(m.bias) if m.bias is not None else np.zeros(m.out_features)
            specs.append([_array(m.weight), bias_np, "identity", None, where, None])
            awaiting = True
        elif isinstance(m, (*_ACTIVATIONS, *_COMPLEX_ACTIVATIONS)):
            if not awaiting:
                what = "the first layer" if not specs else "another activation"
                raise UnsupportedModelError(
                    f"{where} follows {what}; every activation must directly follow a Linear "
                    f"layer (supported: {SUPPORTED})"
                )
            act, eps, params = _activation(m)
            specs[-1][2:4], specs[-1][5] = [act, eps], params
            specs[-1][4] = f"{specs[-1][4]} + {where}"
            awaiting = False
        elif isinstance(m, nn.Identity):
            continue
        elif isinstance(m, nn.Flatten):
            if (m.start_dim, m.end_dim) != (1, -1):
                raise UnsupportedModelError(
                    f"{where} has start_dim={m.start_dim}, end_dim={m.end_dim}; only the default "
                    "Flatten(1, -1), which flattens each example, is supported"
                )
        elif isinstance(m, _DROPOUT):
            dropped.append(f"{type(m).__name__} at index {k} (identity in eval mode)")
        elif isinstance(m, _SOFTMAX):
            if k != len(modules) - 1:
                raise UnsupportedModelError(
                    f"{where} is not the last layer; only a final Softmax/LogSoftmax can be "
                    "dropped (it does not change the argmax)"
                )
            if m.dim not in (None, 1, -1):
                raise UnsupportedModelError(
                    f"{where} normalises over dim={m.dim}; only the feature dimension (1 or -1) "
                    "is supported"
                )
            dropped.append(f"final {type(m).__name__} (argmax unchanged; outputs are logits)")
        else:
            raise UnsupportedModelError(
                f"{where} is not supported; compile_network reads {SUPPORTED}. "
                "Replace the layer or train a model of those layers"
            )
    layers = tuple(DenseLayer(*spec) for spec in specs)
    return LayerStack(layers, source, tuple(dropped), complex_inputs, domain == "complex")
