"""``nncrn demo``: the main job on a built-in dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn.cli import _pipeline


def add_pipeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hidden", default="32,16", help="hidden layer widths (default: 32,16)")
    p.add_argument("--eps", type=float, default=1e-3,
                   help="smoothing eps of the smoothed ReLU (default: 1e-3)")  # fmt: skip
    p.add_argument("--epochs", type=int, default=60, help="training epochs (default: 60)")
    p.add_argument("--seed", type=int, default=0, help="random seed for split and training")
    p.add_argument("--out", type=Path, default=Path("nncrn-out"),
                   help="output directory (default: ./nncrn-out)")  # fmt: skip


def show(report: _pipeline.Report, title: str, console: Any) -> None:
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for label, value in report.rows:
        table.add_row(label, value)
    console.print(table)
    for f in report.files:
        console.print(f"wrote {f}")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "demo",
        help="train, compile and simulate a network on a built-in dataset",
        description="Train an MLP on a built-in dataset (held-out test split), compile it into a "
        "chemical reaction network, simulate every test input as chemistry (batched, 256 per call), and "
        "compare the chemistry with the network.",
    )
    p.add_argument("--dataset", choices=_pipeline.DATASETS, default="iris")
    add_pipeline_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    hidden = _pipeline.parse_hidden(args.hidden)
    ds = _pipeline.builtin_dataset(args.dataset)
    report = _pipeline.run(ds, hidden=hidden, eps=args.eps, epochs=args.epochs, seed=args.seed,
                           out=args.out, console=console)  # fmt: skip
    arch = "-".join(str(n) for n in (ds.X.shape[1], *hidden, len(ds.classes)))
    show(report, f"nncrn demo: {ds.name} ({arch}, eps={args.eps:g})", console)
    return 0
