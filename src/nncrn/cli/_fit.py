"""``nncrn fit``: train a network's rate constants on a labelled CSV table (``nncrn.train.fit``)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.cli._demo import add_koopman_options, koopman_option
from nncrn.cli._io import (
    check_not_input,
    check_output_dir,
    class_labels,
    input_matrix,
    write_atomic,
)
from nncrn.cli._pipeline import check_seed
from nncrn.data import read_table
from nncrn.network import ReactionNetwork


def register(sub: Any) -> None:
    p = sub.add_parser(
        "fit",
        help="train a network's rate constants at the chemical level on a labelled CSV",
        description="Gradient training of the weight and bias rate constants of a network "
        "(steady-state gradients: exact layer-wise for smoothed-ReLU networks, implicit "
        "function theorem otherwise), every rate kept in [k-min, k-max]. The CSV has a header "
        "naming the network's inputs (or its feature names) and a class-label column.",
    )
    p.add_argument("network", type=Path, help="network JSON")
    p.add_argument("--csv", type=Path, required=True, help="training table (header row)")
    p.add_argument("--target", default="label", help="class-label column (default: label)")
    p.add_argument("--epochs", type=int, default=100, help="passes over the data (default 100)")
    p.add_argument("--lr", type=float, default=1e-3,
                   help="Adam step size (default 0.001: 0.01 overshot on the demo networks)")
    p.add_argument("--batch-size", type=int, help="rows per step (default: all rows)")
    p.add_argument(
        "--k-min", type=float, default=1e-3, help="smallest rate constant (default 1e-3)"
    )
    p.add_argument("--k-max", type=float, default=1e3, help="largest rate constant (default 1e3)")
    p.add_argument("--l1", type=float, default=0.0, help="L1 weight; small rates are removed")
    p.add_argument("--max-levels", type=int, help="cap on distinct trained rate values")
    p.add_argument("--validation", type=float, default=0.2,
                   help="share of the rows held out to pick the best epoch (default 0.2; 0 "
                   "picks it by the loss on all rows); the written network is that epoch's, "
                   "never a later, worse one")  # fmt: skip
    p.add_argument("--seed", type=int, default=0,
                   help="random seed for shuffling and the validation split (default 0)")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, required=True, help="trained network JSON to write")
    p.add_argument("--plot", type=Path, help="write the loss curve to this PNG")
    add_koopman_options(p, "the rate-constant training", "the trainable rates of each neuron")
    p.set_defaults(func=run)


def rate_summary(network: ReactionNetwork) -> list[tuple[str, str]]:
    """Rows for the report: distinct rate constants (listed when few) and the dynamic range."""
    rates = np.unique(network.stoichiometry.rates)
    rows = [("reactions", f"{network.n_reactions}"), ("distinct rate constants", f"{rates.size}")]
    if rates.size <= 8:
        rows.append(("rate constants", ", ".join(f"{r:.4g}" for r in rates)))
    lo, hi = float(rates.min()), float(rates.max())
    rows.append(("dynamic range k_max / k_min", f"{hi / lo:.4g} ({np.log10(hi / lo):.2f} decades)"))
    return rows


def answers(network: ReactionNetwork, X: np.ndarray) -> np.ndarray:
    """Argmax of the steady readouts: closed form when the network has one, else simulated."""
    from nncrn._errors import NetworkError
    from nncrn.simulate import fixed_point, steady_state

    try:
        return fixed_point(network, X).outputs.argmax(1)
    except NetworkError:  # feedback or another structure without a closed form
        return steady_state(network, X).outputs.argmax(1)


def _plot(hist: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    epochs = np.arange(1, hist.loss.size + 1)
    lines = ax.plot(epochs, hist.loss, label="cross-entropy loss (epoch mean)")
    ax.set(xlabel="epoch", ylabel="cross-entropy loss", title=f"fit ({hist.gradient} gradient)")
    if hist.accuracy is not None:
        ax2 = ax.twinx()
        lines += ax2.plot(epochs, hist.accuracy, color="tab:orange", label="training accuracy")
        ax2.set(ylabel="training accuracy", ylim=(0, 1.02))
    ax.legend(lines, [str(line.get_label()) for line in lines], loc="center right", fontsize=8)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    from nncrn.train import Constraints, fit

    # Every check before training, so a bad option costs no time and leaves no partial output.
    for option, path in (("-o", args.output), ("--plot", args.plot)):
        if path is not None:
            check_output_dir(path)
            if path.is_dir():
                raise IsADirectoryError(
                    f"{option} {str(path)!r} is a directory; give a file name, e.g. "
                    f"{str(path / ('fitted.json' if option == '-o' else 'fit.png'))!r}"
                )
    check_not_input(args.output, {"the network": args.network, "--csv": args.csv})
    check_not_input(args.plot, {"the network": args.network, "--csv": args.csv, "-o": args.output},
                    option="--plot")  # fmt: skip
    check_seed(args.seed)
    for option, value in (("--lr", args.lr), ("--k-min", args.k_min), ("--l1", args.l1)):
        if not np.isfinite(value):
            raise InputError(f"{option} {value}: must be a finite number")
    network = ReactionNetwork.load(args.network)
    header, rows = read_table(args.csv)
    y = class_labels(args.csv, header, rows, args.target, network)
    X = input_matrix(network, args.csv)
    koopman = koopman_option(args)
    constraints = Constraints(k_min=args.k_min, k_max=args.k_max, l1=args.l1,
                              max_levels=args.max_levels)  # fmt: skip
    with console.status("training rate constants"):
        trained, hist = fit(network, X, y, epochs=args.epochs, lr=args.lr,
                            batch_size=args.batch_size, constraints=constraints, rng=args.seed,
                            validation=args.validation, accelerate=koopman)  # fmt: skip
    before = float((answers(network, X) == y).mean())
    after = float((answers(trained, X) == y).mean())
    trained.save(args.output)
    table = Table(title=f"nncrn fit: {args.network.name} on {args.csv.name} ({len(X)} rows)")
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for label, value in [
        ("gradient", hist.gradient), ("trainable terms", f"{hist.n_terms}"),
        ("removed by L1", f"{hist.n_pruned}"), ("loss: first epoch", f"{hist.loss[0]:.4f}"),
        ("loss: last epoch", f"{hist.loss[-1]:.4f}"),
        ("epoch written (best " + ("validation" if args.validation else "training") + " loss)",
         f"{hist.best_epoch} of {hist.loss.size}"),
        ("loss of the network given", f"{hist.initial_loss:.4f}"),
        ("loss of the written network", f"{hist.final_loss:.4f}"),
        *([("Koopman jumps kept", f"{sum(j.accepted for j in hist.jumps)} of {len(hist.jumps)} "
            f"({koopman.horizon} steps each)")] if koopman is not None else []),
        ("steady-state evaluations", f"{hist.evaluations}"),
        ("training accuracy before (steady state)", f"{before:.4f}"),
        ("training accuracy after (steady state)", f"{after:.4f}"),
        *rate_summary(trained),
    ]:  # fmt: skip
        table.add_row(label, value)
    console.print(table)
    if after < before or hist.final_loss > hist.initial_loss:
        console.print(
            f"[bold red]warning:[/bold red] [red]the written network is worse than the one given "
            f"(training accuracy {before:.4f} -> {after:.4f}, loss {hist.initial_loss:.4f} -> "
            f"{hist.final_loss:.4f}); lower --lr, or drop --l1/--max-levels, which act after "
            "training[/red]",
            highlight=False,
        )
    console.print(f"wrote {args.output}")
    if args.plot is not None:
        _plot(hist, args.plot)
        console.print(f"wrote {args.plot}")
    return 0
