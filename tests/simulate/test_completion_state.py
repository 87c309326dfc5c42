"""Completion networks: TorchODE fires the reactions to exhaustion, group by group.

Cross-checked against an independent oracle (firing any enabled reaction as far as it goes
until none can, in ``test_no_wrong_answer``), a long ScipyODE integration, and the exact
ReLU network for compiled dual-rail networks with ties.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncrn.network import Reaction, ReactionNetwork, Species, initial_state
from nncrn.simulate import ScipyODE, TorchODE, integrate, steady_state
from nncrn.simulate._completion import completion_levels

from .test_no_wrong_answer import _completion_state


def _random_completion_network(rng: np.random.Generator) -> ReactionNetwork:
    """Non-competitive and acyclic by construction: species are ordered, products come
    after every reactant, a consumed species is a reactant of its one reaction only, and a
    catalyst is never consumed (reactions like ``X + C -> C + 2 Y``, ``2 X -> X + Y``)."""
    n = int(rng.integers(4, 9))
    names = [f"S{i}" for i in range(n)]
    free = list(range(n - 1))  # species not yet a reactant of any reaction
    consumed: set[int] = set()
    catalysts: set[int] = set()
    reactions = []
    for _ in range(int(rng.integers(1, n))):
        options = [s for s in free if s not in catalysts]
        if not options:
            break
        s = int(rng.choice(options))
        free.remove(s)
        consumed.add(s)
        left = {names[s]: 2 if rng.random() < 0.2 else 1}
        top = s
        cats = [c for c in range(n - 1) if c not in consumed and c != s]
        if cats and rng.random() < 0.5:
            c = int(rng.choice(cats))
            catalysts.add(c)
            left[names[c]] = 1
            top = max(top, c)
        after = list(range(top + 1, n))
        right: dict[str, int] = {}
        if left[names[s]] == 2 and rng.random() < 0.5:
            right[names[s]] = 1  # 2 X -> X + ...: X still consumed
        for c in set(left) - {names[s]}:
            right[c] = 1
        for p in rng.choice(after, size=min(len(after), int(rng.integers(0, 3))), replace=False):
            right[names[int(p)]] = int(rng.integers(1, 3))
        reactions.append(Reaction(left, right, float(rng.choice([0.3, 1.0, 4.0]))))
    species = [Species(nm, "hidden" if i < n - 1 else "output") for i, nm in enumerate(names)]
    return ReactionNetwork(species, reactions)


def test_random_completion_networks_match_the_firing_oracle_and_a_long_integration():
    rng = np.random.default_rng(11)
    checked = 0
    solver = TorchODE()
    for _ in range(200):
        net = _random_completion_network(rng)
        if completion_levels(net.stoichiometry) is None:
            continue
        assert solver.steady_path(net) == "completion"
        # amounts with exact ties (integers) and zeros
        y0 = rng.integers(0, 4, (6, net.n_species)).astype(float)
        y0[:3] += rng.uniform(0, 1, (3, net.n_species)) * (rng.random((3, net.n_species)) < 0.5)
        ss = steady_state(net, y0=y0, solver=solver)
        exact = np.array([_completion_state(net, y) for y in y0])
        np.testing.assert_allclose(ss.concentrations, exact, rtol=1e-12, atol=1e-12)
        assert (ss.n_steps == 0).all()
        checked += 1
    assert checked >= 150
    # a long integration reaches the same states (one network's worth: it is slow)
    net = _random_completion_network(np.random.default_rng(5))
    y0 = np.random.default_rng(6).uniform(0, 2, (3, net.n_species))
    ss = steady_state(net, y0=y0)
    tr = integrate(net, None, [0.0, 1e7], y0=y0, solver=ScipyODE(rtol=1e-10, atol=1e-13))
    np.testing.assert_allclose(ss.concentrations, tr.concentrations[:, -1], atol=1e-5)


@pytest.mark.parametrize("seed", range(4))
def test_compiled_dual_rail_networks_with_ties_are_the_relu_network(seed):
    """Integer weights and inputs make exact ties (``z = 0``) common: each is answered
    exactly, without Newton, and Newton from the start agrees to its tolerance."""
    from nncrn.compile import DenseLayer, DualRail, LayerStack

    rng = np.random.default_rng(seed)
    sizes = [5, 12, 8, 3]
    layers = tuple(
        DenseLayer(rng.integers(-2, 3, (sizes[k + 1], sizes[k])),
                   rng.integers(-2, 3, sizes[k + 1]).astype(float),
                   "identity" if k == len(sizes) - 2 else "relu")
        for k in range(len(sizes) - 1)
    )  # fmt: skip
    stack = LayerStack(layers, "ties")
    scheme = DualRail()
    net = scheme.build(stack)
    x = rng.integers(0, 3, (200, 5)).astype(float)
    ss = steady_state(net, x)
    np.testing.assert_allclose(ss.outputs, scheme.forward(stack, x), rtol=1e-13, atol=1e-13)
    assert (ss.n_steps == 0).all() and ss.converged.all()
    # Newton stops within its tolerance on the 1/t tails of the ties: up to ~3e-7 here
    newton = steady_state(net, x[:40], solver=TorchODE(steady_method="newton"))
    np.testing.assert_allclose(newton.outputs, ss.outputs[:40], rtol=1e-6, atol=1e-6)


def test_a_fired_state_that_fails_the_check_is_not_flagged_but_solved_by_newton(monkeypatch):
    """The firing is trusted only through the check (residual and every reaction exhausted):
    a wrong fired state (here: the start, returned unchanged) is handed to Newton."""
    from nncrn.simulate import _completion_state

    net = ReactionNetwork(
        [Species("A", "hidden"), Species("B", "hidden"), Species("C", "output")],
        [Reaction({"A": 1, "B": 1}, {"C": 1}, 1.0)],
    )
    y0 = initial_state(net, None, [[3.0, 1.0, 0.0], [0.0, 2.0, 1.0]])
    monkeypatch.setattr(_completion_state.CompletionPlan, "solve", lambda self, y: y.clone())
    ss = steady_state(net, y0=y0, solver=TorchODE())
    np.testing.assert_allclose(ss.concentrations, [[2.0, 0.0, 1.0], [0.0, 2.0, 1.0]], atol=1e-9)
    # the second start is already exhausted: it passes the check as it is
    assert ss.n_steps[0] > 0 and ss.n_steps[1] == 0
