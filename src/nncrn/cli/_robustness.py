"""``nncrn robustness``: answers under log-normal rate-constant noise and under early readout."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.cli._fit import rate_summary
from nncrn.cli._io import input_matrix, write_atomic
from nncrn.cli._noise import _labels
from nncrn.cli._pipeline import add_output_directory, check_output_directory, check_seed
from nncrn.network import ReactionNetwork


def register(sub: Any) -> None:
    p = sub.add_parser(
        "robustness",
        help="agreement and accuracy under rate-constant noise and early readout",
        description="Multiply every rate constant by exp(sigma * N(0, 1)), independently per "
        "reaction and draw, and report how often the answer (argmax of the readouts) agrees with "
        "the noise-free network's and, given labels, the accuracy; then read the answer at "
        "chemical times T before the steady state (accuracy versus T).",
    )
    p.add_argument("network", type=Path, help="network JSON")
    p.add_argument("--inputs", type=Path, required=True, help="inputs CSV (header names inputs)")
    p.add_argument("--labels", type=Path, help="labels CSV: one column of class indices or names")
    p.add_argument("--sigma", default="0.1,0.3,1.0", help="comma-separated standard deviations of log k (default 0.1,0.3,1.0)")
    p.add_argument("--draws", type=int, default=32, help="noise draws per sigma (default 32)")
    p.add_argument("--times", help="comma-separated readout times (default: 16 from 0.1 to 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output_directory(p, "robustness.png and robustness.json")
    p.set_defaults(func=run)


def _floats(text: str, option: str, example: str) -> np.ndarray:
    try:
        values = np.array([float(v) for v in text.split(",") if v.strip()])
    except ValueError:
        raise InputError(
            f"{option} must be comma-separated numbers such as {example}; got {text!r}"
        ) from None
    if values.size == 0:
        raise InputError(f"{option} is empty; pass e.g. {option} {example}")
    return values


def _plot(noise: Any, early: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nncrn.plot import plot_early_readout, plot_rate_noise

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.8))
    plot_rate_noise(noise, a1)
    plot_early_readout(early, a2)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    from nncrn.train import early_readout, rate_noise

    check_seed(args.seed)
    if args.output_dir is not None:  # created like `nncrn demo --out`
        check_output_directory(args.output_dir, "--out")
        args.output_dir.mkdir(parents=True, exist_ok=True)
    sigmas = _floats(args.sigma, "--sigma", "0.1,0.3,1.0")
    if not (np.isfinite(sigmas) & (sigmas >= 0)).all():
        raise InputError(f"--sigma {args.sigma!r}: every sigma of log k must be a finite number >= 0")
    times = None if args.times is None else _floats(args.times, "--times", "1,10,100")
    if times is not None and not (
        np.isfinite(times).all() and (times > 0).all() and (np.diff(times) > 0).all()
    ):
        raise InputError(
            f"--times {args.times!r}: readout times must be finite, > 0 and increasing, e.g. 1,10,100"
        )
    if args.draws < 1:
        raise InputError(f"--draws must be >= 1, got {args.draws}")
    network = ReactionNetwork.load(args.network)
    X = input_matrix(network, args.inputs)
    y = None if args.labels is None else _labels(args.labels, network, len(X))
    with console.status("rate noise and early readout"):
        noise = rate_noise(network, X, y, sigmas=sigmas, n_draws=args.draws, rng=args.seed)
        early = early_readout(network, X, y, times=times)
    table = Table(title=f"{args.network.name}: {len(X)} inputs x {args.draws} draws per σ")
    cols = ["σ", "agreement mean", "min", "5%"] + (
        ["accuracy mean", "min"] if y is not None else []
    )
    for c in cols:
        table.add_column(c, justify="right")
    for k, s in enumerate(noise.sigmas):
        ag = noise.agreement[k]
        acc = (
            []
            if noise.accuracy is None  # no labels y
            else [f"{noise.accuracy[k].mean():.3f}", f"{noise.accuracy[k].min():.3f}"]
        )
        table.add_row(f"{s:g}", f"{ag.mean():.3f}", f"{ag.min():.3f}",
                      f"{np.quantile(ag, 0.05):.3f}", *acc)  # fmt: skip
    console.print(table)
    t2 = Table(title="early readout at chemical time T")
    for c in ["T", "agreement"] + (["accuracy"] if y is not None else []) + ["undecided"]:
        t2.add_column(c, justify="right")
    assert early.undecided is not None, "early_readout always reports the undecided fraction"
    for k, t in enumerate(early.times):
        acc = [] if early.accuracy is None else [f"{early.accuracy[k]:.3f}"]  # no labels y
        t2.add_row(f"{t:.3g}", f"{early.agreement[k]:.3f}", *acc, f"{early.undecided[k]:.3f}")
    console.print(t2)
    t3 = Table(title="rate constants")
    t3.add_column("quantity")
    t3.add_column("value", justify="right")
    for row in rate_summary(network):
        t3.add_row(*row)
    console.print(t3)
    if noise.clean_accuracy is not None:
        console.print(f"noise-free accuracy: {noise.clean_accuracy:.3f}")
    if args.output_dir is not None:
        _plot(noise, early, args.output_dir / "robustness.png")
        summary = {
            "sigmas": noise.sigmas.tolist(), "n_draws": noise.n_draws, "method": noise.method,
            "agreement": noise.agreement.tolist(),
            "accuracy": None if noise.accuracy is None else noise.accuracy.tolist(),
            "clean_accuracy": noise.clean_accuracy, "times": early.times.tolist(),
            "early_agreement": early.agreement.tolist(),
            "early_accuracy": None if early.accuracy is None else early.accuracy.tolist(),
        }  # fmt: skip
        write_atomic(args.output_dir / "robustness.json",
                     lambda tmp: tmp.write_text(json.dumps(summary, indent=2)))  # fmt: skip
        console.print(f"wrote {args.output_dir / 'robustness.png'} and robustness.json")
    return 0
