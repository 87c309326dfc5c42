"""Property suite: on random mass-action networks, no wrong steady state is marked converged.

Hypothesis draws networks of 2-6 species and 2-8 reactions whose complexes have 0 to 3
molecules (inflow, mono-, bi- and trimolecular), some species being inputs, and a batch
of two items (inputs and initial states, zeros included). For :class:`TorchODE` and
:class:`ScipyODE`, every item reported converged must

* match an independent long integration to within ``1e-6`` of the larger of the
  reference's and the initial state's largest concentration: SciPy's ``solve_ivp``
  (LSODA, rtol 1e-12, atol 1e-15, analytic Jacobian) on a right-hand side written here
  from the dense stoichiometry (Radau crawls where a species decays to 0), run
  to ``t = 1e4`` and accepted as a reference only if it moved less than ``1e-10`` (relative)
  over its second half (an unsettled reference gives no verdict);
* keep every conservation law of :func:`conservation_laws` to ``1e-9`` (relative);
* have no concentration below ``-1e-9`` (relative);

and the only exceptions allowed out of ``steady_state`` are nncrn's own (``NNCRNError``).
Items that did not converge need no check. The solvers run with small step budgets
(``TorchODE(max_steps=400)``, ``ScipyODE(t_max=1e5, max_steps=1000)``), so a network that
never settles costs little; that only lowers how many items converge.

The default run (``derandomize=True``: the same examples on every machine) is bounded to
about a minute; ``pytest -m slow`` runs the same check on 2,000 networks and prints counts.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import pytest
import scipy.integrate as si

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from nncrn._errors import NNCRNError  # noqa: E402
from nncrn.network import Reaction, ReactionNetwork, Species  # noqa: E402
from nncrn.simulate import ScipyODE, TorchODE, conservation_laws, steady_state  # noqa: E402

_T_END = 1e4  # reference end time
_SETTLE = 1e-10  # the reference moved less than this (relative) over [T/2, T]
_REL = 1e-6  # converged items within this of the reference (relative)
_LAW = 1e-9  # conserved totals kept to this (relative)
_NEG = 1e-9  # no concentration below -_NEG (relative)
_SOLVERS = (
    TorchODE(max_steps=400, num_threads=1),
    ScipyODE(t_max=1e5, max_steps=1000),
)
_RATES = (0.5, 1.0, 2.0, 3.0)  # equal rates make shared complexes and rate-dependent laws
_AMOUNTS = (0.0, 0.5, 1.0, 2.0)


@st.composite
def _complexes(draw, n: int) -> dict[str, int]:
    members = draw(st.lists(st.integers(0, n - 1), min_size=0, max_size=3))
    out: dict[str, int] = {}
    for i in members:
        out[f"S{i}"] = out.get(f"S{i}", 0) + 1
    return out


@st.composite
def cases(draw):
    """``(network, inputs (2, n_inputs), y0 (2, n_species))``."""
    n = draw(st.integers(2, 6))
    n_inputs = draw(st.integers(0, 2))
    rate = st.sampled_from(_RATES) | st.floats(0.1, 10.0)
    pairs = st.tuples(_complexes(n), _complexes(n), rate).filter(lambda p: p[0] != p[1])
    drawn = draw(st.lists(
        pairs, min_size=2, max_size=8,
        unique_by=lambda p: (tuple(sorted(p[0].items())), tuple(sorted(p[1].items()))),
    ))  # fmt: skip
    reactions = [Reaction(r, p, float(k)) for r, p, k in drawn]
    species = [Species(f"S{i}", "input" if i >= n - n_inputs else "auxiliary") for i in range(n)]
    net = ReactionNetwork(species, reactions)
    amount = st.sampled_from(_AMOUNTS) | st.floats(0.05, 3.0)
    y0 = np.array(draw(st.lists(st.lists(amount, min_size=n, max_size=n), min_size=2, max_size=2)))
    inputs = np.array(draw(st.lists(
        st.lists(amount, min_size=n_inputs, max_size=n_inputs), min_size=2, max_size=2,
    ))).reshape(2, n_inputs)  # fmt: skip
    return net, inputs, y0


def _reference(net: ReactionNetwork, y0: np.ndarray) -> np.ndarray | None:
    """State at ``_T_END`` of an independent integration, or None where it has not settled."""
    view = net.stoichiometry
    react = view.reactant_dense().astype(float)  # (n_reactions, n_species)
    change = view.net_dense().astype(float)
    rates = np.array([r.rate for r in net.reactions])

    # The polynomial itself, not clamped at 0: a kink there stalls the step control where a
    # species decays to 0 (roundoff takes it to -1e-16).
    def f(t, y):
        return change.T @ (rates * np.prod(y**react, axis=1))

    def jac(t, y):
        d = np.zeros_like(react)  # d rate_r / d y_s
        for s in range(y.size):
            p = react.copy()
            p[:, s] = np.maximum(p[:, s] - 1.0, 0.0)
            d[:, s] = react[:, s] * np.prod(y**p, axis=1)
        return change.T @ (rates[:, None] * d)

    def blow_up(t, y):
        return 1e6 - np.max(np.abs(y))

    blow_up.terminal = True
    with np.errstate(all="ignore"):
        sol = si.solve_ivp(f, (0.0, _T_END), y0, method="LSODA", jac=jac, rtol=1e-12,
                           atol=1e-15, t_eval=[_T_END / 2, _T_END], events=blow_up)  # fmt: skip
    if sol.status != 0 or sol.y.shape[1] != 2:
        return None
    half, end = sol.y[:, 0], sol.y[:, 1]
    scale = max(float(np.abs(end).max()), float(np.abs(y0).max()))
    if not np.isfinite(end).all() or np.abs(end - half).max() > _SETTLE * scale:
        return None
    return end


def _check(net: ReactionNetwork, inputs: np.ndarray, y0: np.ndarray) -> Counter:
    """Both solvers on one case; asserts the properties and returns counts."""
    counts: Counter = Counter(networks=1)
    laws = conservation_laws(net)
    refs: dict[int, np.ndarray | None] = {}
    for solver in _SOLVERS:
        name = type(solver).__name__
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ss = steady_state(net, inputs, y0=y0, solver=solver, throw=False)
        except NNCRNError:  # anything else escapes and fails the test
            counts[f"{name} errors"] += 1
            continue
        start = np.array(y0, dtype=float)  # the inputs replace the input species' y0
        start[:, net.n_species - inputs.shape[1] :] = inputs
        where = f"{name} on {[str(r) for r in net.reactions]}"
        counts[f"{name} items"] += len(y0)
        for i in np.flatnonzero(ss.converged):
            counts[f"{name} converged"] += 1
            y = ss.concentrations[i]
            scale = max(float(np.abs(y).max()), float(np.abs(start[i]).max()), 1e-300)
            assert (y >= -_NEG * scale).all(), f"negative {y} from {start[i]}: {where}"
            drift = float(np.abs(laws @ (y - start[i])).max(initial=0.0))
            assert drift <= _LAW * scale, f"conservation off by {drift} from {start[i]}: {where}"
            if i not in refs:
                refs[i] = _reference(net, start[i])
            if refs[i] is None:
                continue  # the trajectory has not settled (or blew up): no verdict
            ref = refs[i]
            counts[f"{name} checked"] += 1
            tol = _REL * max(float(np.abs(ref).max()), float(np.abs(start[i]).max()))
            err = float(np.abs(y - ref).max())
            assert err <= tol, f"{y} != {ref} (off by {err}) from {start[i]}: {where}"
    return counts


_PROFILE = {
    "deadline": None, "derandomize": True, "database": None, "print_blob": True,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.filter_too_much],
}  # fmt: skip


@settings(max_examples=40, **_PROFILE)
@given(case=cases())
def test_converged_steady_states_are_right(case):
    _check(*case)


@pytest.mark.slow
def test_converged_steady_states_are_right_on_2000_networks():
    totals: Counter = Counter()

    @settings(max_examples=2000, **_PROFILE)
    @given(case=cases())
    def run(case):
        totals.update(_check(*case))
        if totals["networks"] % 250 == 0:  # progress (shown with pytest -s)
            print(f"{totals['networks']} networks: {dict(totals)}", flush=True)

    run()
    print(dict(totals))
    assert totals["networks"] >= 2000, totals
