"""``gillespie``: batched, reproducible, optionally distributed stochastic simulation."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from nncrn._errors import InputError, NNCRNWarning
from nncrn.network import ReactionNetwork, initial_state, input_concentrations, require_network
from nncrn.network._numbers import fmt_number
from nncrn.simulate._results import report_convergence
from nncrn.simulate._solver import Solver, check_setting_int, check_setting_real
from nncrn.simulate._ssa._ensemble import Plan, blocks, check_jobs, run_dask, run_local
from nncrn.simulate._ssa._model import (
    build_model,
    check_initial_propensities,
    check_volume,
    start_counts,
    to_counts,
)  # fmt: skip
from nncrn.simulate._ssa._result import SSAResult
from nncrn.simulate._ssa._solvers import DirectMethod, SSASolver

__all__ = ["NOT_REACHED", "gillespie", "seed_root"]

Progress = Callable[[int, int], None]


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
    raise InputError(
        f"rng must be a numpy Generator, a non-negative int seed or None; got {fmt_number(rng)}"
    )


def _check_positive_int(value: object, name: str, low: int) -> int:
    return check_setting_int("gillespie", name, value, low=low)


def _check_solver(solver: object) -> SSASolver:
    if solver is None:
        return DirectMethod()
    if isinstance(solver, type) and issubclass(solver, SSASolver | Solver):
        raise InputError(
            f"solver must be a solver object, an instance such as {solver.__name__}(); got "
            f"the class {solver.__name__} itself — add the parentheses"
        )
    if not isinstance(solver, SSASolver):
        hint = (
            "; deterministic solvers (TorchODE, ScipyODE) are for steady_state and integrate"
            if isinstance(solver, Solver)
            else ". Solvers are objects, not strings"
        )
        raise InputError(
            "solver must be DirectMethod(), NextReactionMethod() or TauLeaping(); got "
            f"{solver!r}{hint}"
        )
    return solver


# Default max_count: explosive growth (2 A -> 3 A blows up in finite time) would otherwise
# run to max_steps, ~30 s per run at the default; far above any count a bounded network
# reaches at its concentrations (a concentration of 1e4, or 100x the largest start).
_MAX_COUNT_FLOOR = 10**6
_MAX_CONCENTRATION = 1e4
_MAX_GROWTH = 100
_MAX_EXACT = 2**53


def _default_max_count(volume: float, counts: np.ndarray) -> int:
    largest = int(counts.max(initial=0))
    bound = max(_MAX_COUNT_FLOOR, _MAX_CONCENTRATION * volume, _MAX_GROWTH * largest)
    return int(min(bound, _MAX_EXACT))


def _warn_inputs_rounded_to_zero(network: ReactionNetwork, x: np.ndarray, volume: float) -> None:
    """Warn when a positive input concentration becomes 0 molecules at this volume."""
    lost = (x > 0) & (np.rint(x * volume) == 0)
    if not lost.any():
        return
    row, col = np.argwhere(lost)[0]
    conc = float(x[row, col])
    n_lost = int(lost.sum())
    more = f" ({n_lost} positive input values become 0 in all)" if n_lost > 1 else ""
    warnings.warn(
        f"input {network.inputs[col]!r} has concentration {conc:g} in row {row} (counting from 0), which is "
        f"round({conc:g} * {volume:g}) = 0 molecules at volume {volume:g}{more}: the "
        "stochastic network sees no such input. "
        f"Use a volume of at least {1.0 / float(x[lost].min()):.3g} (one molecule of the "
        "smallest positive input) to represent every input",
        NNCRNWarning,
        stacklevel=4,  # the caller of gillespie or noise_study
    )


def gillespie(
    network: ReactionNetwork,
    inputs: object = None,
    *,
    volume: float,
    t_end: float,
    solver: SSASolver | None = None,
    runs: int = 1,
    rng: np.random.Generator | np.random.SeedSequence | int | None = None,
    client: object = None,
    n_jobs: int | None = 1,
    y0: object = None,
    initial_counts: object = None,
    n_times: int = 101,
    burn_in: float | None = None,
    n_windows: int = 20,
    max_steps: int = 100_000_000,
    max_count: int | None = None,
    chunk_size: int | None = None,
    throw: bool = True,
    progress: Progress | None = None,
) -> SSAResult:
    """Sample the chemical master equation of ``network`` for a batch of inputs.

    Propensities follow the no-factorial convention derived in
    :mod:`nncrn.simulate._ssa._model` (``k * volume**(1-order) * prod falling factorials``),
    so the ensemble mean tends to the ODE solution as ``volume`` grows. Input species start
    at ``round(input_concentration * volume)`` molecules and then follow the reactions, as
    in the ODE solvers: inputs that only catalyse keep their count, inputs that reactions
    consume (dual-rail networks) are consumed. A positive input that rounds to 0 molecules
    triggers an :class:`~nncrn.NNCRNWarning`.

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
        Seed source (a :class:`~numpy.random.SeedSequence` is used as the root itself).
        Member ``m`` of item ``i`` uses the stream ``spawn_key=(i, m)`` below the root
        :class:`~numpy.random.SeedSequence` (it seeds xoshiro256++ for the exact solvers,
        PCG64 for tau-leaping), so results do not depend on chunking, ``n_jobs`` or
        whether a ``client`` is used.
    client:
        Optional ``dask.distributed.Client``; blocks of (input chunk x members) become tasks.
    n_jobs:
        Threads that run trajectories on this machine (the kernels release the GIL), or
        None for every local core. Default 1. Results are identical for every ``n_jobs``
        (each run has its own random stream). Not combined with ``client``.
    y0, initial_counts:
        Start as concentrations (rounded to counts) or as integer counts; both take an
        array ``(n_species,)`` or ``(batch, n_species)`` (which sets the batch of a network
        without inputs) or a mapping from species name to a scalar or a ``(batch,)`` array
        (species not named start at their ``initial``). Non-integer counts are rejected.
        Default: species' ``initial``. Input species start at the inputs either way.
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
        for tau-leaping), guarding against runaway costs.
    max_count:
        Per-run bound on every molecule count: a run whose count passes it stops as
        explosive (``completed`` False). Explosive networks (``2 A -> 3 A`` blows up in
        finite time) would otherwise fire events until ``max_steps``, tens of seconds per
        run. None (default): the largest of 10**6, ``1e4 * volume`` (a concentration of
        1e4) and 100 times the largest start count, at most 2**53.
    chunk_size:
        Inputs per block of work (a positive integer), or None to split the batch into
        about ``max(32, 4 * n_jobs)`` blocks (4 per worker with a ``client``). Results do
        not depend on it.
    throw:
        Raise :class:`~nncrn.ConvergenceError` when some run did not reach ``t_end``;
        otherwise warn and return the partial result (see ``completed``): such a run has
        NaN counts at the sample times it did not reach and NaN time averages.
    progress:
        Called as ``progress(done_runs, total_runs)`` after each block.
    """
    result, problems = _gillespie(
        network, inputs, None, volume=volume, t_end=t_end, solver=solver, runs=runs, rng=rng,
        client=client, n_jobs=n_jobs, y0=y0, initial_counts=initial_counts, n_times=n_times,
        burn_in=burn_in, n_windows=n_windows, max_steps=max_steps, max_count=max_count,
        chunk_size=chunk_size, progress=progress
    )  # fmt: skip
    report_convergence(result.completed.ravel(), throw=throw, what=NOT_REACHED, fix=problems)
    return result


def _gillespie(
    network: ReactionNetwork,
    inputs: object,
    cost: np.ndarray | None,
    *,
    volume: float,
    t_end: float,
    solver: SSASolver | None = None,
    runs: int = 1,
    rng: np.random.Generator | np.random.SeedSequence | int | None = None,
    client: object = None,
    n_jobs: int | None = 1,
    y0: object = None,
    initial_counts: object = None,
    n_times: int = 101,
    burn_in: float | None = None,
    n_windows: int = 20,
    max_steps: int = 100_000_000,
    max_count: int | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
) -> tuple[SSAResult, str]:
    """:func:`gillespie` without the convergence report: the result and what went wrong (the
    ``fix`` of :func:`~nncrn.simulate._results.report_convergence`). ``cost`` ``(batch,)`` (positive), when given, weighs each item's runs
    in ``progress`` (which then counts cost units instead of runs)."""
    network = require_network(network, "gillespie")
    volume = check_volume(volume)
    t_end = check_setting_real("gillespie", "t_end", t_end, hint=" (the simulated time)")
    solver = _check_solver(solver)
    runs = _check_positive_int(runs, "runs", 1)
    n_times = _check_positive_int(n_times, "n_times", 0)
    n_windows = _check_positive_int(n_windows, "n_windows", 2)
    max_steps = _check_positive_int(max_steps, "max_steps", 1)
    if client is not None and n_jobs != 1:
        raise InputError(
            f"gillespie: pass either client= (Dask workers) or n_jobs= (local threads), not "
            f"both; got n_jobs={fmt_number(n_jobs)} with a client"
        )
    jobs = check_jobs("gillespie", n_jobs)
    if chunk_size is not None:
        chunk_size = check_setting_int(
            "gillespie", "chunk_size", chunk_size,
            hint=" (inputs per block of work), or None to choose automatically",
        )  # fmt: skip
    if burn_in is None:
        burn_in = t_end / 2
    else:
        burn_in = check_setting_real("gillespie", "burn_in", burn_in, inclusive=True)
    if not 0 <= burn_in < t_end:
        raise InputError(
            f"burn_in must be in [0, t_end) = [0, {t_end:g}); got {fmt_number(burn_in)}"
        )

    x = input_concentrations(network, inputs)
    _warn_inputs_rounded_to_zero(network, x, volume)
    if initial_counts is not None:
        if y0 is not None:
            raise InputError("pass either y0 (concentrations) or initial_counts, not both")
        counts = start_counts(network, x, initial_counts, volume)
        idx = [network.index(n) for n in network.inputs]
        counts[:, idx] = to_counts(x, volume, "input concentration")
    else:
        counts = to_counts(initial_state(network, inputs, y0), volume, "initial concentration")
    if max_count is None:
        max_count = _default_max_count(volume, counts)
    else:
        max_count = check_setting_int(
            "gillespie", "max_count", max_count, hint=" and <= 2**53 (exact float counts)"
        )
        if max_count > _MAX_EXACT:
            raise InputError(
                f"gillespie(max_count={max_count}): max_count must be <= 2**53, the largest "
                "count float64 propensities hold exactly"
            )
        if counts.size and counts.max() > max_count:
            raise InputError(
                f"gillespie(max_count={max_count}) is below the largest start count "
                f"{int(counts.max())}; raise max_count (or leave it None)"
            )
    model = build_model(network, volume)
    check_initial_propensities(model, counts, network)
    plan = Plan(
        t_end=t_end,
        sample_t=np.linspace(0.0, t_end, n_times),
        bounds=np.linspace(burn_in, t_end, n_windows + 1),
        max_steps=max_steps,
        max_count=max_count,
    )
    root = seed_root(rng)
    batch = counts.shape[0]
    out = np.zeros((batch, runs, n_times, network.n_species), dtype=np.int64)
    acc = np.zeros((batch, runs, n_windows, network.n_species))
    stats = np.zeros((batch, runs, 3), dtype=np.int64)
    weight = np.ones(batch, dtype=np.int64) if cost is None else np.asarray(cost, np.int64)
    done, total = 0, int(weight.sum()) * runs

    def store(block: tuple) -> None:
        nonlocal done
        (i0, i1), (m0, m1), o, a, s = block
        out[i0:i1, m0:m1], acc[i0:i1, m0:m1], stats[i0:i1, m0:m1] = o, a, s
        done += int(weight[i0:i1].sum()) * (m1 - m0)
        if progress is not None:
            progress(done, total)

    if client is None:
        work = blocks(batch, runs, max(32, 4 * jobs), chunk_size)
        run_local(jobs, model, solver, plan, counts, root, work, store)
    else:
        run_dask(client, model, solver, plan, counts, root, batch, runs, chunk_size, store)

    status = stats[..., 0]
    # A run that stopped early left its unreached sample rows at -1 (counts are never
    # negative) and its windows partly filled: NaN both, so no number reads as a result.
    sampled = out.astype(np.float64)
    sampled[out < 0] = np.nan
    window = (t_end - burn_in) / n_windows
    means = acc / (window * volume)  # (batch, runs, windows, species) concentrations
    means[status != 0] = np.nan
    out_means = network.read_outputs(means)
    se = np.sqrt(n_windows)
    result = SSAResult(
        species=network.species_names,
        output_names=network.outputs,
        volume=volume,
        t=plan.sample_t,
        counts=sampled,
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
    n_steps_hit = int(np.count_nonzero(status == 1))
    n_explosive = int(np.count_nonzero(status == 2))
    problems = []
    if n_steps_hit:
        problems.append(
            f"{n_steps_hit} hit max_steps={max_steps} (raise it, or use TauLeaping() when "
            "counts are large)"
        )
    if n_explosive:
        problems.append(
            f"{n_explosive} grew without bound — a count passed max_count={max_count} or a "
            "propensity overflowed float64: the network is explosive at this volume (e.g. "
            "2 A -> 3 A blows up in finite time). Check the rate constants or shorten t_end; "
            "raise max_count only if counts that large are expected"
        )
    return result, "; ".join(problems)


# What report_convergence says the runs of _gillespie's result did not do. The public
# functions call report_convergence themselves, so that a warning points at their caller.
NOT_REACHED = "reach t_end (flat index item * runs + member)"
