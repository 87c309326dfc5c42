"""Write a trained MLP as ONNX (``model.onnx`` of ``nncrn train``/``demo``), for other tools.

Needs ``nncrn[interop]`` (onnx). :func:`nncrn.compile_network` reads the file back.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from nncrn.network._json import atomic_path

__all__ = ["ONNX_META_KEY", "save_onnx"]

ONNX_META_KEY = "nncrn"  # metadata_props entry holding the model.json metadata as JSON


ONNX_DOMAIN = "nncrn"


def _smooth_relu_function():
    """The ONNX function ``nncrn.SmoothReLU(X, eps) = (X + sqrt(X * X + 4 eps)) / 2`` (float64)."""
    from onnx import TensorProto, helper

    def const(name: str, value: float):
        tensor = helper.make_tensor(name, TensorProto.DOUBLE, [], [value])
        return helper.make_node("Constant", [], [name], value=tensor)

    body = [
        const("four", 4.0), const("half", 0.5),
        helper.make_node("Mul", ["four", "eps"], ["four_eps"]),
        helper.make_node("Mul", ["X", "X"], ["squared"]),
        helper.make_node("Add", ["squared", "four_eps"], ["radicand"]),
        helper.make_node("Sqrt", ["radicand"], ["root"]),
        helper.make_node("Add", ["X", "root"], ["total"]),
        helper.make_node("Mul", ["total", "half"], ["Y"]),
    ]  # fmt: skip
    return helper.make_function(
        ONNX_DOMAIN, "SmoothReLU", ["X", "eps"], ["Y"], body,
        opset_imports=[helper.make_opsetid("", 17)],
        doc_string="nncrn's smoothed ReLU (z + sqrt(z^2 + 4 eps)) / 2, the steady state of one "
        "neuron of the Anderson-Joshi-Deshpande construction",
    )  # fmt: skip


def save_onnx(path: str | os.PathLike, model: Any, meta: dict) -> bool:
    """Write a torch ``nn.Sequential`` of Linear, ReLU and SmoothReLU as ONNX; False for other layers.

    Linear is ``Gemm``, ReLU ``Relu``. ONNX has no operator for nncrn's SmoothReLU, so it is
    a model-local function ``nncrn.SmoothReLU(z, eps) = (z + sqrt(z^2 + 4 eps)) / 2`` (one
    ``eps`` initializer per layer): any ONNX runtime evaluates the function body, and
    :func:`nncrn.compile.parse_onnx` reads the node as the smoothed ReLU with that ``eps``.
    ``meta`` (classes, feature names, input range and scale) goes into the model's
    ``metadata_props`` under ``"nncrn"`` as JSON, which ``nncrn compile`` reads back.
    """
    import onnx
    import torch
    from onnx import TensorProto, helper, numpy_helper

    from nncrn.nn import SmoothReLU

    nodes, inits = [], []
    tensor, width, n_out = "input", None, None
    for i, module in enumerate(model):
        if isinstance(module, torch.nn.Linear):
            w = module.weight.detach().double().numpy()
            b = module.bias.detach().double().numpy()
            width, n_out = width or w.shape[1], w.shape[0]
            inits += [numpy_helper.from_array(w, f"W{i}"), numpy_helper.from_array(b, f"b{i}")]
            nodes.append(helper.make_node("Gemm", [tensor, f"W{i}", f"b{i}"], [f"z{i}"],
                                          name=f"dense{i}", transB=1))  # fmt: skip
            tensor = f"z{i}"
        elif isinstance(module, torch.nn.ReLU):
            nodes.append(helper.make_node("Relu", [tensor], [f"a{i}"], name=f"relu{i}"))
            tensor = f"a{i}"
        elif isinstance(module, SmoothReLU):
            inits.append(numpy_helper.from_array(np.array(float(module.eps)), f"eps{i}"))
            nodes.append(helper.make_node("SmoothReLU", [tensor, f"eps{i}"], [f"a{i}"],
                                          name=f"smooth_relu{i}", domain=ONNX_DOMAIN))  # fmt: skip
            tensor = f"a{i}"
        elif not isinstance(module, torch.nn.Identity):
            return False
    graph = helper.make_graph(
        nodes, "nncrn_mlp",
        [helper.make_tensor_value_info("input", TensorProto.DOUBLE, [None, width])],
        [helper.make_tensor_value_info(tensor, TensorProto.DOUBLE, [None, n_out])],
        initializer=inits,
    )  # fmt: skip
    smooth = any(n.domain == ONNX_DOMAIN for n in nodes)
    proto = helper.make_model(
        graph, producer_name="nncrn",
        opset_imports=[helper.make_opsetid("", 17)]
        + ([helper.make_opsetid(ONNX_DOMAIN, 1)] if smooth else []),
        functions=[_smooth_relu_function()] if smooth else [],
    )  # fmt: skip
    helper.set_model_props(proto, {ONNX_META_KEY: json.dumps(meta)})
    onnx.checker.check_model(proto)
    data = proto.SerializeToString()
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return True
