"""The model files of ``nncrn train``/``nncrn demo``: model.json (exact, versioned) and model.onnx.

model.json holds a torch ``nn.Sequential`` MLP's layers and the metadata that compiling it
needs (classes, feature names, input range and scale, scheme); ``load_model`` checks every
field so a damaged file is a :class:`~nncrn.FormatError` naming the layer and field.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import FormatError, InputError
from nncrn.cli._io import write_atomic
from nncrn.data import ONNX_META_KEY
from nncrn.network import ReactionNetwork

MODEL_FORMAT = "nncrn.mlp"
MODEL_VERSION = 1


def save_model(path: str | os.PathLike, model: Any, meta: dict) -> None:
    """Save a torch ``nn.Sequential`` MLP as versioned JSON (exact float round trip, no pickle)."""
    import torch

    layers = []
    for module in model:
        if isinstance(module, torch.nn.Linear):
            layers.append({
                "type": "linear",
                "weight": module.weight.detach().double().tolist(),
                "bias": module.bias.detach().double().tolist(),
            })
        else:
            entry: dict[str, Any] = {"type": type(module).__name__}
            if hasattr(module, "eps"):
                entry["eps"] = float(module.eps)
            layers.append(entry)
    doc = {"format": MODEL_FORMAT, "version": MODEL_VERSION, "layers": layers, **meta}
    text = json.dumps(doc)
    write_atomic(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


_LAYER_TYPES = ("linear", "SmoothReLU", "ReLU", "Identity")
_RESAVE = "fix the file or re-save the model with `nncrn train`"


def _eps_field(value: object, where: str) -> float:
    """``value`` as an eps (a finite number >= 0), else a :class:`FormatError` naming ``where``."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise FormatError(
            f"{where} is {value!r}; it must be a finite number >= 0 (the SmoothReLU eps the "
            f"model was trained with, e.g. 0.001) — {_RESAVE}"
        )
    return float(value)


def _array_field(layer: dict, key: str, ndim: int, where: str) -> np.ndarray:
    """``layer[key]`` as a float64 array of rank ``ndim``, else a :class:`FormatError`."""
    what = "a list of rows of numbers" if ndim == 2 else "a list of numbers"
    if key not in layer:
        raise FormatError(f'{where} has no "{key}" field; a linear layer needs {what} — {_RESAVE}')
    value = layer[key]
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        arr = None
    if arr is None or arr.ndim != ndim or isinstance(value, str):
        shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
        raise FormatError(f'{where}: "{key}" is {shown}; it must be {what} — {_RESAVE}')
    return arr


def load_model(path: str | os.PathLike) -> tuple[Any, dict]:
    """Inverse of :func:`save_model`: returns ``(nn.Sequential, metadata)``.

    Every field the model needs is checked here, so a hand-edited or damaged file is a
    :class:`FormatError` naming the layer and field, not a ``KeyError`` deep inside torch.
    """
    import torch

    from nncrn.nn import SmoothReLU

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise FormatError(
            f"model file {path.name!r} is not JSON ({exc}); `nncrn compile` reads the model.json "
            "written by `nncrn train`/`nncrn demo`"
        ) from None
    if not isinstance(doc, dict) or doc.get("format") != MODEL_FORMAT:
        raise FormatError(
            f"model file {path.name!r} is not an nncrn model (expected \"format\": {MODEL_FORMAT!r}); "
            "use the model.json written by `nncrn train`"
        )
    if doc.get("version") != MODEL_VERSION:
        raise FormatError(
            f"model file {path.name!r} has version {doc.get('version')!r}; this nncrn reads "
            f"version {MODEL_VERSION}"
        )
    name = f"model file {path.name!r}"
    if "eps" in doc:
        doc["eps"] = _eps_field(doc["eps"], f'{name}: top-level "eps"')
    _check_input_map(doc, name)
    layers = doc.get("layers", [])
    if not isinstance(layers, list):
        raise FormatError(f'{name}: "layers" must be a list of layer objects — {_RESAVE}')
    modules: list[torch.nn.Module] = []
    width: tuple[int, int] | None = None  # (layer, outputs) of the last linear layer
    for i, layer in enumerate(layers):
        kind = layer.get("type") if isinstance(layer, dict) else None
        where = f"{name} layer {i} ({kind})"
        if kind == "linear":
            w = _array_field(layer, "weight", 2, where)
            b = _array_field(layer, "bias", 1, where)
            if b.shape != (w.shape[0],):
                raise FormatError(
                    f"{where}: weight shape {w.shape} (outputs, inputs) needs a bias of shape "
                    f"({w.shape[0]},), got {b.shape} — {_RESAVE}"
                )
            if 0 in w.shape:
                raise FormatError(
                    f"{where}: weight shape {w.shape} (outputs, inputs) is empty; a linear "
                    f"layer needs at least one input and one output — {_RESAVE}"
                )
            if width is not None and w.shape[1] != width[1]:
                raise FormatError(
                    f"{where}: weight shape {w.shape} takes {w.shape[1]} inputs, but layer "
                    f"{width[0]} gives {width[1]} outputs — {_RESAVE}"
                )
            width = (i, w.shape[0])
            lin = torch.nn.Linear(w.shape[1], w.shape[0], dtype=torch.float64)
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            modules.append(lin)
        elif kind == "SmoothReLU":
            if "eps" not in layer:
                raise FormatError(
                    f'{where} has no "eps" field; a SmoothReLU layer records the eps it was '
                    f'trained with, e.g. {{"type": "SmoothReLU", "eps": 0.001}} — {_RESAVE}'
                )
            modules.append(SmoothReLU(_eps_field(layer["eps"], f'{where}: "eps"')))
        elif kind == "ReLU":
            modules.append(torch.nn.ReLU())
        elif kind == "Identity":
            modules.append(torch.nn.Identity())
        else:
            raise FormatError(
                f"model file layer {i} has unsupported type {kind!r}; layer types are "
                f"{', '.join(_LAYER_TYPES)} — {_RESAVE}"
            )
    if width is None:
        raise FormatError(f'{name}: "layers" has no linear layer; a model needs one — {_RESAVE}')
    sizes = model_sizes(torch.nn.Sequential(*modules))
    _check_names(doc, "feature_names", sizes[0], "input features", name, (str,))
    _check_names(doc, "classes", sizes[1], "outputs", name, (str, int, float))
    # null names are no names: dropped, so that no command copies a null into a network
    meta = {k: v for k, v in doc.items() if k not in ("format", "version", "layers")
            and not (k in ("feature_names", "classes") and v is None)}  # fmt: skip
    return torch.nn.Sequential(*modules), meta


def _check_input_map(doc: dict, name: str) -> None:
    """``input_range`` and ``input_scale`` of a model's metadata have the shapes compile needs."""
    rng = doc.get("input_range")
    if rng is not None and not (
        isinstance(rng, list) and all(isinstance(r, list) and len(r) == 2 for r in rng)
    ):
        raise FormatError(
            f'{name}: "input_range" is {rng!r}; it must be null or a list of [low, high] '
            f"pairs, one per feature — {_RESAVE}"
        )
    scale = doc.get("input_scale")
    if scale is not None and not (
        isinstance(scale, list)
        and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
                and v > 0 for v in scale)
    ):
        raise FormatError(
            f'{name}: "input_scale" is {scale!r}; it must be null or a list of finite numbers '
            f"> 0, one per feature (the factor the model reads each feature with) — {_RESAVE}"
        )


def _check_names(
    doc: dict, key: str, n: int, what: str, name: str, kinds: tuple[type, ...]
) -> None:
    """``doc[key]``, if present and not null, must be ``n`` distinct names of ``kinds``.

    Two class names for one output are a binary classifier (as a network's metadata allows).
    """
    value = doc.get(key)
    if value is None:
        return
    kind = "strings or numbers" if float in kinds else "strings"
    shown = repr(value) if len(repr(value)) <= 60 else repr(value)[:57] + "..."
    ok = isinstance(value, list) and all(
        isinstance(v, kinds) and not isinstance(v, bool) for v in value
    )
    if not ok:
        raise FormatError(
            f'{name}: "{key}" is {shown}; it must be null or a list of {kind}, one per '
            f"{what[:-1]} — {_RESAVE}"
        )
    if len(value) != n and not (key == "classes" and n == 1 and len(value) == 2):
        raise FormatError(
            f'{name}: "{key}" has {len(value)} entries ({shown}) but the model has {n} '
            f"{what} — {_RESAVE}"
        )
    if len({str(v) for v in value}) != len(value):
        raise FormatError(
            f'{name}: "{key}" {shown} repeats a name; they must be distinct — {_RESAVE}'
        )


def model_sizes(model: Any) -> tuple[int, int]:
    """``(inputs, outputs)`` of an MLP: the first linear layer's inputs, the last one's outputs."""
    import torch

    linear = [m for m in model if isinstance(m, torch.nn.Linear)]
    return linear[0].in_features, linear[-1].out_features


def check_model_matches(
    model: Any, network: ReactionNetwork, model_name: str, network_name: str
) -> None:
    """Refuse a model whose input or output count differs from ``network``'s features or outputs.

    A dual-rail network built with ``dual_inputs`` has two input species per feature.
    """
    n_in, n_out = model_sizes(model)
    dual = bool((network.metadata.get("scheme") or {}).get("dual_inputs"))
    features = len(network.inputs) // 2 if dual else len(network.inputs)
    for count, what, theirs in ((n_in, "input features", features),
                                (n_out, "outputs", len(network.outputs))):  # fmt: skip
        if count != theirs:
            raise InputError(
                f"model {model_name!r} has {n_in} input features and {n_out} outputs, but "
                f"network {network_name!r} has {features} input features and "
                f"{len(network.outputs)} outputs ({what} differ); give the model the network "
                "was compiled from"
            )


def load_onnx_meta(path: str | os.PathLike, n_inputs: int, n_outputs: int) -> dict:
    """The nncrn metadata of an ONNX file written by :func:`nncrn.data.save_onnx` (``{}`` otherwise).

    Call it after the model parsed (so the file is valid ONNX). Only the keys
    ``nncrn compile`` uses are kept, each checked as in model.json.
    """
    import onnx

    proto = onnx.load(os.fspath(path), load_external_data=False)
    props = {p.key: p.value for p in proto.metadata_props}
    if ONNX_META_KEY not in props:
        return {}
    name = f"ONNX model {Path(path).name!r} (metadata entry {ONNX_META_KEY!r})"
    try:
        doc = json.loads(props[ONNX_META_KEY])
    except json.JSONDecodeError:
        raise FormatError(f"{name} is not JSON; re-export the model or remove the entry") from None
    if not isinstance(doc, dict):
        raise FormatError(f"{name} must be a JSON object")
    _check_input_map(doc, name)
    _check_names(doc, "feature_names", n_inputs, "input features", name, (str,))
    _check_names(doc, "classes", n_outputs, "outputs", name, (str, int, float))
    return {k: doc[k] for k in ("classes", "feature_names", "input_range", "input_scale", "scheme")
            if doc.get(k) is not None}  # fmt: skip
