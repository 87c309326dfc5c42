"""``gillespie``: batched, reproducible, optionally distributed stochastic simulation."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, initial_state, input_concentrations, require_network
from nncrn.simulate._results import report_convergence
from nncrn.simulate._ssa._model import (
    SSAModel,
    build_model,
    check_counts,
    check_initial_propensities,
    check_volume,
    to_counts,
)  # fmt: skip
from nncrn.simulate._ssa._result import SSAResult
from nncrn.simulate._ssa._solvers import DirectMethod, SSASolver

__all__ = ["gillespie", "seed_root"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class _Plan:
    t_end: float
    sample_t: np.ndarray
    bounds: np.ndarray
    max_steps: int


def seed_root(rng: object) -> np.random.SeedSequence:
    """Root :class:`~numpy.random.SeedSequence` of ``rng`` (Generator, int, SeedSequence or None).

    A Generator is consumed (4 words drawn) so repeated calls with one Generator differ.
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence([int(v) for v in rng.integers(0, 2**63, size=4)])
    if rng is None:
        return np.random.SeedSequence()
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool) and rng >= 0:
        return np.random.SeedSequence(int(rng))
    raise InputError(f"rng must be a numpy Generator, a non-negative int seed or None; got {rng!r}")


def _stream(root: np.random.SeedSequence, item: int, member: int) -> np.random.Generator:
    # Equal to root.spawn(batch)[item].spawn(runs)[member], without materialising the tree,
    # so each (input, member) stream is the same however the work is chunked or distributed.
    ss = np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, item, member))
    return np.random.Generator(np.random.PCG64(ss))


def _simulate_block(model: SSAModel, solver: SSASolver, plan: _Plan, counts: np.ndarray,
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
            gen = _stream(root, i0 + b, m0 + m)
            out[b, m], acc[b, m], *s = solver.simulate(model, gen, x, plan)
            stats[b, m] = s
    return items, members, out, acc, stats


def _blocks(batch: int, runs: int, n_target: int, chunk_size: int | None):
    """Split (items x members) into about ``n_target`` blocks: item chunks, then member chunks."""
    if chunk_size is None:
        chunk_size = max(1, math.ceil(batch / n_target))
    item_chunks = [(i, min(i + chunk_size, batch)) for i in range(0, batch, chunk_size)]
    per = max(1, math.ceil(runs / max(1, n_target // len(item_chunks))))
    member_chunks = [(m, min(m + per, runs)) for m in range(0, runs, per)]
    return [(ic, mc) for ic in item_chunks for mc in member_chunks]


def _check_positive_int(value: object, name: str, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < low:
        raise InputError(f"{name} must be an integer >= {low}; got {value!r}")
    return int(value)


def gillespie(
    network: ReactionNetwork,
    inputs: object = None,
    *,
    volume: float,
    t_end: float,
    solver: SSASolver | None = None,
    runs: int = 1,
    rng: np.random.Generator | int | None = None,
    client: object = None,
    y0: object = None,
    initial_counts: object = None,
    n_times: int = 101,
    burn_in: float | None = None,
    n_windows: int = 20,
    max_steps: int = 100_000_000,
    chunk_size: int | None = None,
    throw: bool = True,
    progress: Progress | None = None,
) -> SSAResult:
    """Sample the chemical master equation of ``network`` for a batch of inputs.

    Propensities follow the no-factorial convention derived in
    :mod:`nncrn.simulate._ssa._model` (``k * volume**(1-order) * prod falling factorials``),
    so the ensemble mean tends to the ODE solution as ``volume`` grows. Input species are
    held at ``round(input_concentration * volume)`` molecules.

    Parameters
    ----------
    inputs:
        ``(batch, n_inputs)`` features (or a mapping), as for the deterministic solvers.
    volume:
        System size Omega > 0: ``count = round(concentration * volume)``.
    t_end:
        Simulated chemical time, > 0.
    solver:
        :class:`DirectMethod` (default: exact, fastest for small networks),
        :class:`NextReactionMethod` or :class:`TauLeaping`.
    runs:
        Ensemble members per input.
    rng:
        Seed source. Member ``m`` of item ``i`` uses the stream ``spawn_key=(i, m)`` below
        the root :class:`~numpy.random.SeedSequence`, so results do not depend on chunking
        or on whether a ``client`` is used.
    client:
        Optional ``dask.distributed.Client``; blocks of (input chunk x members) become tasks.
    y0, initial_counts:
        Start as concentrations (rounded to counts) or as integer counts (``(n_species,)``
        or ``(batch, n_species)``; non-integers are rejected); default: species' ``initial``.
    n_times:
        Number of equally spaced sample times in ``[0, t_end]`` (0 records none).
    burn_in:
        Start of the time-average window; default ``t_end / 2``, a safe choice when the
        relaxation time is unknown (compiled networks relax at rate >= 2 sqrt(eps)).
    n_windows:
        Batch-means windows for the standard errors (20: enough degrees of freedom for a
        stable error estimate while each window stays long).
    max_steps:
        Per-run limit on solver steps (events for exact solvers; leaps plus exact steps
        for tau-leaping), guarding against explosive networks and runaway costs.
    throw:
        Raise :class:`~nncrn.ConvergenceError` when some run did not reach ``t_end``;
        otherwise warn and return the partial result (see ``completed``).
    progress:
        Called as ``progress(done_runs, total_runs)`` after each block.
    """
    network = require_network(network, "gillespie")
    volume = check_volume(volume)
    try:
        t_end = float(t_end)
    except (TypeError, ValueError):
        raise InputError(f"t_end must be a positive number, got {t_end!r}") from None
    if not math.isfinite(t_end) or t_end <= 0:
        raise InputError(f"t_end must be finite and > 0 (the simulated time); got {t_end!r}")
    solver = DirectMethod() if solver is None else solver
    if not isinstance(solver, SSASolver):
        raise InputError(
            f"solver must be DirectMethod(), NextReactionMethod() or TauLeaping(); got {solver!r}"
        )
    runs = _check_positive_int(runs, "runs", 1)
    n_times = _check_positive_int(n_times, "n_times", 0)
    n_windows = _check_positive_int(n_windows, "n_windows", 2)
    max_steps = _check_positive_int(max_steps, "max_steps", 1)
    burn_in = t_end / 2 if burn_in is None else float(burn_in)
    if not 0 <= burn_in < t_end:
        raise InputError(f"burn_in must be in [0, t_end) = [0, {t_end:g}); got {burn_in!r}")

    if initial_counts is not None:
        if y0 is not None:
            raise InputError("pass either y0 (concentrations) or initial_counts, not both")
        x = input_concentrations(network, inputs)
        counts = check_counts(
            initial_counts, (x.shape[0], network.n_species), network.species_names
        )
        counts = counts.copy()
        idx = [network.index(n) for n in network.inputs]
        counts[:, idx] = to_counts(x, volume, "input concentration")
    else:
        counts = to_counts(initial_state(network, inputs, y0), volume, "initial concentration")
    model = build_model(network, volume)
    check_initial_propensities(model, counts, network)
    plan = _Plan(
        t_end=t_end,
        sample_t=np.linspace(0.0, t_end, n_times),
        bounds=np.linspace(burn_in, t_end, n_windows + 1),
        max_steps=max_steps,
    )
    root = seed_root(rng)
    batch = counts.shape[0]
    out = np.zeros((batch, runs, n_times, network.n_species), dtype=np.int64)
    acc = np.zeros((batch, runs, n_windows, network.n_species))
    stats = np.zeros((batch, runs, 3), dtype=np.int64)
    done, total = 0, batch * runs

    def store(block: tuple) -> None:
        nonlocal done
        (i0, i1), (m0, m1), o, a, s = block
        out[i0:i1, m0:m1], acc[i0:i1, m0:m1], stats[i0:i1, m0:m1] = o, a, s
        done += (i1 - i0) * (m1 - m0)
        if progress is not None:
            progress(done, total)

    if client is None:
        for items, members in _blocks(batch, runs, 32, chunk_size):
            store(
                _simulate_block(
                    model, solver, plan, counts[items[0] : items[1]], items, members, root
                )
            )
    else:
        _run_dask(client, model, solver, plan, counts, root, batch, runs, chunk_size, store)

    status = stats[..., 0]
    window = (t_end - burn_in) / n_windows
    means = acc / (window * volume)  # (batch, runs, windows, species) concentrations
    out_means = network.read_outputs(means)
    se = np.sqrt(n_windows)
    result = SSAResult(
        species=network.species_names,
        output_names=network.outputs,
        volume=volume,
        t=plan.sample_t,
        counts=out,
        burn_in=burn_in,
        n_windows=n_windows,
        time_average=means.mean(axis=2),
        time_average_se=means.std(axis=2, ddof=1) / se,
        outputs=out_means.mean(axis=2),
        outputs_se=out_means.std(axis=2, ddof=1) / se,
        completed=status == 0,
        n_events=stats[..., 1],
        n_steps=stats[..., 2],
        solver=repr(solver),
    )
    n_over = int(np.count_nonzero(status == 2))
    report_convergence(
        result.completed.ravel(),
        throw=throw,
        what="reach t_end (flat index item * runs + member)",
        fix=(
            f"{int(np.count_nonzero(status == 1))} hit max_steps={max_steps} (raise it or "
            f"use TauLeaping()), {n_over} had a propensity overflow (the counts grew without "
            "bound: the network is explosive at this volume; shorten t_end)"
        ),
    )
    return result


def _run_dask(client, model, solver, plan, counts, root, batch, runs, chunk_size, store) -> None:
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
        for items, members in _blocks(batch, runs, 4 * n_workers, chunk_size)
    ]  # fmt: skip
    for future in as_completed(futures):
        store(future.result())
