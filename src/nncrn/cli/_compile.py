"""``nncrn compile``: a model file written by ``train``/``demo`` -> network JSON."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn.cli._io import load_model


def register(sub: Any) -> None:
    p = sub.add_parser("compile", help="compile a saved model (model.json) into a network JSON",
                       description="Compile the model.json written by `nncrn train` or "
                       "`nncrn demo` into a reaction network.")  # fmt: skip
    p.add_argument("model", type=Path, help="model.json written by `nncrn train`/`nncrn demo`")
    p.add_argument("-o", "--output", type=Path, required=True, help="network JSON to write")
    p.add_argument("--eps", type=float, default=None,
                   help="smoothing eps (default: the eps the model was trained with)")  # fmt: skip
    p.add_argument("--argmax", action="store_true",
                   help="add a winner-take-all stage: the outputs become class shares W0, W1, "
                   "... whose largest marks the class (trimolecular reactions)")  # fmt: skip
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    from nncrn.compile import SmoothReLU, compile_network, with_argmax

    model, meta = load_model(args.model)
    eps = args.eps if args.eps is not None else meta.get("eps", 1e-3)
    rng = meta.get("input_range")
    network = compile_network(model, scheme=SmoothReLU(eps=eps),
                              input_range=None if rng is None else [tuple(r) for r in rng])  # fmt: skip
    if args.argmax:
        network = with_argmax(network)
    extra = {k: meta[k] for k in ("classes", "feature_names") if k in meta}
    if extra:
        network = network.with_metadata(**extra)
    network.save(args.output)
    console.print(f"wrote {args.output}: {network.n_species} species, {network.n_reactions} reactions")
    return 0
