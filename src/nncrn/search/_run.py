"""The search loop: ask a batch, evaluate it in parallel, tell the results in order."""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from nncrn._errors import ConvergenceWarning, InputError
from nncrn.search._evaluate import Evaluation, SearchData, TrainSettings, evaluate
from nncrn.search._result import SearchResult
from nncrn.search._space import SearchSpace
from nncrn.search._strategies import Strategy

__all__ = ["search"]


def _check_limit(name: str, value: object) -> None:
    if value is not None and (
        not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1
    ):
        raise InputError(f"search({name}={value!r}) must be None (no limit) or an integer >= 1")


def search(data: SearchData, strategy: Strategy, *, budget: int, space: SearchSpace | None = None,
           settings: TrainSettings | None = None, seed: int = 0, max_reactions: int | None = None,
           max_species: int | None = None, n_jobs: int = 1, client: object = None,
           batch_size: int = 8, completion_times: bool = False,
           on_result: Callable[[Evaluation], None] | None = None) -> SearchResult:  # fmt: skip
    """Search ``space`` for the most accurate chemistry with ``budget`` evaluations.

    ``strategy`` (a :class:`RandomSearch`, :class:`RegularizedEvolution` or
    :class:`Reinforce`) proposes ``batch_size`` genomes at a time; each is evaluated by
    :func:`evaluate` (trained with ``settings`` and ``seed``, compiled, simulated on the
    validation part) and told back in the order asked, so a run is reproducible from
    ``seed`` and ``batch_size`` whatever ``n_jobs`` is. An architecture asked for again is
    not retrained (the same seed would give the same network) but counts against the
    budget, as in the strategies' papers.

    Evaluations run in ``n_jobs`` local worker processes (spawned, one torch thread each),
    or on a Dask cluster when ``client`` (a ``dask.distributed.Client``) is given.
    ``on_result`` is called with each :class:`Evaluation` as it is told (a progress bar).
    At the end, the best and the Pareto front are simulated once on the test part; with
    ``completion_times`` their settling times are measured there too
    (:attr:`SearchResult.completion_time`; a trajectory per test row, so slower).
    """
    if not isinstance(data, SearchData):
        raise InputError(
            f"search needs a SearchData, got {type(data).__name__}; make one with "
            "SearchData.split(X, y, seed=...)"
        )
    if isinstance(strategy, str) or not isinstance(strategy, Strategy):
        raise InputError(
            f"search(strategy={strategy!r}): pass an instance, RandomSearch(), "
            "RegularizedEvolution() or Reinforce()"
        )
    if not isinstance(budget, int) or budget < 1:
        raise InputError(f"search(budget={budget!r}) must be an integer >= 1 (evaluations)")
    if not isinstance(n_jobs, int) or n_jobs < 1:
        raise InputError(f"search(n_jobs={n_jobs!r}) must be an integer >= 1 (worker processes)")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise InputError(f"search(batch_size={batch_size!r}) must be an integer >= 1")
    if client is not None and not hasattr(client, "submit"):
        raise InputError(
            f"search(client=...) needs a dask.distributed.Client, got {type(client).__name__}"
        )
    _check_limit("max_reactions", max_reactions)
    _check_limit("max_species", max_species)
    space = SearchSpace() if space is None else space
    settings = TrainSettings() if settings is None else settings
    rng = np.random.default_rng(seed)
    strategy.start(space, rng)
    kwargs: dict[str, Any] = dict(data=data, settings=settings, seed=seed, max_reactions=max_reactions,
                  max_species=max_species)  # fmt: skip
    cache: dict[tuple[int, ...], Evaluation] = {}
    done: list[Evaluation] = []
    executor = None
    if client is None and n_jobs > 1:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn: forking a process that already runs torch threads can deadlock
        executor = ProcessPoolExecutor(n_jobs, mp_context=multiprocessing.get_context("spawn"))
    submitter = client if client is not None else executor
    try:
        while len(done) < budget:
            genomes = [strategy.ask() for _ in range(min(batch_size, budget - len(done)))]
            new = list(dict.fromkeys(g for g in genomes if g not in cache))
            if submitter is None:
                fresh = [evaluate(space.decode(g), genome=g, **kwargs) for g in new]
            else:
                futures = [
                    submitter.submit(evaluate, space.decode(g), genome=g, **kwargs) for g in new
                ]
                fresh = [f.result() for f in futures]
            cache.update(zip(new, fresh, strict=True))
            for g in genomes:
                e = dataclasses.replace(cache[g], index=len(done))
                done.append(e)
                strategy.tell(g, e.fitness)
                if on_result is not None:
                    on_result(e)
    finally:
        if executor is not None:
            executor.shutdown(cancel_futures=True)
    result = SearchResult(strategy=strategy.name, seed=seed, budget=budget, evaluations=done,
                          max_reactions=max_reactions, max_species=max_species)  # fmt: skip
    _test(result, data, completion_times)
    return result


def _test(result: SearchResult, data: SearchData, times: bool) -> None:
    """Score the best and the front on the test part, once."""
    from nncrn.simulate import settling_time, steady_state

    for e in {id(e): e for e in [result.best, *result.front]}.values():
        if not e.feasible or e.network is None:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ss = steady_state(e.network, data.X_test, throw=False)
        pred = np.where(ss.converged, np.asarray(ss.outputs).argmax(1), -1)
        result.test_accuracy[e.index] = float((pred == data.y_test).mean())
        result.test_converged[e.index] = float(np.mean(ss.converged))
        if times and ss.converged.any():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                t = settling_time(e.network, data.X_test, rtol=0.01, steady=ss)
            result.completion_time[e.index] = float(np.quantile(t[ss.converged], 0.99))
