"""Cross-check on random small mass-action networks: TorchODE's converged steady states
against SciPy trajectories integrated until they stop moving.

The networks mix inflow, decay, conversion, dimerisation and bimolecular reactions with
rates from {0.5, 1, 2, 3}, so reactions often share a reactant complex (rate-dependent
conservation laws) and steady states often form continua; an item TorchODE calls converged
must agree with the trajectory wherever the trajectory has settled.
"""

from __future__ import annotations

import itertools
import warnings

import numpy as np

from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import ScipyODE, TorchODE, integrate, steady_state


def _random_network(rng: np.random.Generator) -> ReactionNetwork | None:
    names = [f"S{i}" for i in range(int(rng.integers(2, 5)))]
    complexes = [{}] + [{n: 1} for n in names] + [{n: 2} for n in names]
    complexes += [{a: 1, b: 1} for a, b in itertools.combinations(names, 2)]
    reactions, seen = [], set()
    for _ in range(int(rng.integers(2, 7))):
        r, p = (complexes[int(i)] for i in rng.integers(len(complexes), size=2))
        key = (tuple(sorted(r.items())), tuple(sorted(p.items())))
        if r != p and key not in seen:
            seen.add(key)
            reactions.append(Reaction(dict(r), dict(p), float(rng.choice([0.5, 1.0, 2.0, 3.0]))))
    if not reactions:
        return None
    return ReactionNetwork([Species(n) for n in names], reactions)


def _check(seed: int, n_networks: int) -> tuple[int, int]:
    """(converged items, items whose trajectory settled); asserts agreement on the latter."""
    rng = np.random.default_rng(seed)
    converged = checked = 0
    for _ in range(n_networks):
        net = _random_network(rng)
        if net is None:
            continue
        y0 = rng.uniform(0.1, 2.0, (3, net.n_species))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ss = steady_state(net, y0=y0, solver=TorchODE(), throw=False)
            if not ss.converged.any():
                continue
            t = [0.0, 1e3, 2e3]
            tr = integrate(net, None, t, y0=y0, solver=ScipyODE(rtol=1e-10, atol=1e-12),
                           throw=False)  # fmt: skip
        for i in np.flatnonzero(ss.converged):
            converged += 1
            half, end = tr.concentrations[i, 1], tr.concentrations[i, 2]
            scale = max(1.0, float(np.abs(end).max()))
            if not np.isfinite(end).all() or np.abs(end - half).max() > 1e-7 * scale:
                continue  # still moving (or blew up): no verdict
            checked += 1
            np.testing.assert_allclose(
                ss.concentrations[i], end, rtol=0, atol=1e-5 * scale,
                err_msg=f"{[str(r) for r in net.reactions]} from {y0[i]}",
            )  # fmt: skip
    return converged, checked


def test_converged_steady_states_match_settled_trajectories():
    converged, checked = _check(seed=5, n_networks=24)
    assert checked >= 10, (converged, checked)  # the check is not vacuous
