"""The implicit gradient's batched Jacobians (the simulators' structure) against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate._massaction import rhs
from nncrn.simulate._structure import MassActionStructure


@pytest.mark.parametrize("seed", range(5))
def test_jacobian_matches_central_differences_of_the_reference_rhs(seed):
    rng = np.random.default_rng(seed)
    names = [f"S{i}" for i in range(6)]
    reactions, seen = [], set()
    while len(reactions) < 12:
        lhs = {names[i]: int(rng.integers(1, 3)) for i in rng.choice(6, rng.integers(0, 3), False)}
        rhs_ = {names[i]: int(rng.integers(1, 3)) for i in rng.choice(6, rng.integers(0, 3), False)}
        r = Reaction(lhs, rhs_, float(rng.uniform(0.1, 2.0)))
        if lhs != rhs_ and r.key() not in seen:
            seen.add(r.key())
            reactions.append(r)
    # S5 is an input: a catalyst no reaction changes unless one happens to
    net = ReactionNetwork([Species(n, "input" if n == "S5" else "auxiliary") for n in names],
                          reactions)  # fmt: skip
    y = rng.uniform(0.1, 2.0, size=(3, 6))
    dyn = np.flatnonzero(net.stoichiometry.dynamic)
    h = 1e-6
    structure = MassActionStructure.build(net)
    for yb, jac in zip(y, structure.batch_jacobians(y), strict=True):
        # the batched form equals the one-item form entry for entry
        one = structure.jacobian(structure.coefficients(yb), yb[dyn]).toarray()
        np.testing.assert_allclose(jac, one, rtol=1e-15, atol=1e-300)
        fd = np.zeros((dyn.size, dyn.size))
        for j, s in enumerate(dyn):
            up, down = yb.copy(), yb.copy()
            up[s] += h
            down[s] -= h
            fd[:, j] = (rhs(net.stoichiometry, up) - rhs(net.stoichiometry, down))[dyn] / (2 * h)
        np.testing.assert_allclose(jac, fd, rtol=1e-6, atol=1e-6)
