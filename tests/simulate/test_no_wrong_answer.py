"""No wrong answer is marked good: regression cases where a solver flagged a wrong state.

Each case has a known answer (a conservation law, the trajectory's limit, the sign of a
concentration); a solver must return it or flag the item, never return another value as
converged, and must fail with nncrn's own errors, not a library's traceback.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import ConvergenceError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import ScipyODE, TorchODE, integrate, steady_state


def _net(reactions, names=None, inputs=()):
    parsed = [Reaction.parse(r, k) for r, k in reactions]
    names = names or sorted({s for r in parsed for s in (*r.reactants, *r.products)})
    return ReactionNetwork(
        [Species(s, "input" if s in inputs else "auxiliary") for s in names], parsed
    )


# ---------------------------------------------------------------- continua (TorchODE)
def test_a_point_of_a_continuum_off_the_trajectory_is_not_converged():
    # Every (0, B) is a steady state; the trajectory from (1, 1) ends at B = 1.23607 (see
    # ScipyODE below), Newton's pseudo-transient path stopped at A = 1.4e-5, B = 1.23363
    # with residual 8e-12, and it was flagged converged.
    net = _net([("2 A -> B", 0.01), ("2 A + B -> B", 0.01)])
    ref = steady_state(net, y0=[[1.0, 1.0]], solver=ScipyODE(rtol=1e-11, atol=1e-14))
    b = ref.concentration("B")[0]
    assert b == pytest.approx(1.2360679, rel=1e-5)
    for solver in (TorchODE(), TorchODE(linear_solver="dense"), TorchODE(steady_method="newton")):
        ss = steady_state(net, y0=[[1.0, 1.0]], solver=solver, throw=False)
        if ss.converged[0]:
            assert ss.concentration("B")[0] == pytest.approx(b, rel=1e-6)


# ---------------------------------------------------------------- conservation (ScipyODE)
@pytest.mark.parametrize("solver", [ScipyODE(), TorchODE()], ids=["scipy", "torch"])
def test_steady_states_keep_the_conservation_law(solver):
    # A + B -> 2 A keeps A + B = 1; ScipyODE's final Newton step moved along the singular
    # direction of the Jacobian to A = 0.625, B = 0 and called it converged.
    net = _net([("A + B -> 2 A", 5.0)])
    ss = steady_state(net, y0=[[0.5, 0.5]], solver=solver, throw=False)
    assert ss.converged[0]
    np.testing.assert_allclose(ss.concentrations[0], [1.0, 0.0], atol=1e-9)


# ---------------------------------------------------------------- negative states
def _neuron():
    """One AJD neuron ``Y = sigma_eps(X)``, eps = 1e-3, weight 1, bias 0: Y -> X for large X."""
    return _net([("0 -> Y", 1e-3), ("2 Y -> Y", 1.0), ("X + Y -> X + 2 Y", 1.0)],
                ["X", "Y"], inputs=("X",))  # fmt: skip


@pytest.mark.parametrize(
    "solver", [TorchODE(), TorchODE(linear_solver="dense"), ScipyODE()],
    ids=["torch", "torch-dense", "scipy"],
)  # fmt: skip
@pytest.mark.parametrize("x", [1e8, 1e10])
def test_an_implicit_step_does_not_settle_on_the_negative_fixed_point(solver, x):
    # From Y = 0 the neuron grows at rate X; a step far longer than 1 / X went to the
    # repelling fixed point Y = -1e-3 / X of the polynomial and stayed there, "integrated".
    tr = integrate(_neuron(), [[x]], [0.0, 1.0, 10.0], solver=solver, throw=False)
    y = tr.concentration("Y")[0]
    if tr.converged[0]:
        np.testing.assert_allclose(y[1:], x, rtol=1e-6)
    assert not (y < 0).any()


def test_a_negative_trajectory_point_is_not_integrated():
    # The flag itself: whatever the step control does, a state negative beyond the
    # tolerance is not a trajectory of mass-action kinetics.
    from nncrn.simulate._solver import make_trajectory

    net = _neuron()
    y = np.array([[[1e8, 0.0], [1e8, -1e-11]]])
    ok = np.array([True])
    tr = make_trajectory(net, np.array([0.0, 1.0]), y, converged=ok, n_steps=ok * 1, n_rhs=1,
                         solver=TorchODE(), atol=1e-12, rtol=1e-8)  # fmt: skip
    assert not tr.converged[0]


# ---------------------------------------------------------------- scipy failures
def test_a_singular_scipy_factorisation_is_a_convergence_failure():
    # BDF's sparse LU of I - h gamma J met an exactly singular matrix and SciPy's
    # RuntimeError escaped even with throw=False.
    net = _net([("S0 -> 2 S0", 1.0), ("S1 + S0 -> 0", 82.23494797882924)], ["S0", "S1"])
    y0 = [[1.576861452942789, 1.0705086090071358]]
    ss = steady_state(net, y0=y0, solver=ScipyODE(), throw=False)
    assert ss.converged.shape == (1,)
    if not ss.converged[0]:
        with pytest.raises(ConvergenceError):
            steady_state(net, y0=y0, solver=ScipyODE())


# ---------------------------------------------------------------- completion networks
def test_a_dead_dual_rail_neuron_is_converged_at_its_exact_completion_state():
    # A hidden neuron with all-zero weights and bias (common after ternary quantization)
    # keeps its five species at exactly 0, where the Jacobian is 0: the eigenvalue test
    # refused every item although the residual was 1e-14. Every reaction of a dual-rail
    # network runs to completion, and the completion state is the answer.
    torch = pytest.importorskip("torch")
    from nncrn.compile import DualRail, competition_violations, compile_network

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight[:] = torch.tensor([[1.0, -1.0], [0.0, 0.0]])
        model[0].bias[:] = 0.0
        model[2].weight[:] = torch.tensor([[1.0, 1.0]])
        model[2].bias[:] = 0.0
    net = compile_network(model, scheme=DualRail())
    assert competition_violations(net) == []
    x = np.array([[0.5, 0.2], [0.1, 0.7], [2.0, 0.0]])
    for solver in (TorchODE(), TorchODE(steady_method="newton"), ScipyODE()):
        ss = steady_state(net, x, solver=solver)
        np.testing.assert_allclose(ss.outputs[:, 0], [0.3, 0.0, 2.0], atol=1e-9)


def test_a_network_that_does_not_run_to_completion_keeps_the_eigenvalue_test():
    # A competitive network (B is consumed by two reactions) with a continuum of steady
    # states: the exhaustion rule must not apply to it.
    from nncrn.simulate._completion import completion_reactants

    net = _net([("2 A -> 0", 1.0), ("A -> B", 1.0)])
    assert completion_reactants(net.stoichiometry) is None
    ss = steady_state(net, y0=[[1.0, 0.0]], throw=False)
    assert not ss.converged[0]
    dual = _net([("A -> B + C", 1.0), ("B + D -> E", 1.0)])
    assert completion_reactants(dual.stoichiometry) is not None
