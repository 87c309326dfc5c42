"""Deterministic solvers against closed forms: compiled networks and hand-written ones.

Every expected value here comes from mathematics, not from another run of the solver:
the layer-by-layer smoothed-ReLU forward pass, the exact Riccati solution of one neuron,
linear and dimerisation kinetics solved by hand.
"""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import ConvergenceError, ConvergenceWarning, InputError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import ScipyODE, TorchODE, integrate, settling_time, steady_state

from ._ajd import ajd_network, closed_form, layer_columns, random_ajd, sigma

SOLVERS = {
    "torch": TorchODE(),
    "scipy": ScipyODE(),
}

# depth 1-4, widths 1-64 (first entry = inputs)
ARCHITECTURES = [[3, 1], [5, 16, 4], [4, 64, 8, 2], [2, 8, 32, 8, 3], [1, 1, 1, 1, 1]]
EPS = [1e-3, 1e-2, 1.0]


def _start(kind: str, network: ReactionNetwork, batch: int, rng: np.random.Generator):
    n = network.n_species
    if kind == "zero":
        return np.zeros(n)
    if kind == "tiny":
        return np.full(n, 1e-12)
    if kind == "large":
        return np.full(n, 50.0)
    return rng.uniform(0.0, 5.0, (batch, n))


@pytest.mark.parametrize("method", ["auto", "newton"])
@pytest.mark.parametrize("start", ["zero", "tiny", "large", "random"])
@pytest.mark.parametrize("eps", EPS)
@pytest.mark.parametrize("widths", ARCHITECTURES, ids=lambda w: "-".join(map(str, w)))
def test_torch_steady_state_equals_forward_pass(widths, eps, start, method):
    """Both steady-state paths of TorchODE: the level sweep (auto) and pseudo-transient Newton."""
    rng = np.random.default_rng(len(widths) * 1000 + widths[1] + int(1 / eps))
    net, w, b = random_ajd(rng, widths, eps, scale=2.0)
    x = rng.uniform(0.0, 2.0, (24, widths[0]))
    solver = TorchODE(steady_method=method)
    ss = steady_state(net, x, y0=_start(start, net, len(x), rng), solver=solver)
    assert (ss.n_steps == 0).all() == (method == "auto")
    for layer, cols in zip(closed_form(w, b, eps, x), layer_columns(net, widths), strict=True):
        np.testing.assert_allclose(ss.concentrations[:, cols], layer, rtol=1e-8, atol=0)
    assert ss.converged.all()
    assert (ss.residual <= 1e-12 + 1e-10 * ss.concentrations.max(axis=1)).all()
    np.testing.assert_array_equal(ss.concentrations[:, : widths[0]], x)  # inputs untouched


@pytest.mark.parametrize("start", ["zero", "large", "random"])
@pytest.mark.parametrize(
    "widths, eps", [([3, 1], 1e-3), ([5, 16, 4], 1e-2), ([2, 8, 32, 8, 3], 1e-3), ([4, 6, 2], 1.0)]
)
def test_scipy_steady_state_equals_forward_pass(widths, eps, start):
    rng = np.random.default_rng(widths[1] + int(1 / eps))
    net, w, b = random_ajd(rng, widths, eps, scale=2.0)
    x = rng.uniform(0.0, 2.0, (3, widths[0]))
    ss = steady_state(net, x, y0=_start(start, net, len(x), rng), solver=ScipyODE())
    expected = closed_form(w, b, eps, x)[-1]
    np.testing.assert_allclose(ss.outputs, expected, rtol=1e-8, atol=0)
    assert ss.converged.all() and (ss.time > 0).all()


def test_xor_network_as_chemistry():
    w = [np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([[1.0, -2.0]])]
    b = [np.array([0.0, -1.0]), np.array([0.0])]
    net = ajd_network(w, b, 1e-3)
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    for solver in SOLVERS.values():
        out = steady_state(net, x, solver=solver).outputs[:, 0]
        np.testing.assert_allclose(out, closed_form(w, b, 1e-3, x)[-1][:, 0], rtol=1e-8)
        assert ((out > 0.5) == np.array([False, True, True, False])).all()
        assert out[[1, 2]].min() > 0.9 and out[[0, 3]].max() < 0.1


@pytest.mark.parametrize("solver", list(SOLVERS), ids=str)
@pytest.mark.parametrize("z, eps", [(1.5, 1e-3), (-0.7, 1e-2), (0.0, 1e-3), (3.0, 1.0)])
def test_single_neuron_relaxes_at_rate_sqrt_z2_plus_4eps(solver, z, eps):
    """``y' = eps + z y - y^2 = -(y - y+)(y - y-)`` so ``log|(y - y+)/(y - y-)|`` falls
    exactly linearly, with slope ``-(y+ - y-) = -sqrt(z^2 + 4 eps)``."""
    net = ajd_network([np.array([[1.0]])], [np.array([z - 1.0])], eps)  # z = x - 1 + z at x=1
    root = np.sqrt(z * z + 4 * eps)
    y_plus, y_minus = (z + root) / 2, (z - root) / 2
    t = np.linspace(0.0, 3.0 / root, 7)
    y0 = {"Y0": np.array([0.0, 4.0 * y_plus + 1.0])}  # from below and from above
    y = integrate(net, [[1.0], [1.0]], t, y0=y0, solver=SOLVERS[solver]).outputs[:, :, 0]
    g = np.log(np.abs((y - y_plus) / (y - y_minus)))
    slopes = np.diff(g, axis=1) / np.diff(t)
    np.testing.assert_allclose(slopes, -root, rtol=1e-3)
    assert (np.diff(y[0]) > 0).all() and (np.diff(y[1]) < 0).all()  # monotone
    assert (y >= 0).all()


def test_trajectories_non_negative_and_inputs_constant():
    rng = np.random.default_rng(3)
    net, w, b = random_ajd(rng, [4, 12, 6, 3], 1e-3, scale=3.0)
    x = rng.uniform(0.0, 2.0, (16, 4))
    t = np.concatenate(([0.0], np.logspace(-3, 3, 40)))
    tr = integrate(net, x, t)
    assert (tr.concentrations >= 0).all()
    np.testing.assert_array_equal(tr.concentrations[:, :, :4], np.repeat(x[:, None], t.size, 1))
    np.testing.assert_array_equal(tr.concentrations[:, 0, 4:], 0.0)  # t = 0 is the start
    np.testing.assert_allclose(tr.outputs[:, -1], closed_form(w, b, 1e-3, x)[-1], rtol=1e-6)


def test_torch_and_scipy_trajectories_agree():
    rng = np.random.default_rng(11)
    net, _, _ = random_ajd(rng, [3, 8, 2], 1e-2, scale=2.0)
    x = rng.uniform(0.0, 2.0, (4, 3))
    t = np.array([0.0, 0.1, 1.0, 5.0, 20.0, 100.0])
    a = integrate(net, x, t).concentrations
    c = integrate(net, x, t, solver=ScipyODE(rtol=1e-10, atol=1e-13)).concentrations
    np.testing.assert_allclose(a, c, rtol=1e-6, atol=1e-10)


# ---------------------------------------------------------------------- eps = 0 controls
def test_eps_zero_decays_like_one_over_t_at_z_zero():
    net = ajd_network([np.array([[1.0]])], [np.array([-1.0])], 0.0)  # z = x - 1 = 0 at x = 1
    t = np.array([0.0, 1.0, 10.0, 100.0, 1000.0])
    for solver in SOLVERS.values():
        y = integrate(net, [[1.0]], t, y0={"Y0": 2.0}, solver=solver).outputs[0, :, 0]
        np.testing.assert_allclose(y, 2.0 / (1.0 + 2.0 * t), rtol=1e-6)  # y' = -y^2
        assert abs(y[-1] * t[-1] - 1.0) < 1e-3  # 1/t, not exponential


def test_eps_zero_neuron_started_at_zero_stays_at_zero():
    net = ajd_network([np.array([[1.0]])], [np.array([0.5])], 0.0)  # z = 1.5 > 0
    for solver in SOLVERS.values():
        tr = integrate(net, [[1.0]], [0.0, 10.0, 1000.0], y0={"Y0": 0.0}, solver=solver)
        np.testing.assert_array_equal(tr.outputs[0, :, 0], 0.0)
        ss = steady_state(net, [[1.0]], y0={"Y0": 0.0}, solver=solver)
        assert ss.outputs[0, 0] == 0.0 and ss.converged.all()  # the unstable fixed point
        # the slightest seed grows to relu(z) = 1.5
        seeded = steady_state(net, [[1.0]], y0={"Y0": 1e-9}, solver=solver)
        np.testing.assert_allclose(seeded.outputs[0, 0], 1.5, rtol=1e-8)


# ---------------------------------------------------------------------- general networks
def _net(species, reactions) -> ReactionNetwork:
    return ReactionNetwork(
        [Species(n, r) for n, r in species], [Reaction.parse(t, k) for t, k in reactions]
    )


@pytest.mark.parametrize("solver", list(SOLVERS), ids=str)
def test_conservation_law_isomerisation(solver):
    """``A -> B`` (k1), ``B -> A`` (k2): ``a(t) = T k2/(k1+k2) + (a0 - T k2/(k1+k2)) e^{-(k1+k2) t}``."""
    net = _net([("A", "auxiliary"), ("B", "auxiliary")], [("A -> B", 2.0), ("B -> A", 0.5)])
    y0 = np.array([[3.0, 1.0], [0.0, 2.0]])
    total = y0.sum(axis=1)
    ss = steady_state(net, None, y0=y0, solver=SOLVERS[solver])
    np.testing.assert_allclose(ss.concentration("A"), total * 0.5 / 2.5, rtol=1e-9)
    np.testing.assert_allclose(ss.concentrations.sum(axis=1), total, rtol=1e-12)
    t = np.array([0.0, 0.3, 1.0, 4.0])
    a = integrate(net, None, t, y0=y0, solver=SOLVERS[solver]).concentrations[:, :, 0]
    a_inf = (total * 0.2)[:, None]
    np.testing.assert_allclose(a, a_inf + (y0[:, :1] - a_inf) * np.exp(-2.5 * t), rtol=1e-6)


@pytest.mark.parametrize("solver", list(SOLVERS), ids=str)
def test_dimerisation_with_inflow(solver):
    """``0 -> Y`` (k1), ``2Y -> Y`` (k2): ``y' = k1 - k2 y^2`` (no factorial), ``y* = sqrt(k1/k2)``,
    ``y(t) = y* tanh(sqrt(k1 k2) t)`` from 0."""
    k1, k2 = 3.0, 0.75
    net = _net([("Y", "output")], [("0 -> Y", k1), ("2 Y -> Y", k2)])
    ss = steady_state(net, None, solver=SOLVERS[solver])
    np.testing.assert_allclose(ss.outputs[0, 0], 2.0, rtol=1e-9)
    t = np.array([0.0, 0.1, 0.5, 1.0, 2.0])
    y = integrate(net, None, t, solver=SOLVERS[solver]).outputs[0, :, 0]
    np.testing.assert_allclose(y, 2.0 * np.tanh(np.sqrt(k1 * k2) * t), rtol=1e-6)


def test_cycle_with_bimolecular_step():
    """Not feed-forward: a cycle A -> B -> C -> A driven by the bimolecular ``A + B -> 2B``.

    By hand: ``B' = B (A - 0.8)`` gives ``A* = 0.8``; ``C' = 0.7 B - 0.4 C`` gives
    ``C* = 1.75 B*``; total mass ``(A+B+C)' = 0.1 - 0.05 A - 0.1 B`` gives ``B* = 0.6``.
    """
    net = _net(
        [("A", "auxiliary"), ("B", "auxiliary"), ("C", "auxiliary")],
        [("A + B -> 2 B", 1.0), ("B -> C", 0.7), ("C -> A", 0.4), ("0 -> A", 0.1),
         ("A -> 0", 0.05), ("B -> 0", 0.1)],
    )  # fmt: skip
    y0 = np.array([[1.0, 0.1, 0.0], [0.2, 2.0, 1.0]])
    for solver in SOLVERS.values():
        ss = steady_state(net, None, y0=y0, solver=solver)
        np.testing.assert_allclose(ss.concentrations, [[0.8, 0.6, 1.05]] * 2, rtol=1e-8)


# ---------------------------------------------------------------------- settling time
def test_settling_time_of_one_neuron_matches_riccati_solution():
    z, eps = 1.0, 1e-3
    net = ajd_network([np.array([[1.0]])], [np.array([z - 1.0])], eps)
    root = np.sqrt(z * z + 4 * eps)
    y_plus, y_minus = (z + root) / 2, (z - root) / 2
    # from y0 = 0: (y - y+)/(y - y-) = (y+/y-) e^{-root t}; solve |y - y+| = 0.01 y+
    y = 0.99 * y_plus
    exact = np.log(np.abs((y_plus / y_minus) * (y - y_minus) / (y - y_plus))) / root
    t = settling_time(net, [[1.0]], rtol=0.01, atol=0.0)[0]
    # the crossing is interpolated inside the grid interval (12% wide): within 0.1%
    assert t == pytest.approx(exact, rel=1e-3)


def test_settling_time_is_interpolated_not_a_grid_point():
    """A linear relaxation ``A -> 1`` at rate 1 enters the 1% band at exactly ln(100)."""
    from nncrn import Reaction, ReactionNetwork, Species

    net = ReactionNetwork((Species("A", "output"),),
                          (Reaction({}, {"A": 1}, 1.0), Reaction({"A": 1}, {}, 1.0)))  # fmt: skip
    t = settling_time(net, None, rtol=0.01, atol=0.0)
    grid = 1e4 * np.logspace(-7, 0, 141)
    assert t[0] == pytest.approx(np.log(100.0), rel=1e-4)
    assert np.abs(grid - t[0]).min() > 1e-3  # not snapped to the sampling grid


# ---------------------------------------------------------------------- failures and bad input
def test_blow_up_is_flagged_not_returned_as_a_steady_state():
    net = _net([("X", "output")], [("0 -> X", 1.0), ("X -> 2 X", 1.0)])
    with pytest.raises(ConvergenceError, match=r"did not reach steady state.*max_steps"):
        steady_state(net, None, solver=TorchODE(max_steps=200))
    with pytest.warns(ConvergenceWarning, match="1 of 1 batch items"):
        ss = steady_state(net, None, solver=TorchODE(max_steps=200), throw=False)
    assert not ss.converged[0] and ss.residual[0] > 1.0


def test_step_budget_is_per_item_and_flags_only_the_slow_ones():
    net = ajd_network([np.array([[1.0]])], [np.array([0.0])], 1e-3)
    with pytest.warns(ConvergenceWarning, match="1 of 2"):
        ss = steady_state(
            net, [[1.0], [1.0]], y0=np.array([[1.0, sigma(1.0, 1e-3)], [1.0, 1e6]]),
            solver=TorchODE(max_steps=4, steady_method="newton"), throw=False,
        )  # fmt: skip
    np.testing.assert_array_equal(ss.converged, [True, False])


@pytest.mark.parametrize(
    "inputs, match",
    [
        ([[-0.5]], r"must be >= 0"),
        ([[np.nan]], r"nan"),
        ([[1.0, 2.0]], r"2 columns|width|n_inputs|expected"),
        ([[[1.0]]], r"shape|rank|2-D|dimension"),
    ],
)
def test_bad_inputs_rejected_before_simulating(inputs, match):
    net = ajd_network([np.array([[1.0]])], [np.array([0.0])], 1e-3)
    with pytest.raises(InputError, match=match):
        steady_state(net, inputs)
    with pytest.raises(InputError, match=match):
        integrate(net, inputs, [0.0, 1.0])


def test_input_outside_declared_range_names_feature_value_and_range():
    net = ajd_network([np.array([[1.0]])], [np.array([0.0])], 1e-3)
    species = [
        Species(s.name, s.role, input_range=(0.0, 2.0)) if s.name == "X0" else s
        for s in net.species
    ]
    ranged = ReactionNetwork(species, net.reactions)
    with pytest.raises(InputError, match=r"X0.*3\.5.*\[0(\.0)?, 2(\.0)?\]|X0.*3\.5.*range"):
        steady_state(ranged, [[3.5]])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"solver": "torch"}, "solver objects?"),
        ({"atol": -1.0}, "atol"),
        ({"atol": 0.0, "rtol": 0.0}, "atol > 0 or rtol > 0"),
    ],
)
def test_bad_steady_state_options(kwargs, match):
    net = ajd_network([np.array([[1.0]])], [np.array([0.0])], 1e-3)
    with pytest.raises(InputError, match=match):
        steady_state(net, [[1.0]], **kwargs)


@pytest.mark.parametrize(
    "t_eval, match",
    [([1.0, 0.5], "strictly increasing"), ([-1.0, 1.0], ">= 0"), ([], "non-empty"),
     ([0.0, np.inf], "finite")],
)  # fmt: skip
def test_bad_output_times(t_eval, match):
    net = ajd_network([np.array([[1.0]])], [np.array([0.0])], 1e-3)
    with pytest.raises(InputError, match=match):
        integrate(net, [[1.0]], t_eval)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: TorchODE(rtol=0.0), "rtol"),
        (lambda: TorchODE(max_steps=0), "max_steps"),
        (lambda: TorchODE(dtype="float16"), "float16"),
        (lambda: TorchODE(steady_method="bdf"), r"steady_method='bdf'.*'newton'"),
        (lambda: ScipyODE(method="RK45"), "RK45"),
        (lambda: ScipyODE(t_max=np.inf), "t_max"),
    ],
)
def test_bad_solver_settings(make, match):
    with pytest.raises(InputError, match=match):
        make()


def test_sigma_helper_is_the_positive_root():
    z = np.linspace(-5, 5, 11)
    s = sigma(z, 1e-3)
    np.testing.assert_allclose(s * s - z * s - 1e-3, 0.0, atol=1e-14)


@pytest.mark.parametrize("solver", list(SOLVERS), ids=str)
def test_times_a_blown_up_item_never_reached_hold_nan(solver):
    # dA/dt = A^2 from A = 1 blows up at t = 1: t = 0.5 is reached (A = 2), t = 2 is not.
    net = ReactionNetwork(
        [Species("A", "auxiliary", 1.0), Species("K", "auxiliary", 3.0)],
        [Reaction.parse("2 A -> 3 A", 1.0), Reaction.parse("K -> K", 1.0)],
    )
    tr = integrate(net, None, [0.0, 0.5, 2.0], solver=SOLVERS[solver], throw=False)
    assert not tr.converged[0]
    np.testing.assert_allclose(tr.concentrations[0, :2, 0], [1.0, 2.0], rtol=1e-5)
    assert tr.concentrations[0, 1, 1] == 3.0  # the constant K, where the state is known
    assert np.isnan(tr.concentrations[0, 2]).all()


@pytest.mark.parametrize(
    "kwargs", [{"max_steps": 1.5}, {"max_steps": "a"}, {"rtol": "a"}, {"atol": True},
               {"chunk_size": 0}, {"num_threads": 2.5}],
)  # fmt: skip
def test_torch_settings_are_validated(kwargs):
    name = next(iter(kwargs))
    with pytest.raises(InputError, match=rf"TorchODE\({name}="):
        TorchODE(**kwargs)
    assert TorchODE(max_steps=1e4).max_steps == 10_000


def test_settling_time_reads_a_given_trajectory_like_its_own():
    from nncrn import Reaction, ReactionNetwork, Species, integrate

    net = ReactionNetwork((Species("A", "output"),),
                          (Reaction({}, {"A": 1}, 1.0), Reaction({"A": 1}, {}, 1.0)))  # fmt: skip
    grid = np.concatenate(([0.0], np.geomspace(1e-3, 100.0, 200)))
    traj = integrate(net, None, grid)
    for band in (0.1, 0.01):
        t = settling_time(net, None, rtol=band, atol=0.0, trajectory=traj)
        assert t[0] == pytest.approx(np.log(1 / band), rel=1e-3)
    with pytest.raises(InputError, match="start at 0"):
        settling_time(net, None, trajectory=integrate(net, None, [1.0, 2.0]))
