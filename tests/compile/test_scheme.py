"""The SmoothReLU scheme's reactions: counts, signs, rates, the rate law they give, XOR."""

import itertools
import math

import numpy as np
import pytest
import torch

from nncrn.compile import (
    ApproximationWarning,
    DenseLayer,
    LayerStack,
    SmoothReLUScheme,
    compile_network,
)
from nncrn.nn import SmoothReLU as SmoothReLUModule
from nncrn.simulate import fixed_point
from nncrn.simulate._massaction import rhs


def sparse_model(seed, sizes, eps, last_linear):
    """A float64 Sequential whose weights and biases are about 40% exact zeros."""
    g = torch.Generator().manual_seed(seed)
    mods = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(sizes)):
        lin = torch.nn.Linear(n_in, n_out).double()
        with torch.no_grad():
            for p in (lin.weight, lin.bias):
                p.copy_(torch.randn(p.shape, generator=g, dtype=torch.float64))
                p.mul_((torch.rand(p.shape, generator=g) > 0.4).double())
        mods.append(lin)
        if not (last_linear and k == len(sizes) - 2):
            mods.append(SmoothReLUModule(eps))
    return torch.nn.Sequential(*mods)


def by_label(net):
    out = {}
    for r in net.reactions:
        out.setdefault(r.label, []).append(r)
    return out


@pytest.mark.parametrize("eps", [1e-3, 0.0])
def test_reaction_count_and_signs_smooth(eps):
    model = sparse_model(1, [4, 6, 3], eps, last_linear=False)
    if eps > 0:
        net = compile_network(model)
    else:  # no leak: neurons starting at 0 stay there, which compile_network warns about
        with pytest.warns(ApproximationWarning, match="eps=0"):
            net = compile_network(model)
    lin1, lin2 = model[0], model[2]
    n_neurons = 6 + 3
    nnz = sum(int((p != 0).sum()) for p in model.parameters())
    per_neuron = 2 if eps > 0 else 1
    assert net.n_reactions == nnz + per_neuron * n_neurons
    labels = by_label(net)
    for depth, lin, up in ((1, lin1, "X{}"), (2, lin2, "H1_{}")):
        tgt = "H1_{}" if depth == 1 else "Y{}"
        for i in range(lin.out_features):
            y = tgt.format(i)
            for j in range(lin.in_features):
                w = lin.weight[i, j].item()
                rs = labels.get(f"layer {depth} weight w[{i},{j}]", [])
                if w == 0:
                    assert rs == []
                    continue
                (r,) = rs
                x = up.format(j)
                assert dict(r.reactants) == {x: 1, y: 1}
                assert dict(r.products) == ({x: 1, y: 2} if w > 0 else {x: 1})
                assert r.rate == abs(w)
            b = lin.bias[i].item()
            rs = labels.get(f"layer {depth} bias b[{i}]", [])
            assert len(rs) == (b != 0)
            if b:
                assert rs[0].equation() == (f"{y} -> 2 {y}" if b > 0 else f"{y} -> 0")
                assert rs[0].rate == abs(b)
            (sat,) = labels[f"layer {depth} neuron {i} saturation"]
            assert sat.equation() == f"2 {y} -> {y}" and sat.rate == 1.0
            leak = labels.get(f"layer {depth} neuron {i} leak (eps)", [])
            assert [r.equation() for r in leak] == ([f"0 -> {y}"] if eps > 0 else [])
            assert all(r.rate == eps for r in leak)


def test_reaction_count_dual_rail():
    # 3 -> 4 linear hidden (dual rail) -> 2 smooth outputs reading both rails.
    model = sparse_model(2, [3, 4, 2], 1e-2, last_linear=False)
    model = torch.nn.Sequential(model[0], model[2], model[3])  # drop the hidden activation
    net = compile_network(model)
    w1, b1 = model[0].weight, model[0].bias
    w2, b2 = model[1].weight, model[1].bias
    n1 = int((w1 != 0).sum() + (b1 != 0).sum()) + 2 * 4  # + two decays per pair
    n2 = 2 * int((w2 != 0).sum()) + int((b2 != 0).sum()) + 2 * 2  # both rails read
    assert net.n_reactions == n1 + n2
    assert {"H1_0p", "H1_0n", "Y0", "Y1"} <= set(net.species_names)
    for r in net.reactions:
        if r.label.startswith("layer 1 weight"):
            i, j = (int(v) for v in r.label.split("[")[1].rstrip("]").split(","))
            part = "p" if w1[i, j] > 0 else "n"
            assert r.equation() == f"X{j} -> X{j} + H1_{i}{part}" and r.rate == abs(w1[i, j])
        if r.label.startswith("layer 2 weight"):
            i, j = (int(v) for v in r.label.split("[")[1].split("]")[0].split(","))
            part = r.label[-1]
            signed = w2[i, j].item() * (1 if part == "p" else -1)
            grows = f"H1_{j}{part} + Y{i} -> H1_{j}{part} + 2 Y{i}"
            shrinks = f"H1_{j}{part} + Y{i} -> H1_{j}{part}"
            assert r.equation() == (grows if signed > 0 else shrinks) and r.rate == abs(signed)


def test_rhs_is_eps_plus_zy_minus_y2():
    eps = 0.01
    model = sparse_model(3, [5, 7, 4], eps, last_linear=False)
    net = compile_network(model)
    rng = np.random.default_rng(0)
    state = rng.uniform(0, 3, size=(50, net.n_species))
    f = rhs(net.stoichiometry, state)
    col = {n: i for i, n in enumerate(net.species_names)}
    x = state[:, [col[f"X{j}"] for j in range(5)]]
    h = state[:, [col[f"H1_{i}"] for i in range(7)]]
    y = state[:, [col[f"Y{i}"] for i in range(4)]]
    w1, b1 = model[0].weight.detach().numpy(), model[0].bias.detach().numpy()
    w2, b2 = model[2].weight.detach().numpy(), model[2].bias.detach().numpy()
    z1, z2 = x @ w1.T + b1, h @ w2.T + b2
    np.testing.assert_allclose(f[:, [col[f"H1_{i}"] for i in range(7)]], eps + z1 * h - h**2,
                               rtol=0, atol=1e-12)  # fmt: skip
    np.testing.assert_allclose(f[:, [col[f"Y{i}"] for i in range(4)]], eps + z2 * y - y**2,
                               rtol=0, atol=1e-12)  # fmt: skip
    np.testing.assert_array_equal(f[:, :5], 0)  # inputs are catalysts only


def test_dual_rail_rhs_and_readout():
    layer = DenseLayer([[2.0, -3.0]], [-0.5], "identity")
    net = SmoothReLUScheme(0.1).build(LayerStack((layer,), "test"))
    assert [(ro.name, ro.plus, ro.minus) for ro in net.readout] == [("y0", "Y0p", "Y0n")]
    rng = np.random.default_rng(1)
    state = rng.uniform(0, 2, size=(20, 4))  # X0, X1, Y0p, Y0n
    f = rhs(net.stoichiometry, state)
    np.testing.assert_allclose(f[:, 2], 2 * state[:, 0] - state[:, 2], atol=1e-14)
    np.testing.assert_allclose(f[:, 3], 3 * state[:, 1] + 0.5 - state[:, 3], atol=1e-14)


def test_xor():
    eps = 1e-3
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 2), SmoothReLUModule(eps), torch.nn.Linear(2, 1), SmoothReLUModule(eps)
    ).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, 1.0], [1.0, 1.0]]))
        model[0].bias.copy_(torch.tensor([0.0, -1.0]))
        model[2].weight.copy_(torch.tensor([[1.0, -2.0]]))
        model[2].bias.zero_()
    net = compile_network(model, output="smooth_relu")
    eqs = sorted((r.equation(), r.rate) for r in net.reactions)
    assert eqs == sorted([
        ("0 -> H1_0", eps), ("2 H1_0 -> H1_0", 1.0),
        ("X0 + H1_0 -> X0 + 2 H1_0", 1.0), ("X1 + H1_0 -> X1 + 2 H1_0", 1.0),
        ("0 -> H1_1", eps), ("2 H1_1 -> H1_1", 1.0),
        ("X0 + H1_1 -> X0 + 2 H1_1", 1.0), ("X1 + H1_1 -> X1 + 2 H1_1", 1.0),
        ("H1_1 -> 0", 1.0),
        ("0 -> Y0", eps), ("2 Y0 -> Y0", 1.0),
        ("H1_0 + Y0 -> H1_0 + 2 Y0", 1.0), ("H1_1 + Y0 -> H1_1", 2.0),
    ])  # fmt: skip
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = fixed_point(net, x).outputs[:, 0]
    np.testing.assert_allclose(y, model(torch.tensor(x)).detach().numpy()[:, 0], rtol=1e-12)
    assert list(y > 0.5) == [False, True, True, False]
    assert y[1] == pytest.approx(1.0, abs=0.1) and y[0] < 0.05 and y[3] < 0.05


def test_scheme_forward_and_rate():
    s = SmoothReLUScheme(0.04)
    stack = LayerStack((DenseLayer([[1.0, -1.0]], [0.0], "relu"),), "t")
    assert s.forward(stack, [[1.0, 1.0]])[0, 0] == pytest.approx(0.2)
    assert s.convergence_rate(np.array([0.0, 3.0])) == pytest.approx([0.4, math.hypot(3, 0.4)])
    assert s.describe() == {"name": "smooth_relu", "eps": 0.04}
    with pytest.raises(ValueError, match="finite and >= 0"):
        SmoothReLUScheme(-1.0)


def test_pre_0_2_scheme_names_still_work_with_a_deprecation_warning():
    # nncrn.SmoothReLU was the scheme before it was renamed (it shared the name of the
    # torch module nncrn.nn.SmoothReLU); old scripts keep working and are told the new name.
    import nncrn
    import nncrn.compile
    import nncrn.nn

    for module, old, new in ((nncrn, "SmoothReLU", nncrn.SmoothReLUScheme),
                             (nncrn.compile, "ChemicalSigmoid", nncrn.ChemicalSigmoidScheme)):  # fmt: skip
        with pytest.warns(DeprecationWarning, match=f"{old} .*is now .*{new.__name__}"):
            assert getattr(module, old) is new
    with pytest.warns(DeprecationWarning):
        from nncrn import SmoothReLU  # noqa: F401
    assert nncrn.nn.SmoothReLU is not nncrn.SmoothReLUScheme
    assert "SmoothReLU" not in nncrn.__all__ and "SmoothReLUScheme" in nncrn.__all__
    with pytest.raises(AttributeError, match="no attribute 'SmoothReLUX'"):
        _ = nncrn.SmoothReLUX
