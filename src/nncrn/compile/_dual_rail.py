"""Rate-independent dual-rail ReLU networks (Vasic, Chalk, Khurshid & Soloveichik 2020/2022).

Every value is the difference of two species and every reaction fires "as far as it can":
the state at completion depends only on stoichiometry and initial amounts, not on rate
constants or even on the rate law. A layer with integer weights ``W`` and biases ``b``:

* pre-activation rails ``{n}p`` (positive part) and ``{n}n`` (negative part) of neuron ``n``
  start at ``b`` and ``-b`` respectively (whichever is positive; the other at 0);
* each upstream species ``S`` read with sign ``s`` fans out in **one** reaction
  ``S -> sum_i |s w_i| R_i`` with ``R_i`` neuron ``i``'s positive rail if ``s w_i > 0`` and its
  negative rail otherwise, so weights are stoichiometric coefficients;
* ReLU by two reactions: ``{n}p -> {n} + {n}c`` copies the positive part into the output
  ``{n}`` and a copy ``{n}c``; ``{n}n + {n}c -> {n}d`` moves ``min(p, n)`` into the debt
  ``{n}d``. At completion ``[{n}] - [{n}d] = p - min(p, n) = max(0, p - n)``, and downstream
  layers read ``{n}`` with ``+w`` and ``{n}d`` with ``-w``;
* a linear (last) layer is read as ``{n}p - {n}n``.

The network is *non-competitive* (:func:`competition_violations`): a species consumed by a
reaction is a reactant of no other reaction; with the fan-out order acyclic every reaction
then runs to completion whatever the rates. Only integer weights are expressible
(``DualRail(rescale=True)`` accepts one real unit per layer, as binary/ternary quantization
produces). Size: ``2 n_in`` input species and fan-outs with ``dual_inputs``, 5 species and
2 + 2 reactions per hidden neuron, 2 species per linear output; a 4-8-3 network has 54
species and 40 reactions, the count published for this construction.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from nncrn._errors import NetworkError, UnsupportedModelError
from nncrn.compile._layers import DenseLayer, LayerStack
from nncrn.compile._scheme import Scheme
from nncrn.network import Reaction, ReactionNetwork, Readout, Role, Species

__all__ = ["DualRail", "competition_violations", "dual_rail_inputs"]


def dual_rail_inputs(x: object) -> np.ndarray:
    """``(batch, n)`` features -> ``(batch, 2 n)`` concentrations ``[x+_0, x-_0, x+_1, ...]``.

    The input columns of a :class:`DualRail` network built with ``dual_inputs=True``.
    """
    x = np.asarray(x, dtype=np.float64)
    out = np.empty((*x.shape[:-1], 2 * x.shape[-1]))
    out[..., 0::2] = np.maximum(x, 0.0)
    out[..., 1::2] = np.maximum(-x, 0.0)
    return out


_FOLDED_HINT = (
    "; here a batch normalization folded into the layer scales each unit by its own real "
    "factor, so the folded weights are not binary even where the layer's are: compile this "
    "model with SmoothReLUScheme() (rate-dependent), or train the dual-rail model without "
    "batch normalization"
)


def _check_integer_weights(stack: LayerStack) -> None:
    for depth, layer in enumerate(stack.layers, start=1):
        frac = np.abs(layer.weight - np.round(layer.weight))
        if frac.max(initial=0.0) > 1e-9:
            i, j = (int(v) for v in np.unravel_index(np.argmax(frac), frac.shape))
            n_bad = int((frac > 1e-9).sum())
            more = f" (and {n_bad - 1} more non-integer weights)" if n_bad > 1 else ""
            raise UnsupportedModelError(
                f"layer {depth} ({layer.source or 'dense layer'}) has weight w[{i},{j}] = "
                f"{float(layer.weight[i, j])!r}{more}; the dual-rail "
                "scheme encodes a weight as a stoichiometric coefficient, so only integer "
                "(binary/ternary) weights are expressible. Discretize the model first (train "
                "with weights in {-1, 0, 1}, e.g. nncrn.train.qat_fit with method 'binary' or "
                "'ternary', then divide each layer by its scale: ReLU is positively homogeneous), "
                "or use a rate-dependent scheme such as "
                "SmoothReLUScheme(); biases may stay real (they become initial concentrations)"
            )


_MAX_K = 256  # units min|w| / k tried: covers 8-bit linear levels (smallest level <= 127)
_UNIT_RTOL = 1e-6  # float32 stores a weight to 6e-8 relative; random reals miss this by far
# Largest stoichiometric coefficient accepted: 16-bit levels. Without a cap the relative
# tolerance admits any weight once max|w| / min|w| is large (1e-6 of 1e6 units is one unit).
_MAX_COEFF = 2**15


def _unit(weight: np.ndarray) -> tuple[float, np.ndarray] | str:
    """``(u, integers)`` with ``weight = u * integers``, ``u`` the largest ``min|w| / k``.

    Every ``|w| / u`` must be within ``_UNIT_RTOL`` (relative) of an integer of at most
    ``_MAX_COEFF``. On failure, a phrase naming why (the weights' span, or the weight
    furthest from a multiple of ``min|w|``).
    """
    mags = np.abs(weight[weight != 0])
    if not mags.size:
        return 1.0, np.zeros_like(weight)
    low = float(mags.min())
    if float(mags.max()) / low > _MAX_COEFF:
        return (
            f"the weights span max|w| / min|w| = {float(mags.max()) / low:.3g}, more than "
            f"{_MAX_COEFF} units; they are not the levels of a quantized layer"
        )
    for k in range(1, _MAX_K + 1):
        m = weight * (k / low)
        r = np.round(m)
        if np.abs(r).max() > _MAX_COEFF:
            break  # larger k only makes the coefficients larger
        if np.all(np.abs(m - r) <= _UNIT_RTOL * np.maximum(np.abs(m), 1.0)):
            return low / k, r
    m = weight / low
    i, j = (int(v) for v in np.unravel_index(np.argmax(np.abs(m - np.round(m))), m.shape))
    return (
        f"no unit min|w| / k with min|w| = {low!r} and k = 1..{_MAX_K} makes every weight an "
        f"integer number of units to relative {_UNIT_RTOL:g}; e.g. w[{i},{j}] = "
        f"{float(weight[i, j])!r} is {float(m[i, j]):.6g} times min|w|"
    )


def competition_violations(network: ReactionNetwork) -> list[str]:
    """Why ``network`` is not non-competitive and acyclic; ``[]`` when it is.

    Non-competitive: every species that some reaction consumes (net change < 0) is a
    reactant (consumed or catalyst) of that reaction only. Acyclic: the graph "reactant ->
    product of the same reaction" has no cycle, and every reaction consumes something, so
    no reaction can fire forever. Together they make the state at completion independent
    of the rate constants.
    """
    out = []
    uses: dict[str, list[int]] = {}
    for k, r in enumerate(network.reactions):
        for s in r.reactants:
            uses.setdefault(s, []).append(k)
        if not any(v < 0 for v in r.net().values()):
            out.append(f"reaction {k} ({r.equation()}) consumes nothing and can fire forever")
    for k, r in enumerate(network.reactions):
        for s, v in r.net().items():
            if v < 0 and len(uses[s]) > 1:
                others = ", ".join(network.reactions[j].equation() for j in uses[s] if j != k)
                out.append(
                    f"species {s} is consumed by {r.equation()} and is also a reactant of "
                    f"{others}: the reactions compete for it"
                )
    succ: dict[str, set[str]] = {}
    for r in network.reactions:
        for s in r.reactants:
            succ.setdefault(s, set()).update(p for p in r.products if p != s)
    state: dict[str, int] = {}  # 1 on the DFS stack, 2 done

    def visit(s: str) -> str | None:
        state[s] = 1
        for t in sorted(succ.get(s, ())):
            if state.get(t) == 1:
                return t
            if t not in state and (hit := visit(t)) is not None:
                return hit
        state[s] = 2
        return None

    for s in sorted(succ):
        if s not in state and (hit := visit(s)) is not None:
            out.append(f"species {hit} can be produced from itself (a cycle of reactions)")
            break
    return out


@dataclass(frozen=True)
class DualRail(Scheme):
    """Rate-independent dual-rail ReLU network: exact ReLU at completion, any rate constants.

    Parameters
    ----------
    dual_inputs:
        False (default): input ``X{j}`` is one species holding the feature (a concentration
        >= 0, or ``feature - low`` with ``input_range``). True: ``X{j}p``, ``X{j}n`` hold
        its positive and negative parts (pass :func:`dual_rail_inputs` ``(x)``), as in the
        published construction, so features may be negative without an ``input_range``.
    rate:
        Rate constant of every reaction (default 1). The result at completion does not
        depend on it; :meth:`convergence_rate` does.
    rescale:
        False (default): weights must be integers. True: each layer's weights may be
        integer multiples ``alpha_l * integer`` of one unit (the output of binary/ternary or
        linear quantization, e.g. ``alpha * {-1, 0, 1}``); ``alpha_l`` is the largest such
        unit (their greatest common divisor, to relative ``1e-6`` so float32 weights pass;
        see :meth:`integerize`). The layer is divided by ``alpha_l`` and later biases by the
        running product, which ReLU's positive homogeneity allows. The network then
        computes the model's outputs divided by ``output_scale = prod alpha_l`` (same
        argmax), stated by :meth:`forward` and stored in ``metadata["output_scale"]``.

    Notes
    -----
    Every reaction is mono- or bimolecular. Inputs are consumed: read the outputs at
    completion (steady state), not from the input species.
    """

    dual_inputs: bool = False
    rate: float = 1.0
    rescale: bool = False
    name: ClassVar[str] = "dual_rail"

    def __post_init__(self) -> None:
        rate = float(self.rate)
        if not np.isfinite(rate) or rate <= 0:
            raise ValueError(f"DualRail rate is {self.rate!r}; it must be finite and > 0")
        object.__setattr__(self, "rate", rate)

    def activation(self, z: np.ndarray) -> np.ndarray:
        return np.maximum(np.asarray(z, dtype=np.float64), 0.0)

    def convergence_rate(self, z: np.ndarray) -> np.ndarray:
        """``rate * min(1, |z|)``: the debt reaction's excess reactant decays at ``rate |p - n|``.

        With ``p = n`` (``z = 0``) the approach is algebraic (``1 / t``), not exponential.
        """
        return self.rate * np.minimum(1.0, np.abs(np.asarray(z, dtype=np.float64)))

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "dual_inputs": self.dual_inputs, "rate": self.rate,
                "rescale": self.rescale}  # fmt: skip

    def integerize(self, stack: LayerStack) -> tuple[LayerStack, float]:
        """``(stack with integer weights, output_scale)``; the stack itself unless ``rescale``.

        Each layer's unit is the largest ``u = min|w| / k`` (``k = 1 .. 256``) of which
        every weight is an integer multiple to relative ``1e-6`` (float32 stores a weight
        to ``6e-8``), e.g. ``u = 1`` for weights ``[[2, 3], [-3, 2]]``.
        """
        if not self.rescale:
            return stack, 1.0
        layers, scale = [], 1.0
        for depth, layer in enumerate(stack.layers, start=1):
            found = _unit(layer.weight)
            if isinstance(found, str):
                raise UnsupportedModelError(
                    f"layer {depth} ({layer.source or 'dense layer'}): its weights are not "
                    f"integer multiples of a common unit ({found}), so DualRail(rescale=True) "
                    "cannot make them stoichiometric coefficients. Discretize the model first "
                    "(binary/ternary or linear levels, e.g. nncrn.train.quantize_model)"
                    + _FOLDED_HINT
                    * ("(folded)" in (layer.source or ""))
                )
            unit, integers = found
            scale *= unit
            layers.append(DenseLayer(integers, layer.bias / scale, layer.activation,
                                     layer.eps, layer.source))  # fmt: skip
        return dataclasses.replace(stack, layers=tuple(layers)), scale

    def forward(self, stack: LayerStack, x: object) -> np.ndarray:
        """Exact ReLU network on ``x`` (divided by ``output_scale`` with ``rescale``)."""
        return super().forward(self.integerize(stack)[0], x)

    def build(
        self,
        stack: LayerStack,
        *,
        output_names: Sequence[str] | None = None,
        input_range: Sequence[tuple[float, float] | None] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> ReactionNetwork:
        """The network; ``relu`` layers are exact, ``smooth_relu`` layers become exact ReLU.

        A ``smooth_relu`` layer is replaced by ReLU with a :class:`ApproximationWarning`
        (per unit ``0 < sigma_eps - relu <= sqrt(eps)``).
        """
        stack, output_scale = self.integerize(stack)
        _check_integer_weights(stack)
        smooth = [layer for layer in stack.layers if layer.activation == "smooth_relu"]
        if smooth:
            from nncrn._errors import ApproximationWarning

            eps = max(float(layer.eps or 0.0) for layer in smooth)
            warnings.warn(
                f"{stack.source}: the dual-rail scheme computes exact ReLU in place of the "
                f"model's SmoothReLU (eps={eps!r}), within sqrt(eps) = {eps**0.5:.3g} per unit "
                "before the weights; train with torch.nn.ReLU for an exact compilation",
                ApproximationWarning,
                stacklevel=3,
            )
        n_in = stack.n_inputs
        names = list(output_names) if output_names is not None else [
            f"y{i}" for i in range(stack.n_outputs)]  # fmt: skip
        if len(names) != stack.n_outputs:
            raise ValueError(f"{len(names)} output names for {stack.n_outputs} outputs")
        if self.dual_inputs:
            if input_range is not None and any(r is not None for r in input_range):
                raise UnsupportedModelError(
                    "input_range was given with DualRail(dual_inputs=True); dual-rail inputs "
                    "carry negative features themselves — drop input_range"
                )
            species = [
                Species(f"X{j}{part}", Role.INPUT) for j in range(n_in) for part in ("p", "n")
            ]
            upstream = [[(f"X{j}p", 1), (f"X{j}n", -1)] for j in range(n_in)]
        else:
            ranges = list(input_range) if input_range is not None else [None] * n_in
            species = [Species(f"X{j}", Role.INPUT, 0.0, ranges[j]) for j in range(n_in)]
            upstream = [[(f"X{j}", 1)] for j in range(n_in)]
        reactions: list[Reaction] = []
        readout: list[Readout] = []
        layers_meta = []
        for depth, layer in enumerate(stack.layers, start=1):
            last = depth == len(stack.layers)
            role = Role.OUTPUT if last else Role.HIDDEN
            bases = [f"Y{i}" if last else f"H{depth}_{i}" for i in range(layer.n_out)]
            reactions += _fan_out(layer, upstream, bases, self.rate, f"layer {depth}")
            rails = []
            for i, base in enumerate(bases):
                b = float(layer.bias[i])
                p, n = f"{base}p", f"{base}n"
                species += [Species(p, role, max(b, 0.0)), Species(n, role, max(-b, 0.0))]
                if layer.activation == "identity":
                    rails.append([(p, 1), (n, -1)])
                    continue
                c, d = f"{base}c", f"{base}d"
                species += [Species(base, role), Species(c, Role.AUXILIARY), Species(d, role)]
                reactions += [
                    Reaction({p: 1}, {base: 1, c: 1}, self.rate, f"layer {depth} ReLU {i} copy"),
                    Reaction({n: 1, c: 1}, {d: 1}, self.rate, f"layer {depth} ReLU {i} debt"),
                ]
                rails.append([(base, 1), (d, -1)])
            if last:
                readout = [
                    Readout(nm, r[0][0], r[1][0]) for nm, r in zip(names, rails, strict=True)
                ]
            layers_meta.append({
                "species": [s for r in rails for s, _ in r],
                "activation": "identity" if layer.activation == "identity" else "relu",
                "model_activation": layer.activation,
            })  # fmt: skip
            upstream = rails
        meta = dict(metadata or {})
        meta.update(scheme=self.describe(), layers=layers_meta, output_scale=output_scale)
        net = ReactionNetwork(tuple(species), tuple(reactions), tuple(readout), meta)
        problems = competition_violations(net)
        if problems:  # a bug in this construction, never the user's input
            raise NetworkError("dual-rail network is not non-competitive: " + "; ".join(problems))
        return net


def _fan_out(
    layer: DenseLayer, upstream: list[list[tuple[str, int]]], bases: list[str], rate: float,
    where: str,
) -> list[Reaction]:  # fmt: skip
    """One reaction per upstream species: ``S -> sum_i |w| (positive or negative rail of i)``."""
    w = np.round(layer.weight).astype(np.int64)
    out = []
    for j, rails in enumerate(upstream):
        for s, sign in rails:
            products: dict[str, int] = {}
            for i in np.flatnonzero(w[:, j]):
                c = int(w[i, j]) * sign
                rail = f"{bases[i]}{'p' if c > 0 else 'n'}"
                products[rail] = products.get(rail, 0) + abs(c)
            if products:
                out.append(Reaction({s: 1}, products, rate, f"{where} fan-out of {s}"))
    return out
