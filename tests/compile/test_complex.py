"""Complex (BCNN) models compiled into chemistry: steady states equal the torch forward."""

import numpy as np
import pytest
import torch
from torch import nn

from nncrn import compile_network
from nncrn._errors import InputError, UnsupportedModelError
from nncrn.compile import (
    ApproximationWarning,
    DualRail,
    LayerStack,
    SmoothReLUScheme,
    complex_inputs,
    complex_outputs,
    dual_rail_inputs,
    layer_stack,
)
from nncrn.compile._layers import DenseLayer
from nncrn.nn import ComplexBatchNorm1d, ComplexLinear, ComplexSmoothReLU, ComplexToReal, CReLU
from nncrn.simulate import steady_state

EPS = 1e-2


def _model(weights: str, act, *, real_input=False, seed=0):
    torch.manual_seed(seed)
    model = nn.Sequential(
        ComplexLinear(3, 5, weights=weights, real_input=real_input), act(),
        ComplexLinear(5, 4, weights=weights), act(),
        ComplexLinear(4, 2, weights=weights),
    ).double()  # fmt: skip
    with torch.no_grad():
        for m in model:
            if isinstance(m, ComplexLinear):
                m.bias_real.normal_(0.0, 0.3), m.bias_imag.normal_(0.0, 0.3)
    return model.eval()


def _inputs(n=12, seed=5):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, 3)) + 1j * rng.normal(size=(n, 3))


def _torch(model, x):
    with torch.no_grad():
        return model(torch.as_tensor(x)).numpy()


@pytest.mark.parametrize("weights", ["float", "ternary", "binary"])
def test_smooth_scheme_steady_state_equals_torch(weights):
    model = _model(weights, lambda: ComplexSmoothReLU(EPS))
    x = _inputs()
    net = compile_network(model, input_range=(-6.0, np.inf))
    assert net.metadata["scheme"] == {"name": "smooth_relu", "eps": EPS}
    assert [r.name for r in net.readout] == ["y0_re", "y0_im", "y1_re", "y1_im"]
    assert len(net.inputs) == 6
    ss = steady_state(net, complex_inputs(x))
    assert ss.converged.all()
    np.testing.assert_allclose(complex_outputs(ss.outputs), _torch(model, x), rtol=0, atol=1e-6)


@pytest.mark.parametrize("weights", ["ternary", "binary"])
def test_dual_rail_steady_state_equals_torch(weights):
    model = _model(weights, CReLU, seed=2)
    x = _inputs(seed=7)
    net = compile_network(model, scheme=DualRail(dual_inputs=True, rescale=True))
    # input k is four species: both rails of its real and of its imaginary part
    assert net.inputs[:4] == ("X0p", "X0n", "X1p", "X1n")
    alpha = [m.alpha.item() for m in model if isinstance(m, ComplexLinear)]
    assert net.metadata["output_scale"] == pytest.approx(np.prod(alpha), rel=1e-6)
    ss = steady_state(net, dual_rail_inputs(complex_inputs(x)))
    assert ss.converged.all()
    got = complex_outputs(ss.outputs) * net.metadata["output_scale"]
    np.testing.assert_allclose(got, _torch(model, x), rtol=0, atol=1e-6)


def test_dual_rail_binary_layer_is_one_stoichiometric_unit():
    model = _model("binary", CReLU)
    net = compile_network(model, scheme=DualRail(dual_inputs=True, rescale=True))
    coeffs = {c for r in net.reactions for c in r.products.values()}
    # a fan-out adds +-1 per weight; an input rail feeds a neuron's real and imaginary rails
    assert coeffs == {1}
    assert {r.rate for r in net.reactions} == {1.0}


def test_real_input_model_has_one_species_per_feature():
    model = _model("float", lambda: ComplexSmoothReLU(EPS), real_input=True)
    stack = layer_stack(model)
    assert (stack.n_inputs, stack.complex_inputs, stack.complex_outputs) == (3, False, True)
    x = np.random.default_rng(1).uniform(0.0, 2.0, size=(8, 3))
    net = compile_network(model)
    assert net.inputs == ("X0", "X1", "X2")
    ss = steady_state(net, x)
    np.testing.assert_allclose(complex_outputs(ss.outputs), _torch(model, x), rtol=0, atol=1e-6)
    assert net.metadata["complex"]["inputs"] is False


def test_complex_to_real_head_gives_real_outputs():
    torch.manual_seed(4)
    model = nn.Sequential(
        ComplexLinear(3, 4, weights="binary"), CReLU(), ComplexToReal(), nn.Linear(8, 3)
    ).double().eval()  # fmt: skip
    stack = layer_stack(model)
    assert (stack.n_inputs, stack.n_outputs) == (6, 3)
    assert (stack.complex_inputs, stack.complex_outputs) == (True, False)
    x = _inputs(seed=3)
    with pytest.warns(ApproximationWarning, match="plain ReLU"):
        net = compile_network(model, scheme=SmoothReLUScheme(EPS), input_range=(-6.0, np.inf))
    assert [r.name for r in net.readout] == ["y0", "y1", "y2"]
    # CReLU compiled as sigma_eps: within the stated bound of the ReLU model, exact for the scheme
    ss = steady_state(net, complex_inputs(x))
    expected = SmoothReLUScheme(EPS).forward(stack, complex_inputs(x))
    np.testing.assert_allclose(ss.outputs, expected, rtol=0, atol=1e-6)
    assert np.abs(ss.outputs - _torch(model, x)).max() <= net.metadata["relu_bound"]


def test_relu_after_complex_to_real_is_the_complex_layers_activation():
    torch.manual_seed(6)
    model = nn.Sequential(ComplexLinear(3, 2), ComplexToReal(), nn.ReLU(), nn.Linear(4, 1))
    stack = layer_stack(model.double())
    assert [layer.activation for layer in stack.layers] == ["relu", "identity"]


def test_metadata_states_the_layout():
    net = compile_network(_model("float", lambda: ComplexSmoothReLU(EPS)), input_range=(-6, 6))
    meta = net.metadata["complex"]
    assert meta["inputs"] is True and meta["outputs"] is True
    assert "X{2k+1}" in meta["layout"] and "y{k}_im" in meta["layout"]


def test_single_complex_linear_compiles():
    torch.manual_seed(0)
    layer = ComplexLinear(2, 1).double()
    stack = layer_stack(layer)
    assert stack.layers[0].weight.shape == (2, 4) and stack.complex_outputs


@pytest.mark.parametrize(
    ("modules", "match"),
    [
        (lambda: [ComplexLinear(2, 2), nn.ReLU()], r"real module.*nncrn\.nn\.CReLU"),
        (lambda: [ComplexLinear(2, 2), CReLU(), nn.Linear(4, 1)], r"ComplexToReal\(\) before"),
        (lambda: [nn.Linear(2, 2), CReLU()], "acts on complex values but the layer before"),
        (lambda: [nn.Linear(2, 2), nn.ReLU(), ComplexLinear(2, 1)], "real_input=True"),
        (lambda: [ComplexLinear(2, 2), ComplexLinear(2, 1, real_input=True)],
         "build it with real_input=False"),
        (lambda: [ComplexLinear(2, 2), CReLU(), nn.Softmax(dim=1)], "real module"),
        (lambda: [CReLU(), ComplexLinear(2, 2)], "every activation must directly follow"),
    ],
)  # fmt: skip
def test_mismatched_value_kinds_are_refused(modules, match):
    with pytest.raises(UnsupportedModelError, match=match):
        compile_network(nn.Sequential(*modules()))


def test_complex_linear_subclass_with_own_forward_is_refused():
    class Scaled(ComplexLinear):
        def forward(self, h):
            return 2 * super().forward(h)

    with pytest.raises(
        UnsupportedModelError, match=r"subclass of nncrn\.nn\.ComplexLinear that overrides"
    ):
        compile_network(nn.Sequential(Scaled(2, 1)))


def test_dual_rail_refuses_float_complex_weights():
    model = _model("float", CReLU)
    with pytest.raises(UnsupportedModelError, match="not integer multiples of a common unit"):
        compile_network(model, scheme=DualRail(dual_inputs=True, rescale=True))


def test_layer_stack_refuses_odd_complex_features():
    layer = DenseLayer(np.ones((2, 3)), np.zeros(2), "identity")
    with pytest.raises(UnsupportedModelError, match="complex_inputs=True but the network has 3"):
        LayerStack((layer,), "test", complex_inputs=True)
    odd = DenseLayer(np.ones((3, 2)), np.zeros(3), "identity")
    with pytest.raises(UnsupportedModelError, match="3 real outputs"):
        LayerStack((odd,), "test", complex_outputs=True)


def test_complex_inputs_and_outputs_layout():
    assert complex_inputs([[1 + 2j, -3j]]).tolist() == [[1.0, 2.0, 0.0, -3.0]]
    assert complex_inputs(np.array([[4.0, 5.0]])).tolist() == [[4.0, 0.0, 5.0, 0.0]]
    assert complex_outputs([[1.0, 2.0, 0.0, -3.0]]).tolist() == [[1 + 2j, -3j]]


@pytest.mark.parametrize(
    ("call", "arg", "match"),
    [
        (complex_inputs, [1 + 2j, 3j], r"got shape \(2,\).*x.reshape\(1, -1\)"),
        (complex_inputs, [["a", "b"]], "numeric"),
        (complex_outputs, [[1.0, 2.0, 3.0]], r"shape \(1, 3\).*even"),
    ],
)
def test_layout_helpers_refuse_bad_shapes(call, arg, match):
    with pytest.raises(InputError, match=match):
        call(arg)


def _bn_model(weights: str, act):
    torch.manual_seed(8)
    model = nn.Sequential(
        ComplexLinear(3, 4, weights=weights), ComplexBatchNorm1d(4), act(),
        ComplexLinear(4, 2, weights=weights), ComplexBatchNorm1d(2),
    ).double()  # fmt: skip
    with torch.no_grad():
        for m in model:
            if isinstance(m, ComplexBatchNorm1d):
                for p in m.parameters():
                    p.add_(0.2 * torch.randn_like(p))
        for _ in range(3):  # running statistics away from their initial values
            model(torch.as_tensor(_inputs(32, seed=11)) * 1.5 + 0.5)
    return model.eval()


def test_batch_norm_is_folded_and_the_steady_state_equals_torch():
    model = _bn_model("binary", lambda: ComplexSmoothReLU(EPS))
    stack = layer_stack(model)
    assert len(stack.layers) == 2 and "(folded)" in stack.layers[0].source
    x = _inputs(seed=9)
    net = compile_network(model, input_range=(-6.0, np.inf))
    ss = steady_state(net, complex_inputs(x))
    assert ss.converged.all()
    np.testing.assert_allclose(complex_outputs(ss.outputs), _torch(model, x), rtol=0, atol=1e-6)


def test_dual_rail_refuses_batch_norm_folded_weights():
    # the 2x2 maps of batch normalization make the binary levels real-valued
    with pytest.raises(
        UnsupportedModelError, match="not integer multiples of a common unit"
    ) as err:
        compile_network(_bn_model("binary", CReLU), scheme=DualRail(dual_inputs=True, rescale=True))
    assert "batch normalization folded into the layer" in str(err.value)
    assert "SmoothReLUScheme()" in str(err.value)


@pytest.mark.parametrize(
    ("modules", "match"),
    [
        (lambda: [ComplexLinear(2, 2), CReLU(), ComplexBatchNorm1d(2)], "does not directly follow"),
        (lambda: [ComplexLinear(2, 3), ComplexBatchNorm1d(2)], "num_features=3"),
    ],
)
def test_misplaced_batch_norm_is_refused(modules, match):
    with pytest.raises(UnsupportedModelError, match=match):
        compile_network(nn.Sequential(*modules()).eval())
