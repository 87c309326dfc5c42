"""TorchODE reports converged only for a stable steady state the chemistry settles in.

Each case has a known answer: unbounded growth has no steady state, a saddle or a centre
is not where the trajectory goes, and a continuum of steady states leaves the answer to
the transient. The bistable case is checked against a long trajectory.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import ConvergenceError, InputError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import ScipyODE, TorchODE, integrate, steady_state

TRIANGULAR, DENSE = TorchODE(), TorchODE(linear_solver="dense")


def _net(reactions, initial=None):
    initial = initial or {}
    parsed = [Reaction.parse(r, 1.0) for r, _ in reactions]
    names = sorted({s for r in parsed for s in (*r.reactants, *r.products)})
    return ReactionNetwork(
        [Species(s, "auxiliary", initial.get(s, 0.0)) for s in names],
        [Reaction.parse(r, k) for r, k in reactions],
    )


def _cubic(n):
    """``dn/dt = -(n - 1)(n - 2)(n - 3)``: stable at 1 and 3, unstable at 2."""
    return [(f"0 -> {n}", 6.0), (f"2 {n} -> 3 {n}", 6.0), (f"{n} -> 0", 11.0),
            (f"3 {n} -> 2 {n}", 1.0)]  # fmt: skip


@pytest.mark.parametrize("solver", [TRIANGULAR, DENSE], ids=["triangular", "dense"])
@pytest.mark.parametrize(
    "reactions",
    [
        [("0 -> A", 1.0)],  # constant inflow: y grew to 2e10 and met rtol * ||y||
        [("0 -> A", 1e-3), ("A + B -> C", 1.0)],  # B runs out, then A grows without bound
    ],
    ids=["inflow", "exhausted-sink"],
)
def test_unbounded_growth_is_not_converged(solver, reactions):
    net = _net(reactions, {"B": 1.0})
    ss = steady_state(net, solver=solver, throw=False)
    assert not ss.converged.any()


def test_two_bistable_species_follow_the_trajectory():
    # Both species start just above the unstable state 2: the chemistry goes to (3, 3).
    # The triangular solve used to check only the sign of det(I/dt - J), which two
    # positive eigenvalues crossed together leave unchanged; Newton went to (1, 1).
    net = _net(_cubic("A") + _cubic("B"))
    y0 = np.array([[2.001, 2.001], [2.0001, 2.0001], [1.5, 2.5]])
    ss = steady_state(net, y0=y0, solver=TRIANGULAR)
    assert ss.converged.all()
    np.testing.assert_allclose(ss.concentrations, [[3, 3], [3, 3], [1, 3]], rtol=1e-10)
    long = integrate(net, None, [0.0, 60.0], y0=y0, solver=ScipyODE(rtol=1e-10, atol=1e-12))
    np.testing.assert_allclose(long.concentrations[:, -1], ss.concentrations, rtol=1e-6)


@pytest.mark.parametrize("solver", [TRIANGULAR, DENSE], ids=["triangular", "dense"])
def test_an_item_started_at_a_fixed_point_stays(solver):
    # The chemistry started exactly at the unstable state (2, 2) or the saddle (2, 1)
    # stays there; only states Newton moved to are checked for stability.
    net = _net(_cubic("A") + _cubic("B"))
    ss = steady_state(net, y0=[[2.0, 2.0], [2.0, 1.0], [3.0, 1.0]], solver=solver)
    np.testing.assert_array_equal(ss.concentrations, [[2, 2], [2, 1], [3, 1]])
    assert ss.converged.all()


def test_dense_newton_ends_only_on_stable_states():
    # The dense path checks only the sign of det(I/dt - J), so from just above (2, 2) it
    # can land on (2, 2) itself; whatever it returns is flagged converged only if stable.
    net = _net(_cubic("A") + _cubic("B"))
    y0 = np.array([[2.001, 2.001], [2.0001, 2.0001], [1.5, 2.5], [2.5, 2.5]])
    ss = steady_state(net, y0=y0, solver=DENSE, throw=False)
    at_stable = np.isclose(ss.concentrations, 1.0) | np.isclose(ss.concentrations, 3.0)
    assert ss.converged.tolist() == at_stable.all(1).tolist()
    assert ss.converged[2:].all()


@pytest.mark.parametrize("solver", [TRIANGULAR, DENSE], ids=["auto", "dense"])
def test_a_centre_is_not_converged(solver):
    # Lotka-Volterra: the trajectory from (2, 1) circles (1, 1) forever.
    net = _net([("X -> 2 X", 1.0), ("X + Y -> 2 Y", 1.0), ("Y -> 0", 1.0)], {"X": 2.0, "Y": 1.0})
    ss = steady_state(net, solver=solver, throw=False)
    np.testing.assert_allclose(ss.concentrations[0], [1.0, 1.0], rtol=1e-8)
    assert not ss.converged[0]


def test_a_continuum_of_steady_states_is_not_converged():
    # 2 A -> 0 and A -> B: every (0, b) is a steady state; which one the chemistry reaches
    # depends on the transient (b = log(1 + 2 A0) / 2 from A0 = 1, B0 = 0).
    net = _net([("2 A -> 0", 1.0), ("A -> B", 1.0)], {"A": 1.0})
    ss = steady_state(net, throw=False)
    assert not ss.converged[0]
    long = integrate(net, None, [0.0, 200.0], solver=ScipyODE(rtol=1e-10, atol=1e-14))
    assert long.concentrations[0, -1, 1] == pytest.approx(np.log(3.0) / 2, rel=1e-6)


# Random networks on which Newton stopped short of a continuum of steady states and the
# state passed as stable (every eigenvalue negative, if small), though the chemistry
# settles elsewhere: (reactions, start, species index, the value the chemistry reaches).
SHORT_OF_A_CONTINUUM = {
    # S0 and S1 run out and S2 keeps its value then; Newton stopped at (1e-6, 4e-6, 2.00002)
    # with eigenvalues -6, -1.7e-5, -6.3e-7; at (0, 0, 2.00002) the Jacobian is singular.
    "edge": ([("S0 + S2 -> 2 S1", 2.0), ("S1 + S2 -> S2", 0.5), ("2 S1 -> S2", 1.0),
              ("S1 -> S0 + S2", 1.0)],
             [1.609451486382242, 1.9402648453979874, 0.8913875159321815], 2, 2.10854488),
    # Every reaction needs two molecules, so all runs down together; Newton stopped near the
    # origin (3.3e-7, 7.6e-7, 5.2e-8), eigenvalues ~ -1e-6; at the origin the Jacobian is 0.
    "origin": ([("2 S2 -> S0", 1.0), ("S0 + S1 -> S1 + S2", 0.5), ("S0 + S2 -> S0 + S1", 1.0),
                ("S1 + S2 -> 0", 3.0)],
               [1.9978713860856097, 0.6693873765627845, 0.9901937055555897], 1, 0.07612138),
}  # fmt: skip


@pytest.mark.parametrize("method", ["auto", "newton"])
@pytest.mark.parametrize("case", sorted(SHORT_OF_A_CONTINUUM))
def test_newton_stopping_short_of_a_continuum_is_not_converged(case, method):
    reactions, start, i, reached = SHORT_OF_A_CONTINUUM[case]
    net = ReactionNetwork([Species(f"S{j}") for j in range(3)],
                          [Reaction.parse(r, k) for r, k in reactions])  # fmt: skip
    y0 = np.array([start])
    ss = steady_state(net, y0=y0, solver=TorchODE(steady_method=method), throw=False)
    assert not ss.converged[0]
    long = integrate(net, None, [0.0, 1e3, 2e3], y0=y0, solver=ScipyODE(rtol=1e-10, atol=1e-14))
    settled = long.concentrations[0, -1]
    np.testing.assert_allclose(settled, long.concentrations[0, -2], atol=1e-12)
    assert settled[i] == pytest.approx(reached, rel=1e-5)
    # (Before the pseudo-time steps were error-controlled, Newton's point was more than
    # 0.05 away; it now follows the trajectory closer, but the point is still not isolated.)


def test_the_failure_message_names_what_to_do():
    net = _net([("0 -> A", 1.0)])
    with pytest.raises(ConvergenceError, match="not a stable steady state: unbounded growth"):
        steady_state(net)


def test_stability_check_can_be_skipped_on_the_dense_path():
    net = _net([("X -> 2 X", 1.0), ("X + Y -> 2 Y", 1.0), ("Y -> 0", 1.0)], {"X": 2.0, "Y": 1.0})
    ss = steady_state(net, solver=TorchODE(check_stability=False))
    assert ss.converged[0]  # the centre (1, 1), accepted without the eigenvalue check
    np.testing.assert_allclose(ss.concentrations[0], [1.0, 1.0], rtol=1e-8)
    with pytest.raises(InputError, match="check_stability"):
        TorchODE(check_stability="yes")


def test_an_items_flag_does_not_depend_on_the_batch():
    # 0 -> A, B -> 0: the first item starts within tolerance of steady state (f = 1 next to
    # A = 1e12) and stays; batched with an item Newton must move, it must stay so.
    net = _net([("0 -> A", 1.0), ("B -> 0", 1.0)])
    alone = steady_state(net, y0=[[1e12, 0.0]], throw=False)
    both = steady_state(net, y0=[[1e12, 0.0], [1e12, 1e9]], throw=False)
    assert alone.converged[0] and both.converged[0]
