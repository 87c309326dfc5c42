"""Running an ensemble: blocks of (inputs x members), in this thread, local threads or Dask.

Each run draws from its own stream, ``spawn_key=(item, member)`` below the root seed, so
results do not depend on how the runs are split into blocks or where the blocks run.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import numpy as np

from nncrn._errors import InputError
from nncrn.network._numbers import fmt_number
from nncrn.simulate._ssa._model import SSAModel
from nncrn.simulate._ssa._solvers import SSASolver

__all__ = ["Plan", "blocks", "check_jobs", "local_cores", "run_dask", "run_local"]


@dataclass(frozen=True)
class Plan:
    """What every run of one ``gillespie`` call does: horizon, sample times, window bounds
    and limits."""

    t_end: float
    sample_t: np.ndarray
    bounds: np.ndarray
    max_steps: int
    max_count: int


def _stream(root: np.random.SeedSequence, item: int, member: int) -> np.random.SeedSequence:
    # Equal to root.spawn(batch)[item].spawn(runs)[member], without materialising the tree,
    # so each (input, member) stream is the same however the work is chunked or distributed.
    return np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, item, member))


def _simulate_block(model: SSAModel, solver: SSASolver, plan: Plan, counts: np.ndarray,
                    items: tuple[int, int], members: tuple[int, int],
                    root: np.random.SeedSequence) -> tuple:  # fmt: skip
    """Simulate items ``[i0, i1)`` x members ``[m0, m1)`` from the items' start ``counts``."""
    (i0, i1), (m0, m1) = items, members
    shape = (i1 - i0, m1 - m0)
    out = np.zeros((*shape, plan.sample_t.size, model.n_species), dtype=np.int64)
    acc = np.zeros((*shape, plan.bounds.size - 1, model.n_species))
    stats = np.zeros((*shape, 3), dtype=np.int64)
    for b in range(shape[0]):
        for m in range(shape[1]):
            x = counts[b].copy()
            seq = _stream(root, i0 + b, m0 + m)
            out[b, m], acc[b, m], *s = solver.simulate(model, seq, x, plan)
            stats[b, m] = s
    return items, members, out, acc, stats


def blocks(batch: int, runs: int, n_target: int, chunk_size: int | None):
    """Split (items x members) into about ``n_target`` blocks: item chunks, then member chunks."""
    if chunk_size is None:
        chunk_size = max(1, math.ceil(batch / n_target))
    item_chunks = [(i, min(i + chunk_size, batch)) for i in range(0, batch, chunk_size)]
    per = max(1, math.ceil(runs / max(1, n_target // len(item_chunks))))
    member_chunks = [(m, min(m + per, runs)) for m in range(0, runs, per)]
    return [(ic, mc) for ic in item_chunks for mc in member_chunks]


def local_cores() -> int:
    """Number of CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def check_jobs(caller: str, n_jobs: object) -> int:
    """Validate ``n_jobs`` (a positive int, or None for every local core); the thread count."""
    if n_jobs is None:
        return local_cores()
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int | np.integer) or n_jobs < 1:
        raise InputError(
            f"{caller}(n_jobs={fmt_number(n_jobs)}): n_jobs must be an integer >= 1 (threads "
            "running trajectories on this machine), or None for every local core "
            f"({local_cores()} here)"
        )
    return int(n_jobs)


def run_local(jobs, model, solver, plan, counts, root, work, store) -> None:
    """Simulate the blocks ``work`` in ``jobs`` threads (in order here when ``jobs`` is 1)."""
    if jobs == 1 or len(work) == 1:
        for items, members in work:
            store(_simulate_block(model, solver, plan, counts[items[0]:items[1]], items,
                                  members, root))  # fmt: skip
        return
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        pending: set[Future] = {
            pool.submit(_simulate_block, model, solver, plan, counts[items[0]:items[1]], items,
                        members, root)
            for items, members in work
        }  # fmt: skip
        try:
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    store(future.result())
        except BaseException:  # an error or Ctrl-C: drop the blocks not yet started
            for future in pending:
                future.cancel()
            raise


def run_dask(client, model, solver, plan, counts, root, batch, runs, chunk_size, store) -> None:
    try:
        from distributed import as_completed
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "client= needs dask.distributed; install the extra: pip install 'nncrn[dask]'"
        ) from exc
    n_workers = max(1, len(client.scheduler_info().get("workers", {})))
    model_f = client.scatter(model, broadcast=True)
    futures = [
        client.submit(
            _simulate_block, model_f, solver, plan, counts[items[0]:items[1]], items, members,
            root, pure=False,
        )
        for items, members in blocks(batch, runs, 4 * n_workers, chunk_size)
    ]  # fmt: skip
    for future in as_completed(futures):
        store(future.result())
