"""The :class:`Polynomial` scheme: one species per neuron with ``dy/dt = P(y) + z Q(y)``.

The realisability and stability checks, and the root finder, live in
:mod:`nncrn._activations` (shared with the torch modules of :mod:`nncrn.nn`).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
from numpy.polynomial import polynomial as npoly

from nncrn._activations import ActivationError, check_activation, polynomial_root, trim
from nncrn.compile._layers import Function, LayerStack
from nncrn.compile._scheme import Scheme, _linear_neuron, _terms
from nncrn.network import Reaction, ReactionNetwork, Readout, Role, Species

__all__ = ["Polynomial", "Terms", "build_feed_forward", "warn_replaced"]


@dataclass(frozen=True)
class Polynomial(Scheme):
    """One species per neuron with ``dy/dt = P(y) + z Q(y)``; activation = its positive root.

    Parameters
    ----------
    P, Q:
        Ascending coefficients (``P=[1e-3, 0, -1], Q=[0, 1]`` is ``1e-3 - y^2 + z y``, the
        smoothed ReLU). Checked on construction by :func:`analyse_activation`; a polynomial
        pair that fails raises :class:`ActivationError` with the reason.
    label:
        Name stored in metadata (default ``"polynomial"``).

    Notes
    -----
    Realisation (mass action without factorials): each monomial ``c y^k`` of ``P``, and of
    every ``w_j q_k x_j y^k`` (catalyst ``X_j``) and ``b q_k y^k``, becomes one reaction
    ``[X_j +] k Y -> [X_j +] (k + 1) Y`` at rate ``c`` if ``c > 0`` or ``-> (k - 1) Y`` at
    ``|c|``; terms with the same catalyst and ``k`` are merged first. Identity layers are the
    exact linear dual-rail pair of :class:`SmoothReLUScheme`.
    """

    P: tuple[float, ...]
    Q: tuple[float, ...]
    label: str = "polynomial"
    name: ClassVar[str] = "polynomial"
    closed_form: ClassVar[bool] = False  # the root is found numerically, to float64 resolution
    _P: np.ndarray = field(init=False, repr=False, compare=False)
    _Q: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        P, Q = trim(self.P), trim(self.Q)
        check_activation(P, Q)
        object.__setattr__(self, "P", tuple(float(v) for v in P))
        object.__setattr__(self, "Q", tuple(float(v) for v in Q))
        object.__setattr__(self, "_P", P)
        object.__setattr__(self, "_Q", Q)

    @classmethod
    def smooth_relu(cls, eps: float = 1e-3) -> Polynomial:
        """``eps + z y - y^2``: the same chemistry as :class:`SmoothReLUScheme` (``sigma_eps``)."""
        return cls((eps, 0.0, -1.0), (0.0, 1.0), "smooth_relu")

    @classmethod
    def rectified_root(cls, k: int = 3, eps: float = 1e-3) -> Polynomial:
        """``eps + z y - y^k`` (``k >= 2``): ``y* ~ z^(1/(k-1))`` for large ``z``, ``~ eps/|z|`` below.

        ``W = -(k - 1) y^k - eps < 0`` so every ``k >= 2`` passes the checks; ``k = 2`` is
        the smoothed ReLU, ``k = 3`` a smoothed square root of the positive part.
        """
        if int(k) != k or k < 2:
            raise ActivationError(f"rectified_root needs an integer k >= 2, got k={k!r}")
        return cls((eps, *([0.0] * (int(k) - 1)), -1.0), (0.0, 1.0), f"rectified_root_k{int(k)}")

    def activation(self, z: np.ndarray) -> np.ndarray:
        return polynomial_root(self._P, self._Q, z)

    def convergence_rate(self, z: np.ndarray) -> np.ndarray:
        """``-dF/dy`` at the root: ``-(P'(y*) + z Q'(y*))``."""
        z = np.asarray(z, dtype=np.float64)
        y = self.activation(z)
        return -(
            npoly.polyval(y, npoly.polyder(self._P)) + z * npoly.polyval(y, npoly.polyder(self._Q))
        )

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.label, "P": list(self.P), "Q": list(self.Q)}

    def model_activation(self) -> Function:
        """``PolynomialActivation(P, Q)`` (``SmoothReLU(eps)`` when it is ``eps - y^2``, ``y``)."""
        return Function.of("polynomial", params={"P": self.P, "Q": self.Q})

    def neuron(
        self, y: str, terms: Terms, where: str, role: Role
    ) -> tuple[list[Species], list[Reaction]]:
        """Species and reactions of one neuron from its ``(catalyst, coefficient, label)`` terms."""
        coef: dict[tuple[str | None, int], list] = {}
        for k, p in enumerate(self.P):
            if p:
                coef.setdefault((None, k), [0.0, f"{where} P term {p:g} y^{k}"])[0] += p
        for s, c, label in terms:
            for k, q in enumerate(self.Q):
                if q:
                    coef.setdefault((s, k), [0.0, label])[0] += c * q
        out = []
        for (s, k), (c, label) in coef.items():
            if c == 0:
                continue
            cat = {s: 1} if s else {}
            before = {**cat, y: k} if k else cat
            after_k = k + 1 if c > 0 else k - 1
            after = {**cat, y: after_k} if after_k else cat
            out.append(Reaction(before, after, abs(c), label))
        return [Species(y, role)], out

    def build(
        self,
        stack: LayerStack,
        *,
        output_names: Sequence[str] | None = None,
        input_range: Sequence[tuple[float, float] | None] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ReactionNetwork:
        """The network; every non-linear layer (ReLU or SmoothReLU in the model) gets this activation."""
        warn_replaced(self, stack)
        return build_feed_forward(self, stack, self.neuron, output_names, input_range, metadata)


def warn_replaced(scheme: Scheme, stack: LayerStack, stacklevel: int = 4) -> None:
    """Warn, with an ``ApproximationWarning``, of the layers whose activation ``scheme`` replaces.

    A layer is replaced when its :attr:`~DenseLayer.function` is not the scheme's
    :meth:`~Scheme.model_activation` (a model trained with the scheme's own activation
    compiles exactly and silently). ReLU layers replaced by ``sigma_eps`` get the worst-case
    bound of :func:`~nncrn.compile.relu_deviation_bound`; other replacements have no such
    bound, and the warning states the map the network computes instead,
    ``scheme.forward(stack, x)``. ``stacklevel`` 4 points at the caller of
    ``compile_network`` when called from a scheme's ``build``.
    """
    from nncrn._errors import ApproximationWarning
    from nncrn.compile._layers import relu_deviation_bound

    own = scheme.model_activation()
    replaced = [layer for layer in stack.layers if layer.activation != "identity"
                and (own is None or not layer.function.same(own))]  # fmt: skip
    if not replaced:
        return
    eps = own.get("eps") if own is not None and own.kind == "smooth_relu" else 0.0
    if eps > 0 and all(layer.activation == "relu" for layer in replaced):
        bound = relu_deviation_bound(stack, eps)
        message = (
            f"{stack.source} uses plain ReLU, which the {scheme.name} scheme replaces by "
            f"sigma_eps with eps={eps!r}: every output is within {bound:.4g} of the model's "
            "(worst case from |W| and sqrt(eps) per ReLU layer). Train with nncrn.nn.SmoothReLU "
            "for an exact compilation"
        )
    else:
        kinds = ", ".join(sorted({layer.activation for layer in replaced}))
        where = "; ".join(f"{layer.source or 'a layer'}: {layer.function}" for layer in replaced)
        exact = f"train with nncrn.nn.{own}" if own is not None else "use another scheme"
        message = (
            f"{stack.source}: the {scheme.name} scheme gives every non-linear layer its own "
            f"activation ({own or scheme.describe()}) in place of the model's {kinds} ({where}); "
            "the network computes scheme.forward(stack, x), not the model. For an exact "
            f"compilation pass scheme=None or {exact}"
        )
    warnings.warn(message, ApproximationWarning, stacklevel=stacklevel)


Terms = list[tuple[str | None, float, str]]
"""``(catalyst species or None for the bias, coefficient of z, label)`` of one neuron."""


def build_feed_forward(
    scheme: Scheme,
    stack: LayerStack,
    neuron: Callable[[str, Terms, str, Role], tuple[list[Species], list[Reaction]]],
    output_names: Sequence[str] | None,
    input_range: Sequence[tuple[float, float] | None] | None,
    metadata: Mapping[str, Any] | None,
) -> ReactionNetwork:
    """Assemble a network whose non-linear neuron ``base`` is read from species ``base``.

    ``neuron(base, terms, where, role)`` returns the neuron's species (the first is the one
    read downstream) and reactions; identity layers are exact linear dual-rail pairs.
    """
    n_in = stack.n_inputs
    ranges = list(input_range) if input_range is not None else [None] * n_in
    names = list(output_names) if output_names is not None else [
        f"y{i}" for i in range(stack.n_outputs)]  # fmt: skip
    if len(names) != stack.n_outputs or len(ranges) != n_in:
        raise ValueError(
            f"got {len(names)} output names and {len(ranges)} input ranges; the stack has "
            f"{stack.n_outputs} outputs and {n_in} inputs"
        )
    species = [Species(f"X{j}", Role.INPUT, 0.0, ranges[j]) for j in range(n_in)]
    upstream = [[(f"X{j}", 1)] for j in range(n_in)]
    reactions: list[Reaction] = []
    readout: list[Readout] = []
    layers_meta = []
    for depth, layer in enumerate(stack.layers, start=1):
        last = depth == len(stack.layers)
        role, rails, where = (Role.OUTPUT if last else Role.HIDDEN), [], f"layer {depth}"
        for i in range(layer.n_out):
            base = f"Y{i}" if last else f"H{depth}_{i}"
            if layer.activation == "identity":
                p, n = f"{base}p", f"{base}n"
                species += [Species(p, role), Species(n, role)]
                reactions += _linear_neuron(p, n, layer, i, upstream, where)
                rails.append([(p, 1), (n, -1)])
                readout += [Readout(names[i], p, n)] if last else []
            else:
                terms: Terms = list(_terms(layer, i, upstream, where))
                if layer.bias[i]:
                    terms.append((None, float(layer.bias[i]), f"{where} bias b[{i}]"))
                new_species, new_reactions = neuron(base, terms, where, role)
                species += new_species
                reactions += new_reactions
                rails.append([(base, 1)])
                readout += [Readout(names[i], base)] if last else []
        layers_meta.append({
            "species": [s for r in rails for s, _ in r],
            "activation": "identity" if layer.activation == "identity" else scheme.name,
            "model_activation": layer.activation,
        })  # fmt: skip
        upstream = rails
    meta = dict(metadata or {})
    meta.update(scheme=scheme.describe(), layers=layers_meta)
    return ReactionNetwork(tuple(species), tuple(reactions), tuple(readout), meta)
