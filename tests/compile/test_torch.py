"""torch models: the compiled steady state equals the forward pass, gradients, parsing, errors."""

import copy
import math
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from nncrn import _errors
from nncrn.compile import ApproximationWarning, SmoothReLUScheme, compile_network, layer_stack
from nncrn.nn import SmoothReLU as SmoothReLUModule
from nncrn.simulate import fixed_point


def random_model(seed, depth, eps, *, max_width=64, last_linear=None):
    rng = np.random.default_rng(seed)
    widths = [int(w) for w in rng.integers(1, max_width + 1, size=depth + 1)]
    mods = []
    for k in range(depth):
        mods.append(nn.Linear(widths[k], widths[k + 1]))
        if k < depth - 1 or not (rng.random() < 0.5 if last_linear is None else last_linear):
            mods.append(SmoothReLUModule(eps))
    torch.manual_seed(seed)
    model = nn.Sequential(*mods).double()
    return model, widths


CASES = [(seed, 1 + seed % 4, [1e-3, 1e-2, 1.0][seed % 3]) for seed in range(12)]


@pytest.mark.parametrize(("seed", "depth", "eps"), CASES)
def test_fixed_point_equals_forward(seed, depth, eps):
    model, widths = random_model(seed, depth, eps)
    net = compile_network(model)
    x = np.random.default_rng(seed).uniform(0, 2, size=(16, widths[0]))
    got = fixed_point(net, x).outputs
    want = model(torch.tensor(x)).detach().numpy()
    scale = np.abs(want) + 1e-3 * np.abs(want).max()  # relative, guarded near 0 of linear outputs
    assert np.max(np.abs(got - want) / scale) < 1e-10


def test_input_range_shift_matches_unshifted_model():
    model, widths = random_model(5, 3, 1e-2, max_width=8)
    net = compile_network(model, input_range=(-3.0, 3.0))
    x = np.random.default_rng(0).uniform(-3, 3, size=(32, widths[0]))
    assert (x < 0).any()
    want = model(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(fixed_point(net, x).outputs, want, rtol=1e-10, atol=1e-12)
    with pytest.raises(_errors.InputError, match=r"'X0'.*outside its declared input_range"):
        fixed_point(net, np.full((1, widths[0]), 3.5))


def test_gradients_equal_finite_differences():
    eps = 1e-2
    torch.manual_seed(3)
    model = nn.Sequential(nn.Linear(2, 3), SmoothReLUModule(eps), nn.Linear(3, 2)).double()
    x = np.array([[0.3, 1.2], [1.5, 0.1]])
    c = torch.tensor([0.7, -1.3], dtype=torch.float64)
    loss = (model(torch.tensor(x)) * c).sum()
    grads = torch.autograd.grad(loss, list(model.parameters()))

    def chem_loss(m):
        return float((fixed_point(compile_network(m), x).outputs @ c.numpy()).sum())

    h = 1e-6
    checked = 0
    for p_idx, (p, g) in enumerate(zip(model.parameters(), grads, strict=True)):
        for flat in range(p.numel()):
            vals = []
            for sign in (1, -1):
                m = copy.deepcopy(model)
                with torch.no_grad():
                    list(m.parameters())[p_idx].view(-1)[flat] += sign * h
                vals.append(chem_loss(m))
            fd = (vals[0] - vals[1]) / (2 * h)
            assert fd == pytest.approx(g.view(-1)[flat].item(), rel=1e-5, abs=1e-8)
            checked += 1
    assert checked == 6 + 3 + 6 + 2


def test_gradients_via_with_rates():
    # d y / d w through the rate constant of one weight reaction, on the network itself.
    eps = 1e-3
    torch.manual_seed(4)
    model = nn.Sequential(nn.Linear(3, 2), SmoothReLUModule(eps), nn.Linear(2, 1),
                          SmoothReLUModule(eps)).double()  # fmt: skip
    net = compile_network(model)
    x = np.array([[0.5, 1.0, 0.2]])
    out = model(torch.tensor(x)).sum()
    g = torch.autograd.grad(out, model[2].weight)[0].numpy()
    rates = np.array([r.rate for r in net.reactions])
    for i, r in enumerate(net.reactions):
        if not r.label.startswith("layer 2 weight"):
            continue
        j = int(r.label.split(",")[1].rstrip("]"))
        sign = 1.0 if r.products.get("Y0", 0) == 2 else -1.0
        h = 1e-6 * r.rate
        up, down = rates.copy(), rates.copy()
        up[i] += h
        down[i] -= h
        fd = (fixed_point(net.with_rates(up), x).outputs - fixed_point(net.with_rates(down), x)
              .outputs)[0, 0] / (2 * h)  # fmt: skip
        assert sign * fd == pytest.approx(g[0, j], rel=1e-5)


def test_nested_sequential_dropout_softmax_and_stacked_linears():
    torch.manual_seed(0)
    model = (
        nn.Sequential(
            nn.Flatten(),
            nn.Sequential(
                nn.Linear(4, 5), nn.Linear(5, 3), SmoothReLUModule(0.01), nn.Dropout(0.2)
            ),
            nn.Identity(),
            nn.Linear(3, 2),
            nn.Softmax(dim=1),
        )
        .double()
        .eval()
    )
    stack = layer_stack(model)
    assert [layer.activation for layer in stack.layers] == ["identity", "smooth_relu", "identity"]
    assert len(stack.dropped) == 2
    assert "Dropout" in stack.dropped[0] and "Softmax" in stack.dropped[1]
    with pytest.warns(_errors.NNCRNWarning, match="Dropout"):
        net = compile_network(model)
    assert net.metadata["dropped"] == stack.dropped
    assert "H1_0p" in net.species_names and "Y1n" in net.species_names
    x = np.random.default_rng(0).uniform(0, 1, size=(8, 4))
    logits = model[:-1](torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(fixed_point(net, x).outputs, logits, rtol=1e-10, atol=1e-12)


def test_relu_model_warns_with_bound_that_holds():
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 2)).double()  # fmt: skip
    eps = 1e-2
    with pytest.warns(ApproximationWarning, match=r"within [0-9.e-]+ of the model") as rec:
        net = compile_network(model, scheme=SmoothReLUScheme(eps))
    bound = net.metadata["relu_bound"]
    assert f"{bound:.4g}" in str(rec[0].message)
    w2, w3 = (np.abs(m.weight.detach().numpy()) for m in model[2::2])
    s = math.sqrt(eps)
    assert bound == pytest.approx(np.max(w3 @ (w2 @ np.full(8, s) + s)), rel=1e-12)
    x = np.random.default_rng(1).uniform(0, 3, size=(500, 3))
    dev = np.abs(fixed_point(net, x).outputs - model(torch.tensor(x)).detach().numpy())
    assert 0 < dev.max() <= bound


def test_smooth_model_does_not_warn():
    model, _ = random_model(0, 2, 1e-3, max_width=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = compile_network(model)
    assert net.metadata["relu_bound"] is None
    assert net.metadata["scheme"] == {"name": "smooth_relu", "eps": 1e-3}


@pytest.mark.parametrize("value", [math.nan, math.inf])
def test_non_finite_weights_rejected(value):
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with torch.no_grad():
        model[0].weight[1, 0] = value
    with pytest.raises(_errors.UnsupportedModelError, match=r"weight\[1, 0\] is (nan|inf)"):
        compile_network(model)


@pytest.mark.parametrize(
    ("layer", "name"),
    [(nn.Conv2d(1, 1, 3), "Conv2d"), (nn.BatchNorm1d(4), "BatchNorm1d"), (nn.Tanh(), "Tanh")],
)
def test_unsupported_layers_named(layer, name):
    model = nn.Sequential(nn.Linear(4, 4), nn.ReLU(), layer, nn.Linear(4, 1))
    with pytest.raises(_errors.UnsupportedModelError) as info:
        compile_network(model)
    msg = str(info.value)
    assert f"layer 2 (2: {name})" in msg and "Linear, nncrn.nn.SmoothReLU, ReLU" in msg


def test_activation_must_follow_linear():
    with pytest.raises(_errors.UnsupportedModelError, match="must directly follow a Linear"):
        compile_network(nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    with pytest.raises(_errors.UnsupportedModelError, match="must directly follow a Linear"):
        compile_network(nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.ReLU()))


def test_softmax_not_last_rejected():
    model = nn.Sequential(nn.Linear(2, 2), nn.Softmax(dim=1), nn.Linear(2, 1))
    with pytest.raises(_errors.UnsupportedModelError, match="only a final Softmax"):
        compile_network(model)


def test_custom_module_rejected():
    class Net(nn.Module):
        def forward(self, x):
            return x

    with pytest.raises(
        _errors.UnsupportedModelError, match=r"Rebuild the model as an nn\.Sequential"
    ):
        compile_network(Net())


def test_eps_mismatch_and_mixed_eps():
    model = nn.Sequential(nn.Linear(2, 2), SmoothReLUModule(0.01), nn.Linear(2, 1))
    with pytest.raises(_errors.UnsupportedModelError, match=r"scheme=SmoothReLUScheme\(eps=0.01\)"):
        compile_network(model, scheme=SmoothReLUScheme(1e-3))
    assert compile_network(model).metadata["scheme"]["eps"] == 0.01
    mixed = nn.Sequential(nn.Linear(2, 2), SmoothReLUModule(0.01), nn.Linear(2, 1),
                          SmoothReLUModule(0.02))  # fmt: skip
    with pytest.raises(_errors.UnsupportedModelError, match="different eps"):
        compile_network(mixed)


def test_module_used_twice_is_compiled_at_each_position():
    torch.manual_seed(0)
    act = SmoothReLUModule(1e-3)
    shared_act = nn.Sequential(nn.Linear(3, 3), act, nn.Linear(3, 3), act, nn.Linear(3, 2))
    tied = nn.Linear(3, 3)
    weight_tied = nn.Sequential(tied, act, tied)
    x = np.random.default_rng(0).uniform(0, 1, size=(6, 3))
    for model, n_layers in ((shared_act.double(), 3), (weight_tied.double(), 2)):
        stack = layer_stack(model)
        assert len(stack.layers) == n_layers  # named_children() listed a shared module once
        want = model(torch.tensor(x)).detach().numpy()
        got = fixed_point(compile_network(model), x).outputs
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)


def test_sequential_subclass_with_own_forward_refused():
    class Doubled(nn.Sequential):
        def forward(self, x):
            return 2 * super().forward(x)

    class Plain(nn.Sequential):  # same forward: its layers say what it computes
        pass

    with pytest.raises(_errors.UnsupportedModelError, match=r"class .*Doubled.*overrides forward"):
        compile_network(Doubled(nn.Linear(2, 2)))
    with pytest.raises(_errors.UnsupportedModelError, match=r"module '1'.*Doubled"):
        compile_network(nn.Sequential(nn.Linear(2, 2), Doubled(nn.Linear(2, 1))))
    assert compile_network(Plain(nn.Linear(2, 2))).outputs == ("y0", "y1")
