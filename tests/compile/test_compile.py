"""compile_network's options: input_range, output, scheme, metadata, and bad arguments."""

import importlib.metadata
import warnings

import numpy as np
import pytest
import torch
from torch import nn

from nncrn import _errors
from nncrn.compile import (
    ApproximationWarning,
    DenseLayer,
    LayerStack,
    SmoothReLUScheme,
    compile_network,
)
from nncrn.nn import SmoothReLU as SmoothReLUModule
from nncrn.simulate import fixed_point


@pytest.fixture
def linear_last():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), SmoothReLUModule(0.01), nn.Linear(4, 2)).double()


def test_per_feature_input_range(linear_last):
    ranges = [(-1.0, 1.0), (-5.0, np.inf), (2.0, 3.0)]
    net = compile_network(linear_last, input_range=ranges)
    assert [net.species[net.index(f"X{j}")].input_range for j in range(3)] == ranges
    x = np.array([[-1.0, -5.0, 2.0], [0.3, 100.0, 2.9]])
    want = linear_last(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(fixed_point(net, x).outputs, want, rtol=1e-10)
    with pytest.raises(_errors.InputError, match=r"input 'X2' is 1\.0"):
        fixed_point(net, [[0.0, 0.0, 1.0]])


def test_without_input_range_negative_features_rejected(linear_last):
    net = compile_network(linear_last)
    with pytest.raises(_errors.InputError, match=r"'X1'.*input_range"):
        fixed_point(net, [[0.0, -0.1, 0.0]])


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ((1.0, 0.0), r"feature 0 \(species X0\) is \(1\.0, 0\.0\).*high > low"),
        ((np.nan, 1.0), "low must be finite"),
        ((-np.inf, 1.0), "low must be finite"),
        ([(0, 1), (0, 1)], r"shape \(2, 2\).*shape \(3, 2\)"),
        ("wide", "not numeric"),
    ],
)
def test_bad_input_range(linear_last, bad, match):
    with pytest.raises(_errors.InputError, match=match):
        compile_network(linear_last, input_range=bad)


def test_output_modes(linear_last):
    lin = compile_network(linear_last)
    assert lin.metadata["output"] == "linear"
    assert [(r.plus, r.minus) for r in lin.readout] == [("Y0p", "Y0n"), ("Y1p", "Y1n")]
    forced = compile_network(linear_last, output="smooth_relu")
    assert (
        forced.metadata["output"] == "smooth_relu"
        and "sigma_eps(logits)" in (forced.metadata["output_note"])
    )
    x = np.random.default_rng(0).uniform(0, 1, size=(5, 3))
    z = lin_out = fixed_point(lin, x).outputs
    sig = (z + np.sqrt(z**2 + 0.04)) / 2
    np.testing.assert_allclose(fixed_point(forced, x).outputs, sig, rtol=1e-10)
    assert lin_out.shape == (5, 2)
    with pytest.raises(ValueError, match="output='sigmoid'"):
        compile_network(linear_last, output="sigmoid")


def test_linear_output_on_relu_last_layer_refused():
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
    with pytest.raises(_errors.UnsupportedModelError, match=r"output='linear'.*'relu'.*non-linear"):
        compile_network(model, output="linear")


def test_non_model_objects_refused():
    for obj in (object(), 3.0, {"weights": 1}):
        with pytest.raises(_errors.UnsupportedModelError, match="cannot compile an object of type"):
            compile_network(obj)
    with pytest.raises(TypeError, match=r"nncrn\.compile\.Scheme"):
        compile_network(nn.Sequential(nn.Linear(1, 1)), scheme="smooth_relu")


def test_layer_stack_and_metadata():
    stack = LayerStack((DenseLayer([[1.0, -2.0]], [0.5], "smooth_relu", eps=0.02, source="l0"),),
                       "hand-made")  # fmt: skip
    net = compile_network(stack)
    meta = net.metadata
    assert meta["source"] == "hand-made"
    assert meta["scheme"] == {"name": "smooth_relu", "eps": 0.02}
    assert meta["layers"] == ({"species": ("Y0",), "activation": "smooth_relu",
                               "model_activation": "smooth_relu"},)  # fmt: skip
    assert meta["nncrn_version"] == importlib.metadata.version("nncrn")
    assert net.outputs == ("y0",)
    assert net.species[0].role.value == "input" and net.species[2].role.value == "output"
    assert net == net.from_json(net.to_json())


def test_eps_zero_scheme_has_no_leak():
    with pytest.warns(ApproximationWarning, match="eps=0"):
        net = compile_network(nn.Sequential(nn.Linear(2, 1), nn.ReLU()), scheme=SmoothReLUScheme(0.0))
    assert not any(r.equation().startswith("0 ->") for r in net.reactions)
    assert net.metadata["relu_bound"] is None


def test_eps_zero_warns_that_neurons_can_stay_at_zero():
    torch.manual_seed(0)
    relu = nn.Sequential(nn.Linear(2, 1), nn.ReLU()).double()
    with torch.no_grad():
        relu[0].weight.copy_(torch.tensor([[1.0, 1.0]]))
        relu[0].bias.fill_(0.5)
    with pytest.warns(ApproximationWarning, match=r"y = 0 is a fixed point.*Use eps > 0"):
        net = compile_network(relu, scheme=SmoothReLUScheme(eps=0.0))
    # the hazard the warning names: from the default start 0 nothing produces Y0, so the
    # chemistry stays at 0 although the model's output is relu(1 + 1 + 0.5) = 2.5
    rates = {r.equation(): r.rate for r in net.reactions}
    assert all(not eq.startswith("0 ->") for eq in rates)
    assert all("Y0" in eq.split("->")[0] for eq in rates)  # every reaction needs Y0 > 0
    # the model's own SmoothReLU(0) (scheme=None takes its eps) has the same hazard
    own = nn.Sequential(nn.Linear(2, 2), SmoothReLUModule(0.0), nn.Linear(2, 1))
    with pytest.warns(ApproximationWarning, match="eps=0"):
        compile_network(own)
    with warnings.catch_warnings():  # a linear model has no neuron that can stick at 0
        warnings.simplefilter("error")
        compile_network(nn.Sequential(nn.Linear(2, 1)), scheme=SmoothReLUScheme(0.0))


@pytest.mark.filterwarnings("ignore:Initializing zero-element tensors")
def test_model_without_outputs_refused():
    with pytest.raises(_errors.UnsupportedModelError, match=r"0 outputs.*at least one readout"):
        compile_network(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 0)))
    with pytest.raises(_errors.UnsupportedModelError, match="0 outputs"):
        compile_network(nn.Linear(3, 0))
