"""TorchODE's level sweep for steady states of triangular networks, and when it declines.

Expected values are closed forms (roots written down by hand, numpy's polynomial roots)
or long trajectories, never another run of the sweep. Declined items must go to Newton
and still be right.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn._activations import positive_root
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import TorchODE, fixed_point, integrate, steady_state

from ._ajd import random_ajd

SWEEP, NEWTON = TorchODE(), TorchODE(steady_method="newton")


def _roots(coefs):
    c = torch.tensor(np.asarray(coefs, dtype=np.float64).T[:, :, None])
    root, ok = positive_root(c)
    return root[:, 0].numpy(), ok[:, 0].numpy()


# ---------------------------------------------------------------------- the scalar root
@pytest.mark.parametrize(
    "coefs",
    [
        [2.0, -4.0],  # 2 - 4y
        [1e-3, 3.0, -1.0],  # smoothed ReLU, z = 3
        [1e-3, -30.0, -1.0],  # z = -30: root ~ eps / 30, no cancellation allowed
        [5.0, -1.0, 0.0],  # quadratic term absent for this item
        [1.0, 0.0, -4.0],
        [1.0, 2.0, 0.5, -3.0],  # cubic, (+ + + -)
        [0.5, -1.0, -2.0, -1.0, -0.25],  # quartic, (+ - - - -)
        [3.0, 0.0, 0.0, 0.0, 0.0, -1.0],  # y^5 = 3
    ],
)
def test_positive_root_is_the_unique_positive_root(coefs):
    root, ok = _roots([coefs])
    expected = [r.real for r in np.roots(coefs[::-1]) if abs(r.imag) < 1e-12 and r.real > 0]
    assert ok[0] and len(expected) == 1
    np.testing.assert_allclose(root[0], expected[0], rtol=1e-13)
    assert abs(np.polyval(coefs[::-1], root[0])) <= 1e-12 * max(map(abs, coefs))


def test_tiny_root_has_full_relative_accuracy():
    root, ok = _roots([[1e-3, -1e4, -1.0]])
    assert ok[0]
    np.testing.assert_allclose(root[0], 2e-3 / (1e4 + np.sqrt(1e8 + 4e-3)), rtol=1e-15)


@pytest.mark.parametrize(
    "coefs, why",
    [
        ([0.0, 1.0, -1.0], "zero constant term: 0 is also a steady state"),
        ([0.0, -1.0], "zero constant term: decays to 0, value depends on the transient"),
        ([1.0, 2.0], "no sign change: grows without bound"),
        ([1.0, 0.0, 1.0], "no sign change"),
        ([1.0, -3.0, 1.0], "two sign changes: two positive roots"),
        ([-1.0, 3.0, -1.0], "negative constant term"),
        ([1.0, -3.0, 3.0, -1.0], "three sign changes (bistable cubic)"),
        ([0.0, 0.0, 0.0], "nothing at all"),
    ],
)
def test_positive_root_declines_ambiguous_polynomials(coefs, why):
    _, ok = _roots([coefs])
    assert not ok[0], why


def test_positive_root_decides_per_element():
    # One array: the first item is certified, the second (two sign changes) is not.
    root, ok = _roots([[1.0, 2.0, -1.0], [1.0, -3.0, 1.0]])
    np.testing.assert_array_equal(ok, [True, False])
    np.testing.assert_allclose(root[0], 1 + np.sqrt(2), rtol=1e-15)


# ---------------------------------------------------------------------- networks
def _net(species, reactions) -> ReactionNetwork:
    return ReactionNetwork(
        [Species(n, r) for n, r in species], [Reaction.parse(t, k) for t, k in reactions]
    )


def test_sweep_matches_closed_form_and_newton_on_compiled_networks():
    rng = np.random.default_rng(3)
    net, _, _ = random_ajd(rng, [6, 40, 20, 5], 1e-3, scale=2.0)
    x = rng.uniform(0.0, 2.0, (200, 6))
    swept = steady_state(net, x, solver=SWEEP)
    newton = steady_state(net, x, solver=NEWTON)
    exact = fixed_point(net, x).concentrations
    np.testing.assert_allclose(swept.concentrations, exact, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(newton.concentrations, exact, rtol=1e-9, atol=1e-14)
    assert (swept.n_steps == 0).all() and np.isinf(swept.time).all() and swept.n_rhs == 1
    assert (newton.n_steps > 0).all()
    # roundoff only: a few ulps of the largest term of the right-hand side (the saturation
    # y^2, ~174 here), however the kernel orders its multiply-adds
    assert swept.residual.max() < 16 * np.finfo(float).eps * (swept.concentrations**2).max()


def test_sweep_handles_higher_orders_and_products_of_upstream_species():
    """``A' = x - A^3`` (cubic), ``B' = 1 + 2 x A B - B^2 - A^2 B`` (products, per-item terms).

    ``A* = x^(1/3)``; ``B*`` is the positive root of ``1 + (2 x A* - A*^2) B - B^2``.
    """
    net = _net(
        [("X", "input"), ("A", "hidden"), ("B", "output")],
        [
            ("X -> X + A", 1.0),
            ("3 A -> 2 A", 1.0),
            ("0 -> B", 1.0),
            ("X + A + B -> X + A + 2 B", 2.0),
            ("2 B -> B", 1.0),
            ("2 A + B -> 2 A", 1.0),
        ],
    )
    x = np.array([[0.5], [1.0], [8.0], [27.0]])
    ss = steady_state(net, x, y0=np.zeros((4, 3)) + np.array([0.0, 0.0, 5.0]), solver=SWEEP)
    a = np.cbrt(x[:, 0])
    z = 2 * x[:, 0] * a - a**2
    b = (z + np.sqrt(z**2 + 4)) / 2
    np.testing.assert_allclose(ss.concentration("A"), a, rtol=1e-13)
    np.testing.assert_allclose(ss.concentration("B"), b, rtol=1e-12)
    assert (ss.n_steps == 0).all()


def test_declined_items_go_to_newton_and_follow_the_trajectory():
    """``Y' = 1 - 3.5 Y + x Y^2 - Y^3`` (x an input catalyst).

    ``x = 0``: one sign change, a unique root, swept. ``x = 3.5``: ``-(Y - 0.5)(Y - 1)(Y - 2)``,
    stable roots 0.5 and 2, so the answer depends on the start: the sweep must decline and
    Newton must land where the ODE does.
    """
    net = _net(
        [("X", "input"), ("Y", "output")],
        [
            ("0 -> Y", 1.0),
            ("Y -> 0", 3.5),
            ("X + 2 Y -> X + 3 Y", 1.0),
            ("3 Y -> 2 Y", 1.0),
        ],
    )
    x = np.array([[0.0], [3.5], [3.5]])
    y0 = np.array([[0.0, 0.0], [0.0, 0.2], [0.0, 3.0]])
    ss = steady_state(net, x, y0=y0, solver=SWEEP)
    np.testing.assert_allclose(ss.concentration("Y")[1:], [0.5, 2.0], rtol=1e-9)
    only = [r.real for r in np.roots([-1.0, 0.0, -3.5, 1.0]) if abs(r.imag) < 1e-9]
    np.testing.assert_allclose(ss.concentration("Y")[0], only[0], rtol=1e-13)
    long = integrate(net, x, [0.0, 500.0], y0=y0).concentrations[:, -1, 1]
    np.testing.assert_allclose(ss.concentration("Y"), long, rtol=1e-6)
    assert ss.n_steps[0] == 0 and (ss.n_steps[1:] > 0).all()  # swept, Newton, Newton
    assert ss.converged.all()


def test_transient_dependent_limits_are_not_swept():
    """``A -> B, B -> C``: a DAG, but ``C*`` = ``A0 + B0 + C0`` depends on the start, not on a
    root. The level sweep cannot answer it; the reactions run to completion, so the
    completion path fires them in order (no Newton step), and Newton agrees."""
    net = _net([("A", "hidden"), ("B", "hidden"), ("C", "output")],
               [("A -> B", 2.0), ("B -> C", 0.5)])  # fmt: skip
    y0 = np.array([[3.0, 1.0, 0.0], [0.5, 0.0, 2.0]])
    assert SWEEP.steady_path(net) == "completion"
    ss = steady_state(net, None, y0=y0, solver=SWEEP)
    np.testing.assert_array_equal(ss.concentrations, [[0.0, 0.0, 4.0], [0.0, 0.0, 2.5]])
    assert (ss.n_steps == 0).all()
    newton = steady_state(net, None, y0=y0, solver=TorchODE(steady_method="newton"))
    np.testing.assert_allclose(newton.concentrations, ss.concentrations, atol=1e-9)
    assert (newton.n_steps > 0).all()


def test_unbounded_growth_is_still_flagged():
    net = _net([("X", "input"), ("Y", "output")], [("X -> X + Y", 1.0), ("Y -> 2 Y", 1.0)])
    with pytest.warns(UserWarning, match="1 of 1"):
        ss = steady_state(net, [[1.0]], solver=TorchODE(max_steps=50), throw=False)
    assert not ss.converged[0]


def test_prepared_structures_follow_the_network_not_its_address():
    """A freed network's address can be reused by a new one: the cache must not hand it over.

    The reuse is staged: the entry under the new network's id holds another network's
    structures, as it would after the old network died and the new one took its address.
    """
    import weakref

    import nncrn.simulate._torch_ode as tode

    rng = np.random.default_rng(11)
    x = rng.uniform(0.0, 1.0, (8, 3))
    old, _, _ = random_ajd(rng, [3, 5, 2], 1e-2, scale=2.0)
    new, _, _ = random_ajd(rng, [3, 5, 2], 1e-2, scale=2.0)  # same shape, other rates
    SWEEP.prepare(old)
    stale = tode._PREPARED[id(old)][1]
    tode._PREPARED[id(new)] = (weakref.ref(old), stale)
    got = steady_state(new, x, solver=SWEEP).concentrations
    np.testing.assert_allclose(got, fixed_point(new, x).concentrations, rtol=1e-12)
    assert tode._PREPARED[id(new)][1] is not stale
    assert not np.allclose(got, fixed_point(old, x).concentrations)


def test_steady_path_reports_the_route():
    rng = np.random.default_rng(2)
    net, _, _ = random_ajd(rng, [2, 3, 1], 1e-2)
    cycle = _net([("A", "hidden"), ("B", "output")], [("A -> B", 2.0), ("B -> A", 1.0)])
    assert SWEEP.steady_path(net) == "sweep" and NEWTON.steady_path(net) == "newton"
    assert SWEEP.steady_path(cycle) == "newton"


def test_network_without_dynamic_species_is_its_own_steady_state():
    net = _net([("X", "input"), ("Y", "output")], [("X + Y -> Y + X", 1.0)])
    ss = steady_state(net, [[1.5], [0.0]], y0=np.array([0.0, 2.0]), solver=SWEEP)
    np.testing.assert_array_equal(ss.concentrations, [[1.5, 2.0], [0.0, 2.0]])
    assert ss.converged.all() and (ss.residual == 0).all()


def test_float32_meets_float32_tolerances_and_refuses_tighter_ones():
    rng = np.random.default_rng(4)
    net, _, _ = random_ajd(rng, [5, 30, 4], 1e-3, scale=2.0)
    x = rng.uniform(0.0, 1.0, (50, 5))
    exact = fixed_point(net, x).concentrations
    for method in ("auto", "newton"):
        solver = TorchODE(dtype="float32", steady_method=method)
        ss = steady_state(net, x, solver=solver, rtol=1e-6, atol=1e-9)
        assert ss.converged.all()
        # Newton: the criterion's bound, residual / slowest decay rate. Swept items (those
        # whose float32 residual passed): roundoff of the item's scale.
        scale = exact.max(axis=1, keepdims=True)
        err = np.abs(ss.concentrations - exact)
        assert (err <= (1e-9 + 1e-6 * scale) / (2 * np.sqrt(1e-3))).all(), method
        swept = ss.n_steps == 0
        assert swept.mean() >= 0.5 if method == "auto" else not swept.any()
        assert (err[swept] <= 5e-6 * scale[swept]).all()
    with pytest.raises(InputError, match=r"steady_state\(rtol=1e-10\).*float32.*rtol >= 1e-06"):
        steady_state(net, x, solver=TorchODE(dtype="float32"))
    with pytest.raises(InputError, match=r"TorchODE\(rtol=1e-08\).*float32"):
        TorchODE(dtype="float32", rtol=1e-8)
    t = [0.0, 1.0, 10.0, 200.0]
    single = integrate(net, x[:5], t, solver=TorchODE(dtype="float32")).concentrations
    double = integrate(net, x[:5], t, solver=TorchODE()).concentrations
    np.testing.assert_allclose(single, double, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "device, match",
    [("tpu", r"device='tpu'\) is not a torch device"), ("cuda:0", "no CUDA device|cuda:0")],
)
def test_unusable_device_is_refused_with_the_alternatives(device, match):
    if device.startswith("cuda") and torch.cuda.is_available() and torch.cuda.device_count() > 0:
        device, match = f"cuda:{torch.cuda.device_count()}", "CUDA device\\(s\\)"
    rng = np.random.default_rng(1)
    net, _, _ = random_ajd(rng, [2, 3, 1], 1e-2)
    with pytest.raises(InputError, match=match):
        steady_state(net, [[1.0, 1.0]], solver=TorchODE(device=device))


def _stack(seed, sizes, integer=False):
    from nncrn.compile import DenseLayer, LayerStack

    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(sizes) - 1):
        shape = (sizes[k + 1], sizes[k])
        w = rng.integers(-2, 3, shape) if integer else rng.normal(size=shape)
        act = "identity" if k == len(sizes) - 2 else "relu"
        layers.append(DenseLayer(w, rng.normal(size=sizes[k + 1]), act))
    return LayerStack(tuple(layers), "random")


def _scheme_networks():
    import warnings

    from nncrn.compile import DualRail, Polynomial, SmoothReLUScheme, with_argmax

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # schemes that replace ReLU say so
        return {
            "smooth_relu": (SmoothReLUScheme(1e-3).build(_stack(0, [3, 8, 4, 2])), "sweep"),
            "rectified_root": (
                Polynomial.rectified_root(3, 1e-2).build(_stack(1, [3, 8, 4, 2])), "sweep"),
            "polynomial": (
                Polynomial((0.05, 0.0, -1.0, -0.5), (0.0, 1.0)).build(_stack(2, [3, 8, 4, 2])),
                "sweep"),
            "dual_rail": (DualRail().build(_stack(3, [3, 8, 4, 2], integer=True)), "completion"),
            "smooth_relu+argmax": (
                with_argmax(SmoothReLUScheme(1e-3).build(_stack(4, [3, 8, 4, 2]))), "newton"),
        }  # fmt: skip


@pytest.mark.parametrize("name", list(_scheme_networks()))
def test_every_scheme_takes_its_path_and_both_paths_agree(name):
    """Polynomial-activation schemes sweep every item, dual-rail fires its reactions to
    completion (both without a Newton step); argmax has cycles (Newton)."""
    net, path = _scheme_networks()[name]
    x = np.random.default_rng(9).uniform(0.0, 1.0, (30, 3))
    auto = steady_state(net, x, solver=SWEEP)
    newton = steady_state(net, x, solver=NEWTON)
    assert SWEEP.steady_path(net) == path
    assert (auto.n_steps == 0).all() == (path != "newton")
    if path == "completion":
        # exact: the ReLU network itself; Newton stops within its tolerance on the 1/t tail
        # of exact ties (a rail at ~1e-8 whose limit is 0)
        from nncrn.compile import DualRail

        np.testing.assert_allclose(auto.outputs, DualRail().forward(_stack(3, [3, 8, 4, 2], integer=True), x),
                                   rtol=1e-13, atol=1e-13)  # fmt: skip
        np.testing.assert_allclose(auto.concentrations, newton.concentrations, atol=1e-7)
        return
    np.testing.assert_allclose(auto.concentrations, newton.concentrations, rtol=1e-8, atol=1e-12)
