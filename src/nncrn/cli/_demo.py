"""``nncrn demo``: the main job on a built-in dataset."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn._errors import InputError
from nncrn.cli import _pipeline
from nncrn.cli._schemes import TRAINABLE


def add_pipeline_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--hidden", default="32,16", help="hidden layer widths (default: 32,16)")
    p.add_argument("--eps", type=float, default=1e-3,
                   help="smoothing eps of the smoothed ReLU (default: 1e-3)")  # fmt: skip
    p.add_argument("--epochs", type=int, default=60, help="training epochs (default: 60)")
    p.add_argument("--seed", type=int, default=0, help="random seed for split and training (default: 0)")
    p.add_argument("--test-size", type=float, default=0.25,
                   help="held-out share of the rows, stratified (default: 0.25); 0 tests on the "
                   "training rows (a train=test study)")  # fmt: skip
    p.add_argument("--scheme", choices=TRAINABLE, default="smooth-relu",
                   help="construction: smooth-relu (SmoothReLU activations, exact for real "
                   "weights) or dual-rail (rate-independent; ReLU activations and integer "
                   "weight levels: needs --discretize binary|ternary|linear). Default: smooth-relu")  # fmt: skip
    p.add_argument("--bits", type=int,
                   help="discretize weights per layer to this many bits (sign included); "
                   "for --discretize linear|exponential")  # fmt: skip
    p.add_argument("--discretize", choices=("exponential", "linear", "binary", "ternary"),
                   help="weight level set (default with --bits: exponential; binary/ternary "
                   "take no --bits)")  # fmt: skip
    p.add_argument("--qat", action="store_true",
                   help="quantization-aware training (straight-through) for --qat-epochs after "
                   "the float training, instead of rounding the trained weights once")  # fmt: skip
    p.add_argument("--qat-epochs", type=int, default=300,
                   help="epochs of quantization-aware training (default: 300)")  # fmt: skip
    p.add_argument("--quantize-biases", action="store_true",
                   help="discretize the biases too (default: biases stay real; each is one "
                   "initial amount or rate constant)")  # fmt: skip
    add_koopman_options(p, "the float training", "the weights")
    p.add_argument("--out", type=Path, default=Path("nncrn-out"),
                   help="output directory (default: ./nncrn-out)")  # fmt: skip


def discretization_option(args: argparse.Namespace) -> Any:
    """The :class:`nncrn.data.Discretization` of --bits/--discretize/--qat, or None."""
    from nncrn.data import Discretization
    from nncrn.train import check_bits

    method = args.discretize
    if method is None and args.bits is None:
        for flag, set_ in (("--qat", args.qat), ("--quantize-biases", args.quantize_biases)):
            if set_:
                raise InputError(f"{flag} needs a discretization: add --discretize ternary "
                                 "(or binary), or --bits N")  # fmt: skip
        return None
    method = method or "exponential"
    if method in ("binary", "ternary"):
        if args.bits is not None:
            raise InputError(
                f"--discretize {method} has fixed levels ({'1' if method == 'binary' else '2'} "
                f"bit{'' if method == 'binary' else 's'}); drop --bits {args.bits}, or use "
                f"--discretize linear|exponential --bits {args.bits}"
            )
        bits = 1 if method == "binary" else 2
    elif args.bits is None:
        raise InputError(f"--discretize {method} needs --bits N, e.g. --bits 3")
    else:
        bits = check_bits(args.bits)
    if args.qat_epochs < 1:
        raise InputError(f"--qat-epochs must be >= 1, got {args.qat_epochs}")
    return Discretization(method, bits, qat=bool(args.qat), qat_epochs=args.qat_epochs,
                          biases=bool(args.quantize_biases))  # fmt: skip


def add_koopman_options(p: argparse.ArgumentParser, training: str, what: str) -> None:
    """--koopman and its --koopman-* settings (defaults: nncrn.train.KOOPMAN_PRESET)."""
    p.add_argument("--koopman", action="store_true",
                   help=f"Koopman-operator acceleration of {training}: every --koopman-window "
                   f"Adam steps, one linear (DMD) operator per neuron jumps {what} "
                   "--koopman-horizon steps ahead, kept only if the training loss falls")  # fmt: skip
    p.add_argument("--koopman-window", type=int, default=50,
                   help="steps per fitting window, with --koopman (default: 50)")  # fmt: skip
    p.add_argument("--koopman-horizon", type=int, default=200,
                   help="steps one jump skips, with --koopman (default: 200)")  # fmt: skip
    p.add_argument("--koopman-rank", type=int, default=2,
                   help="singular directions kept per neuron, with --koopman (default: 2)")  # fmt: skip


def koopman_option(args: argparse.Namespace) -> Any:
    """The :class:`nncrn.train.Koopman` of --koopman and its --koopman-* settings, or None."""
    from nncrn.train import KOOPMAN_PRESET, Koopman

    flags = (("--koopman-window", args.koopman_window, KOOPMAN_PRESET.window, "optimizer steps"),
             ("--koopman-horizon", args.koopman_horizon, KOOPMAN_PRESET.horizon, "optimizer steps"),
             ("--koopman-rank", args.koopman_rank, KOOPMAN_PRESET.rank, "directions"))  # fmt: skip
    if not args.koopman:
        for flag, value, default, _ in flags:
            if value != default:
                raise InputError(f"{flag} {value} needs --koopman (it sets the acceleration)")
        return None
    for flag, value, _, unit in flags:
        if value < 1:
            raise InputError(f"{flag} must be >= 1 ({unit}), got {value}")
    return Koopman(window=args.koopman_window, horizon=args.koopman_horizon,
                   rank=args.koopman_rank)  # fmt: skip


def options(args: argparse.Namespace) -> _pipeline.Options:
    """The pipeline's options from the parsed command line."""
    return _pipeline.Options(
        hidden=_pipeline.parse_hidden(args.hidden), eps=args.eps, epochs=args.epochs,
        seed=args.seed, test_size=args.test_size, scheme=args.scheme,
        discretization=discretization_option(args), koopman=koopman_option(args),
    )  # fmt: skip


def show(report: _pipeline.Report, title: str, console: Any) -> None:
    from rich.table import Table

    table = Table(title=title, show_header=True, header_style="bold")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for label, value in report.rows:
        table.add_row(label, value)
    console.print(table)
    for w in report.warnings:
        console.print(f"[bold red]warning:[/bold red] [red]{w}[/red]", highlight=False)
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
    p.add_argument("--dataset", choices=_pipeline.DATASETS, default="iris",
                   help="built-in dataset (default: iris); moons and circles are generated "
                   "2-D two-class patterns")  # fmt: skip
    add_pipeline_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    opts = options(args)
    ds = _pipeline.builtin_dataset(args.dataset)
    report = _pipeline.run(ds, opts, out=args.out, console=console)
    arch = "-".join(str(n) for n in (ds.X.shape[1], *opts.hidden, len(ds.classes)))
    show(report, f"nncrn demo: {ds.name} ({arch}, {opts.scheme}, eps={args.eps:g})", console)
    return 0
