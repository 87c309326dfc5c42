"""No wrong answer is marked good: regression cases where a solver flagged a wrong state.

Each case has a known answer (a conservation law, the trajectory's limit, the sign of a
concentration); a solver must return it or flag the item, never return another value as
converged, and must fail with nncrn's own errors, not a library's traceback.
"""

from __future__ import annotations

import json
from pathlib import Path

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
    # Every (0, B) is a steady state; the trajectory from (1, 1) ends at B = sqrt(5) - 1
    # (dA/dB = -2 (1 + B), so A + 2 B + B^2 is conserved), Newton's pseudo-transient path
    # stopped at A = 1.4e-5, B = 1.23363 with residual 8e-12, and it was flagged converged.
    # A runs down like 1 / t, so no solver can tell its distance to the end: ScipyODE
    # (which used to call the residual criterion at B = 1.2360679 - 1e-7 converged) refuses it.
    net = _net([("2 A -> B", 0.01), ("2 A + B -> B", 0.01)])
    b = np.sqrt(5.0) - 1.0
    tr = integrate(net, None, [0.0, 1e9], y0=[[1.0, 1.0]], solver=ScipyODE(rtol=1e-11, atol=1e-14))
    assert tr.concentration("B")[0, -1] == pytest.approx(b, rel=1e-6)
    for solver in (TorchODE(), TorchODE(linear_solver="dense"), TorchODE(steady_method="newton"),
                   ScipyODE(rtol=1e-11, atol=1e-14)):  # fmt: skip
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


@pytest.mark.parametrize("solver", [ScipyODE(), ScipyODE(t_max=1e5, max_steps=20_000)])
def test_scipy_does_not_call_a_slow_point_of_a_continuum_converged(solver):
    # Every state with S2 = S4 = 0 is steady. The residual criterion held at t = 702 and
    # ScipyODE's Newton polish then moved along the continuum (a near-singular Jacobian) to
    # S5 = 0.01145, flagged converged; the trajectory settles at S5 = 0.0154230.
    net = _net([
        ("S0 + S2 + S3 -> S0 + S3 + S4", 0.5), ("S0 + S2 + S3 -> S1 + S4 + S5", 1.0),
        ("S0 + S2 -> S5", 3.0), ("S1 + S4 + S5 -> 2 S3 + S1", 2.0), ("S0 + S1 + S4 -> 0", 3.0),
        ("S1 + S2 + S5 -> 2 S4", 3.0), ("S0 + S3 + S4 -> S2 + S5", 1.0),
        ("S0 + S2 + S3 -> S1 + S2 + S4", 0.5),
    ])  # fmt: skip
    y0 = [[0.9327320898765006, 1.6536371720151342, 0.8765933321105699, 1.0837244436552564,
           0.322375778602626, 1.6466123865752125]]  # fmt: skip
    ref = integrate(net, None, [0.0, 5e3, 1e4], y0=y0, solver=ScipyODE(rtol=1e-11, atol=1e-15))
    half, end = ref.concentrations[0, 1], ref.concentrations[0, 2]
    np.testing.assert_allclose(half, end, rtol=0, atol=1e-12)  # settled
    assert end[net.index("S5")] == pytest.approx(0.0154230126, rel=1e-8)
    ss = steady_state(net, y0=y0, solver=solver, throw=False)
    if ss.converged[0]:
        np.testing.assert_allclose(ss.concentrations[0], end, rtol=0, atol=1e-6 * end.max())


@pytest.mark.parametrize("solver", [ScipyODE(), TorchODE()], ids=["scipy", "torch"])
def test_a_species_the_chemistry_cannot_make_stays_at_zero(solver):
    # S0 is autocatalytic and starts at 0, so it stays 0 (S1 decays to 0). ScipyODE's BDF
    # step (I - h J pivoted on the S1 row) put 5.6e-45 into S0, which grew to the other
    # steady state (0.75, 0.75): integrate() gave S0 = 0.58 at t = 100 and steady_state()
    # flagged (0.75, 0.75) converged (found by the property suite).
    net = _net([("2 S0 -> 0", 1.0), ("S0 -> 3 S0", 0.5), ("S0 -> S0 + S1", 0.5),
                ("S1 -> 0", 0.5), ("S0 -> 2 S0", 0.5)])  # fmt: skip
    y0, t = [[0.0, 0.5]], np.array([0.0, 10.0, 100.0, 1e3])
    tr = integrate(net, None, t, y0=y0, solver=solver, throw=False)
    assert tr.converged[0]
    np.testing.assert_array_equal(tr.concentration("S0")[0], 0.0)
    np.testing.assert_allclose(tr.concentration("S1")[0], 0.5 * np.exp(-0.5 * t), atol=1e-9)
    ss = steady_state(net, y0=y0, solver=solver, throw=False)
    if ss.converged[0]:
        np.testing.assert_allclose(ss.concentrations[0], [0.0, 0.0], atol=1e-9)


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


# ---------------------------------------------------------------- ties in completion networks
def _completion_state(net: ReactionNetwork, y: np.ndarray) -> np.ndarray:
    """The completion state, computed by firing each reaction as far as it goes until none
    can: an independent oracle for non-competitive acyclic networks (no ODE involved)."""
    react = net.stoichiometry.reactant_dense()
    change = net.stoichiometry.net_dense()
    y = np.array(y, dtype=float)
    for _ in range(4 * len(react)):
        fired = False
        for a, n in zip(react, change, strict=True):
            used, catalysts = n < 0, (a > 0) & (n >= 0)
            extent = float(np.min(y[used] / -n[used])) if used.any() else 0.0
            if extent > 0 and (y[catalysts] > 0).all():
                y = y + extent * n
                y[used & (y < 1e-15)] = 0.0  # the limiting reactant is used up exactly
                fired = True
        if not fired:
            return y
    raise AssertionError("the network does not run to completion")


def _tie_network():
    """One dual-rail ReLU neuron ``relu(x0 - x1)`` read out linearly."""
    torch = pytest.importorskip("torch")
    from nncrn.compile import DualRail, compile_network

    model = torch.nn.Sequential(torch.nn.Linear(2, 1), torch.nn.ReLU(), torch.nn.Linear(1, 1))
    with torch.no_grad():
        model[0].weight[:] = torch.tensor([[1.0, -1.0]])
        model[0].bias[:] = 0.0
        model[2].weight[:] = torch.tensor([[1.0]])
        model[2].bias[:] = 0.0
    return compile_network(model, scheme=DualRail())


_COMPLETION_SOLVERS = [TorchODE(), TorchODE(steady_method="newton"), ScipyODE()]
_COMPLETION_IDS = ["torch", "torch-newton", "scipy"]


@pytest.mark.parametrize("solver", _COMPLETION_SOLVERS, ids=_COMPLETION_IDS)
def test_dual_rail_near_and_exact_ties_converge_to_the_completion_state(solver):
    # p = 7, n = 7 + d. Near a tie the debt reaction n + c -> d runs down c at the slow
    # rate |p - n|, and an exact tie like 1 / t: the residual criterion held while c still
    # had up to 2e-5 to go. TorchODE flagged outputs 1.5e-6 off converged (d = -1e-4) and
    # refused the exact tie; ScipyODE flagged all of them converged, up to 2.6e-5 off.
    net = _tie_network()
    d = np.array([1e-2, 1.36e-3, 3e-4, 1e-4, 1e-5, 0.0, -1e-5, -1e-4, -1e-3])
    x = np.stack([np.full_like(d, 7.0), 7.0 + d], axis=1)
    ss = steady_state(net, x, solver=solver, throw=False)
    assert ss.converged.all(), d[~ss.converged]
    np.testing.assert_allclose(ss.outputs[:, 0], np.maximum(-d, 0.0), rtol=0, atol=2e-9)


@pytest.mark.parametrize("solver", _COMPLETION_SOLVERS, ids=_COMPLETION_IDS)
def test_a_dual_rail_network_with_near_ties_converges_to_its_completion_state(solver):
    # A 10-8-4 ternary network on two inputs where hidden neurons end with n - p ~ 1e-3:
    # TorchODE stopped with 2.8e-7 and 5.6e-6 of the copy species c left (residual 4e-10,
    # within the tolerance) and refused both items; ScipyODE flagged them converged with
    # outputs 1.5e-5 and 3.1e-5 off (the completion state, which a long integration to
    # t = 1e6 reaches to 1e-12).
    from nncrn.network import initial_state

    net = ReactionNetwork.load(Path(__file__).parent / "data" / "neartie_dual_rail.json")
    x = np.array([
        [6.94193, 6.96291, 7.10694, 6.84063, 6.84737, 7.01244, 7.04382, 7.15208, 7.01197, 7.1243],
        [6.87833, 6.88727, 7.05142, 6.90867, 7.01533, 6.90723, 7.06425, 6.72909, 6.8944, 7.25919],
    ])  # fmt: skip
    exact = np.array([_completion_state(net, y) for y in initial_state(net, x, None)])
    plus = [net.index(r.plus) for r in net.readout]
    minus = [net.index(r.minus) for r in net.readout]
    ss = steady_state(net, x, solver=solver, throw=False)
    assert ss.converged.all()
    np.testing.assert_allclose(ss.outputs, exact[:, plus] - exact[:, minus], rtol=0, atol=1e-8)


def test_torch_never_flags_a_state_that_made_an_unproducible_species():
    """Found by the slow property run: S0 starts at 0 and nothing makes it from (0, 0.5), so
    the chemistry goes to (0, 0); Newton landed on (0.366, 0.268) and flagged it converged."""
    import warnings

    from nncrn import Reaction as R
    from nncrn import ReactionNetwork as Net
    from nncrn import ScipyODE as Scipy
    from nncrn import Species as S
    from nncrn import TorchODE as Torch
    from nncrn import steady_state as solve

    net = Net((S("S0", initial=0.0), S("S1", initial=0.5)),
              (R({"S0": 2}, {}, 0.5), R({"S0": 1}, {"S0": 2}, 0.5), R({"S0": 1}, {"S0": 1, "S1": 1}, 0.5),
               R({"S1": 1}, {}, 0.5), R({"S0": 1, "S1": 1}, {}, 0.5)))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for solver in (Torch(), Torch(steady_method="newton"), Scipy()):
            ss = solve(net, None, solver=solver, throw=False)
            if ss.converged[0]:
                assert abs(ss.concentrations[0, 0]) < 1e-9 and abs(ss.concentrations[0, 1]) < 1e-6


def _bistable(k_grow: float) -> ReactionNetwork:
    """Found by the slow property run: a stable interior state and a continuum ``(0, 0, S2)``
    that the trajectory from ``(0, 2, 2)`` reaches (S1 grows autocatalytically and is
    turned into S2, S0 decays)."""
    reactions = [("S0 -> 0", 0.5), ("2 S0 -> 0", 0.5), ("3 S0 -> 0", 0.5),
                 ("S1 + 2 S2 -> 0", 0.5), ("S1 -> 2 S1 + S0", k_grow),
                 ("2 S1 + S2 -> 3 S2", 3.0)]  # fmt: skip
    return ReactionNetwork([Species(f"S{i}") for i in range(3)],
                           [Reaction.parse(r, k) for r, k in reactions])  # fmt: skip


@pytest.mark.parametrize("k_grow", [1.0, 2.0])
def test_newton_does_not_jump_to_the_other_stable_state_of_a_bistable_network(k_grow):
    # Before the pseudo-time steps were error-controlled, TorchODE left the trajectory in
    # the transient and reported the stable interior state (0.185, 0.136, 0.816) (k_grow 1)
    # or (0.363, 0.192, 1.155) (k_grow 2) as converged; the chemistry reaches (0, 0, 2.442)
    # or (0, 0, 2.293), one point of a continuum, which is not converged.
    net = _bistable(k_grow)
    y0 = np.array([[0.0, 2.0, 2.0]])
    ss = steady_state(net, y0=y0, solver=TorchODE(), throw=False)
    long = integrate(net, None, [0.0, 1e3], y0=y0, solver=ScipyODE(rtol=1e-10, atol=1e-14))
    assert long.concentrations[0, -1, 1] < 1e-9  # the chemistry takes S1 to 0
    assert not ss.converged[0]
    assert ss.concentrations[0, 1] < 1e-6  # and so does the tracked iteration


@pytest.mark.parametrize("start", [[0.4, 0.3, 1.0], [0.0, 1.0, 1.0], [0.5, 0.5, 0.5]])
def test_a_start_in_the_interior_basin_converges_to_the_interior_state(start):
    net = _bistable(2.0)
    ss = steady_state(net, y0=np.array([start]), solver=TorchODE(), throw=False)
    assert ss.converged[0]
    # The interior steady state: dS2/dt = 6 S1^2 S2 - S1 S2^2 = 0 gives S2 = 6 S1, and
    # dS1/dt = 2 S1 - 0.5 S1 S2^2 - 6 S1^2 S2 = 0 then gives 54 S1^2 = 2, S1 = 1/(3 sqrt 3).
    s1 = 1.0 / (3.0 * np.sqrt(3.0))
    np.testing.assert_allclose(ss.concentrations[0, 1:], [s1, 6 * s1], rtol=1e-8)


def test_a_projection_onto_the_laws_does_not_stall_a_dual_rail_network():
    # A binary-weight breast_cancer 30-8-2 network (DualRail(rescale=True), QAT, seed 0 of
    # benchmarks/discrete) and 5 of its test inputs: projecting each Newton iterate back
    # onto the conserved totals spread the drift over every species of a law and moved
    # exact zeros (input rails at 0) to -4e-14; every step was rejected as negative and dt
    # shrank to 1e-17 with the residual at 8, so all 5 ended "not converged" after 10,000
    # steps (31 s). They now converge in about 20 steps, to the trajectory's end.
    data = Path(__file__).parent / "data"
    net = ReactionNetwork.load(data / "dual_rail_stuck_projection.json")
    x = np.array(json.loads((data / "dual_rail_stuck_projection_inputs.json").read_text()))
    ss = steady_state(net, x, solver=TorchODE(max_steps=500), throw=False)
    assert ss.converged.all()
    assert ss.n_steps.max() < 100
    long = integrate(net, x, [0.0, 1e4], solver=TorchODE())
    assert long.converged.all()
    np.testing.assert_allclose(ss.outputs, long.outputs[:, -1], atol=1e-7)


def test_an_eigenvalue_failure_is_not_converged_not_a_traceback():
    # Found by the slow property run: S1 grows without bound (0 -> S1, its only sink needs S2,
    # which decays), Newton stops at S1 ~ 1.7e10 with a residual within the relative
    # tolerance, and LAPACK's eigenvalue routine failed to converge on that Jacobian
    # (torch._C._LinAlgError escaped steady_state).
    net = _net([("S4 + S0 + S3 -> 0", 1.0), ("S2 + S1 -> S0 + S4", 0.5), ("S2 -> 0", 0.5),
                ("0 -> S1", 0.5), ("S0 -> 0", 0.5)], names=[f"S{i}" for i in range(5)])  # fmt: skip
    y0 = np.array([[0, 0, 0, 0, 0.0], [0, 0, 0.5, 0.5, 0]])
    ss = steady_state(net, y0=y0, solver=TorchODE(max_steps=400, num_threads=1), throw=False)
    assert not ss.converged.any()
    assert (ss.concentrations[:, 1] > 1e9).all()  # unbounded growth, reported as such


@pytest.mark.parametrize("shape", [(5, 0), (1, 3), (7, 9), (60, 17), (40, 2600)])
def test_items_are_grouped_by_support_as_numpy_unique_groups_them(shape):
    # The check that absent species stay at 0 runs once per distinct support; supports are
    # found on packed rows (~10x faster than np.unique(axis=0) at thousands of species).
    from nncrn.simulate._torch_ode import _supports

    rng = np.random.default_rng(shape[1])
    mask = rng.random(shape) > 0.5
    mask[::3] = mask[0]  # repeated supports
    supports, which = _supports(mask)
    assert np.array_equal(supports[which], mask)
    assert len(supports) == len(np.unique(mask, axis=0)) if shape[1] else len(supports) == 1
    assert len({row.tobytes() for row in supports}) == len(supports)  # each once
