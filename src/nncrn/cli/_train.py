"""``nncrn train``: the main job on the user's own CSV table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn._errors import InputError
from nncrn.cli import _pipeline
from nncrn.cli._demo import add_pipeline_options, show


def register(sub: Any) -> None:
    p = sub.add_parser(
        "train",
        help="train, compile and simulate a network on your CSV table",
        description="Like `demo`, on a CSV file with a header row: a categorical target column "
        "and numeric feature columns.",
    )
    p.add_argument("--csv", type=Path, required=True, help="input table (header row required)")
    p.add_argument("--target", required=True, help="name of the class-label column")
    add_pipeline_options(p)
    p.add_argument("--bits", type=int,
                   help="discretize weights and biases per layer to this many bits (sign included)")  # fmt: skip
    p.add_argument("--discretize", choices=("exponential", "linear", "binary", "ternary"),
                   help="level set (default with --bits: exponential; binary/ternary need no --bits)")  # fmt: skip
    p.add_argument("--qat", action="store_true",
                   help="quantization-aware fine-tuning (straight-through) before discretizing")  # fmt: skip
    p.set_defaults(func=run)


def quantize_option(args: argparse.Namespace) -> tuple[int, str, bool] | None:
    """``(bits, method, qat)`` from --bits/--discretize/--qat, or None for real-valued weights."""
    from nncrn.train import check_bits

    method = args.discretize
    if method is None and args.bits is None:
        if args.qat:
            raise InputError("--qat needs a discretization: add --bits N (and --discretize ...)")
        return None
    method = method or "exponential"
    if method in ("binary", "ternary"):
        return (1 if method == "binary" else 2, method, bool(args.qat))
    if args.bits is None:
        raise InputError(f"--discretize {method} needs --bits N, e.g. --bits 4")
    return (check_bits(args.bits), method, bool(args.qat))


def run(args: argparse.Namespace, console: Any) -> int:
    hidden = _pipeline.parse_hidden(args.hidden)
    quantize = quantize_option(args)
    ds = _pipeline.csv_dataset(args.csv, args.target)
    report = _pipeline.run(ds, hidden=hidden, eps=args.eps, epochs=args.epochs, seed=args.seed,
                           out=args.out, console=console, quantize=quantize)  # fmt: skip
    show(report, f"nncrn train: {args.csv.name} -> {args.target}", console)
    return 0
