"""fixed_point: the closed-form steady state read from the reactions themselves."""

import math

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from nncrn._errors import ConvergenceError, ConvergenceWarning, NetworkError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import fixed_point
from nncrn.simulate._massaction import rhs


def net(species, reactions, readout=None):
    sp = [Species(n, r) for n, r in species]
    return ReactionNetwork(sp, [Reaction.parse(t, k) for t, k in reactions], readout)


def neuron(eps=1e-3, w=(2.0, -1.5), b=0.25):
    """One smoothed-ReLU neuron Y reading X0, X1, written out by hand."""
    rs = [("0 -> Y", eps), ("2 Y -> Y", 1.0)] if eps else [("2 Y -> Y", 1.0)]
    for j, wj in enumerate(w):
        rs.append((f"X{j} + Y -> X{j} + 2 Y" if wj > 0 else f"X{j} + Y -> X{j}", abs(wj)))
    if b:
        rs.append(("Y -> 2 Y" if b > 0 else "Y -> 0", abs(b)))
    return net([("X0", "input"), ("X1", "input"), ("Y", "output")], rs)


def sigma(z, eps):
    return (z + np.sqrt(z**2 + 4 * eps)) / 2


def test_single_neuron_closed_form_and_result_fields():
    x = np.array([[0.0, 0.0], [1.0, 0.5], [0.1, 3.0], [2.0, 2.0]])
    ss = fixed_point(neuron(), x)
    z = x @ [2.0, -1.5] + 0.25
    np.testing.assert_allclose(ss.outputs[:, 0], sigma(z, 1e-3), rtol=1e-13)
    np.testing.assert_array_equal(ss.concentrations[:, :2], x)
    assert ss.converged.all() and ss.converged.shape == (4,)
    assert ss.residual.max() < 1e-15
    assert np.isinf(ss.time).all() and (ss.n_steps == 0).all() and ss.n_rhs == 1
    assert ss.solver == "fixed_point" and ss.output_names == ("Y",)


def test_mapping_inputs_and_single_row_hint():
    ss = fixed_point(neuron(), {"X0": [1.0], "X1": [0.0]})
    assert ss.outputs[0, 0] == pytest.approx(sigma(2.25, 1e-3), rel=1e-14)
    with pytest.raises(ValueError, match="reshape"):
        fixed_point(neuron(), np.array([1.0, 0.0]))


def test_no_cancellation_far_below_threshold():
    ss = fixed_point(neuron(eps=1e-3, w=(-1e8, 1.0), b=0.0), [[1.0, 0.0]])
    assert ss.outputs[0, 0] == pytest.approx(1e-11, rel=1e-12)


def test_edited_rates_are_honoured():
    base = neuron()
    rates = np.array([r.rate for r in base.reactions])
    rates[0] = 0.04  # the leak: eps 1e-3 -> 0.04
    rates[2] = 0.5  # X0 weight 2.0 -> 0.5
    ss = fixed_point(base.with_rates(rates), [[1.0, 1.0]])
    assert ss.outputs[0, 0] == pytest.approx(sigma(0.5 - 1.5 + 0.25, 0.04), rel=1e-13)


def test_dual_rail_and_cascade_match_ode():
    # X0 -> (linear pair Hp, Hn) -> smooth Y reading +w on Hp and -w on Hn.
    n = net(
        [("X0", "input"), ("Hp", "hidden"), ("Hn", "hidden"), ("Y", "output")],
        [("X0 -> X0 + Hp", 1.5), ("0 -> Hn", 0.7), ("Hp -> 0", 1.0), ("Hn -> 0", 1.0),
         ("0 -> Y", 0.01), ("2 Y -> Y", 1.0), ("Hp + Y -> Hp + 2 Y", 2.0), ("Hn + Y -> Hn", 2.0)],
    )  # fmt: skip
    x = np.array([[0.2], [1.0]])
    ss = fixed_point(n, x)
    h = 1.5 * x[:, 0] - 0.7
    np.testing.assert_allclose(ss.concentration("Hp") - ss.concentration("Hn"), h, rtol=1e-14)
    np.testing.assert_allclose(ss.outputs[:, 0], sigma(2 * h, 0.01), rtol=1e-13)
    view = n.stoichiometry
    for row in range(2):
        y0 = np.zeros(4)
        y0[0] = x[row, 0]
        sol = solve_ivp(lambda t, y: rhs(view, y[None])[0], (0, 200), y0, method="LSODA",
                        rtol=1e-10, atol=1e-12)  # fmt: skip
        np.testing.assert_allclose(sol.y[:, -1], ss.concentrations[row], rtol=1e-6, atol=1e-9)


def test_quadratic_with_catalysed_saturation():
    # d[Y]/dt = 0.3 + X y - 2 X y^2: a, b, c all read from the reactions.
    n = net([("X", "input"), ("Y", "output")],
            [("0 -> Y", 0.3), ("X + Y -> X + 2 Y", 1.0), ("X + 2 Y -> X + Y", 2.0)])  # fmt: skip
    x = np.array([[0.5], [4.0]])
    a, b, c = 0.3, x[:, 0], 2 * x[:, 0]
    want = (b + np.sqrt(b**2 + 4 * a * c)) / (2 * c)
    np.testing.assert_allclose(fixed_point(n, x).outputs[:, 0], want, rtol=1e-14)
    # With X = 0 nothing degrades Y: no finite steady state.
    with pytest.raises(ConvergenceError, match="did not have a finite steady state"):
        fixed_point(n, [[0.0]])
    with pytest.warns(ConvergenceWarning):
        ss = fixed_point(n, [[0.0], [1.0]], throw=False)
    assert ss.converged.tolist() == [False, True] and math.isinf(ss.outputs[0, 0])


@pytest.mark.parametrize(
    ("reactions", "match"),
    [
        ([("A + B -> 2 B", 1.0), ("B -> 0", 1.0)],
         r"reaction 0 \(A \+ B -> 2 B\) changes \['A', 'B'\]"),
        ([("A + B -> A + 2 B", 1.0), ("B -> 0", 1.0), ("B + A -> B + 2 A", 1.0), ("A -> 0", 1.0)],
         r"species \['A', 'B'\] catalyse each other"),
        ([("3 B -> 2 B", 1.0)], r"grow like \[B\]\^3"),
        ([("2 B -> 3 B", 1.0), ("B -> 0", 1.0)], r"grow like \[B\]\^2"),
        ([("A -> A + B", 1.0)], "'B' is never degraded"),
    ],
)  # fmt: skip
def test_not_feed_forward_refused(reactions, match):
    n = net([("A", "auxiliary"), ("B", "output")], reactions)
    with pytest.raises(NetworkError, match=match) as info:
        fixed_point(n, None, y0=[1.0, 1.0])
    assert "steady_state" in str(info.value)


def test_network_without_species_has_an_empty_fixed_point():
    ss = fixed_point(ReactionNetwork([], []))
    assert ss.concentrations.shape == (1, 0) and ss.outputs.shape == (1, 0)
    assert ss.converged.tolist() == [True] and ss.residual.tolist() == [0.0]
