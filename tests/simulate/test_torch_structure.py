"""TorchODE's two linear-algebra paths: forward substitution (DAG Jacobians) and dense LU.

Both must agree with each other and with closed forms; networks whose Jacobian graph has a
cycle must take the dense path and still be right.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import ScipyODE, TorchODE, integrate, steady_state
from nncrn.simulate._structure import MassActionStructure

from ._ajd import closed_form, layer_columns, random_ajd

EPS = 1e-3
WIDTHS = [3, 8, 6, 2]
TRIANGULAR, DENSE = TorchODE(), TorchODE(linear_solver="dense")


@pytest.fixture(scope="module")
def ajd():
    rng = np.random.default_rng(7)
    net, w, b = random_ajd(rng, WIDTHS, EPS)
    x = rng.uniform(0.0, 1.0, (12, WIDTHS[0]))
    return net, w, b, x


def _catalytic_dag() -> ReactionNetwork:
    """DAG with a per-item diagonal and a variable off-diagonal entry (``d B'/dA = -4AB``).

    ``A' = 1 - A - x A`` and ``B' = 1 - 2 A^2 B``: ``A* = 1/(1 + x)``, ``B* = (1 + x)^2 / 2``.
    """
    species = [Species("X", "input"), Species("A", "hidden"), Species("B", "output")]
    reactions = [
        Reaction({}, {"A": 1}, 1.0),
        Reaction({"A": 1}, {}, 1.0),
        Reaction({"X": 1, "A": 1}, {"X": 1}, 1.0),
        Reaction({}, {"B": 1}, 1.0),
        Reaction({"A": 2, "B": 1}, {"A": 2}, 2.0),
    ]
    return ReactionNetwork(species, reactions)


def _feedback() -> ReactionNetwork:
    """``A' = 1 - A + B``, ``B' = A - 2B`` (B feeds A back): ``A* = 2``, ``B* = 1``."""
    reactions = [
        Reaction({}, {"A": 1}, 1.0),
        Reaction({"A": 1}, {"B": 1}, 1.0),
        Reaction({"B": 1}, {}, 2.0),
        Reaction({"B": 1}, {"A": 1, "B": 1}, 1.0),
    ]
    return ReactionNetwork([Species("A", "hidden"), Species("B", "output")], reactions)


def _conservation() -> ReactionNetwork:
    """``A <-> B`` (rates 2, 1) from ``A = 3``: conserved total 3, so ``A* = 1``, ``B* = 2``."""
    reactions = [Reaction({"A": 1}, {"B": 1}, 2.0), Reaction({"B": 1}, {"A": 1}, 1.0)]
    return ReactionNetwork([Species("A", "hidden", 3.0), Species("B", "output")], reactions)


def test_ajd_levels_are_the_layers(ajd):
    net, *_ = ajd
    levels = MassActionStructure.build(net).levels
    assert [lv.size for lv in levels] == WIDTHS[1:]
    assert TRIANGULAR.linear_algebra(net) == "triangular"
    assert DENSE.linear_algebra(net) == "dense"


@pytest.mark.parametrize("net", [_feedback(), _conservation()], ids=["feedback", "A<->B"])
def test_cycles_take_the_dense_path(net):
    assert MassActionStructure.build(net).levels is None
    assert TRIANGULAR.linear_algebra(net) == "dense"


def test_steady_state_paths_agree_with_closed_form(ajd):
    net, w, b, x = ajd
    cols = layer_columns(net, WIDTHS)
    want = closed_form(w, b, EPS, x)
    got = {s: steady_state(net, x, solver=s).concentrations for s in (TRIANGULAR, DENSE)}
    for layer, c in enumerate(cols):
        for y in got.values():
            np.testing.assert_allclose(y[:, c], want[layer], rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(got[TRIANGULAR], got[DENSE], rtol=1e-12, atol=1e-15)


def test_trajectory_paths_agree_with_each_other_and_scipy(ajd):
    net, _, _, x = ajd
    t = np.array([0.0, 0.01, 0.3, 2.0, 7.5, 40.0, 200.0])
    tri = integrate(net, x[:4], t, solver=TRIANGULAR).concentrations
    dense = integrate(net, x[:4], t, solver=DENSE).concentrations
    ref = integrate(net, x[:4], t, solver=ScipyODE(rtol=1e-11, atol=1e-14)).concentrations
    np.testing.assert_allclose(tri, dense, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(tri, ref, rtol=1e-6, atol=1e-9)


def test_dense_output_matches_stepping_onto_a_fine_grid(ajd):
    """Interpolated values between steps are as accurate as the steps themselves."""
    net, _, _, x = ajd
    fine = np.concatenate([[0.0], np.geomspace(1e-3, 100.0, 120)])
    got = integrate(net, x[:3], fine).concentrations
    ref = integrate(net, x[:3], fine, solver=ScipyODE(rtol=1e-11, atol=1e-14)).concentrations
    np.testing.assert_allclose(got, ref, rtol=1e-6, atol=1e-9)


def test_variable_off_diagonal_dag():
    net = _catalytic_dag()
    assert TRIANGULAR.linear_algebra(net) == "triangular"
    x = np.array([[0.0], [0.5], [2.0]])
    want = np.column_stack([1 / (1 + x[:, 0]), (1 + x[:, 0]) ** 2 / 2])
    for solver in (TRIANGULAR, DENSE):
        y = steady_state(net, x, solver=solver).concentrations[:, 1:]
        np.testing.assert_allclose(y, want, rtol=1e-10)
    t = np.array([0.0, 0.5, 3.0, 20.0])
    tri = integrate(net, x, t, solver=TRIANGULAR).concentrations
    np.testing.assert_allclose(tri, integrate(net, x, t, solver=DENSE).concentrations, rtol=1e-9)


@pytest.mark.parametrize(
    ("net", "want"), [(_feedback(), [2.0, 1.0]), (_conservation(), [1.0, 2.0])],
    ids=["feedback", "A<->B"],
)  # fmt: skip
def test_cyclic_networks_are_right_on_the_dense_path(net, want):
    ss = steady_state(net, None, solver=TRIANGULAR)
    np.testing.assert_allclose(ss.concentrations[0], want, rtol=1e-9)
    traj = integrate(net, None, [0.0, 1.0, 50.0])
    ref = integrate(net, None, [0.0, 1.0, 50.0], solver=ScipyODE(rtol=1e-11, atol=1e-14))
    np.testing.assert_allclose(traj.concentrations, ref.concentrations, rtol=1e-7, atol=1e-10)
