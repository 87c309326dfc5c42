"""Architecture search for reaction networks: the smallest chemistry that does the job.

A :class:`SearchSpace` of architectures (0-3 hidden layers and their widths, pruned
weights, the compilation scheme, weight discretization with or without QAT, ``eps``) is
searched by one of three :class:`Strategy` classes behind the same ask/tell interface:
:class:`RandomSearch`, :class:`RegularizedEvolution` (aging evolution) and
:class:`Reinforce` (a policy-gradient controller). :func:`search` trains, compiles and
*simulates* every proposed network and scores the chemistry's validation accuracy,
under ``max_reactions``/``max_species``; the :class:`SearchResult` holds every
:class:`Evaluation` (reactions, species, total molecularity, distinct rate constants), the
Pareto front of accuracy against reactions, the best-so-far curve, and the test accuracy
of the best and the front, measured once at the end.
"""

from nncrn.search._evaluate import (
    Evaluation,
    SearchData,
    TrainSettings,
    evaluate,
    min_reactions,
    network_size,
)
from nncrn.search._result import SearchResult, pareto_front
from nncrn.search._run import search
from nncrn.search._space import Architecture, SearchSpace
from nncrn.search._strategies import RandomSearch, RegularizedEvolution, Reinforce, Strategy

__all__ = [
    "Architecture",
    "Evaluation",
    "RandomSearch",
    "RegularizedEvolution",
    "Reinforce",
    "SearchData",
    "SearchResult",
    "SearchSpace",
    "Strategy",
    "TrainSettings",
    "evaluate",
    "min_reactions",
    "network_size",
    "pareto_front",
    "search",
]
