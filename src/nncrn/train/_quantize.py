"""Discretize torch models and compiled networks; quantization-aware training (STE).

Post-training: :func:`quantize_model` (torch weights, per ``Linear`` layer, before
compiling) and :func:`discretize_network` (signed rate constants of a compiled network,
per layer). Quantization-aware: :func:`qat_fit` trains latent real weights whose forward
pass uses the discretized values, gradients passing straight through (BinaryConnect,
Courbariaux et al. 2015; QNN, Hubara et al. 2017). Biases stay real in QAT: a neuron has
one bias reaction against ``n_in`` weight reactions.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch.nn.utils import parametrize

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, require_network
from nncrn.simulate._solver import check_setting_int
from nncrn.train._discretize import _check_method, check_bits, discretization_levels, discretize
from nncrn.train._fit import as_rng, check_labels
from nncrn.train._terms import extract_terms

__all__ = ["STEQuantizer", "discretize_network", "qat_fit", "quantize_model"]


def _linears(model: torch.nn.Module) -> list[torch.nn.Linear]:
    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    if not layers:
        raise InputError(f"{type(model).__name__} has no torch.nn.Linear layer to discretize")
    return layers


def quantize_model(model: torch.nn.Module, bits: int, method: str = "exponential", *,
                   biases: bool = True, weights: bool = True) -> torch.nn.Module:  # fmt: skip
    """A copy of ``model`` with every ``Linear`` weight (and bias) discretized per layer.

    Weights and biases of a layer get separate levels (their scales differ). See
    :mod:`nncrn.train._discretize` for the level sets. ``weights=False`` leaves the weights
    as they are (e.g. already on their levels after :func:`qat_fit`) and discretizes only
    the biases. Compile the result as usual.
    """
    _check_method(method)
    if method in ("linear", "exponential"):
        bits = check_bits(bits, "quantize_model")
    out = copy.deepcopy(model)
    with torch.no_grad():
        for layer in _linears(out):
            if weights:
                w = layer.weight.detach().cpu().double().numpy()
                layer.weight.copy_(torch.as_tensor(discretize(w, bits, method)))
            if biases and layer.bias is not None:
                b = layer.bias.detach().cpu().double().numpy()
                layer.bias.copy_(torch.as_tensor(discretize(b, bits, method)))
    return out


def discretize_network(
    network: ReactionNetwork, bits: int, method: str = "exponential"
) -> ReactionNetwork:
    """A network whose trainable rate constants are discretized per layer (weights, biases apart).

    Leaks, saturations and decays keep their rates. Zero-level terms lose their reaction.
    """
    network = require_network(network, "discretize_network")
    _check_method(method)
    if method in ("linear", "exponential"):
        bits = check_bits(bits, "discretize_network")
    terms = extract_terms(network)
    w = terms.weights.copy()
    is_bias = np.array([len(c) == 0 for c in terms.cat_names], dtype=bool)
    for layer in np.unique(terms.layer):
        for flag in (False, True):
            sel = (terms.layer == layer) & (is_bias == flag)
            if sel.any():
                w[sel] = discretize(w[sel], bits, method)
    return terms.rebuild(w, {"discretized": {"bits": int(bits), "method": method}})


class STEQuantizer(torch.nn.Module):
    """Parametrization ``w -> q(w)`` with a straight-through gradient.

    ``linear``/``exponential``: ``q`` = nearest of the layer's levels, gradient identity;
    the levels (a grid search for ``exponential``) are recomputed from the latent weights by
    :meth:`refresh`, which :func:`qat_fit` calls once per epoch. ``binary``/``ternary``: ``q =
    alpha * s(w)`` with a learned per-layer ``alpha`` (initialised to the least-squares
    scale) and the BinaryConnect gradient ``1{|w| <= 1}`` for ``w``.
    """

    def __init__(self, bits: int, method: str, weight: torch.Tensor) -> None:
        super().__init__()
        self.bits, self.method = bits, _check_method(method)
        if method in ("binary", "ternary"):
            a = weight.detach().abs()
            init = a.mean() if method == "binary" else a[a > 0.7 * a.mean()].mean()
            self.alpha = torch.nn.Parameter(init.clone().reshape(()))
        else:
            self.register_buffer("levels", torch.zeros(0, dtype=weight.dtype))
            self.refresh(weight)

    def refresh(self, weight: torch.Tensor) -> None:
        """Recompute the level set from the latent ``weight`` (no-op for binary/ternary)."""
        if self.method in ("linear", "exponential"):
            w = weight.detach().cpu().double().numpy()
            mags = discretization_levels(w, self.bits, self.method)
            self.levels = torch.as_tensor(mags, dtype=weight.dtype, device=weight.device)

    def top_level(self) -> torch.Tensor:
        """The largest magnitude a weight can take: ``alpha`` or the top of the level set."""
        if self.method in ("linear", "exponential"):
            return self.levels[-1]
        return self.alpha.detach().abs()

    def forward(self, w: torch.Tensor) -> torch.Tensor:
        if self.method in ("linear", "exponential"):
            mid = (self.levels[1:] + self.levels[:-1]) / 2
            q = torch.sign(w.detach()) * self.levels[torch.bucketize(w.detach().abs(), mid)]
            # Value exactly q (a level, so compiled rates repeat exactly); gradient identity.
            return q + (w - w.detach())
        clipped = w.clamp(-1.0, 1.0)
        if self.method == "binary":
            s = torch.where(w >= 0, 1.0, -1.0).to(w.dtype)
        else:
            thr = 0.7 * w.detach().abs().mean()
            s = (torch.sign(w) * (w.abs() > thr)).to(w.dtype)
        # Value exactly alpha * s; d/dalpha = s, d/dw = alpha * 1{|w| <= 1}.
        return self.alpha * s + self.alpha.detach() * (clipped - clipped.detach())

    def extra_repr(self) -> str:
        return f"bits={self.bits}, method={self.method!r}"


def _quantized(layer: torch.nn.Linear) -> tuple[STEQuantizer, torch.Tensor]:
    """``(quantizer, latent weight)`` of a layer whose weight ``qat_fit`` parametrized."""
    plists = layer.parametrizations
    assert isinstance(plists, torch.nn.ModuleDict), "register_parametrization adds a ModuleDict"
    plist = plists["weight"]
    assert isinstance(plist, parametrize.ParametrizationList), "qat_fit parametrized the weight"
    quantizer = plist[0]
    assert isinstance(quantizer, STEQuantizer), "qat_fit registered an STEQuantizer"
    return quantizer, plist.original


def qat_fit(
    model: torch.nn.Module,
    X: object,
    y: object,
    *,
    bits: int,
    method: str = "exponential",
    epochs: int = 50,
    lr: float = 1e-2,
    batch_size: int = 64,
    rng: object = None,
) -> tuple[torch.nn.Module, np.ndarray]:
    """Quantization-aware training of a classifier; returns ``(quantized copy, epoch losses)``.

    ``model`` (a float64 torch ``nn.Module`` of ``Linear`` layers and activations, logits
    out) is copied, its ``Linear`` weights get an :class:`STEQuantizer`, and Adam trains the
    latent weights (and binary/ternary scales) and the real biases with cross entropy on
    ``X (n, d)``, ``y (n,)`` class indices, shuffled each epoch with ``rng``. The level
    sets of ``linear``/``exponential`` are recomputed from the latent weights once per
    epoch. After each step the latent weights are clipped to 1.5 times their layer's top
    level, so none drifts so far that it can no longer change level (BinaryConnect clips
    to the level range; the margin lets a ternary weight cross the zero threshold, which
    moves with the layer's mean). The learning rate follows a cosine from ``lr`` to 0 so
    the last epochs settle, and the returned weights are those of the epoch whose
    quantized network had the lowest full-batch training loss (a straight-through step
    can make the quantized network worse). ``losses`` are those full-batch losses, one
    per epoch. The returned model holds weights exactly on the levels as plain
    parameters, ready for ``compile_network``; biases stay real (discretize them with
    ``quantize_model(..., weights=False)``).
    """
    _check_method(method)
    if method in ("linear", "exponential"):
        bits = check_bits(bits, "qat_fit")
    epochs = check_setting_int("qat_fit", "epochs", epochs)
    batch_size = check_setting_int("qat_fit", "batch_size", batch_size)
    try:
        Xn = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError("qat_fit: X must be a numeric (n, d) array") from None
    if Xn.ndim != 2 or Xn.shape[0] == 0:
        raise InputError(f"qat_fit needs a non-empty X of shape (n, d); got shape {Xn.shape}")
    n_out = _linears(model)[-1].out_features
    Xt = torch.as_tensor(Xn)
    yt = torch.as_tensor(check_labels(y, Xn.shape[0], n_out, "cross_entropy"))
    gen = as_rng(rng)
    net = copy.deepcopy(model).double()
    for layer in _linears(net):
        parametrize.register_parametrization(
            layer, "weight", STEQuantizer(bits, method, layer.weight)
        )
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    losses = []
    n = Xt.shape[0]
    layers = _linears(net)
    quantized = [_quantized(layer) for layer in layers]
    best, best_state = np.inf, None
    for _ in range(epochs):
        for quantizer, latent in quantized:
            quantizer.refresh(latent)
        order = torch.from_numpy(gen.permutation(n))
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            with torch.no_grad():
                for quantizer, latent in quantized:
                    bound = 1.5 * quantizer.top_level()
                    if bound > 0:  # an all-zero layer has no level range to clip to
                        latent.copy_(torch.maximum(torch.minimum(latent, bound), -bound))
        schedule.step()
        with torch.no_grad():
            full = float(torch.nn.functional.cross_entropy(net(Xt), yt))
        losses.append(full)
        if full < best:  # weights on their levels (the parametrized value) and biases
            best = full
            best_state = [(layer.weight.detach().clone(), None if layer.bias is None
                           else layer.bias.detach().clone()) for layer in layers]  # fmt: skip
    for layer in layers:
        parametrize.remove_parametrizations(layer, "weight", leave_parametrized=True)
    if best_state is not None:
        with torch.no_grad():
            for layer, (w, b) in zip(layers, best_state, strict=True):
                layer.weight.copy_(w)
                if b is not None:
                    layer.bias.copy_(b)
    return net, np.array(losses)
