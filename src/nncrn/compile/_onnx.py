"""Parse an ONNX multilayer perceptron into a :class:`LayerStack`.

Supported graph: one chain of ``Gemm`` (any ``alpha``/``beta``/``transB``; ``transA=0``)
or ``MatMul`` optionally followed by ``Add`` of a bias, each optionally followed by
``Relu`` or by nncrn's model-local function ``nncrn.SmoothReLU(z, eps)`` (the smoothed
ReLU ``(z + sqrt(z^2 + 4 eps)) / 2`` that ``nncrn train`` writes to model.onnx, compiled
with its ``eps``); ``Identity`` and ``Flatten`` anywhere (they do not change a feature vector);
a final ``Softmax`` over the last axis is dropped with a note in :attr:`LayerStack.dropped`
(the argmax is unchanged; one over another axis is refused). Weights come from initializers
or ``Constant`` nodes; a bias is a scalar, ``(n,)`` or ``(1, n)``. Any other op is refused
with its type and node name; a file that is not a valid ONNX model (including nncrn's own
model.json, and a model whose external data file is missing) is a
:class:`~nncrn.FormatError`. Needs ``nncrn[interop]`` (onnx).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from nncrn._errors import FormatError, UnsupportedModelError
from nncrn.compile._layers import DenseLayer, LayerStack

__all__ = ["parse_onnx"]

_PASS_THROUGH = ("Identity", "Flatten")
_DOMAIN = "nncrn"  # nncrn's own ONNX functions: SmoothReLU(z, eps)


def _onnx():
    try:
        import onnx
    except ImportError:
        raise ImportError(
            "reading ONNX models needs the optional package 'onnx', which is not installed; "
            "install it with: pip install 'nncrn[interop]'"
        ) from None
    return onnx


_FORMATS = {".json": "JSON", ".onnxjson": "JSON", ".onnxtxt": "ONNX text",
            ".onnxtext": "ONNX text", ".txtpb": "protobuf text", ".textproto": "protobuf text",
            ".prototxt": "protobuf text", ".pbtxt": "protobuf text"}  # fmt: skip
"""What ``onnx.load`` parses a file as, by extension (anything else: binary protobuf)."""


def _nncrn_file(path: Path) -> FormatError | None:
    """A :class:`FormatError` saying what to do if ``path`` is one of nncrn's own JSON files."""
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    kind = doc.get("format") if isinstance(doc, dict) else None
    if kind == "nncrn.mlp":
        return FormatError(
            f"{str(path)!r} is an nncrn model file (format 'nncrn.mlp', the model.json written "
            "by `nncrn train` and `nncrn demo`), not an ONNX model; compile it with "
            f"`nncrn compile {path} -o network.json`, or pass compile_network the torch "
            "nn.Sequential it was saved from"
        )
    if kind == "nncrn.network":
        return FormatError(
            f"{str(path)!r} is an already compiled reaction network (format 'nncrn.network'), "
            "not a model; load it with nncrn.ReactionNetwork.load(path)"
        )
    return None


def _read(path: Path, onnx):
    """``onnx.load(path)`` with every way it fails on a bad file as a :class:`FormatError`."""
    from google.protobuf import json_format, text_format
    from google.protobuf.message import DecodeError

    fmt = _FORMATS.get(path.suffix.lower(), "binary protobuf")
    try:
        # external data separately: a missing data file is then named, not a checker error
        proto = onnx.load(str(path), load_external_data=False)
    except (DecodeError, json_format.Error, text_format.ParseError, onnx.parser.ParseError,
            UnicodeDecodeError) as exc:  # fmt: skip
        own = _nncrn_file(path)
        if own is not None:
            raise own from None
        text = exc.args[0] if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        text = text.decode(errors="replace") if isinstance(text, bytes) else text
        first = (text.strip().splitlines() or ["no details"])[0]
        raise FormatError(
            f"ONNX file {str(path)!r} is not a valid ONNX model (read as {fmt}, from its "
            f"extension {path.suffix or '(none)'!r}: {first}); re-export the model, e.g. with "
            "torch.onnx.export to a .onnx file"
        ) from None
    tensors = list(proto.graph.initializer) + [
        a.t for n in proto.graph.node for a in n.attribute if a.HasField("t")
    ]
    for t in tensors:
        if not onnx.external_data_helper.uses_external_data(t):
            continue
        location = {e.key: e.value for e in t.external_data}.get("location", "")
        if not (path.parent / location).is_file():
            raise FormatError(
                f"ONNX file {str(path)!r} keeps tensor {t.name!r} in the external data file "
                f"{location!r}, which does not exist in {str(path.parent)!r}; put that file next "
                "to the model, or save the model without external data "
                "(onnx.save_model(model, path, save_as_external_data=False))"
            )
    try:
        onnx.load_external_data_for_model(proto, str(path.parent))
    except (onnx.checker.ValidationError, ValueError, OSError) as exc:
        first = (str(exc).strip().splitlines() or ["no details"])[0]
        raise FormatError(
            f"ONNX file {str(path)!r}: its external data cannot be read ({first}); put the data "
            "files next to the model or save it without external data"
        ) from None
    return proto


def _load(model, onnx):
    if isinstance(model, onnx.ModelProto):
        proto, source = model, f"ONNX model {model.graph.name or '(unnamed)'!r}"
    elif isinstance(model, str | os.PathLike):
        path = Path(model)
        if not path.is_file():
            raise FormatError(f"ONNX file {str(path)!r} does not exist or is not a file")
        proto = _read(path, onnx)
        source = f"ONNX model {path.name!r}"
    else:
        raise FormatError(
            f"parse_onnx expects a path or an onnx.ModelProto, got {type(model).__name__}"
        )
    if not proto.HasField("graph") or not proto.graph.node:
        raise FormatError(f"{source} has no graph nodes; it is empty or not an ONNX model")
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "invalid"
        raise FormatError(f"{source} fails ONNX validation: {first}") from None
    return proto, source


class _Graph:
    """Constants and consumers of an ONNX graph, for walking its one chain of nodes."""

    def __init__(self, graph, onnx, source: str):
        from onnx import numpy_helper

        self.source = source
        self.consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
        self.nodes = []
        for node in graph.node:
            if node.op_type == "Constant":
                attr = {a.name: a for a in node.attribute}
                if "value" not in attr:
                    raise self.refuse(node, "a Constant without a tensor 'value'")
                self.consts[node.output[0]] = numpy_helper.to_array(attr["value"].t)
            else:
                self.nodes.append(node)
        self.attrs = lambda node: {
            a.name: onnx.helper.get_attribute_value(a) for a in node.attribute
        }

    def refuse(self, node, what: str) -> UnsupportedModelError:
        return UnsupportedModelError(
            f"{self.source}: node {node.name or '(unnamed)'!r} ({node.op_type}) is {what}; "
            "nncrn compiles MLPs built from Gemm, MatMul+Add, Relu, nncrn.SmoothReLU, Identity, Flatten and a "
            "final Softmax"
        )

    def const(self, node, name: str) -> np.ndarray:
        if name not in self.consts:
            raise self.refuse(node, f"using a non-constant operand {name!r} as a weight")
        return np.asarray(self.consts[name], dtype=np.float64)

    def consumer(self, tensor: str):
        users = [n for n in self.nodes if tensor in n.input]
        if len(users) > 1:
            raise UnsupportedModelError(
                f"{self.source}: tensor {tensor!r} feeds {len(users)} nodes "
                f"({', '.join(repr(u.name) for u in users)}); only a single chain is supported"
            )
        return users[0] if users else None


def parse_onnx(model) -> LayerStack:
    """Read an ONNX MLP (a path or an ``onnx.ModelProto``) into a :class:`LayerStack`.

    Weights come out as ``(n_out, n_in)`` float64 like torch's ``Linear``: for ``Gemm``
    ``weight = alpha * op(B).T`` and ``bias = beta * C``; for ``MatMul`` ``weight = B.T``.
    """
    onnx = _onnx()
    proto, source = _load(model, onnx)
    g = _Graph(proto.graph, onnx, source)
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), 13)
    inputs = [i.name for i in proto.graph.input if i.name not in g.consts]
    if len(inputs) != 1:
        raise UnsupportedModelError(f"{source}: expected one graph input, found {inputs}")
    layers: list[DenseLayer] = []
    dropped: list[str] = []
    tensor, node = inputs[0], g.consumer(inputs[0])
    seen = set()
    while node is not None:
        seen.add(id(node))
        op, a = node.op_type, g.attrs(node)
        if dropped:
            raise g.refuse(node, "an operation after the final Softmax")
        if op in _PASS_THROUGH:
            if op == "Flatten" and a.get("axis", 1) != 1:
                raise g.refuse(
                    node, f"a Flatten with axis={a['axis']} (only axis=1 keeps the batch)"
                )
        elif op == "Gemm":
            layers.append(_gemm(g, node, a, tensor, len(layers)))
        elif op == "MatMul":
            layer, node = _matmul(g, node, tensor, len(layers))
            layers.append(layer)
            seen.add(id(node))
        elif op == "Relu":
            if not layers:
                raise g.refuse(node, "a Relu on the input, before any dense layer")
            last = layers[-1]
            layers[-1] = DenseLayer(last.weight, last.bias, "relu", source=last.source)
        elif op == "SmoothReLU" and node.domain == _DOMAIN:
            if not layers:
                raise g.refuse(node, "a SmoothReLU on the input, before any dense layer")
            layers[-1] = _smooth(g, node, layers[-1])
        elif op == "Softmax":
            axis = a.get("axis", -1 if opset >= 13 else 1)  # the default changed in opset 13
            if axis not in (-1, 1):
                raise g.refuse(
                    node,
                    f"a Softmax over axis={axis} of the (batch, features) tensor: it does not "
                    "normalise each example's outputs on its own, so dropping it would change "
                    "the argmax. Only a Softmax over the last axis (axis=-1 or 1) is dropped; "
                    "export the model with softmax over dim=-1, or without the Softmax",
                )
            dropped.append(f"final Softmax {node.name or '(unnamed)'!r} (argmax unchanged)")
        else:
            raise g.refuse(node, "an unsupported operation")
        tensor = node.output[0]
        node = g.consumer(tensor)
    outputs = [o.name for o in proto.graph.output]
    if outputs != [tensor]:
        raise UnsupportedModelError(
            f"{source}: the chain of nodes ends in {tensor!r} but the graph outputs {outputs}"
        )
    stray = [n for n in g.nodes if id(n) not in seen]
    if stray:
        raise g.refuse(stray[0], "not on the chain from the input to the output")
    return LayerStack(tuple(layers), source, tuple(dropped))


def _smooth(g: _Graph, node, last: DenseLayer) -> DenseLayer:
    """``nncrn.SmoothReLU(z, eps)`` (as nncrn's own ONNX export writes it) after ``last``."""
    if len(node.input) != 2:
        raise g.refuse(node, "an nncrn.SmoothReLU without its eps operand (inputs: z, eps)")
    eps = g.const(node, node.input[1])
    if eps.size != 1 or not np.isfinite(eps).all() or float(eps.reshape(-1)[0]) < 0:
        raise g.refuse(node, f"an nncrn.SmoothReLU whose eps is {eps.tolist()}, not one finite "
                       "number >= 0")  # fmt: skip
    if last.activation != "identity":
        raise g.refuse(node, f"a SmoothReLU after a {last.activation} activation")
    return DenseLayer(last.weight, last.bias, "smooth_relu", float(eps.reshape(-1)[0]),
                      source=last.source)  # fmt: skip


def _gemm(g: _Graph, node, a: dict, tensor: str, index: int) -> DenseLayer:
    if node.input[0] != tensor:
        raise g.refuse(node, "a Gemm whose first operand is not the previous activation")
    if a.get("transA", 0):
        raise g.refuse(node, "a Gemm with transA=1 (the batch must be the first axis)")
    b = g.const(node, node.input[1])
    if b.ndim != 2:
        raise g.refuse(node, f"a Gemm with a weight of shape {b.shape}")
    w = b if a.get("transB", 0) else b.T
    w = float(a.get("alpha", 1.0)) * w
    if len(node.input) > 2 and node.input[2]:
        c = float(a.get("beta", 1.0)) * g.const(node, node.input[2])
        bias = _bias(g, node, c, w.shape[0])
    else:
        bias = np.zeros(w.shape[0])
    return DenseLayer(w, bias, "identity", source=f"layer {index} (Gemm {node.name!r})")


def _bias(g: _Graph, node, c: np.ndarray, n_out: int) -> np.ndarray:
    """The per-output bias ``(n_out,)`` of a bias operand: a scalar, ``(n_out,)`` or ``(1, n_out)``.

    Any other shape broadcasts differently against the ``(batch, n_out)`` activation: a
    ``(n_out, 1)`` operand adds one value per batch row, not one per output.
    """
    if c.size == 1:
        return np.full(n_out, float(c.reshape(())))
    if c.shape in ((n_out,), (1, n_out)):
        return c.reshape(n_out)
    raise g.refuse(
        node,
        f"adding a bias of shape {c.shape} to {n_out} outputs: against the (batch, {n_out}) "
        f"activation it does not broadcast as one value per output. A bias must be a scalar "
        f"or have shape ({n_out},) or (1, {n_out}); re-export it with that shape",
    )


def _matmul(g: _Graph, node, tensor: str, index: int):
    if node.input[0] != tensor:
        raise g.refuse(node, "a MatMul whose first operand is not the previous activation")
    b = g.const(node, node.input[1])
    if b.ndim != 2:
        raise g.refuse(node, f"a MatMul with a weight of shape {b.shape}")
    w = b.T
    add = g.consumer(node.output[0])
    bias = np.zeros(w.shape[0])
    last = node
    if add is not None and add.op_type == "Add":
        other = [t for t in add.input if t != node.output[0]]
        if len(other) != 1:
            raise g.refuse(add, "an Add that is not activation + bias")
        bias = _bias(g, add, g.const(add, other[0]), w.shape[0])
        last = add
    return DenseLayer(w, bias, "identity", source=f"layer {index} (MatMul {node.name!r})"), last
