"""gillespie: the input convention shared with the ODE, unfinished runs, explosive networks,
and the forms and checks of its arguments."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nncrn import ConvergenceError, ConvergenceWarning, InputError, NNCRNWarning
from nncrn.compile import DenseLayer, DualRail, LayerStack
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import (
    DirectMethod,
    NextReactionMethod,
    TauLeaping,
    TorchODE,
    gillespie,
    integrate,
    steady_state,
)

ALL = [DirectMethod(), NextReactionMethod(), TauLeaping()]


def consumed_input() -> ReactionNetwork:
    """``X -> Y -> 0``: the input is consumed, so it must not be held at its start value."""
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [Reaction.parse("X -> Y", 1.0), Reaction.parse("Y -> 0", 1.0)],
    )


def explosive(role: str = "auxiliary") -> ReactionNetwork:
    """``2 A -> 3 A``: dA/dt = A^2 blows up at t = 1 from A = 1 (the CME at volume 10 too)."""
    return ReactionNetwork([Species("A", role, initial=1.0)], [Reaction.parse("2 A -> 3 A", 1.0)])


# ---------------------------------------------------------------- inputs start at the input values
@pytest.mark.parametrize("solver", ALL, ids=repr)
def test_consumed_input_follows_the_reactions_like_the_ode(solver):
    # Each of the n0 = 200 molecules decays X -> Y -> 0 independently (unit rates), so at
    # time t the counts are Binomial(n0, e^-t) for X and Binomial(n0, t e^-t) for Y: exact
    # means and standard errors, against which the ensemble mean is a z-test.
    volume, x0, runs = 100.0, 2.0, 40
    res = gillespie(consumed_input(), [[x0]], volume=volume, t_end=3.0, n_times=4, runs=runs,
                    solver=solver, rng=5)  # fmt: skip
    t = res.t
    n0 = x0 * volume
    for col, p in ((0, np.exp(-t)), (1, t * np.exp(-t))):
        mean = res.counts[0, :, :, col].mean(axis=0)
        se = np.sqrt(n0 * p * (1 - p) / runs)
        z = (mean - n0 * p) / np.maximum(se, 1e-12)
        assert np.all(np.abs(z) < 4.5), (col, mean, n0 * p)
    # and the ensemble mean is the ODE solution (within the same bounds)
    ode = integrate(consumed_input(), [[x0]], t).concentrations[0] * volume
    np.testing.assert_allclose(res.counts[0].mean(axis=0), ode, atol=4.5 * np.sqrt(n0 / runs) / 2)
    assert res.counts[0, :, 0, 0].tolist() == [200] * runs  # it starts at round(x * volume)


def test_dual_rail_network_computes_its_relu_network_stochastically():
    # Dual-rail networks consume their inputs (X0 -> 2 H1_0p, ...). They compute stably:
    # once every reaction has run out, the counts are exactly the network's output times
    # the volume — and the ODE reaches the same steady state.
    stack = LayerStack((
        DenseLayer([[2, -1], [0, 1]], [0.5, -0.25], "relu"),
        DenseLayer([[1, -3]], [0.0], "identity"),
    ), "small")  # fmt: skip
    net = DualRail().build(stack)
    x = np.array([[1.0, 2.0], [2.0, 0.5]])
    want = stack.forward(x)[:, 0]  # -4.75, 3.25
    np.testing.assert_allclose(steady_state(net, x).outputs[:, 0], want, rtol=1e-8)
    volume = 100.0
    res = gillespie(net, x, volume=volume, t_end=60.0, n_times=2, runs=3, rng=2)
    final = net.read_outputs(res.counts[:, :, -1] / volume)[..., 0]
    np.testing.assert_allclose(final, np.repeat(want[:, None], 3, axis=1), atol=1e-12)
    inputs = [net.index(n) for n in net.inputs]
    assert np.all(res.counts[:, :, -1][..., inputs] == 0)  # the inputs were consumed


def test_catalytic_inputs_are_still_constant():
    net = ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [Reaction.parse("X -> X + Y", 1.0), Reaction.parse("Y -> 0", 1.0)],
    )
    res = gillespie(net, [[0.5], [2.0]], volume=20, t_end=10.0, n_times=6, runs=2, rng=1)
    assert np.all(res.counts[:, :, :, 0] == np.array([10, 40])[:, None, None])


# ---------------------------------------------------------------- unfinished runs and blow-up
@pytest.mark.parametrize("solver", ALL, ids=repr)
def test_unfinished_runs_have_nan_where_they_did_not_reach(solver):
    with pytest.warns(ConvergenceWarning, match=r"grew without bound.*max_count=1000.*explosive"):
        res = gillespie(explosive("output"), volume=10, t_end=2.0, n_times=3, runs=2, rng=0,
                        solver=solver, max_count=1000, throw=False)  # fmt: skip
    assert not res.completed.any()
    assert res.counts.dtype == np.float64
    np.testing.assert_array_equal(res.counts[0, :, 0, 0], [10.0, 10.0])  # t = 0 was reached
    assert np.isnan(res.counts[0, :, 2, 0]).all()  # t = 2 was not (the blow-up is near t = 1)
    assert np.isnan(res.time_average).all() and np.isnan(res.time_average_se).all()
    assert np.isnan(res.outputs).all()
    np.testing.assert_array_equal(res.answers, [[-1, -1]])  # no answer, never agreement
    np.testing.assert_array_equal(res.agreement(np.array([-1])), [0.0])
    assert res.n_events.max() < 5_000  # stopped when a count passed 1000


def test_explosive_network_fails_fast_with_a_clear_message_by_default():
    # Before max_count, this run fired events until max_steps = 1e8 (~20-30 s) first.
    with pytest.raises(ConvergenceError, match=r"grew without bound.*explosive.*2 A -> 3 A") as info:
        gillespie(explosive(), volume=10, t_end=2.0, rng=0)
    assert "max_count=1000000" in str(info.value)  # the default: max(1e6, 1e4 * 10, 100 * 10)
    with pytest.warns(ConvergenceWarning):
        res = gillespie(explosive(), volume=10, t_end=2.0, rng=0, throw=False, n_times=0)
    assert 900_000 < res.n_events[0, 0] < 1_100_000


def test_completed_runs_are_unaffected_by_max_count():
    net = ReactionNetwork([Species("A")], [Reaction.parse("0 -> A", 5.0), Reaction.parse("A -> 0", 0.5)])
    res = gillespie(net, volume=10, t_end=5.0, runs=2, rng=3, n_times=6)
    assert res.completed.all() and np.isfinite(res.counts).all()
    assert np.all(res.counts == np.round(res.counts)) and np.isfinite(res.time_average).all()
    # the guard only stops runs: a bound far above the counts gives the same samples
    # (the birth-death counts stay near k1 / k2 * volume = 100, the default bound is 1e6)
    loose = gillespie(net, volume=10, t_end=5.0, runs=2, rng=3, n_times=6, max_count=2**52)
    np.testing.assert_array_equal(res.counts, loose.counts)
    tight = gillespie(net, volume=10, t_end=5.0, runs=2, rng=3, n_times=6, max_count=60,
                      throw=False)  # fmt: skip
    assert not tight.completed.any()  # counts pass 60 on the way to ~100


@pytest.mark.parametrize(
    "max_count, match",
    [(0, r"max_count=0\).*integer >= 1"), (True, "max_count=True"), (2.5, "max_count=2.5"),
     (2**60, "max_count must be <= 2\\*\\*53"), (5, "below the largest start count 10")],
)  # fmt: skip
def test_bad_max_count(max_count, match):
    with pytest.raises(InputError, match=match):
        gillespie(explosive(), volume=10, t_end=1.0, max_count=max_count)


# ---------------------------------------------------------------- chunk_size
@pytest.mark.parametrize("chunk_size", [0, -1, 2.5, True, "2"])
def test_bad_chunk_size(chunk_size):
    with pytest.raises(InputError, match=r"gillespie\(chunk_size=.*chunk_size must be an integer >= 1"):
        gillespie(consumed_input(), [[1.0], [2.0]], volume=10, t_end=1.0, chunk_size=chunk_size)


def test_chunk_size_does_not_change_results():
    x = np.array([[1.0], [2.0], [0.5]])
    kwargs = dict(volume=10, t_end=2.0, runs=2, rng=4, n_times=3)
    a = gillespie(consumed_input(), x, chunk_size=np.int64(1), **kwargs)
    b = gillespie(consumed_input(), x, chunk_size=3, **kwargs)
    np.testing.assert_array_equal(a.counts, b.counts)


# ---------------------------------------------------------------- initial_counts
def two_species() -> ReactionNetwork:
    return ReactionNetwork(
        [Species("A", initial=0.5), Species("B")], [Reaction.parse("A -> B", 1.0)]
    )


def test_initial_counts_take_the_forms_y0_takes():
    net = two_species()
    kw = dict(volume=10, t_end=0.5, n_times=1, rng=0)
    res = gillespie(net, initial_counts=[[10, 0], [20, 0], [30, 0]], **kw)  # sets the batch
    np.testing.assert_array_equal(res.counts[:, 0, 0], [[10, 0], [20, 0], [30, 0]])
    res = gillespie(net, initial_counts={"B": 7}, **kw)  # A keeps round(0.5 * 10) = 5
    np.testing.assert_array_equal(res.counts[0, 0, 0], [5, 7])
    same = gillespie(net, y0=[[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]], **kw)
    np.testing.assert_array_equal(same.counts[:, 0, 0], [[10, 0], [20, 0], [30, 0]])


def test_initial_counts_mapping_per_item_and_inputs_override():
    net = consumed_input()
    res = gillespie(net, [[1.0], [2.0]], initial_counts={"Y": [3, 4], "X": 99}, volume=10,
                    t_end=0.5, n_times=1, rng=0)  # fmt: skip
    np.testing.assert_array_equal(res.counts[:, 0, 0], [[10, 3], [20, 4]])


@pytest.mark.parametrize(
    "counts, match",
    [({"A": 1.5}, r"initial count of 'A' is 1.5 in row 0 \(counting from 0\); molecule counts must be integers"),
     ({"Q": 1}, r"initial_counts names species 'Q'"),
     ({"A": [1, 2, 3]}, r"initial_counts\['A'\] has shape \(3,\)"),
     ([[1, 2, 3]], r"initial_counts has shape \(1, 3\); expected \(2,\)"),
     ([-1, 0], r"'A' is -1.0 in row 0"),
     ({"A": "x"}, r"initial_counts\['A'\] must be real numbers")],
)  # fmt: skip
def test_bad_initial_counts(counts, match):
    with pytest.raises(InputError, match=match) as info:
        gillespie(two_species(), volume=10, t_end=0.5, initial_counts=counts)
    assert "np.float64" not in str(info.value)


# ---------------------------------------------------------------- inputs that round to no molecules
def test_input_rounding_to_zero_molecules_warns():
    net = ReactionNetwork(
        [Species("X", "input"), Species("Y")],
        [Reaction.parse("X -> X + Y", 1.0), Reaction.parse("Y -> 0", 1.0)],
    )
    with pytest.warns(NNCRNWarning, match=r"'X' has concentration 0.04 in row 0.*= 0 molecules at volume 10.*volume of at least 25"):
        gillespie(net, [[0.04]], volume=10, t_end=1.0, n_times=0, rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gillespie(net, [[0.04], [0.0]], volume=100, t_end=1.0, n_times=0, rng=0)  # 4 and 0


# ---------------------------------------------------------------- the solver argument
def test_solver_class_or_deterministic_solver_is_explained():
    with pytest.raises(InputError, match=r"instance such as DirectMethod\(\).*add the parentheses"):
        gillespie(two_species(), volume=10, t_end=1.0, solver=DirectMethod)
    with pytest.raises(InputError, match="deterministic solvers"):
        gillespie(two_species(), volume=10, t_end=1.0, solver=TorchODE())
    with pytest.raises(InputError, match=r"TauLeaping\(epsilon='a'\) \(a str\)"):
        TauLeaping(epsilon="a")
    with pytest.raises(InputError, match=r"TauLeaping\(n_ssa=1.5\)"):
        TauLeaping(n_ssa=1.5)


@pytest.mark.parametrize("volume", [True, "10"])
def test_volume_must_be_a_real_number(volume):
    with pytest.raises(InputError, match="volume must be a positive number"):
        gillespie(two_species(), volume=volume, t_end=1.0)
