"""``nncrn compile``: a model file written by ``train``/``demo`` -> network JSON."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Any

from nncrn._errors import InputError
from nncrn.cli._io import check_not_input, check_output_dir
from nncrn.cli._models import load_model, load_onnx_meta
from nncrn.cli._schemes import SCHEME_NAMES, make_scheme


def register(sub: Any) -> None:
    p = sub.add_parser("compile", help="compile a saved model (model.json) into a network JSON",
                       description="Compile the model.json written by `nncrn train` or "
                       "`nncrn demo` into a reaction network.")  # fmt: skip
    p.add_argument("model", type=Path, help="model.json (or model.onnx) written by `nncrn "
                   "train`/`nncrn demo`, or any ONNX MLP (Gemm/MatMul+Add, Relu)")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, required=True, help="network JSON to write")
    p.add_argument("--eps", type=float, default=None,
                   help="leak rate eps (> 0) of the smoothed ReLU that replaces the model's plain "
                   "ReLU layers (default 1e-3); SmoothReLU layers always compile with the eps "
                   "they were trained with, so --eps must equal it or be omitted")  # fmt: skip
    p.add_argument("--scheme", choices=SCHEME_NAMES, default=None,
                   help="construction (default: the model's own, as written by train/demo; "
                   "else smooth-relu): smooth-relu, rectified-root (eps + z y - y^3), sigmoid, "
                   "dual-rail (rate-independent; weights must be integer multiples of one unit "
                   "per layer, e.g. --discretize ternary, and outputs come divided by the "
                   "product of the units)")  # fmt: skip
    p.add_argument("--argmax", action="store_true",
                   help="add a winner-take-all stage: the outputs become class shares W0, W1, "
                   "... whose largest marks the class (trimolecular reactions; needs a model "
                   "with at least 2 outputs)")  # fmt: skip
    p.set_defaults(func=run)


def _scheme(name: str | None, eps: float | None, model: Any) -> Any:
    """The scheme for ``--scheme``/``--eps`` (None: the model's own, ``compile_network(scheme=None)``)."""
    from nncrn.compile import SmoothReLUScheme, layer_stack

    if name not in (None, "smooth-relu"):
        if eps is not None and not (math.isfinite(eps) and eps > 0):
            raise InputError(f"--eps is {eps!r}; it must be a finite number > 0")
        return make_scheme(name, 1e-3 if eps is None else eps)
    if eps is None:
        return None if name is None else SmoothReLUScheme()
    if not math.isfinite(eps) or eps <= 0:
        raise InputError(
            f"--eps is {eps!r}; it must be a finite number > 0 (the leak rate of the smoothed "
            "ReLU that replaces the model's ReLU layers; eps = 0 leaves neurons stuck at 0). "
            "Omit --eps for the default 1e-3"
        )
    for layer in layer_stack(model).layers:
        f = layer.function
        if f.kind == "smooth_relu" and not math.isclose(f.get("eps"), eps, rel_tol=1e-6):
            trained = f.get("eps")
            raise InputError(
                f"--eps {eps!r} differs from the eps={trained!r} the model's SmoothReLU layers "
                f"were trained with ({layer.source}); a SmoothReLU layer compiles exactly only "
                f"with its own eps. Use --eps {trained!r} or omit --eps"
            )
    return SmoothReLUScheme(eps=eps)


def run(args: argparse.Namespace, console: Any) -> int:
    from nncrn.compile import compile_network, with_argmax

    output = check_output_dir(args.output)
    check_not_input(args.output, {"the model": args.model})
    if args.model.suffix.lower() == ".onnx":  # any ONNX MLP; nncrn's own carries its metadata
        from nncrn.compile import layer_stack

        model = layer_stack(args.model)
        meta = load_onnx_meta(args.model, model.n_inputs, model.n_outputs)
    else:
        model, meta = load_model(args.model)
    name = args.scheme or meta.get("scheme")
    scheme = _scheme(name if name in SCHEME_NAMES else None, args.eps, model)
    network = compile_network(model, scheme=scheme, input_range=meta.get("input_range"),
                              input_scale=meta.get("input_scale"))  # fmt: skip
    if args.argmax:
        if len(network.outputs) < 2:  # one output per readout
            raise InputError(
                f"--argmax needs a model with at least 2 outputs (one per class); "
                f"{args.model.name} has {len(network.outputs)} ({', '.join(network.outputs)}). "
                "A single output needs no winner-take-all stage: drop --argmax and threshold it"
            )
        network = with_argmax(network)
    extra = {k: meta[k] for k in ("classes", "feature_names") if k in meta}
    if extra:
        network = network.with_metadata(**extra)
    network.save(output)  # atomic itself: a failed write leaves no partial file
    console.print(
        f"wrote {args.output}: {network.n_species} species, {network.n_reactions} reactions"
    )
    return 0
