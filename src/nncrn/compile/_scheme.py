"""Construction schemes: how a :class:`LayerStack` becomes a :class:`ReactionNetwork`.

A scheme owns the chemistry of one neuron. It builds the network, and it states in numpy
what that network's steady state is (:meth:`Scheme.forward`) and how fast each neuron
approaches it (:meth:`Scheme.convergence_rate`), so callers can check the chemistry
against the prediction without simulating.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nncrn._activations import check_eps, smooth_relu
from nncrn._errors import UnsupportedModelError
from nncrn.compile._layers import DenseLayer, Function, LayerStack
from nncrn.network import Reaction, ReactionNetwork, Readout, Role, Species

__all__ = ["Scheme", "SmoothReLUScheme"]

# (species name, sign): how a downstream layer reads one upstream neuron. A dual-rail
# neuron is read as +w on its positive part and -w on its negative part.
_Rails = list[tuple[str, int]]


class Scheme(ABC):
    """Maps a :class:`LayerStack` to a :class:`ReactionNetwork` whose steady state computes it.

    A scheme states, without simulating, what its network computes: :meth:`forward` is the
    steady-state map (closed form where :attr:`closed_form` is true, else a numeric root to
    float64 resolution) and :meth:`slowest_rate` the exponential rate of its slowest neuron.
    """

    name: ClassVar[str]
    closed_form: ClassVar[bool] = True

    @abstractmethod
    def build(
        self,
        stack: LayerStack,
        *,
        output_names: Sequence[str] | None = None,
        input_range: Sequence[tuple[float, float] | None] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ReactionNetwork:
        """The network for ``stack``: inputs ``X0..``, hidden ``H{l}_{i}``, outputs ``Y{i}``."""

    @abstractmethod
    def activation(self, z: np.ndarray) -> np.ndarray:
        """Steady state of one non-linear neuron whose pre-activation is ``z`` (any shape)."""

    @abstractmethod
    def convergence_rate(self, z: np.ndarray) -> np.ndarray:
        """Exponential rate at which a non-linear neuron with pre-activation ``z`` settles."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """JSON-compatible description stored in the network's metadata under ``"scheme"``."""

    def model_activation(self) -> Function | None:
        """The model activation whose layers this scheme compiles exactly (``None``: not stated).

        ``compile_network`` picks the scheme of a model from it and warns (or refuses) for
        layers with another activation, which the scheme's :meth:`activation` replaces.
        """
        return None

    def layer_output(self, layer: DenseLayer, x: np.ndarray) -> np.ndarray:
        """Steady state ``(batch, n_out)`` of ``layer``'s species given upstream values ``x``."""
        z = np.asarray(x, dtype=np.float64) @ layer.weight.T + layer.bias
        return z if layer.activation == "identity" else self.activation(z)

    def slowest_rate(self, stack: LayerStack, x: object) -> np.ndarray:
        """``(batch,)`` smallest :meth:`convergence_rate` over the non-linear neurons at ``x``.

        ``inf`` for a stack without non-linear layers (linear neurons decay at rate 1).
        """
        h = np.asarray(x, dtype=np.float64)
        out = np.full(h.shape[0], np.inf)
        for layer in stack.layers:
            z = h @ layer.weight.T + layer.bias
            if layer.activation != "identity":
                out = np.minimum(out, self.convergence_rate(z).min(axis=1, initial=np.inf))
            h = self.layer_output(layer, h)
        return out

    def forward(self, stack: LayerStack, x: object) -> np.ndarray:
        """Predicted steady-state outputs ``(batch, n_outputs)`` for inputs ``x (batch, n_inputs)``.

        ``x`` is in the units the first layer reads (already shifted by ``input_range`` if
        the stack was shifted); ReLU layers are replaced by the scheme's activation.
        """
        h = np.asarray(x, dtype=np.float64)
        for layer in stack.layers:
            h = self.layer_output(layer, h)
        return h


@dataclass(frozen=True)
class SmoothReLUScheme(Scheme):
    """The Anderson–Joshi–Deshpande construction: one species per neuron, ``sigma_eps`` activation.

    Neuron ``Y`` with pre-activation ``z = w . x + b`` gets ``0 -> Y`` (rate ``eps``),
    ``2 Y -> Y`` (rate 1), ``X_j + Y -> X_j + 2 Y`` (rate ``w_j > 0``) or ``X_j + Y -> X_j``
    (rate ``|w_j|``), and ``Y -> 2 Y`` (rate ``b > 0``) or ``Y -> 0`` (rate ``|b|``), so
    ``dy/dt = eps + z y - y^2`` with the unique positive fixed point ``sigma_eps(z)``.
    Zero weights and biases make no reaction.

    An identity-activated neuron is an exact linear dual-rail pair ``Yp, Yn``: positive
    terms produce ``Yp`` catalytically (``X_j -> X_j + Yp`` at ``w_j``, ``0 -> Yp`` at
    ``b``), negative terms produce ``Yn``, both decay at rate 1, so ``yp - yn = z``.

    Parameters
    ----------
    eps:
        Leak rate, finite and >= 0; default ``1e-3`` (within ``sqrt(eps) ~ 0.032`` of ReLU
        per unit, convergence rate >= ``2 sqrt(eps) ~ 0.063``). ``eps = 0`` omits the leak
        reactions; it is allowed for negative-control experiments, but ``y = 0`` then is a
        fixed point the chemistry never leaves (a neuron starting at 0 reports 0 whatever
        its input, as a converged steady state), so ``compile_network`` warns with an
        :class:`~nncrn.compile.ApproximationWarning`.
    """

    eps: float = 1e-3
    name: ClassVar[str] = "smooth_relu"

    def __post_init__(self) -> None:
        object.__setattr__(self, "eps", check_eps(self.eps, "SmoothReLUScheme eps"))

    def activation(self, z: np.ndarray) -> np.ndarray:
        return smooth_relu(z, self.eps)

    def convergence_rate(self, z: np.ndarray) -> np.ndarray:
        """``sqrt(z^2 + 4 eps)``: minus the Jacobian ``z - 2 sigma(z)`` at the fixed point."""
        return np.hypot(np.asarray(z, dtype=np.float64), 2.0 * math.sqrt(self.eps))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "eps": self.eps}

    def model_activation(self) -> Function:
        return Function.of("smooth_relu", self.eps)

    def check_stack(self, stack: LayerStack) -> None:
        """Refuse ``smooth_relu`` layers trained with another ``eps`` than this scheme's.

        Also ``polynomial`` layers that are ``sigma_eps`` (``RectifiedRoot(2, eps)``).
        """
        for layer in stack.layers:
            function = layer.function
            if function.kind != "smooth_relu":
                continue
            eps = function.get("eps")
            # Tolerate float32 rounding of eps (ONNX stores float32); the scheme's eps is used.
            if not math.isclose(eps, self.eps, rel_tol=1e-6):
                raise UnsupportedModelError(
                    f"{layer.source or 'a layer'} is a SmoothReLU with eps={eps!r} but the "
                    f"scheme has eps={self.eps!r}; the steady state would not equal the trained "
                    f"network. Pass scheme=SmoothReLUScheme(eps={eps!r}) or scheme=None (which "
                    "takes the model's eps)"
                )

    def build(
        self,
        stack: LayerStack,
        *,
        output_names: Sequence[str] | None = None,
        input_range: Sequence[tuple[float, float] | None] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ReactionNetwork:
        """The network for ``stack``; ``relu`` layers are approximated by ``sigma_eps``.

        ``output_names`` name the readouts (default ``y0, y1, ...``); ``input_range`` gives
        each input species its feature range (the stack must already read ``feature - low``).
        """
        self.check_stack(stack)
        n_in, n_layers = stack.n_inputs, len(stack.layers)
        ranges = list(input_range) if input_range is not None else [None] * n_in
        if len(ranges) != n_in:
            raise ValueError(f"input_range has {len(ranges)} entries; the stack has {n_in} inputs")
        names = (
            list(output_names) if output_names is not None
            else [f"y{i}" for i in range(stack.n_outputs)]
        )  # fmt: skip
        if len(names) != stack.n_outputs:
            raise ValueError(
                f"{len(names)} output names for {stack.n_outputs} outputs; give one per output"
            )
        species = [Species(f"X{j}", Role.INPUT, 0.0, ranges[j]) for j in range(n_in)]
        upstream: list[_Rails] = [[(f"X{j}", 1)] for j in range(n_in)]
        reactions: list[Reaction] = []
        layers_meta = []
        readout: list[Readout] = []
        for depth, layer in enumerate(stack.layers, start=1):
            last = depth == n_layers
            role = Role.OUTPUT if last else Role.HIDDEN
            linear = layer.activation == "identity"
            rails: list[_Rails] = []
            for i in range(layer.n_out):
                base = f"Y{i}" if last else f"H{depth}_{i}"
                if linear:
                    p, n = f"{base}p", f"{base}n"
                    species += [Species(p, role), Species(n, role)]
                    reactions += _linear_neuron(p, n, layer, i, upstream, f"layer {depth}")
                    rails.append([(p, 1), (n, -1)])
                    if last:
                        readout.append(Readout(names[i], p, n))
                else:
                    species.append(Species(base, role))
                    reactions += _smooth_neuron(
                        base, layer, i, upstream, self.eps, f"layer {depth}"
                    )
                    rails.append([(base, 1)])
                    if last:
                        readout.append(Readout(names[i], base))
            layers_meta.append(
                {
                    "species": [s for r in rails for s, _ in r],
                    "activation": "identity" if linear else self.name,
                    "model_activation": layer.activation,
                }
            )
            upstream = rails
        meta = dict(metadata or {})
        meta.update(scheme=self.describe(), layers=layers_meta)
        return ReactionNetwork(tuple(species), tuple(reactions), tuple(readout), meta)


def _terms(layer: DenseLayer, i: int, upstream: list[_Rails], where: str):
    """Yield ``(species, signed weight, label)`` for every non-zero weight into neuron ``i``."""
    row = layer.weight[i]
    for j in np.flatnonzero(row):
        rails = upstream[j]
        for s, sign in rails:
            on = f" on {s}" if len(rails) > 1 else ""
            yield s, float(row[j]) * sign, f"{where} weight w[{i},{j}]{on}"


def _smooth_neuron(
    y: str, layer: DenseLayer, i: int, upstream: list[_Rails], eps: float, where: str
) -> list[Reaction]:
    out = []
    if eps > 0:
        out.append(Reaction({}, {y: 1}, eps, f"{where} neuron {i} leak (eps)"))
    out.append(Reaction({y: 2}, {y: 1}, 1.0, f"{where} neuron {i} saturation"))
    for s, c, label in _terms(layer, i, upstream, where):
        if c > 0:
            out.append(Reaction({s: 1, y: 1}, {s: 1, y: 2}, c, label))
        else:
            out.append(Reaction({s: 1, y: 1}, {s: 1}, -c, label))
    b = float(layer.bias[i])
    if b > 0:
        out.append(Reaction({y: 1}, {y: 2}, b, f"{where} bias b[{i}]"))
    elif b < 0:
        out.append(Reaction({y: 1}, {}, -b, f"{where} bias b[{i}]"))
    return out


def _linear_neuron(
    p: str, n: str, layer: DenseLayer, i: int, upstream: list[_Rails], where: str
) -> list[Reaction]:
    out = []
    for s, c, label in _terms(layer, i, upstream, where):
        target = p if c > 0 else n
        out.append(Reaction({s: 1}, {s: 1, target: 1}, abs(c), label))
    b = float(layer.bias[i])
    if b != 0:
        out.append(Reaction({}, {p if b > 0 else n: 1}, abs(b), f"{where} bias b[{i}]"))
    out.append(Reaction({p: 1}, {}, 1.0, f"{where} neuron {i} positive-part decay"))
    out.append(Reaction({n: 1}, {}, 1.0, f"{where} neuron {i} negative-part decay"))
    return out
