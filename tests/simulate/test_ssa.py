"""Stochastic simulation: stationary laws of reference networks, reproducibility, bad input."""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats

from nncrn import ConvergenceError, InputError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import DirectMethod, NextReactionMethod, TauLeaping, gillespie

EXACT = [DirectMethod(), NextReactionMethod()]


def birth_death(k1: float = 2.0, k2: float = 1.0) -> ReactionNetwork:
    return ReactionNetwork(
        [Species("X")], [Reaction.parse("0 -> X", k1), Reaction.parse("X -> 0", k2)]
    )


def dimerisation(k1: float = 1.0, k2: float = 1.0) -> ReactionNetwork:
    return ReactionNetwork(
        [Species("Y", initial=1.0)], [Reaction.parse("0 -> Y", k1), Reaction.parse("2 Y -> Y", k2)]
    )


def dimer_cme(volume: float, k1: float = 1.0, k2: float = 1.0, n_max: int = 4000) -> np.ndarray:
    """Stationary law of the truncated CME: births k1*V, deaths n -> n-1 at k2 n (n-1) / V."""
    n = np.arange(1, n_max)
    log_ratio = np.log(k1 * volume) - np.log(k2 * (n + 1) * n / volume)  # pi_{n+1} / pi_n
    logp = np.concatenate([[-np.inf, 0.0], np.cumsum(log_ratio)])  # state 0 is transient
    p = np.exp(logp - logp.max())
    return p / p.sum()


@pytest.mark.parametrize("solver", EXACT, ids=repr)
def test_birth_death_stationary_law_is_poisson(solver):
    # Poisson(k1 V / k2) = Poisson(20); samples 4 time units apart are nearly independent
    # (autocorrelation exp(-k2 * 4) < 0.02).
    res = gillespie(birth_death(), volume=10, t_end=2000, n_times=501, runs=4, solver=solver, rng=3)
    n = res.counts[:, :, 5:, 0].ravel()
    edges = np.array([0, 13, 15, 17, 19, 20, 21, 22, 23, 25, 27, 29, np.inf])
    observed = np.histogram(n, edges)[0]
    cdf = stats.poisson.cdf(edges - 1, 20)
    expected = np.diff(np.where(np.isinf(edges), 1.0, cdf)) * n.size
    _, p = stats.chisquare(observed, expected)
    assert p > 1e-3
    assert abs(n.mean() - 20) < 0.5
    # time averages and batch-means errors are in concentration units: mean k1 / k2 = 2
    avg = res.time_average[0, :, 0]
    assert np.all(np.abs(avg - 2.0) < 5 * res.time_average_se[0, :, 0])
    assert np.all(res.n_events > 50_000)


def test_tau_leaping_birth_death_mean_and_variance():
    res = gillespie(
        birth_death(), volume=100, t_end=1000, n_times=251, runs=4, solver=TauLeaping(), rng=5
    )
    n = res.counts[:, :, 5:, 0].ravel()
    assert abs(n.mean() / 200 - 1) < 0.02
    assert abs(n.var() / 200 - 1) < 0.15
    assert res.n_steps.max() < res.n_events.min() / 5  # it leaps rather than stepping


@pytest.mark.parametrize("solver", EXACT, ids=repr)
def test_dimerisation_mean_matches_truncated_cme(solver):
    volume = 5.0
    p = dimer_cme(volume)
    exact_mean = (np.arange(p.size) * p).sum() / volume
    res = gillespie(dimerisation(), volume=volume, t_end=2000, burn_in=20, runs=4, n_times=0,
                    solver=solver, rng=11)  # fmt: skip
    mean = res.time_average[0, :, 0].mean()
    se = np.sqrt((res.time_average_se[0, :, 0] ** 2).sum()) / 4
    assert abs(mean - exact_mean) < 4 * se
    assert abs(exact_mean - 1.0) > 8 * se  # the CME mean differs visibly from the ODE's 1.0 here


def test_dimerisation_converges_to_ode_like_inverse_sqrt_volume():
    # ODE: dy/dt = 1 - y^2, fixed point 1. Relative RMS deviation of samples ~ c / sqrt(V).
    scaled = []
    for volume in (10.0, 100.0, 1000.0):
        res = gillespie(dimerisation(), volume=volume, t_end=400, n_times=201, runs=2, rng=7)
        y = res.concentrations[:, :, 5:, 0]
        rms = np.sqrt(np.mean((y - 1.0) ** 2))
        scaled.append(rms * np.sqrt(volume))
        assert abs(res.time_average[0, :, 0].mean() - 1.0) < 3.0 / np.sqrt(volume) / 5
    # sigma^2 of the linear-noise approximation: (1 + 1) / (2 * 2) = 0.5
    assert np.allclose(scaled, np.sqrt(0.5), rtol=0.2)


def catalysed() -> ReactionNetwork:
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [Reaction.parse("X -> X + Y", 1.0), Reaction.parse("Y -> 0", 1.0)],
    )


def test_inputs_are_held_and_results_are_reproducible():
    x = np.array([[0.5], [1.0], [2.0]])
    kwargs = dict(volume=20, t_end=50, runs=3, n_times=11)
    a = gillespie(catalysed(), x, rng=1, chunk_size=1, **kwargs)
    b = gillespie(catalysed(), x, rng=1, chunk_size=3, **kwargs)
    c = gillespie(catalysed(), x, rng=2, **kwargs)
    assert a.counts.shape == (3, 3, 11, 2) and a.outputs.shape == (3, 3, 1)
    assert np.array_equal(a.counts, b.counts) and np.array_equal(a.outputs, b.outputs)
    assert not np.array_equal(a.counts, c.counts)
    assert np.all(a.counts[:, :, :, 0] == np.array([10, 20, 40])[:, None, None])
    assert np.allclose(a.outputs[..., 0].mean(axis=1), x[:, 0], rtol=0.25)
    assert a.answers.shape == (3, 3) and np.all(a.agreement(np.zeros(3, dtype=int)) == 1)


@pytest.mark.parametrize("processes", [False, True], ids=["threads", "processes"])
def test_dask_local_cluster_gives_identical_result(processes):
    """Worker threads, and worker processes (the network and solver travel pickled).

    Starting worker processes sets OMP/MKL/OPENBLAS_NUM_THREADS=1 and more in this
    process's environment (dask's pre-spawn settings); the environment is put back, so that
    later tests which start subprocesses get the one they set.
    """
    distributed = pytest.importorskip("distributed")
    saved = dict(os.environ)
    try:
        _dask_matches_local(distributed, processes)
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _dask_matches_local(distributed, processes):
    x = np.array([[0.5], [1.0], [2.0]])
    kwargs = dict(volume=20, t_end=20, runs=4, n_times=5, rng=123, solver=NextReactionMethod())
    local = gillespie(catalysed(), x, **kwargs)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=processes,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:  # fmt: skip
        remote = gillespie(catalysed(), x, client=client, **kwargs)
    assert np.array_equal(local.counts, remote.counts)
    assert np.array_equal(local.time_average, remote.time_average)
    assert np.array_equal(local.n_events, remote.n_events)


@pytest.mark.parametrize("volume", [0, -1.0, np.nan, np.inf, "big"])
def test_bad_volume(volume):
    with pytest.raises(InputError, match="volume"):
        gillespie(birth_death(), volume=volume, t_end=1.0)


@pytest.mark.parametrize("t_end", [0, -2.0, np.inf])
def test_bad_t_end(t_end):
    with pytest.raises(InputError, match="t_end"):
        gillespie(birth_death(), volume=1.0, t_end=t_end)


def test_non_integer_initial_counts_rejected():
    with pytest.raises(InputError, match="integers"):
        gillespie(birth_death(), volume=1.0, t_end=1.0, initial_counts=[1.5])
    res = gillespie(birth_death(), volume=1.0, t_end=1.0, initial_counts=[3], n_times=2)
    assert res.counts[0, 0, 0, 0] == 3


def test_overflowing_propensity_rejected_at_start():
    net = ReactionNetwork([Species("X")], [Reaction.parse("0 -> X", 1e300)])
    with pytest.raises(InputError, match="overflows"):
        gillespie(net, volume=1e10, t_end=1.0)


def test_explosive_network_reports_overflow():
    net = ReactionNetwork([Species("X")], [Reaction.parse("X -> 2 X", 1.0)])
    with pytest.raises(ConvergenceError, match="overflow"):
        gillespie(net, volume=1.0, t_end=50.0, initial_counts=[2**40], solver=TauLeaping())
    with pytest.raises(ConvergenceError, match="max_steps"):
        gillespie(net, volume=1.0, t_end=50.0, initial_counts=[10], max_steps=1000)


def test_solver_settings_show_and_are_validated():
    assert repr(TauLeaping(epsilon=0.01)).startswith("TauLeaping(epsilon=0.01")
    with pytest.raises(InputError, match="epsilon"):
        TauLeaping(epsilon=2.0)
    with pytest.raises(InputError, match="solver"):
        gillespie(birth_death(), volume=1.0, t_end=1.0, solver="direct")
