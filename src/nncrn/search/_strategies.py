"""Search strategies behind one ask/tell interface: random, regularized evolution, REINFORCE."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

import numpy as np

from nncrn._errors import InputError
from nncrn.search._space import SearchSpace

__all__ = ["RandomSearch", "RegularizedEvolution", "Reinforce", "Strategy"]


class Strategy(ABC):
    """Proposes genomes (:meth:`ask`) and learns from their fitness (:meth:`tell`).

    :func:`nncrn.search.search` asks for a batch, evaluates it, and tells the results in
    the order asked, so a run depends on the seed and the batch size, never on which
    worker finished first. Subclasses keep their state in the instance; make a new one
    per run.
    """

    name = "strategy"

    def start(self, space: SearchSpace, rng: np.random.Generator) -> None:
        """Bind to ``space`` and the run's random generator before the first :meth:`ask`."""
        self.space, self.rng = space, rng

    @abstractmethod
    def ask(self) -> tuple[int, ...]:
        """The next genome to evaluate (one index per decision of the space)."""

    @abstractmethod
    def tell(self, genome: tuple[int, ...], fitness: float) -> None:
        """Learn that ``genome`` scored ``fitness`` (validation accuracy, 0 if infeasible)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k not in ("space", "rng")
                           and not k.startswith("_"))  # fmt: skip
        return f"{type(self).__name__}({fields})"


class RandomSearch(Strategy):
    """Uniform random valid architectures, independent of what was learned (the baseline)."""

    name = "random"

    def ask(self) -> tuple[int, ...]:
        return self.space.sample(self.rng)

    def tell(self, genome: tuple[int, ...], fitness: float) -> None:
        """Nothing to learn: every draw is uniform."""


class RegularizedEvolution(Strategy):
    """Aging evolution (Real et al. 2019): tournament selection, one mutation, the oldest dies.

    The first ``population`` genomes are random; afterwards each child is a mutation of
    the fittest of ``tournament`` members drawn at random from the population, and every
    told result joins the population and pushes out its oldest member. Defaults are smaller
    than the paper's 100/3 to suit budgets of a few hundred evaluations.
    """

    name = "evolution"

    def __init__(self, population: int = 20, tournament: int = 3) -> None:
        if not isinstance(population, int) or population < 2:
            raise InputError(
                f"RegularizedEvolution(population={population!r}) must be an integer >= 2"
            )
        if not isinstance(tournament, int) or not 1 <= tournament <= population:
            raise InputError(
                f"RegularizedEvolution(tournament={tournament!r}) must be an integer in 1..population "
                f"({population})"
            )
        self.population, self.tournament = population, tournament

    def start(self, space: SearchSpace, rng: np.random.Generator) -> None:
        super().start(space, rng)
        self._members: deque = deque(maxlen=self.population)
        self._asked = 0

    def ask(self) -> tuple[int, ...]:
        self._asked += 1
        if self._asked <= self.population or len(self._members) < self.tournament:
            return self.space.sample(self.rng)
        picks = self.rng.choice(len(self._members), size=self.tournament, replace=False)
        parent = max((self._members[i] for i in picks), key=lambda m: m[1])[0]
        return self.space.mutate(parent, self.rng)

    def tell(self, genome: tuple[int, ...], fitness: float) -> None:
        self._members.append((tuple(genome), float(fitness)))  # deque drops the oldest


class Reinforce(Strategy):
    """A policy-gradient controller: one softmax per decision, REINFORCE with a baseline.

    Each decision has its own logits; a genome is sampled decision by decision (invalid
    combinations are redrawn). After each result the logits of the *active* decisions
    move by ``lr * (fitness - baseline) * (onehot - p)`` (the gradient of the log
    probability), and the baseline is an exponential moving average of the fitness with
    ``decay``. The paper's controller is an LSTM; independent softmaxes keep the same
    update on a space this small.
    """

    name = "rl"

    def __init__(self, lr: float = 0.5, decay: float = 0.9) -> None:
        if not lr > 0:
            raise InputError(f"Reinforce(lr={lr!r}) must be > 0")
        if not 0 <= decay < 1:
            raise InputError(f"Reinforce(decay={decay!r}) must be in [0, 1)")
        self.lr, self.decay = lr, decay

    def start(self, space: SearchSpace, rng: np.random.Generator) -> None:
        super().start(space, rng)
        self._logits = [np.zeros(n) for n in space.cardinalities]
        self._baseline: float | None = None

    def probabilities(self) -> list[np.ndarray]:
        """The current policy: one probability vector per decision."""
        out = []
        for z in self._logits:
            e = np.exp(z - z.max())
            out.append(e / e.sum())
        return out

    def ask(self) -> tuple[int, ...]:
        probs = self.probabilities()
        for _ in range(1000):
            g = tuple(int(self.rng.choice(len(p), p=p)) for p in probs)
            if self.space.decode(g).valid:
                return self.space.canonical(g)
        return self.space.sample(self.rng)  # the policy has all but left the valid region

    def tell(self, genome: tuple[int, ...], fitness: float) -> None:
        if self._baseline is None:
            self._baseline = float(fitness)
            return
        advantage = float(fitness) - self._baseline
        probs = self.probabilities()
        for i in self.space.active(genome):
            grad = -probs[i]
            grad[genome[i]] += 1.0
            self._logits[i] = self._logits[i] + self.lr * advantage * grad
        self._baseline = self.decay * self._baseline + (1 - self.decay) * float(fitness)
