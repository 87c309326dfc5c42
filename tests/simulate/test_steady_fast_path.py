"""The steady-state fast path: inputs straight into the coefficients, the fused residual.

``steady_state(net, x)`` with ``y0=None`` and a :class:`TorchODE` never forms the numpy
initial state on a network whose coefficients come from the inputs alone; its answers must
be those of the general path (``y0`` given), its boundary checks the same, and every item
it flags converged must meet the criterion with the right-hand side computed independently
(numpy mass action on the full state).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn._activations import quadratic_root
from nncrn.compile import SmoothReLUScheme, compile_network
from nncrn.data import build_mlp
from nncrn.network import Reaction, ReactionNetwork, Species, initial_state
from nncrn.simulate import TorchODE, fixed_point, steady_state
from nncrn.simulate._massaction import reaction_rates, rhs
from nncrn.simulate._ptc import SteadyOutcome
from nncrn.simulate._sweep import _quadratic_root_into, sweep_steady_state

from ._ajd import random_ajd

SOLVER = TorchODE(device="cpu")


def _compiled(sizes, seed=0, **kwargs) -> ReactionNetwork:
    return compile_network(build_mlp(sizes, seed=seed), scheme=SmoothReLUScheme(1e-3), **kwargs)


def _general(net, x, solver=SOLVER, atol=1e-12, rtol=1e-10):
    """The general path: the full initial state handed to the solver."""
    return solver.steady_state(net, initial_state(net, x), atol, rtol)


def _meets_criterion(net, ss, atol=1e-12, rtol=1e-10) -> np.ndarray:
    y = ss.concentrations
    dyn = net.stoichiometry.dynamic
    f = rhs(net.stoichiometry, y)[:, dyn]
    return np.abs(f).max(1) <= atol + rtol * np.abs(y[:, dyn]).max(1)


def _same(a, b, rtol=1e-14):
    np.testing.assert_allclose(a.concentrations, b.concentrations, rtol=rtol, atol=1e-15)
    np.testing.assert_array_equal(a.converged, b.converged)
    np.testing.assert_array_equal(a.n_steps, b.n_steps)
    np.testing.assert_allclose(a.residual, b.residual, rtol=0, atol=1e-13)


@pytest.mark.parametrize("sizes", [[5, 8, 3], [6, 7, 5, 2]])
def test_direct_path_matches_the_general_path_and_the_closed_form(sizes):
    net = _compiled(sizes)
    assert SOLVER._direct(net)
    x = np.random.default_rng(1).uniform(0.0, 2.0, (40, sizes[0]))
    x[0] = 0.0  # an all-zero input row
    fast = steady_state(net, x, solver=SOLVER)
    _same(fast, _general(net, x))
    _same(fast, steady_state(net, x, y0=initial_state(net, x), solver=SOLVER))
    np.testing.assert_allclose(fast.outputs, fixed_point(net, x).outputs, rtol=1e-12, atol=1e-14)
    assert fast.converged.all() and _meets_criterion(net, fast).all()
    assert fast.concentrations.flags.writeable and not np.shares_memory(fast.concentrations, x)


def test_direct_path_honours_input_ranges_and_leaves_the_inputs_alone():
    net = _compiled([3, 4, 2], input_range=(-1.0, 1.0))
    x = np.random.default_rng(2).uniform(-1.0, 1.0, (10, 3))
    keep = x.copy()
    fast = steady_state(net, x, solver=SOLVER)
    np.testing.assert_array_equal(x, keep)
    _same(fast, _general(net, x))
    np.testing.assert_allclose(fast.concentrations[:, :3], x + 1.0, rtol=0, atol=0)


def test_read_only_inputs_are_accepted_without_a_warning():
    net = _compiled([2, 3, 2])
    x = np.array([[0.1, 0.7], [1.5, 0.0]])
    x.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ss = steady_state(net, x, solver=SOLVER)
    x2 = x.copy()
    np.testing.assert_array_equal(
        ss.concentrations, steady_state(net, x2, solver=SOLVER).concentrations
    )


def test_mapping_and_list_inputs_give_the_array_answer():
    net = _compiled([2, 3, 2])
    x = np.array([[0.1, 0.7], [1.5, 0.0]])
    a = steady_state(net, x, solver=SOLVER)
    b = steady_state(net, x.tolist(), solver=SOLVER)
    c = steady_state(net, {"X0": x[:, 0], "X1": x[:, 1]}, solver=SOLVER)
    np.testing.assert_array_equal(a.concentrations, b.concentrations)
    np.testing.assert_array_equal(a.concentrations, c.concentrations)


@pytest.mark.parametrize(
    "bad",
    [
        [[0.5, -0.1]],  # negative concentration
        [[np.nan, 0.1]],
        [[0.1, np.inf]],
        [[-np.inf, 0.1]],
        [0.5, 0.1],  # wrong rank
        [[0.5, 0.1, 0.2]],  # wrong width
        np.zeros((0, 2)),  # empty batch
        [["a", "b"]],  # text
    ],
)
def test_bad_inputs_are_rejected_with_the_boundary_message(bad):
    net = _compiled([2, 3, 2])
    with pytest.raises(InputError) as general:
        initial_state(net, bad)
    with pytest.raises(InputError) as fast:
        steady_state(net, bad, solver=SOLVER)
    assert str(fast.value) == str(general.value)


def test_out_of_range_inputs_are_rejected_with_the_boundary_message():
    net = _compiled([2, 3, 2], input_range=(0.0, 1.0))
    for bad in ([[0.5, 1.5]], [[-0.5, 0.5]]):
        with pytest.raises(InputError) as general:
            initial_state(net, bad)
        with pytest.raises(InputError, match="outside its declared input_range") as fast:
            steady_state(net, bad, solver=SOLVER)
        assert str(fast.value) == str(general.value)


def test_networks_without_the_direct_form_take_the_general_path():
    """A product of two inputs (not ``W x + b``), a dual-rail network (completion) and the
    Newton cross-check still answer from the full initial state."""
    net = ReactionNetwork(
        [Species("X1", "input"), Species("X2", "input"), Species("Y", "output")],
        [Reaction.parse("X1 + X2 -> X1 + X2 + Y", 1.0), Reaction.parse("2 Y -> Y", 1.0),
         Reaction.parse("0 -> Y", 1e-3)],
    )  # fmt: skip
    assert not SOLVER._direct(net)
    x = np.array([[2.0, 3.0], [0.0, 1.0]])
    ss = steady_state(net, x, solver=SOLVER)
    z = x[:, 0] * x[:, 1]
    np.testing.assert_allclose(ss.concentration("Y"), np.sqrt(1e-3 + z), rtol=1e-13)
    newton = TorchODE(device="cpu", steady_method="newton")
    compiled = _compiled([3, 4, 2])
    assert not newton._direct(compiled)
    xc = np.random.default_rng(3).uniform(0, 1, (6, 3))
    _same(steady_state(compiled, xc, solver=newton), _general(compiled, xc, newton))


@pytest.mark.parametrize("seed", range(4))
def test_flagged_items_meet_the_criterion_with_the_full_right_hand_side(seed):
    """Random compiled networks, inputs up to 1e2: whichever path answered an item, numpy's
    mass-action RHS on the returned state meets the criterion (roundoff is far below it)."""
    rng = np.random.default_rng(seed)
    net, _, _ = random_ajd(rng, [4, 9, 6, 3], 1e-3, scale=3.0)
    x = 10.0 ** rng.uniform(-3, 2, (64, 4))
    ss = steady_state(net, x, solver=SOLVER, throw=False)
    assert ss.converged.all() and _meets_criterion(net, ss).all()


@pytest.mark.parametrize("seed", range(4))
def test_flagged_items_meet_the_criterion_up_to_roundoff_where_roundoff_matters(seed):
    """Inputs up to 1e6: terms of the rate laws reach ~1e12 and the criterion ~1e-4, so any
    evaluation of the RHS is off by ~1e-4 (the general path's term-by-term sum too, which
    this test's numpy check exceeded by up to 21x before the fast path existed). Some items
    fail the sweep's check and go to Newton; a converged item's numpy RHS must meet the
    criterion within the roundoff of its largest reaction rate."""
    rng = np.random.default_rng(seed)
    net, _, _ = random_ajd(rng, [4, 9, 6, 3], 1e-3, scale=3.0)
    x = 10.0 ** rng.uniform(-3, 6, (64, 4))
    with pytest.warns(UserWarning):  # a few items are refused: the point of the test
        ss = steady_state(net, x, solver=SOLVER, throw=False)
    assert ss.converged.mean() > 0.5 and (ss.n_steps[ss.converged] > 0).any()
    y, dyn = ss.concentrations, net.stoichiometry.dynamic
    f = np.abs(rhs(net.stoichiometry, y)[:, dyn]).max(1)
    tol = 1e-12 + 1e-10 * np.abs(y[:, dyn]).max(1)
    roundoff = 64 * np.finfo(float).eps * reaction_rates(net.stoichiometry, y).max(1)
    assert (f <= tol + roundoff)[ss.converged].all()


@pytest.mark.parametrize("seed", range(3))
def test_fused_residual_is_the_right_hand_side(seed):
    """The sweep's residual (each level's polynomial at its root) against ``k.rhs`` on the
    swept state: equal up to roundoff of the largest term."""
    rng = np.random.default_rng(10 + seed)
    net, _, _ = random_ajd(rng, [3, 6, 5, 2], 1e-2, scale=2.0)
    x = rng.uniform(0.0, 3.0, (32, 3))
    _, k = SOLVER._setup(net)
    y_full = torch.as_tensor(initial_state(net, x))
    out = sweep_steady_state(
        k, k.coefficients_ext(y_full), atol=1e-12, rtol=1e-10,
        start=lambda rows: y_full[rows], fallback=pytest.fail,
    )  # fmt: skip
    y = out.y.contiguous()
    full = k.rhs(k.coefficients(y_full), y).abs().amax(1)
    scale = float(y.abs().max()) ** 2 + 1.0
    assert torch.allclose(out.residual, full, rtol=0, atol=64 * 2.2e-16 * scale)


def test_quadratic_fast_form_equals_the_library_root():
    f64 = {"dtype": torch.float64}
    c1 = torch.tensor([[0.0, 1e-9, -1e-9, 3.0, -3.0, 1e4, -1e4, 1e150, -1e150, 0.5]], **f64)
    c0, c2 = torch.tensor([[1e-3]], **f64), torch.tensor([[-1.0]], **f64)
    got = _quadratic_root_into(c0, c1, c2, torch.empty_like(c1))
    assert torch.equal(got, quadratic_root(c0.expand_as(c1), c1, c2.expand_as(c1)))
    # z = -0.0: the positive root sqrt(eps), where the library's sign test picks -sqrt(eps)
    neg = _quadratic_root_into(c0, torch.tensor([[-0.0]], **f64), c2, torch.empty(1, 1, **f64))
    assert float(neg) == pytest.approx(np.sqrt(1e-3), rel=1e-15)


def test_newton_starts_from_the_sweep_only_where_every_root_was_certified():
    """Items refused by the residual alone restart Newton from the sweep's state; items with
    an uncertified species (two sign changes: bistable) restart from their own start."""
    net = ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [Reaction.parse(t, r) for t, r in
         [("0 -> Y", 1.0), ("Y -> 0", 3.5), ("X + 2 Y -> X + 3 Y", 1.0), ("3 Y -> 2 Y", 1.0)]],
    )  # fmt: skip
    x = np.array([[0.0], [3.5]])  # certified (one sign change) / bistable
    y0 = np.array([[0.0, 0.7], [0.0, 3.0]])
    _, k = SOLVER._setup(net)
    y_full = torch.as_tensor(initial_state(net, x, y0))
    seen = {}

    def fallback(start):
        seen["start"] = start.clone()
        n = start.shape[0]
        return SteadyOutcome(
            start[:, k.dynamic], torch.zeros(n, dtype=torch.bool), torch.zeros(n, dtype=start.dtype),
            torch.zeros(n, dtype=start.dtype), torch.zeros(n, dtype=torch.long), 0,
        )  # fmt: skip

    # a tolerance nothing meets: both items go to the fallback
    out = sweep_steady_state(
        k, k.coefficients_ext(y_full), atol=0.0, rtol=0.0, start=lambda r: y_full[r],
        fallback=fallback,
    )  # fmt: skip
    root = next(r.real for r in np.roots([-1.0, 0.0, -3.5, 1.0]) if abs(r.imag) < 1e-9)
    start = seen["start"].numpy()
    assert start[0, 1] == pytest.approx(root, rel=1e-13)  # the sweep's state
    assert start[1, 1] == 3.0  # its own start
    assert not out.converged.any()
