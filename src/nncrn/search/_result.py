"""The outcome of a search: every evaluation, the best, the Pareto front, the curve."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from nncrn.search._evaluate import Evaluation

__all__ = ["SearchResult", "pareto_front"]


def _rank_key(e: Evaluation) -> tuple:
    # higher accuracy first; among equals the smaller chemistry, then the earlier find
    return (-e.fitness, e.reactions, e.molecularity, e.species, e.index)


def pareto_front(evaluations: list[Evaluation]) -> list[Evaluation]:
    """Feasible evaluations that no other beats on validation accuracy and reactions both.

    One evaluation per (accuracy, reactions) point (the earliest, then the smaller
    molecularity), ordered by reactions ascending; accuracy then rises along the front.
    """
    pts = sorted((e for e in evaluations if e.feasible),
                 key=lambda e: (e.reactions, -e.val_accuracy, e.molecularity, e.index))  # fmt: skip
    front: list[Evaluation] = []
    for e in pts:
        if not front or e.val_accuracy > front[-1].val_accuracy:
            front.append(e)
    return front


@dataclass(frozen=True)
class SearchResult:
    """All evaluations of one run, in the order they were asked, and the held-out scores.

    ``test_accuracy`` maps an evaluation's ``index`` to its network's accuracy on the test
    part, computed once when the search ended, for :attr:`best` and the Pareto front only
    (the search itself never saw the test part). ``completion_time`` (filled by
    ``search(..., completion_times=True)``) maps the same indices to the 99th percentile,
    over the converged test rows, of the chemical time after which every readout species
    stays within 1% of its steady state (:func:`nncrn.simulate.settling_time`).
    """

    strategy: str
    seed: int
    budget: int
    evaluations: list[Evaluation]
    test_accuracy: dict[int, float] = field(default_factory=dict)
    test_converged: dict[int, float] = field(default_factory=dict)
    completion_time: dict[int, float] = field(default_factory=dict)
    max_reactions: int | None = None
    max_species: int | None = None

    @property
    def best(self) -> Evaluation:
        """The feasible evaluation with the highest validation accuracy (then fewest reactions)."""
        return min(self.evaluations, key=_rank_key)

    @property
    def front(self) -> list[Evaluation]:
        """The Pareto front of validation accuracy against reactions (see :func:`pareto_front`)."""
        return pareto_front(self.evaluations)

    @property
    def best_so_far(self) -> np.ndarray:
        """``(budget,)`` best fitness after each evaluation (0 before a feasible one)."""
        return np.maximum.accumulate(np.array([e.fitness for e in self.evaluations]))

    def evaluations_to_reach(self, share: float = 0.99) -> int:
        """How many evaluations the best-so-far curve took to reach ``share`` of its final value."""
        curve = self.best_so_far
        return int(np.argmax(curve >= share * curve[-1]) + 1)

    def count_within(self, points: float = 0.01) -> int:
        """Distinct feasible architectures within ``points`` (a share) of the best's accuracy."""
        top = self.best.fitness
        return len(
            {e.genome for e in self.evaluations if e.feasible and e.fitness >= top - points - 1e-12}
        )

    def best_under(self, max_reactions: int) -> Evaluation | None:
        """The most accurate feasible evaluation with at most ``max_reactions`` reactions."""
        pool = [e for e in self.evaluations if e.feasible and e.reactions <= max_reactions]
        return min(pool, key=_rank_key) if pool else None

    def plot(self, ax=None):
        """Validation accuracy against reactions: every evaluation, the front joined, the best ringed."""
        import matplotlib.pyplot as plt

        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        ok = [e for e in self.evaluations if e.feasible]
        ax.scatter([e.reactions for e in ok], [e.val_accuracy for e in ok], s=12, alpha=0.4,
                   color="0.5", label=f"evaluated ({len(ok)} feasible)")  # fmt: skip
        front = self.front
        ax.step([e.reactions for e in front], [e.val_accuracy for e in front], where="post",
                color="C0", marker="o", label="Pareto front")  # fmt: skip
        b = self.best
        ax.scatter([b.reactions], [b.val_accuracy], s=120, facecolors="none", edgecolors="C3",
                   label=f"best: {b.describe()}")  # fmt: skip
        ax.set_xscale("log")
        ax.set_xlabel("reactions")
        ax.set_ylabel("validation accuracy (simulated CRN)")
        ax.set_title(f"{self.strategy} search, {self.budget} evaluations, seed {self.seed}")
        ax.legend(fontsize=7, loc="lower right")
        return ax
