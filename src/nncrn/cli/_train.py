"""``nncrn train``: the main job on the user's own CSV table."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn.cli import _pipeline
from nncrn.cli._demo import add_pipeline_options, options, show
from nncrn.cli._io import check_not_input


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
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    opts = options(args)
    for name in _pipeline.OUTPUT_FILES:  # the table must not be one of the files written
        check_not_input(args.out / name, {"--csv": args.csv}, option="--out")
    ds = _pipeline.csv_dataset(args.csv, args.target)
    report = _pipeline.run(ds, opts, out=args.out, console=console)
    show(report, f"nncrn train: {args.csv.name} -> {args.target} ({opts.scheme})", console)
    return 0
