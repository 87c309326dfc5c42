"""TorchODE's Rosenbrock integrators (Rodas4, Rodas3) and the in-place kernels they run on.

Expected values come from the exact Riccati solution of one neuron, from SciPy's BDF at a
tight tolerance, and from the batch-first kernels and ``_linsolve.TriangularSystem`` (the
path the steady-state solver uses), which the in-place species-major kernels must match.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError
from nncrn.network import initial_state
from nncrn.simulate import ScipyODE, TorchODE, integrate

from ._ajd import ajd_network, closed_form, random_ajd


def _riccati(z: float, eps: float, y0: float, t: np.ndarray) -> np.ndarray:
    """Exact ``y(t)`` of ``y' = eps + z y - y^2``: ``(y - y+)/(y - y-)`` decays as ``e^{-D t}``."""
    d = np.sqrt(z * z + 4 * eps)
    yp, ym = (z + d) / 2, (z - d) / 2
    u = (y0 - yp) / (y0 - ym) * np.exp(-d * t)
    return (yp - ym * u) / (1 - u)


@pytest.mark.parametrize("method", ["rodas4", "rodas3"])
@pytest.mark.parametrize("linear_solver", ["auto", "dense"])
def test_one_neuron_follows_the_exact_riccati_solution(method, linear_solver):
    z, eps = 1.3, 1e-3
    net = ajd_network([np.array([[1.0]])], [np.array([z - 1.0])], eps)
    t = np.concatenate([[0.0], np.geomspace(1e-3, 50.0, 12)])
    starts = np.array([0.0, 0.2, 5.0])
    solver = TorchODE(method=method, rtol=1e-7, atol=1e-12, linear_solver=linear_solver)
    tr = integrate(net, [[1.0]] * 3, t, y0={"Y0": starts}, solver=solver)
    assert tr.converged.all()
    exact = np.stack([_riccati(z, eps, s, t) for s in starts])
    np.testing.assert_allclose(tr.outputs[:, :, 0], exact, rtol=2e-5, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("method", ["rodas4", "rodas3"])
def test_methods_agree_with_tight_scipy_on_a_deep_network(method):
    rng = np.random.default_rng(5)
    net, w, b = random_ajd(rng, [4, 12, 6, 3], 1e-3, scale=3.0)
    x = rng.uniform(0.0, 2.0, (6, 4))
    t = np.array([0.0, 0.01, 0.3, 2.0, 10.0, 60.0, 400.0])
    ours = integrate(net, x, t, solver=TorchODE(method=method, rtol=1e-8, atol=1e-12))
    ref = integrate(net, x, t, solver=ScipyODE(rtol=1e-11, atol=1e-14))
    scale = np.abs(ref.concentrations).max(axis=1, keepdims=True)
    dev = np.abs(ours.concentrations - ref.concentrations) / np.maximum(scale, 1e-12)
    assert dev.max() < 1e-5
    np.testing.assert_allclose(ours.outputs[:, -1], closed_form(w, b, 1e-3, x)[-1], rtol=1e-7)


def test_rodas3_takes_more_steps_than_rodas4_at_tight_tolerance():
    """Order 3 against order 4: at rtol 1e-7 the lower order needs clearly more steps (a
    wrong tableau of lower order, or an inconsistent one, would need far more still)."""
    rng = np.random.default_rng(2)
    net, _, _ = random_ajd(rng, [3, 8, 2], 1e-2, scale=2.0)
    x = rng.uniform(0.0, 2.0, (4, 3))
    t = np.array([0.0, 1.0, 30.0])
    steps = {m: integrate(net, x, t, solver=TorchODE(method=m, rtol=1e-7)).n_steps
             for m in ("rodas4", "rodas3")}  # fmt: skip
    assert (steps["rodas3"] > 1.3 * steps["rodas4"]).all()
    assert (steps["rodas3"] < 20 * steps["rodas4"]).all()


def test_bad_method_names_the_choices():
    with pytest.raises(InputError, match=r"TorchODE\(method='bdf'\).*'rodas4', 'rodas3'"):
        TorchODE(method="bdf")


def test_in_place_kernels_match_the_batch_first_ones():
    from nncrn.simulate._linsolve import TriangularSystem
    from nncrn.simulate._torch_kernels import Workspace

    rng = np.random.default_rng(0)
    net, _, _ = random_ajd(rng, [5, 16, 7, 3], 1e-2, scale=2.0)
    x = rng.uniform(0.0, 2.0, (9, 5))
    _, k = TorchODE(device="cpu")._setup(net)
    y_full = torch.as_tensor(initial_state(net, x, None))
    g = k.coefficients(y_full)
    y = torch.as_tensor(rng.uniform(0.0, 3.0, (9, k.n_dynamic)))
    ws = Workspace(y.device, y.dtype)
    base = k.base(y)
    f = k.rhs_into(g, base, torch.empty(k.n_dynamic, 9, dtype=y.dtype), ws)
    np.testing.assert_allclose(f.T.numpy(), k.rhs(g, y).numpy(), rtol=1e-13, atol=1e-13)
    sigma = torch.as_tensor(rng.uniform(0.5, 50.0, 9))
    r = torch.as_tensor(rng.normal(size=(9, k.n_dynamic)))
    expected = TriangularSystem(k, g, y, sigma).solve(r)
    pivot, vals = k.triangular_factor(base, k.g_ext(g), sigma)
    got = k.triangular_solve_(r.T.contiguous(), pivot, vals, base).T
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)
    # and the solve inverts sigma I - J, built from the dense analytic Jacobian
    a = torch.diag_embed(sigma[:, None].expand(9, k.n_dynamic)) - k.jacobian(g, y)
    np.testing.assert_allclose((a @ got[..., None])[..., 0].numpy(), r.numpy(), atol=1e-10)


def test_sparse_blocks_print_no_torch_beta_notices():
    # A large sparse block is a torch CSR tensor; torch's "sparse CSR support is in beta"
    # and "invariant checks disabled" notices reached the user's terminal (nncrn search).
    import warnings

    import scipy.sparse as sp

    from nncrn.simulate._torch_kernels import _Matrix

    a = sp.random(400, 400, density=0.001, random_state=0, format="csr")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        m = _Matrix(a, torch.device("cpu"), torch.float64)
    assert m.mat is not None and m.mat.layout == torch.sparse_csr
    assert [str(w.message) for w in caught] == []
