"""Conservation laws: found exactly, and kept by TorchODE's Newton steady states.

Expected values are closed forms (the laws of hand-written networks, ``A <-> B``'s
equilibrium) or the torch model a network was compiled from.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nncrn.nn
from nncrn import InputError, NNCRNWarning, compile_network
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import TorchODE, steady_state
from nncrn.simulate._conservation import conservation_basis

from ._ajd import random_ajd


def _net(reactions, species):
    return ReactionNetwork(
        [Species(s, "auxiliary", v) for s, v in species.items()],
        [Reaction.parse(r, k) for r, k in reactions],
    )


def _laws(net):
    v = net.stoichiometry
    return conservation_basis(v, np.flatnonzero(v.dynamic))


def _same_span(a, b):
    """Rows of ``a`` and ``b`` span the same space (projectors equal)."""
    b = np.linalg.qr(np.asarray(b, dtype=np.float64).T)[0]
    return np.allclose(a.T @ a, b @ b.T, atol=1e-12)


def test_laws_of_hand_written_networks():
    ab = _laws(_net([("A -> B", 2.0), ("B -> A", 1.0)], {"A": 0.7, "B": 0.2}))
    assert ab.shape == (1, 2)
    np.testing.assert_allclose(np.abs(ab[0]), [2**-0.5, 2**-0.5], rtol=1e-14)
    # 2A <-> C and B <-> D: A + 2C and B + D are conserved
    two = _laws(_net([("2 A -> C", 1.0), ("C -> 2 A", 1.0), ("B -> D", 1.0), ("D -> B", 3.0)],
                     {"A": 1.0, "B": 1.0, "C": 0.0, "D": 0.0}))  # fmt: skip
    assert two.shape == (2, 4)
    assert _same_span(two, [[1, 0, 2, 0], [0, 1, 0, 1]])
    np.testing.assert_allclose(two @ two.T, np.eye(2), atol=1e-14)


def test_no_laws_with_inflow_and_decay():
    assert _laws(_net([("0 -> A", 1.0), ("A -> B", 1.0), ("B -> 0", 1.0)], {"A": 0, "B": 0})) is None
    assert _laws(random_ajd(np.random.default_rng(0), [3, 4, 2], 1e-3)[0]) is None


def _sigmoid_model(seed):
    torch.manual_seed(seed)
    lin = torch.nn.Linear
    model = torch.nn.Sequential(
        lin(3, 4), nncrn.nn.ChemicalSigmoid(0.25), lin(4, 2), nncrn.nn.ChemicalSigmoid(0.25)
    ).double()
    with torch.no_grad():
        for m in model:
            if isinstance(m, lin):
                m.weight.mul_(3)
    return model


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_newton_keeps_the_sigmoid_pairs_totals(seed):
    # Y + Yc = 1 for every neuron. Before the projection, near-Newton steps let it drift by
    # ~1e-7 (residual 1e-15, converged=True) and the outputs missed the model by ~1e-7.
    model = _sigmoid_model(seed)
    net = compile_network(model)
    x = np.random.default_rng(seed).random((40, 3)) * 2
    laws = _laws(net)
    names = set(net.species_names)
    pairs = [s for s in net.species_names if s + "c" in names]
    assert laws.shape[0] == len(pairs) == 6
    ss = steady_state(net, x, solver=TorchODE(), rtol=1e-13, atol=1e-15)
    assert ss.converged.all()
    c = ss.concentrations
    for name in pairs:
        total = c[:, net.index(name)] + c[:, net.index(name + "c")]
        np.testing.assert_allclose(total, 1.0, rtol=0, atol=1e-14)
    want = model(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ss.outputs, want, rtol=0, atol=1e-12)


def test_newton_reaches_the_equilibrium_of_its_own_totals():
    # A <-> B (kf = 2, kr = 1): A* = kr / (kf + kr) * (A0 + B0) for every item's own total.
    net = _net([("A -> B", 2.0), ("B -> A", 1.0)], {"A": 0.0, "B": 0.0})
    y0 = np.array([[0.7, 0.2], [3.0, 0.0], [0.0, 1e-6]])
    ss = steady_state(net, y0=y0, solver=TorchODE(), rtol=1e-14, atol=1e-16)
    total = y0.sum(1)
    np.testing.assert_allclose(ss.concentrations[:, 0], total / 3, rtol=1e-13)
    np.testing.assert_allclose(ss.concentrations.sum(1), total, rtol=1e-14)


@pytest.mark.parametrize("method", ["auto", "newton"])
def test_triangular_network_with_a_law(method):
    # A -> B -> C: triangular Jacobian, one law (A + B + C); the sweep declines it
    # (no inflow), Newton converges to A = B = 0, C = the total.
    net = _net([("A -> B", 3.0), ("B -> C", 0.5)], {"A": 0.0, "B": 0.0, "C": 0.0})
    solver = TorchODE(steady_method=method)
    assert solver.linear_algebra(net) == "triangular"
    y0 = np.array([[1.0, 0.25, 0.0], [0.0, 2.0, 1.0]])
    ss = steady_state(net, y0=y0, solver=solver)
    np.testing.assert_allclose(ss.concentrations[:, 2], y0.sum(1), rtol=1e-12)
    np.testing.assert_allclose(ss.concentrations.sum(1), y0.sum(1), rtol=1e-15)


# ------------------------------------------------- laws that shared reactant complexes add


def test_reactions_sharing_a_complex_add_a_law_of_their_rates():
    # A -> B (1), A -> C (3): f = A * (-4, 1, 3), so B + C + A and 3 B - C are conserved
    # (the stoichiometry alone gives only the first).
    laws = _laws(_net([("A -> B", 1.0), ("A -> C", 3.0)], {"A": 1.0, "B": 0.0, "C": 0.0}))
    assert laws.shape == (2, 3)
    assert _same_span(laws, [[1, 1, 1], [0, 3, -1]])
    np.testing.assert_allclose(laws @ laws.T, np.eye(2), atol=1e-14)


def test_rates_far_apart_are_not_merged():
    # 1 next to 1e6 could be a stiff coupling as well as a balance: stoichiometric law only
    laws = _laws(_net([("A -> B", 1.0), ("A -> C", 1e6)], {"A": 1.0, "B": 0.0, "C": 0.0}))
    assert laws.shape == (1, 3)
    assert _same_span(laws, [[1, 1, 1]])


def test_complexes_that_differ_in_a_held_species_stay_apart():
    # X1 + A -> X1 + B and X2 + A -> X2 + C: the inputs X1, X2 are held, and the ratio of the
    # two branches depends on them, so only A + B + C is conserved for every input.
    net = ReactionNetwork(
        [Species("X1", "input"), Species("X2", "input"), Species("A", "auxiliary", 1.0),
         Species("B", "auxiliary"), Species("C", "auxiliary")],
        [Reaction.parse("X1 + A -> X1 + B", 1.0), Reaction.parse("X2 + A -> X2 + C", 1.0)],
    )  # fmt: skip
    v = net.stoichiometry
    laws = conservation_basis(v, np.flatnonzero(v.dynamic))
    assert laws.shape == (1, 3)
    assert _same_span(laws, [[1, 1, 1]])


def test_branches_that_cancel_leave_a_species_conserved():
    # A + Y -> A + 2 Y at 0.3 and A + Y -> A at 0.1 + 0.2 (= 0.30000000000000004): Y's net
    # rate is roundoff, so Y is conserved; A -> B (1) and A -> 0 is absent: A + B too.
    net = _net([("A + Y -> A + 2 Y", 0.3), ("A + Y -> A", 0.1 + 0.2), ("A -> B", 1.0)],
               {"A": 1.0, "B": 0.0, "Y": 0.5})  # fmt: skip
    assert _same_span(_laws(net), [[1, 1, 0], [0, 0, 1]])


def test_newton_converges_on_competing_branches():
    # A -> B (k1), A -> C (k2): A* = 0, B* = B0 + k1 / (k1 + k2) A0, C* = C0 + k2 / (k1 + k2) A0.
    # Without the rate law 3 B - C the steady states form a continuum and were not converged.
    net = _net([("A -> B", 1.0), ("A -> C", 3.0)], {"A": 0.0, "B": 0.0, "C": 0.0})
    y0 = np.array([[1.0, 0.0, 0.0], [2.0, 0.5, 0.25], [0.0, 1.0, 1.0]])
    for method in ("auto", "newton"):
        ss = steady_state(net, y0=y0, solver=TorchODE(steady_method=method), atol=1e-14)
        assert ss.converged.all()
        want = y0 + y0[:, :1] * np.array([-1.0, 0.25, 0.75])
        np.testing.assert_allclose(ss.concentrations, want, rtol=1e-12, atol=1e-14)


def test_equal_inflows_conserve_a_difference():
    # 0 -> A, 0 -> B (both rate 1) share the empty complex; with A + B -> 0, A - B is
    # conserved and the steady state solves A B = 1 on the item's own A - B.
    net = _net([("0 -> A", 1.0), ("0 -> B", 1.0), ("A + B -> 0", 1.0)], {"A": 0.0, "B": 0.0})
    assert _same_span(_laws(net), [[1, -1]])
    y0 = np.array([[0.0, 0.0], [2.0, 0.0], [0.5, 3.0]])
    ss = steady_state(net, y0=y0, solver=TorchODE(), atol=1e-14)
    assert ss.converged.all()
    d = y0[:, 0] - y0[:, 1]
    b = (-d + np.sqrt(d**2 + 4)) / 2
    np.testing.assert_allclose(ss.concentrations, np.stack([b + d, b], axis=1), rtol=1e-12)


def test_public_conservation_laws_use_the_species_axis():
    from nncrn.simulate import conservation_laws

    # X is a held catalyst (an input): its column is 0; the law is oriented positive
    net = ReactionNetwork(
        [Species("X", "input"), Species("A", "auxiliary", 1.0), Species("B", "auxiliary")],
        [Reaction.parse("X + A -> X + B", 2.0), Reaction.parse("B -> A", 1.0)],
    )
    np.testing.assert_allclose(conservation_laws(net), [[0.0, 2**-0.5, 2**-0.5]], rtol=1e-14)
    none = conservation_laws(random_ajd(np.random.default_rng(0), [3, 4, 2], 1e-3)[0])
    assert none.shape == (0, 3 + 4 + 2)
    with pytest.raises(InputError, match=r"conservation_laws expects an nncrn.ReactionNetwork"):
        conservation_laws("net.json")


def _chain(n: int, closed: bool) -> ReactionNetwork:
    """``S0 -> S1 -> ... -> S{n-1}``, with inflow into S0 and outflow from the last unless closed."""
    reactions = [] if closed else [Reaction({}, {"S0": 1}, 1.0)]
    reactions += [Reaction({f"S{i}": 1}, {f"S{i + 1}": 1}, 1.0) for i in range(n - 1)]
    if not closed:
        reactions.append(Reaction({f"S{n - 1}": 1}, {}, 1.0))
    return ReactionNetwork([Species(f"S{i}") for i in range(n)], reactions)


def test_the_law_search_is_near_linear_on_a_long_chain():
    # Dropping forced species re-scanned every row per species dropped: 8,000 species took
    # 5.4 s and 100,000 took 320 s (nncrn info); a work-list makes it O(nnz).
    import time

    from nncrn.simulate import conservation_laws

    net = _chain(30_000, closed=False)
    start = time.perf_counter()
    laws = conservation_laws(net)
    assert laws.shape == (0, 30_000)
    assert time.perf_counter() - start < 15.0


def test_laws_are_found_per_set_of_coupled_species(monkeypatch):
    from nncrn.simulate import _conservation, conservation_laws

    two = ReactionNetwork(
        [Species(s) for s in "ABCDE"],
        [Reaction.parse("A -> B", 1.0), Reaction.parse("B -> A", 2.0),
         Reaction.parse("C -> D", 1.0), Reaction.parse("D + E -> C", 1.0)],
    )  # fmt: skip
    laws = conservation_laws(two)
    assert laws.shape == (2, 5)  # A + B; C + D
    np.testing.assert_allclose(laws @ two.stoichiometry.net_dense().T, 0.0, atol=1e-12)
    monkeypatch.setattr(_conservation, "_MAX_COMPONENT", 2)
    with pytest.warns(NNCRNWarning, match="not searched among 3 coupled species"):
        laws = conservation_laws(two)
    assert laws.shape == (1, 5)  # A + B only
