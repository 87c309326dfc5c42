"""torch models with PolynomialActivation, RectifiedRoot, ChemicalSigmoid: parsed, compiled exactly."""

import warnings

import numpy as np
import pytest
import torch
from torch import nn

from nncrn._errors import UnsupportedModelError
from nncrn.compile import (
    ActivationError,
    ApproximationWarning,
    ChemicalSigmoidScheme,
    DenseLayer,
    DualRail,
    LayerStack,
    Polynomial,
    SmoothReLUScheme,
    compile_network,
    layer_stack,
    relu_deviation_bound,
)
from nncrn.nn import ChemicalSigmoid as SigmoidModule
from nncrn.nn import PolynomialActivation, RectifiedRoot
from nncrn.nn import SmoothReLU as SmoothReLUModule
from nncrn.simulate import ScipyODE, fixed_point, steady_state

# For sigmoid networks: TorchODE's steady state ends about 1e-7 off on a linear readout
# (rtol has no effect; a simulate issue, not the compilation's), and fixed_point does not
# solve the two-species neuron.
SCIPY = ScipyODE(rtol=1e-12, atol=1e-14)
CUBIC = ((0.05, 0.0, -1.0, -0.5), (0.0, 1.0))  # dy/dt = 0.05 - y^2 - y^3/2 + z y


def model_of(seed, act, sizes=(3, 5, 4, 2), last_act=False):
    """``Linear -> act -> ... -> Linear [-> act]`` in float64, from ``torch.manual_seed(seed)``."""
    torch.manual_seed(seed)
    mods = []
    for k in range(len(sizes) - 1):
        mods.append(nn.Linear(sizes[k], sizes[k + 1]))
        if k < len(sizes) - 2 or last_act:
            mods.append(act())
    return nn.Sequential(*mods).double()


def forward(model, x):
    with torch.no_grad():
        return model(torch.tensor(x)).numpy()


def quiet_compile(model, **kw):
    """Compile with every warning an error: an exact compilation says nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return compile_network(model, **kw)


KINDS = {
    "polynomial": (lambda: PolynomialActivation(*CUBIC), Polynomial(*CUBIC)),
    "rectified_root": (lambda: RectifiedRoot(3, 1e-2), Polynomial.rectified_root(3, 1e-2)),
    "sigmoid": (lambda: SigmoidModule(0.25), ChemicalSigmoidScheme(0.25)),
}


def plain(meta):
    """Metadata as JSON-like plain values (the network stores tuples and read-only mappings)."""
    if isinstance(meta, dict) or hasattr(meta, "items"):
        return {k: plain(v) for k, v in meta.items()}
    return list(meta) if isinstance(meta, tuple) else meta


@pytest.mark.parametrize("kind", list(KINDS))
@pytest.mark.parametrize("last_act", [False, True], ids=["linear_out", "act_out"])
def test_steady_state_equals_forward_pass(kind, last_act):
    module, scheme = KINDS[kind]
    model = model_of(7, module, last_act=last_act)
    x = np.random.default_rng(7).uniform(0, 2, size=(4, 3))
    want = forward(model, x)
    net = quiet_compile(model)
    assert net == quiet_compile(model, scheme=scheme)  # the default is the matching scheme
    assert plain(net.metadata["scheme"]) == scheme.describe()
    assert net.metadata["relu_bound"] is None
    solver = SCIPY if kind == "sigmoid" else None
    got = steady_state(net, x, solver=solver, atol=1e-14, rtol=1e-13).outputs
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)
    assert np.ptp(want) > 0.01  # the check is not vacuous: outputs vary with x


def test_parser_records_activation_and_parameters():
    layers = layer_stack(model_of(0, lambda: SigmoidModule(0.3))).layers
    assert [la.activation for la in layers] == ["chemical_sigmoid", "chemical_sigmoid", "identity"]
    assert dict(layers[0].params) == {"rate": 0.3} and layers[0].eps is None
    assert layers[2].params is None
    rr = layer_stack(model_of(0, lambda: RectifiedRoot(4, 0.02))).layers[0]
    assert rr.activation == "polynomial"
    assert dict(rr.params) == {"P": (0.02, 0.0, 0.0, 0.0, -1.0), "Q": (0.0, 1.0)}
    assert str(rr.function) == "RectifiedRoot(k=4, eps=0.02)"
    net = quiet_compile(model_of(0, lambda: RectifiedRoot(4, 0.02)))
    assert net.metadata["scheme"]["label"] == "rectified_root_k4"
    assert [m["model_activation"] for m in net.metadata["layers"]] == [
        "polynomial", "polynomial", "identity"]  # fmt: skip
    # the layer's own function is the module's, elementwise
    x = np.random.default_rng(1).uniform(0, 2, size=(5, 3))
    model = model_of(0, lambda: SigmoidModule(0.3))
    np.testing.assert_allclose(layer_stack(model).forward(x), forward(model, x), rtol=1e-14)


def test_rectified_root_k2_is_smooth_relu_and_exact():
    model = model_of(3, lambda: RectifiedRoot(2, 0.04))
    net = quiet_compile(model)
    assert net.metadata["scheme"] == {"name": "smooth_relu", "eps": 0.04}
    quiet_compile(model, scheme=Polynomial.smooth_relu(0.04))  # the same function: no warning
    x = np.random.default_rng(3).uniform(0, 2, size=(8, 3))
    np.testing.assert_allclose(fixed_point(net, x).outputs, forward(model, x), rtol=1e-10)
    with pytest.raises(UnsupportedModelError, match=r"eps=0\.04 but the scheme has eps=0\.01"):
        compile_network(model, scheme=SmoothReLUScheme(0.01))


def test_input_range_and_forced_output_keep_parameters():
    model = model_of(4, lambda: SigmoidModule(0.5))
    x = np.random.default_rng(4).uniform(-1, 1, size=(3, 3))
    assert (x < 0).any()
    net = quiet_compile(model, input_range=(-1.0, 1.0))
    ss = steady_state(net, x, solver=SCIPY, atol=1e-14, rtol=1e-13)
    np.testing.assert_allclose(ss.outputs, forward(model, x), rtol=1e-8)
    forced = quiet_compile(model, output="smooth_relu", input_range=(-1.0, 1.0))
    assert forced.metadata["layers"][-1]["model_activation"] == "chemical_sigmoid"
    want = 1.0 / ((1.0 - forward(model, x)) + np.hypot(forward(model, x), 1.0))  # rate 0.5
    ss = steady_state(forced, x, solver=SCIPY, atol=1e-14, rtol=1e-13)
    np.testing.assert_allclose(ss.outputs, want, rtol=1e-8)


def test_mismatched_scheme_warns_what_replaced_what():
    model = model_of(5, lambda: SigmoidModule(0.25))
    stack = layer_stack(model)
    x = np.random.default_rng(5).uniform(0, 2, size=(6, 3))
    with pytest.warns(ApproximationWarning) as rec:
        net = compile_network(model, scheme=SmoothReLUScheme(1e-2))
    msg = str(rec[0].message)
    assert len(rec) == 1
    assert "SmoothReLU(eps=0.01)" in msg and "in place of the model's chemical_sigmoid" in msg
    assert "layer 1 (1: ChemicalSigmoid): ChemicalSigmoid(rate=0.25)" in msg
    got = fixed_point(net, x).outputs
    np.testing.assert_allclose(got, SmoothReLUScheme(1e-2).forward(stack, x), rtol=1e-10)
    assert np.abs(got - forward(model, x)).max() > 0.05  # really another function
    with pytest.warns(ApproximationWarning, match=r"ChemicalSigmoid\(rate=0\.5\)\) in place of "
                      r"the model's chemical_sigmoid .*ChemicalSigmoid\(rate=0\.25\)"):  # fmt: skip
        compile_network(model, scheme=ChemicalSigmoidScheme(0.5))
    cubic = model_of(5, lambda: PolynomialActivation(*CUBIC))
    with pytest.warns(ApproximationWarning, match=r"in place of the model's polynomial .*"
                      r"PolynomialActivation\(P=\[0\.05, 0\.0, -1\.0, -0\.5\]"):  # fmt: skip
        net = compile_network(cubic, scheme=ChemicalSigmoidScheme(0.25))
    np.testing.assert_allclose(
        steady_state(net, x[:3], solver=SCIPY, atol=1e-14, rtol=1e-13).outputs,
        ChemicalSigmoidScheme(0.25).forward(layer_stack(cubic), x[:3]), rtol=1e-8,
    )  # fmt: skip


def test_relu_replaced_by_polynomial_smooth_relu_states_the_bound():
    model = model_of(6, nn.ReLU)
    with pytest.warns(ApproximationWarning, match="within") as rec:
        net = compile_network(model, scheme=Polynomial.smooth_relu(1e-2))
    assert len(rec) == 1
    bound = relu_deviation_bound(layer_stack(model), 1e-2)
    assert net.metadata["relu_bound"] == pytest.approx(bound, rel=1e-15)
    assert f"{bound:.4g}" in str(rec[0].message)
    x = np.random.default_rng(6).uniform(0, 3, size=(200, 3))
    dev = np.abs(fixed_point(net, x).outputs - forward(model, x))
    assert 0 < dev.max() <= bound


def test_dual_rail_refuses_sigmoid_and_polynomial_layers():
    for module, name in ((lambda: SigmoidModule(0.25), "ChemicalSigmoid"),
                         (lambda: RectifiedRoot(3, 1e-2), "RectifiedRoot")):  # fmt: skip
        with pytest.raises(UnsupportedModelError, match=rf"dual-rail scheme computes exact ReLU.*"
                           rf"layer 1 \(1: {name}\).*scheme=None"):  # fmt: skip
            compile_network(model_of(0, module), scheme=DualRail(rescale=True))
    # RectifiedRoot(2, eps) is sigma_eps: replaced by ReLU with the dual-rail sqrt(eps) warning
    model = nn.Sequential(nn.Linear(2, 3), RectifiedRoot(2, 0.04), nn.Linear(3, 1)).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -1.0], [0.0, 1.0], [1.0, 1.0]]))
        model[2].weight.copy_(torch.tensor([[1.0, -1.0, 1.0]]))
    with pytest.warns(ApproximationWarning, match=r"SmoothReLU \(eps=0\.04\).*= 0\.2 per unit"):
        net = compile_network(model, scheme=DualRail())
    x = np.array([[0.5, 2.0], [3.0, 1.0]])
    z = x @ model[0].weight.detach().numpy().T + model[0].bias.detach().numpy()
    relu_net = np.maximum(z, 0) @ model[2].weight.detach().numpy().T + model[2].bias.item()
    np.testing.assert_allclose(steady_state(net, x).outputs, relu_net, rtol=1e-6)
    assert [m["model_activation"] for m in net.metadata["layers"]] == ["smooth_relu", "identity"]


@pytest.mark.parametrize(
    ("second", "named"),
    [(lambda: SmoothReLUModule(1e-3), "SmoothReLU(eps=0.001)"), (nn.ReLU, "ReLU"),
     (lambda: SigmoidModule(0.5), "ChemicalSigmoid(rate=0.5)"),
     (lambda: RectifiedRoot(3, 1e-2), "RectifiedRoot(k=3, eps=0.01)")],
    ids=["smooth_relu", "relu", "other_rate", "rectified_root"],
)  # fmt: skip
def test_mixed_activations_refused_naming_the_layers(second, named):
    model = nn.Sequential(nn.Linear(2, 3), SigmoidModule(0.25), nn.Linear(3, 3), second(),
                          nn.Linear(3, 1)).double()  # fmt: skip
    for scheme in (None, ChemicalSigmoidScheme(0.25)):
        with pytest.raises(UnsupportedModelError) as info:
            compile_network(model, scheme=scheme)
        msg = str(info.value)
        assert "mixes activations" in msg and "one activation" in msg
        assert "layer 1 (1: ChemicalSigmoid): ChemicalSigmoid(rate=0.25)" in msg
        assert f"layer 3 (3: {type(model[3]).__name__}): {named}" in msg


def test_dense_layer_validates_activation_parameters():
    w, b = [[1.0, -1.0]], [0.5]
    with pytest.raises(UnsupportedModelError, match=r"takes params with keys \['rate'\].*"
                       r"params=\{'rate': \.\.\.\}"):  # fmt: skip
        DenseLayer(w, b, "chemical_sigmoid")
    with pytest.raises(UnsupportedModelError, match=r"rate is -1.*finite and > 0"):
        DenseLayer(w, b, "chemical_sigmoid", params={"rate": -1})
    with pytest.raises(UnsupportedModelError, match=r"'relu' takes no params.*params=None"):
        DenseLayer(w, b, "relu", params={"rate": 1.0})
    # 1/2 - y + z (y - y^2): bistable for z < 0, refused by the same checks as the module
    with pytest.raises(ActivationError, match="second positive root"):
        DenseLayer(w, b, "polynomial", params={"P": [0.5, -1.0], "Q": [0.0, 1.0, -1.0]})
    layer = DenseLayer(w, b, "polynomial", params={"P": np.array([0.1, 0, -1, 0]), "Q": [0, 1]})
    assert dict(layer.params) == {"P": (0.1, 0.0, -1.0), "Q": (0.0, 1.0)}  # trimmed floats
    with pytest.raises(TypeError):
        layer.params["P"] = (1.0,)  # read-only, like the weights
    stack = LayerStack((layer,), "hand-made")
    x = np.array([[2.0, 0.5]])  # z = 2.0: y* = (2 + sqrt(4.4)) / 2
    np.testing.assert_allclose(stack.forward(x), [[(2 + np.sqrt(4.4)) / 2]], rtol=1e-14)
    net = quiet_compile(stack)
    assert net.metadata["scheme"] == {"name": "smooth_relu", "eps": 0.1}
    np.testing.assert_allclose(fixed_point(net, x).outputs, stack.forward(x), rtol=1e-12)
