"""End to end: an ONNX MLP compiles, and its closed-form steady state is the forward pass."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nncrn.compile import compile_network  # noqa: E402
from nncrn.simulate import fixed_point  # noqa: E402


def test_onnx_mlp_compiles_and_fixed_point_matches_numpy():
    rng = np.random.default_rng(1)
    w1, b1 = rng.normal(size=(5, 3)), rng.normal(size=5)
    w2, b2 = rng.normal(size=(2, 5)), rng.normal(size=2)
    inits = [numpy_helper.from_array(a.astype(np.float32), n)
             for n, a in (("W1", w1), ("b1", b1), ("W2", w2), ("b2", b2))]  # fmt: skip
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["a"], name="relu"),
        helper.make_node("Gemm", ["a", "W2", "b2"], ["y"], name="fc2", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "mlp",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 2])], inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    eps = 1e-3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # plain ReLU -> sigma_eps approximation warning
        net = compile_network(model, input_range=(-2.0, 2.0))
    x = rng.uniform(-2, 2, size=(16, 3))
    # the network computes the model with ReLU replaced by sigma_eps, from float32 weights
    f32 = [a.astype(np.float32).astype(np.float64) for a in (w1, b1, w2, b2)]
    h = f32[0] @ x.T + f32[1][:, None]
    expected = (f32[2] @ ((h + np.sqrt(h * h + 4 * eps)) / 2) + f32[3][:, None]).T
    got = fixed_point(net, x).outputs
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-9)
