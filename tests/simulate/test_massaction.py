"""The numpy mass-action rates and right-hand side against a per-reaction loop."""

from __future__ import annotations

import numpy as np

from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate._massaction import reaction_rates, rhs


def test_rates_and_rhs_match_a_loop_over_reactions_for_orders_0_to_4():
    rng = np.random.default_rng(5)
    names = [f"S{i}" for i in range(6)]
    reactions = [Reaction({}, {"S0": 1}, 0.7)]  # order 0
    seen = set()
    for _ in range(40):
        k = int(rng.integers(1, 4))
        picked = rng.choice(6, size=k, replace=False)
        reactants = {names[i]: int(rng.integers(1, 3)) for i in picked}  # powers 1 or 2
        products = {names[int(rng.integers(6))]: int(rng.integers(1, 3))}
        key = (tuple(sorted(reactants.items())), tuple(sorted(products.items())))
        if sum(reactants.values()) <= 4 and reactants != products and key not in seen:
            seen.add(key)
            reactions.append(Reaction(reactants, products, float(rng.uniform(0.1, 2.0))))
    net = ReactionNetwork([Species(n, "hidden") for n in names], reactions)
    y = rng.uniform(0.0, 2.0, (3, 4, 6))
    expected_rates = np.zeros((3, 4, net.n_reactions))
    for j, r in enumerate(net.reactions):
        expected_rates[..., j] = r.rate
        for s, a in r.reactants.items():
            expected_rates[..., j] *= y[..., net.index(s)] ** a
    expected_rhs = np.zeros_like(y)
    for j, r in enumerate(net.reactions):
        for s, change in r.net().items():
            expected_rhs[..., net.index(s)] += change * expected_rates[..., j]
    got = reaction_rates(net.stoichiometry, y)
    assert got.shape == (3, 4, net.n_reactions)
    np.testing.assert_allclose(got, expected_rates, rtol=1e-14)
    np.testing.assert_allclose(rhs(net.stoichiometry, y), expected_rhs, rtol=1e-12, atol=1e-12)
    assert any(sum(r.reactants.values()) == 4 for r in net.reactions)
