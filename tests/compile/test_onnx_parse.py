"""parse_onnx: ONNX MLPs built with onnx.helper (no torch export needed)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nncrn._errors import FormatError, UnsupportedModelError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from nncrn.compile._onnx import parse_onnx  # noqa: E402


def _model(nodes, inits, n_in, out="y", name="mlp", opset=13):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, n_in])],
        [helper.make_tensor_value_info(out, TensorProto.FLOAT, [None, None])],
        [numpy_helper.from_array(np.asarray(v, dtype=np.float32), k) for k, v in inits.items()],
    )  # fmt: skip
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


@pytest.fixture
def weights():
    rng = np.random.default_rng(0)
    return {
        "W1": rng.normal(size=(4, 3)).astype(np.float32),  # (out, in)
        "b1": rng.normal(size=4).astype(np.float32),
        "W2": rng.normal(size=(2, 4)).astype(np.float32),
        "b2": rng.normal(size=2).astype(np.float32),
    }


def test_gemm_relu_gemm_softmax(weights, tmp_path):
    nodes = [
        helper.make_node("Flatten", ["x"], ["f"], name="flat"),
        helper.make_node("Gemm", ["f", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Relu", ["h"], ["a"], name="act1"),
        helper.make_node("Gemm", ["a", "W2t", "b2"], ["z"], name="fc2", alpha=0.5, beta=2.0),
        helper.make_node("Identity", ["z"], ["zi"], name="id"),
        helper.make_node("Softmax", ["zi"], ["y"], name="prob"),
    ]
    inits = {"W1": weights["W1"], "b1": weights["b1"], "W2t": weights["W2"].T, "b2": weights["b2"]}
    model = _model(nodes, inits, 3)
    path = tmp_path / "mlp.onnx"
    onnx.save(model, path)
    for source in (model, path, str(path)):
        stack = parse_onnx(source)
        l1, l2 = stack.layers
        np.testing.assert_array_equal(l1.weight, weights["W1"].astype(np.float64))
        np.testing.assert_array_equal(l1.bias, weights["b1"].astype(np.float64))
        np.testing.assert_array_equal(l2.weight, 0.5 * weights["W2"].astype(np.float64))
        np.testing.assert_array_equal(l2.bias, 2.0 * weights["b2"].astype(np.float64))
        assert (l1.activation, l2.activation) == ("relu", "identity")
        assert len(stack.dropped) == 1 and "Softmax" in stack.dropped[0]
    assert "mlp.onnx" in parse_onnx(path).source


def test_matmul_add_and_scalar_bias(weights):
    nodes = [
        helper.make_node("MatMul", ["x", "W1t"], ["m"], name="mm1"),
        helper.make_node("Add", ["b1", "m"], ["h"], name="add1"),
        helper.make_node("Relu", ["h"], ["a"], name="relu1"),
        helper.make_node("MatMul", ["a", "W2t"], ["m2"], name="mm2"),
        helper.make_node("Add", ["m2", "c"], ["y"], name="add2"),
    ]
    inits = {"W1t": weights["W1"].T, "b1": weights["b1"], "W2t": weights["W2"].T, "c": [0.25]}
    stack = parse_onnx(_model(nodes, inits, 3))
    np.testing.assert_array_equal(stack.layers[0].weight, weights["W1"].astype(np.float64))
    np.testing.assert_array_equal(stack.layers[0].bias, weights["b1"].astype(np.float64))
    np.testing.assert_array_equal(stack.layers[1].bias, [0.25, 0.25])
    assert stack.dropped == ()


def test_matmul_without_bias_and_constant_weights(weights):
    const = helper.make_node(
        "Constant", [], ["W"], value=numpy_helper.from_array(weights["W1"].T, "W"), name="w"
    )
    nodes = [const, helper.make_node("MatMul", ["x", "W"], ["y"], name="mm")]
    stack = parse_onnx(_model(nodes, {}, 3))
    np.testing.assert_array_equal(stack.layers[0].bias, np.zeros(4))


def test_unsupported_op_is_named(weights):
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Sigmoid", ["h"], ["y"], name="squash"),
    ]
    with pytest.raises(UnsupportedModelError, match=r"node 'squash' \(Sigmoid\)"):
        parse_onnx(_model(nodes, {"W1": weights["W1"], "b1": weights["b1"]}, 3))


def test_softmax_must_be_last(weights):
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Softmax", ["h"], ["s"], name="sm"),
        helper.make_node("Relu", ["s"], ["y"], name="late"),
    ]
    with pytest.raises(UnsupportedModelError, match="after the final Softmax"):
        parse_onnx(_model(nodes, {"W1": weights["W1"], "b1": weights["b1"]}, 3))


def test_malformed_files_are_format_errors(weights, tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["y"], name="fc1", transB=1)]
    data = _model(nodes, {"W1": weights["W1"], "b1": weights["b1"]}, 3).SerializeToString()
    (tmp_path / "cut.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError):
        parse_onnx(tmp_path / "cut.onnx")
    (tmp_path / "junk.onnx").write_bytes(b"this is not protobuf at all \xff\xfe")
    with pytest.raises(FormatError):
        parse_onnx(tmp_path / "junk.onnx")
    with pytest.raises(FormatError, match="does not exist"):
        parse_onnx(tmp_path / "missing.onnx")


@pytest.mark.parametrize(
    ("opset", "axis", "ok"),
    [(13, None, True), (13, -1, True), (13, 1, True), (11, None, True), (13, 0, False),
     (11, 0, False), (13, -2, False)],
)  # fmt: skip
def test_softmax_only_over_the_last_axis_is_dropped(weights, opset, axis, ok):
    kw = {} if axis is None else {"axis": axis}
    nodes = [
        helper.make_node("Gemm", ["x", "W1", "b1"], ["h"], name="fc1", transB=1),
        helper.make_node("Softmax", ["h"], ["y"], name="sm", **kw),
    ]
    model = _model(nodes, {"W1": weights["W1"], "b1": weights["b1"]}, 3, opset=opset)
    if ok:  # the default axis is -1 from opset 13 and 1 before: both the feature axis
        assert "Softmax" in parse_onnx(model).dropped[0]
    else:  # over the batch axis the softmax mixes examples: the argmax would change
        with pytest.raises(UnsupportedModelError, match=rf"'sm'.*axis={axis}.*last axis"):
            parse_onnx(model)


def test_bias_must_be_one_value_per_output(weights):
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["y"], name="fc1", transB=1)]
    row = parse_onnx(_model(nodes, {"W1": weights["W1"], "b1": weights["b1"][None, :]}, 3))
    np.testing.assert_array_equal(row.layers[0].bias, weights["b1"].astype(np.float64))
    column = {"W1": weights["W1"], "b1": weights["b1"][:, None]}  # (4, 1): one per batch row
    with pytest.raises(UnsupportedModelError, match=r"bias of shape \(4, 1\).*\(4,\) or \(1, 4\)"):
        parse_onnx(_model(nodes, column, 3))


def test_nncrn_json_and_text_formats_are_format_errors(weights, tmp_path):
    mlp = tmp_path / "model.json"
    mlp.write_text('{"format": "nncrn.mlp", "version": 1, "layers": []}')
    with pytest.raises(FormatError, match=r"nncrn model file.*nncrn compile .*model\.json"):
        parse_onnx(mlp)
    net = tmp_path / "net.json"
    net.write_text('{"format": "nncrn.network", "version": 1}')
    with pytest.raises(FormatError, match=r"ReactionNetwork\.load"):
        parse_onnx(net)
    other = tmp_path / "other.json"
    other.write_text('{"a": 1}')
    with pytest.raises(FormatError, match=r"other\.json' is not a valid ONNX model \(read as JSON"):
        parse_onnx(other)
    text = tmp_path / "g.onnxtxt"
    text.write_text("garbage\n")
    with warnings.catch_warnings():  # onnx calls its text format experimental
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(FormatError, match=r"read as ONNX text"):
            parse_onnx(text)


def test_missing_external_data_file_is_named(weights, tmp_path):
    nodes = [helper.make_node("Gemm", ["x", "W1", "b1"], ["y"], name="fc1", transB=1)]
    model = _model(nodes, {"W1": weights["W1"], "b1": weights["b1"]}, 3)
    path = tmp_path / "ext.onnx"
    onnx.save_model(model, path, save_as_external_data=True, location="weights.bin",
                    size_threshold=0)  # fmt: skip
    np.testing.assert_array_equal(parse_onnx(path).layers[0].weight, weights["W1"])
    (tmp_path / "weights.bin").unlink()
    with pytest.raises(FormatError, match=r"data file 'weights\.bin', which does not exist"):
        parse_onnx(path)


def _smooth_model(eps):
    import torch

    from nncrn.nn import SmoothReLU

    torch.manual_seed(1)
    layers = (torch.nn.Linear(3, 4), SmoothReLU(eps), torch.nn.Linear(4, 2))
    return torch.nn.Sequential(*layers).double()


def test_nncrn_smooth_relu_function_reads_back_with_its_eps(tmp_path):
    import torch
    from onnx.reference import ReferenceEvaluator

    from nncrn.data import save_onnx

    model = _smooth_model(0.01)
    path = tmp_path / "m.onnx"
    assert save_onnx(path, model, {})
    stack = parse_onnx(path)
    assert [la.activation for la in stack.layers] == ["smooth_relu", "identity"]
    assert stack.layers[0].eps == 0.01
    np.testing.assert_array_equal(stack.layers[0].weight, model[0].weight.detach().numpy())
    x = np.random.default_rng(0).normal(size=(5, 3))
    got = ReferenceEvaluator(str(path)).run(None, {"input": x})[0]  # the function's body
    with torch.no_grad():
        np.testing.assert_allclose(got, model(torch.tensor(x)).numpy(), rtol=1e-13)


@pytest.mark.parametrize("eps, message", [(-1.0, "not one finite number >= 0"),
                                          ([0.1, 0.2], "not one finite number >= 0")])
def test_nncrn_smooth_relu_with_a_bad_eps_is_refused(tmp_path, eps, message):
    from nncrn.data import save_onnx

    path = tmp_path / "m.onnx"
    assert save_onnx(path, _smooth_model(0.01), {})
    proto = onnx.load(str(path))
    eps_init = next(t for t in proto.graph.initializer if t.name.startswith("eps"))
    eps_init.CopyFrom(numpy_helper.from_array(np.array(eps, dtype=np.float64), eps_init.name))
    with pytest.raises(UnsupportedModelError, match=message):
        parse_onnx(proto)
