"""gillespie(n_jobs=...): local threads give the same ensemble, bit for bit, as one thread."""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import InputError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import DirectMethod, NextReactionMethod, TauLeaping, gillespie


def feedback() -> ReactionNetwork:
    """X (input) makes Y, Y makes Z, Z removes Y: a few coupled reactions and a readout."""
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "output"), Species("Z", "output")],
        [Reaction.parse("X -> X + Y", 2.0), Reaction.parse("Y -> 0", 0.5),
         Reaction.parse("Y -> Y + Z", 1.0), Reaction.parse("Z + Y -> Z", 0.2),
         Reaction.parse("Z -> 0", 1.0)],
    )  # fmt: skip


@pytest.mark.parametrize("solver", [DirectMethod(), NextReactionMethod(), TauLeaping()])
def test_threads_give_identical_ensembles(solver):
    x = np.array([[1.0], [2.0], [0.5]])
    kw = dict(volume=30, t_end=3.0, runs=7, rng=11, n_times=5, solver=solver)
    one = gillespie(feedback(), x, n_jobs=1, **kw)
    for jobs, chunk in ((2, None), (3, 1), (None, None)):
        many = gillespie(feedback(), x, n_jobs=jobs, chunk_size=chunk, **kw)
        np.testing.assert_array_equal(many.counts, one.counts)
        np.testing.assert_array_equal(many.time_average, one.time_average)
        np.testing.assert_array_equal(many.n_events, one.n_events)
    assert one.n_events.min() > 0  # the runs did fire reactions
    # the 21 runs are different draws: identical results are not an artefact of one stream
    assert len({tuple(c) for c in one.counts[:, :, -1, 1].reshape(-1, 1)}) > 3


def test_progress_reaches_the_total_with_threads():
    seen = []
    gillespie(feedback(), np.ones((4, 1)), volume=10, t_end=1.0, runs=5, rng=0, n_jobs=2,
              progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    assert seen[-1] == (20, 20)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_bad_n_jobs_names_the_fix(jobs):
    with pytest.raises(InputError, match=r"gillespie\(n_jobs=.*integer >= 1.*None for every local core"):
        gillespie(feedback(), [[1.0]], volume=10, t_end=1.0, n_jobs=jobs)


def test_n_jobs_and_a_client_are_not_combined():
    with pytest.raises(InputError, match=r"either client= .* or n_jobs="):
        gillespie(feedback(), [[1.0]], volume=10, t_end=1.0, n_jobs=2, client=object())


def test_runs_stopped_in_worker_threads_are_reported():
    # explosive: 2 A -> 3 A passes max_count in every run; throw=True raises from the result
    net = ReactionNetwork([Species("A", initial=1.0)], [Reaction.parse("2 A -> 3 A", 1.0)])
    from nncrn import ConvergenceError

    with pytest.raises(ConvergenceError, match="grew without bound"):
        gillespie(net, volume=10, t_end=100.0, runs=6, rng=0, n_jobs=2, max_count=1000)
