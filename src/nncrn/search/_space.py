"""The search space: architectures as tuples of categorical decisions."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from nncrn._errors import InputError

__all__ = ["Architecture", "SearchSpace"]

SCHEMES = ("smooth-relu", "dual-rail")
# name -> (Discretization method, bits); None is float weights
WEIGHTS = {
    "float": None,
    "ternary": ("ternary", 2),
    "binary": ("binary", 1),
    "linear-2": ("linear", 2),
    "linear-3": ("linear", 3),
    "linear-4": ("linear", 4),
    "exp-2": ("exponential", 2),
    "exp-3": ("exponential", 3),
    "exp-4": ("exponential", 4),
}
# dual-rail needs every layer's weights to be integer multiples of one unit
_INTEGER_WEIGHTS = ("ternary", "binary", "linear-2", "linear-3", "linear-4")


@dataclass(frozen=True)
class Architecture:
    """One point of the search space: what to train, how to discretize and compile it.

    ``hidden``: hidden-layer widths (``()`` is a linear model, one reaction layer);
    ``sparsity``: share of each layer's weights pruned to zero by magnitude (each zero
    weight is a reaction or a product fewer); ``scheme``: ``"smooth-relu"`` or
    ``"dual-rail"``; ``weights``: a key of ``WEIGHTS`` (``"float"``, ``"ternary"``,
    ``"binary"``, ``"linear-B"``, ``"exp-B"``); ``qat``: quantization-aware training
    instead of rounding once; ``eps``: the smoothed ReLU's ``eps`` (smooth-relu only).
    """

    hidden: tuple[int, ...]
    sparsity: float
    scheme: str
    weights: str
    qat: bool
    eps: float

    def __post_init__(self) -> None:
        if self.scheme not in SCHEMES:
            raise InputError(f"Architecture(scheme={self.scheme!r}); choose one of {SCHEMES}")
        if self.weights not in WEIGHTS:
            raise InputError(
                f"Architecture(weights={self.weights!r}); choose one of {tuple(WEIGHTS)}"
            )
        if not 0 <= self.sparsity < 1:
            raise InputError(f"Architecture(sparsity={self.sparsity!r}) must be in [0, 1)")
        if any(int(w) < 1 for w in self.hidden):
            raise InputError(f"Architecture(hidden={self.hidden!r}): every width must be >= 1")

    @property
    def valid(self) -> bool:
        """Whether the scheme can compile these weights (dual-rail needs integer levels)."""
        return self.scheme == "smooth-relu" or self.weights in _INTEGER_WEIGHTS

    def describe(self) -> str:
        """E.g. ``"4-8-3 ternary QAT dual-rail, 50% pruned"`` (``sizes`` filled by the caller)."""
        depth = "-".join(map(str, self.hidden)) if self.hidden else "linear"
        parts = [
            depth,
            self.weights + (" QAT" if self.qat and self.weights != "float" else ""),
            self.scheme,
        ]
        if self.scheme == "smooth-relu" and self.hidden:
            parts.append(f"eps {self.eps:g}")
        if self.sparsity:
            parts.append(f"{self.sparsity:.0%} pruned")
        return " ".join(parts)


@dataclass(frozen=True)
class SearchSpace:
    """Categorical decisions that make an :class:`Architecture`.

    Each field lists the values one decision can take. An architecture is the tuple of
    chosen indices (its *genome*, one index per decision in :attr:`names` order); widths of
    layers beyond the chosen depth are inactive (ignored, never mutated, not learned).
    The defaults span linear models to three hidden layers of 32, float to binary weights,
    and both schemes; dual-rail with float or exponential weights is not compilable and
    never sampled.
    """

    depths: Sequence[int] = (0, 1, 2, 3)
    widths: Sequence[int] = (2, 4, 8, 16, 32)
    sparsities: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 0.9)
    schemes: Sequence[str] = SCHEMES
    weights: Sequence[str] = tuple(WEIGHTS)
    qat: Sequence[bool] = (False, True)
    eps: Sequence[float] = (1e-4, 1e-3, 1e-2)
    names: tuple[str, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        for name in ("depths", "widths", "sparsities", "schemes", "weights", "qat", "eps"):
            values = tuple(getattr(self, name))
            if not values:
                raise InputError(f"SearchSpace({name}=()): give at least one value")
            object.__setattr__(self, name, values)
        if any(not isinstance(d, int | np.integer) or not 0 <= d <= 3 for d in self.depths):
            raise InputError(f"SearchSpace(depths={self.depths}): depths are integers 0 to 3")
        if any(not isinstance(w, int | np.integer) or w < 1 for w in self.widths):
            raise InputError(f"SearchSpace(widths={self.widths}): widths are integers >= 1")
        if any(not 0 <= s < 1 for s in self.sparsities):
            raise InputError(f"SearchSpace(sparsities={self.sparsities}): each must be in [0, 1)")
        if any(not e > 0 for e in self.eps):
            raise InputError(f"SearchSpace(eps={self.eps}): each eps must be > 0")
        for s in self.schemes:
            if s not in SCHEMES:
                raise InputError(f"SearchSpace(schemes=...): unknown {s!r}; choose from {SCHEMES}")
        for w in self.weights:
            if w not in WEIGHTS:
                raise InputError(
                    f"SearchSpace(weights=...): unknown {w!r}; choose from {tuple(WEIGHTS)}"
                )
        if "smooth-relu" not in self.schemes and not set(self.weights) & set(_INTEGER_WEIGHTS):
            raise InputError(
                "SearchSpace: dual-rail alone needs integer weight levels; add 'ternary', "
                "'binary' or 'linear-B' to weights, or 'smooth-relu' to schemes"
            )
        names = (
            "depth",
            "width1",
            "width2",
            "width3",
            "sparsity",
            "scheme",
            "weights",
            "qat",
            "eps",
        )
        object.__setattr__(self, "names", names)

    @property
    def cardinalities(self) -> tuple[int, ...]:
        """Number of values of each decision, in :attr:`names` order."""
        w = len(self.widths)
        return (len(self.depths), w, w, w, len(self.sparsities), len(self.schemes),
                len(self.weights), len(self.qat), len(self.eps))  # fmt: skip

    def decode(self, genome: Sequence[int]) -> Architecture:
        """The architecture of a genome (one index per decision)."""
        g = [int(i) for i in genome]
        if len(g) != len(self.names) or any(
            not 0 <= i < n for i, n in zip(g, self.cardinalities, strict=True)
        ):
            raise InputError(
                f"genome {tuple(g)} does not fit the space's sizes {self.cardinalities}"
            )
        depth = self.depths[g[0]]
        return Architecture(
            hidden=tuple(int(self.widths[g[1 + k]]) for k in range(depth)),
            sparsity=float(self.sparsities[g[4]]),
            scheme=self.schemes[g[5]],
            weights=self.weights[g[6]],
            qat=bool(self.qat[g[7]]),
            eps=float(self.eps[g[8]]),
        )

    def active(self, genome: Sequence[int]) -> list[int]:
        """Indices of the decisions that change the architecture of ``genome``."""
        depth = self.depths[int(genome[0])]
        arch = self.decode(genome)
        out = [0, *range(1, 1 + depth), 4, 5, 6]
        if arch.weights != "float":
            out.append(7)
        if arch.scheme == "smooth-relu" and depth > 0:
            out.append(8)
        return sorted(out)

    def canonical(self, genome: Sequence[int]) -> tuple[int, ...]:
        """``genome`` with its inactive decisions set to 0 (equal architectures, equal genomes)."""
        keep = set(self.active(genome))
        return tuple(int(v) if i in keep else 0 for i, v in enumerate(genome))

    def sample(self, rng: np.random.Generator) -> tuple[int, ...]:
        """A uniformly random valid genome (rejection sampling over the decisions)."""
        while True:
            g = tuple(int(rng.integers(n)) for n in self.cardinalities)
            if self.decode(g).valid:
                return self.canonical(g)

    def mutate(self, genome: Sequence[int], rng: np.random.Generator) -> tuple[int, ...]:
        """One active decision changed to another of its values; always valid, always different."""
        for _ in range(1000):
            g = list(genome)
            choices = [i for i in self.active(genome) if self.cardinalities[i] > 1]
            if not choices:
                return tuple(genome)
            i = int(rng.choice(choices))
            g[i] = int((g[i] + 1 + rng.integers(self.cardinalities[i] - 1)) % self.cardinalities[i])
            if i == 0:  # a deeper network: new layers get random widths
                for k in range(1, 4):
                    if k not in self.active(genome):
                        g[k] = int(rng.integers(self.cardinalities[k]))
            if self.decode(g).valid:
                return self.canonical(g)
        return tuple(genome)  # every neighbour invalid: stay
