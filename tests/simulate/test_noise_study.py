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


def test_the_default_horizon_waits_for_the_chemistry_to_settle():
    from nncrn.simulate import settling_time

    net = _slow_winner()
    x = np.array([[1.0]])
    settled = float(settling_time(net, x, rtol=0.01)[0])
    # A relaxes at rate 0.01: within 1% of A* = 2 after ln(100) / 0.01 = 460 time units
    assert settled == pytest.approx(np.log(100) / 0.01, rel=0.02)
    study = noise_study(net, x, volumes=[200], runs=20, rng=0, solver=DirectMethod())
    assert study.settled == pytest.approx(settled)
    assert study.t_end == pytest.approx(2 * settled) and study.burn_in == pytest.approx(settled)
    assert study.agreement[0] == 1.0  # A (~400 molecules) beats B (~200) in every run


def test_a_horizon_shorter_than_the_settling_time_warns_and_shows_why():
    from nncrn import NNCRNWarning

    net = _slow_winner()
    with pytest.warns(NNCRNWarning, match=r"settles .* only by t = 46"):
        study = noise_study(net, np.array([[1.0]]), volumes=[200], runs=20, rng=0, t_end=40.0,
                            solver=DirectMethod())  # fmt: skip
    assert study.agreement[0] == 0.0  # read at t in [20, 40], B is still ahead of A in every run
