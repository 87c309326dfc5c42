"""A bounded, sigmoid-shaped activation: a neuron whose species is conserved with a partner.

Derivation. A free species cannot saturate: with ``Q`` root-free on ``(0, inf)`` the map
``g = -P/Q`` stays finite at every finite ``y``, so the root ``y*(z)`` grows without bound as
``z`` does. Confine the neuron to ``[0, 1]`` instead: species ``Y`` and its complement ``Yc``
with ``y + yc = 1`` (``Yc`` starts at 1), and take

    dy/dt = eps (yc - y) + z y yc = eps (1 - 2 y) + z y (1 - y),

i.e. ``P = eps (1 - 2y)``, ``Q = y (1 - y)``, upper bound ``U = 1``. The checks of
:func:`~nncrn.compile._polynomial.analyse_activation` hold: ``p0 = eps > 0``,
``P(1) = -eps < 0 = Q(1)``, ``Q > 0`` on ``(0, 1)``, and
``W = P'Q - PQ' = -eps ((1 - y)^2 + y^2) < 0``, so ``z = g(y) = eps (2y - 1) / (y (1 - y))``
increases from ``-inf`` to ``inf`` on ``(0, 1)`` and every ``z`` has one root, attracting
every start with ``y + yc = 1``. Solving the quadratic ``u y^2 + (2 - u) y - 1 = 0``
(``u = z / eps``) without cancellation:

    y*(z) = 2 / ((2 - u) + sqrt(u^2 + 4)),

which is 1/2 at 0, odd about it (``y*(-z) = 1 - y*(z)``), has slope ``1 / (8 eps)`` at 0 and
algebraic tails ``eps / |z|`` and ``1 - eps / z``. The rate at the root is
``-dF/dy = 2 eps + z (2 y* - 1) >= 2 eps`` (``2 y* - 1`` has the sign of ``z``).

Reactions (mass action without factorials): ``Yc -> Y`` and ``Y -> Yc`` at ``eps``; weight
``w > 0``: ``X + Y + Yc -> X + 2 Y`` at ``w``; ``w < 0``: ``X + Y + Yc -> X + 2 Yc`` at
``|w|``; bias likewise without the catalyst. Every reaction conserves ``y + yc``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nncrn._activations import chemical_sigmoid
from nncrn._errors import InputError
from nncrn.compile._layers import Function, LayerStack
from nncrn.compile._polynomial import Terms, build_feed_forward, check_activation, warn_replaced
from nncrn.compile._scheme import Scheme
from nncrn.network import Reaction, ReactionNetwork, Role, Species
from nncrn.network._numbers import as_real

__all__ = ["ChemicalSigmoidScheme", "chemical_sigmoid"]


def _check_rate(rate: object) -> float:
    value = as_real(rate)  # a real number, not a string or bool
    if value is None or not math.isfinite(value) or value <= 0:
        raise InputError(
            f"ChemicalSigmoidScheme rate is {rate!r}; it must be finite and > 0 (it is the rate of the "
            "exchange Y <-> Yc that sets the activation's width; the default 0.25 gives slope "
            "1/2 at z = 0)"
        )
    return value


@dataclass(frozen=True)
class ChemicalSigmoidScheme(Scheme):
    """Bounded activation ``y*(z) = chemical_sigmoid(z, eps)`` in ``(0, 1)``, two species per neuron.

    Parameters
    ----------
    rate:
        Exchange rate ``eps`` of ``Y <-> Yc`` (module docstring), finite and > 0; the
        activation is a function of ``z / rate`` with slope ``1 / (8 rate)`` at 0. Default
        ``0.25`` (slope 1/2; ``rate = 0.5`` matches the logistic's slope 1/4). Not called
        ``eps``: it is no leak, and ``y*`` does not approach a ReLU as it shrinks.
    """

    rate: float = 0.25
    name: ClassVar[str] = "chemical_sigmoid"

    def __post_init__(self) -> None:
        rate = _check_rate(self.rate)
        check_activation([rate, -2 * rate], [0.0, 1.0, -1.0], upper=1.0)
        object.__setattr__(self, "rate", rate)

    def activation(self, z: np.ndarray) -> np.ndarray:
        return chemical_sigmoid(z, self.rate)

    def convergence_rate(self, z: np.ndarray) -> np.ndarray:
        """``-dF/dy`` at the root: ``2 rate + z (2 y* - 1) >= 2 rate``."""
        z = np.asarray(z, dtype=np.float64)
        return 2.0 * self.rate + z * (2.0 * self.activation(z) - 1.0)

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "rate": self.rate}

    def model_activation(self) -> Function:
        return Function.of("chemical_sigmoid", params={"rate": self.rate})

    def neuron(
        self, y: str, terms: Terms, where: str, role: Role
    ) -> tuple[list[Species], list[Reaction]]:
        c = f"{y}c"
        out = [
            Reaction({c: 1}, {y: 1}, self.rate, f"{where} neuron {y} exchange Yc -> Y"),
            Reaction({y: 1}, {c: 1}, self.rate, f"{where} neuron {y} exchange Y -> Yc"),
        ]
        for s, w, label in terms:
            cat = {s: 1} if s else {}
            after = {y: 2} if w > 0 else {c: 2}
            out.append(Reaction({**cat, y: 1, c: 1}, {**cat, **after}, abs(w), label))
        return [Species(y, role), Species(c, Role.AUXILIARY, 1.0)], out

    def build(
        self,
        stack: LayerStack,
        *,
        output_names: Sequence[str] | None = None,
        input_range: Sequence[tuple[float, float] | None] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ReactionNetwork:
        """The network; every non-linear layer gets ``chemical_sigmoid`` (``Yc`` starts at 1)."""
        warn_replaced(self, stack)
        return build_feed_forward(self, stack, self.neuron, output_names, input_range, metadata)
