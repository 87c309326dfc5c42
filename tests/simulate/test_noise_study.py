"""noise_study: the arguments it takes (name-keyed inputs, labels) and the networks it needs."""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import InputError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import DirectMethod, noise_study


def two_class() -> ReactionNetwork:
    """Outputs Y0 = X0 + ... (catalytic copy of X0) and Y1 = 0.5 + X1 at steady state."""
    return ReactionNetwork(
        [Species("X0", "input"), Species("X1", "input"), Species("Y0", "output"),
         Species("Y1", "output")],
        [Reaction.parse("X0 -> X0 + Y0", 1.0), Reaction.parse("Y0 -> 0", 1.0),
         Reaction.parse("0 -> Y1", 0.5), Reaction.parse("X1 -> X1 + Y1", 1.0),
         Reaction.parse("Y1 -> 0", 1.0)],
    )  # fmt: skip


X = np.array([[2.0, 0.0], [0.0, 2.0], [3.0, 0.5]])
KW = dict(volumes=[20.0], runs=2, rng=0, t_end=6.0, solver=DirectMethod())


def test_inputs_by_name_give_the_same_study_as_the_array():
    by_array = noise_study(two_class(), X, [0, 1, 0], **KW)
    by_name = noise_study(two_class(), {"X1": X[:, 1], "X0": X[:, 0]}, [0, 1, 0], **KW)
    np.testing.assert_array_equal(by_name.item_agreement, by_array.item_agreement)
    np.testing.assert_array_equal(by_name.accuracy, by_array.accuracy)
    assert by_array.deterministic_accuracy == 1.0


def test_network_without_readout_is_rejected_up_front():
    net = ReactionNetwork(
        [Species("X", "input"), Species("A")],
        [Reaction.parse("X -> X + A", 1.0), Reaction.parse("A -> 0", 1.0)],
    )
    with pytest.raises(InputError, match=r"noise_study: the network has no readout, so it has no answers .*readout="):
        noise_study(net, np.ones((2, 1)), volumes=[10], runs=2, t_end=2.0)


@pytest.mark.parametrize(
    "labels, match",
    [([0, 5, -1], r"y\[1\] = 5 is not a class index.*\[0, 2\).*2 labels outside"),
     ([0, 1, -1], r"y\[2\] = -1 is not a class index")],
)  # fmt: skip
def test_labels_outside_the_readout_are_rejected(labels, match):
    with pytest.raises(InputError, match=match):
        noise_study(two_class(), X, np.array(labels), **KW)


def _slow_winner() -> ReactionNetwork:
    """B settles fast at X, A slowly (time scale 100) at 2 X: A wins, but only after ~70."""
    return ReactionNetwork(
        [Species("X", "input"), Species("A", "output"), Species("B", "output")],
        [Reaction({"X": 1}, {"X": 1, "A": 1}, 0.02), Reaction({"A": 1}, {}, 0.01),
         Reaction({"X": 1}, {"X": 1, "B": 1}, 1.0), Reaction({"B": 1}, {}, 1.0)],
    )  # fmt: skip


def test_from_the_initial_state_the_default_horizon_waits_for_the_chemistry_to_settle():
    from nncrn.simulate import settling_time

    net = _slow_winner()
    x = np.array([[1.0]])
    settled = float(settling_time(net, x, rtol=0.01)[0])
    # A relaxes at rate 0.01: within 1% of A* = 2 after ln(100) / 0.01 = 460 time units
    assert settled == pytest.approx(np.log(100) / 0.01, rel=0.02)
    study = noise_study(net, x, volumes=[200], runs=4, rng=0, solver=DirectMethod(),
                        from_steady_state=False)  # fmt: skip
    assert study.settled == pytest.approx(settled)
    assert study.t_end == pytest.approx(2 * settled) and study.burn_in == pytest.approx(settled)
    assert study.agreement[0] == 1.0  # A (~400 molecules) beats B (~200) in every reading


def test_from_the_steady_state_the_horizon_is_counted_in_relaxation_times():
    net = _slow_winner()
    study = noise_study(net, np.array([[1.0]]), volumes=[200], runs=3, rng=0)
    # the slowest mode is A's degradation at rate 0.01: tau = 100
    assert study.relaxation_time == pytest.approx(100.0)
    assert study.burn_in == pytest.approx(300.0) and study.t_end == pytest.approx(800.0)
    assert study.from_steady_state and np.isnan(study.settled)
    assert study.readings == 40
    assert study.agreement[0] == 1.0  # started at A = 400 > B = 200 molecules: always ahead


def test_a_horizon_shorter_than_the_settling_time_warns_and_shows_why():
    from nncrn import NNCRNWarning

    net = _slow_winner()
    with pytest.warns(NNCRNWarning, match=r"settles .* only by t = 46"):
        study = noise_study(net, np.array([[1.0]]), volumes=[200], runs=20, rng=0, t_end=40.0,
                            solver=DirectMethod(), from_steady_state=False)  # fmt: skip
    assert study.agreement[0] == 0.0  # read at t in [20, 40], B is still ahead of A in every run


def test_a_window_within_one_relaxation_time_of_the_start_warns():
    from nncrn import NNCRNWarning

    with pytest.warns(NNCRNWarning, match=r"within one relaxation time \(100\)"):
        noise_study(_slow_winner(), np.array([[1.0]]), volumes=[20], runs=1, rng=0, t_end=100.0)


# ---------------------------------------------------------------- agreement, exactly
def _poisson_agreement(m_win: float, m_lose: float) -> float:
    """P(W > L) for independent W ~ Poisson(m_win), L ~ Poisson(m_lose) (ties lose)."""
    from scipy.stats import poisson

    k = np.arange(0, 200)
    return float(np.sum(poisson.pmf(k, m_win) * poisson.cdf(k - 1, m_lose)))


def two_birth_death() -> ReactionNetwork:
    """Outputs Y0, Y1 made at rates X0, X1 and degraded at rate 1: stationary Poisson counts."""
    return ReactionNetwork(
        [Species("X0", "input"), Species("X1", "input"), Species("Y0", "output"),
         Species("Y1", "output")],
        [Reaction.parse("X0 -> X0 + Y0", 1.0), Reaction.parse("Y0 -> 0", 1.0),
         Reaction.parse("X1 -> X1 + Y1", 1.0), Reaction.parse("Y1 -> 0", 1.0)],
    )  # fmt: skip


XP = np.array([[2.0, 1.6], [1.0, 3.0], [2.0, 1.0]])
VP = 5.0  # counts Poisson(10) vs Poisson(8), Poisson(5) vs (15), Poisson(10) vs (5)


def _exact() -> np.ndarray:
    m = XP * VP  # whole molecule numbers: the input counts are these, unrounded
    return np.array([_poisson_agreement(m[0, 0], m[0, 1]), _poisson_agreement(m[1, 1], m[1, 0]),
                     _poisson_agreement(m[2, 0], m[2, 1])])  # fmt: skip


def test_agreement_is_the_stationary_probability_of_the_right_answer():
    exact = _exact()
    study = noise_study(two_birth_death(), XP, volumes=[VP], runs=300, rng=1, n_jobs=2)
    assert study.relaxation_time == pytest.approx(1.0)  # degradation at rate 1
    # per-run fractions spread by ~0.3 (readings correlated over tau): se <= 0.017 per input
    np.testing.assert_allclose(study.item_agreement[0], exact, atol=0.05)
    assert study.agreement[0] == pytest.approx(exact.mean(), abs=0.03)
    # a time average over the window would be right far more often (0.80 on the first input)
    assert study.item_agreement[0, 0] < 0.70


def test_doubling_the_horizon_does_not_change_the_agreement():
    exact = _exact()
    base = noise_study(two_birth_death(), XP, volumes=[VP], runs=300, rng=2)
    double = noise_study(two_birth_death(), XP, volumes=[VP], runs=300, rng=3,
                         t_end=2 * base.t_end, burn_in=2 * base.burn_in)  # fmt: skip
    assert double.burn_in == 6.0 and double.t_end == 16.0
    np.testing.assert_allclose(double.item_agreement[0], base.item_agreement[0], atol=0.06)
    np.testing.assert_allclose(double.item_agreement[0], exact, atol=0.05)
    np.testing.assert_allclose(base.item_agreement[0], exact, atol=0.05)


def test_threads_do_not_change_the_study():
    kw = dict(volumes=[5.0, 20.0], runs=3, rng=4)
    one = noise_study(two_birth_death(), XP, [0, 1, 0], n_jobs=1, **kw)
    two = noise_study(two_birth_death(), XP, [0, 1, 0], n_jobs=2, **kw)
    np.testing.assert_array_equal(one.item_agreement, two.item_agreement)
    np.testing.assert_array_equal(one.accuracy, two.accuracy)


def test_progress_counts_expected_events_so_larger_volumes_weigh_more():
    seen = []
    noise_study(two_birth_death(), XP, volumes=[10.0, 100.0], runs=2, rng=0, n_jobs=1,
                progress=lambda done, total: seen.append((done, total)))  # fmt: skip
    done = np.array([d for d, _ in seen])
    total = seen[-1][1]
    assert done[-1] == total and np.all(np.diff(done) > 0)
    # the expected events of a run are (production + degradation) * t_end = 2 V (x0 + x1) * 8:
    # volume 10 is 1/11 of the total
    assert total == pytest.approx(2 * 8.0 * XP.sum() * (10 + 100) * 2, rel=0.01)
    first = done[done <= total / 11 * 1.01].max()
    assert first == pytest.approx(total / 11, rel=0.01)


def test_the_default_solver_leaps_only_where_counts_are_large():
    from nncrn.simulate import NextReactionMethod, TauLeaping

    few = noise_study(two_birth_death(), XP, volumes=[5.0], runs=1, rng=0)
    many = noise_study(two_birth_death(), XP[:1], volumes=[1e4], runs=1, rng=0, readings=4)
    assert few.solver == repr(NextReactionMethod())  # ~10 molecules: a leap covers < 10 events
    assert many.solver == repr(TauLeaping())  # ~2e4 molecules: hundreds of events per leap
    assert many.mean_events[0] > 1e5 and many.agreement[0] == 1.0
