"""``nncrn noise``: stochastic agreement and accuracy of a compiled classifier versus volume."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.cli._io import class_labels, input_matrix, write_atomic
from nncrn.cli._pipeline import add_output_directory, check_output_directory, check_seed
from nncrn.data import read_table
from nncrn.network import ReactionNetwork

# The one name -> solver table (DESIGN rule 2: strings live only in the CLI).
_SOLVERS = ("tau", "direct", "next")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "noise",
        help="how often stochastic runs agree with the deterministic answer, per volume",
        description="Simulate the network's chemical master equation RUNS times per input and "
        "volume; report the fraction of runs whose answer (argmax of the time-averaged "
        "readout) agrees with the deterministic steady state and, given labels, the accuracy.",
    )
    p.add_argument("network", type=Path, help="network JSON")
    p.add_argument("--inputs", type=Path, required=True, help="inputs CSV (header names inputs)")
    p.add_argument("--labels", type=Path, help="labels CSV: one column of class names or indices")
    p.add_argument("--volumes", default="10,100,1000,10000", help="comma-separated volumes (default 10,100,1000,10000)")
    p.add_argument("--runs", type=int, default=50, help="runs per input and volume (default 50)")
    p.add_argument("--t-end", type=float, default=None,
                   help="simulated time; answers are averaged over its second half (default: "
                   "twice the time the deterministic chemistry of these inputs takes to "
                   "settle within 1%%, measured first)")  # fmt: skip
    p.add_argument("--solver", choices=_SOLVERS, default="tau", help="default: tau-leaping")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output_directory(p, "noise.png and noise.json")
    p.set_defaults(func=run)


class _PlainProgress:
    """``progress(done, total)`` for a non-terminal: one line on stderr per ~10% of the runs."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.next = 0.0

    def __call__(self, done: int, total: int) -> None:
        if total and (done / total >= self.next or done == total):
            elapsed = time.monotonic() - self.start
            print(f"stochastic runs: {done}/{total} ({100 * done / total:.0f}%), "
                  f"{elapsed:.0f} s", file=sys.stderr, flush=True)  # fmt: skip
            self.next = done / total + 0.1


def _volumes(text: str) -> list[float]:
    try:
        vols = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InputError(
            f"--volumes must be comma-separated numbers such as 10,100,1000; got {text!r}"
        ) from None
    if not vols:
        raise InputError("--volumes is empty; pass e.g. --volumes 10,100,1000")
    bad = [v for v in vols if not 0 < v < float("inf")]
    if bad:
        raise InputError(
            f"--volumes {text!r}: every volume must be a finite number > 0 (it converts "
            f"concentrations to molecule counts); got {bad[0]:g}"
        )
    return vols


def _labels(path: Path, network: ReactionNetwork, batch: int) -> np.ndarray:
    """Class labels from column ``label`` (or the first column), one per input row."""
    header, rows = read_table(path)
    y = class_labels(path, header, rows, "label" if "label" in header else header[0], network)
    if len(y) != batch:
        raise InputError(f"{path.name} has {len(y)} labels but the inputs have {batch} rows")
    return y


def _plot(study: Any, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nncrn.plot import plot_noise_study

    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    plot_noise_study(study, ax)
    fig.tight_layout()
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
    from rich.table import Table

    from nncrn.simulate import DirectMethod, NextReactionMethod, TauLeaping, noise_study

    solver = {"tau": TauLeaping, "direct": DirectMethod, "next": NextReactionMethod}[args.solver]()
    if args.runs < 1:
        raise InputError(f"--runs must be >= 1, got {args.runs}")
    check_seed(args.seed)
    if args.output_dir is not None:  # created like `nncrn demo --out`
        check_output_directory(args.output_dir, "--out")
        args.output_dir.mkdir(parents=True, exist_ok=True)
    if args.t_end is not None and not 0 < args.t_end < float("inf"):
        raise InputError(f"--t-end must be a finite time > 0, got {args.t_end}")
    volumes = _volumes(args.volumes)  # checked before the progress bar starts
    network = ReactionNetwork.load(args.network)
    X = input_matrix(network, args.inputs)
    y = None if args.labels is None else _labels(args.labels, network, len(X))
    if not console.is_terminal:  # a log file or pipe: plain lines, about every 10%
        study = noise_study(
            network, X, y, volumes=volumes, runs=args.runs, rng=args.seed,
            t_end=args.t_end, solver=solver, progress=_PlainProgress(),
        )  # fmt: skip
    else:
        with Progress(
            "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
            TimeRemainingColumn(), console=console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("stochastic runs", total=None)
            study = noise_study(
                network, X, y, volumes=volumes, runs=args.runs, rng=args.seed,
                t_end=args.t_end, solver=solver,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    table = Table(title=f"{args.network.name}: {len(X)} inputs x {args.runs} runs")
    for col in ("volume", "agreement", "± se", *(("accuracy", "± se") if y is not None else ()),
                "events/run"):  # fmt: skip
        table.add_column(col, justify="right")
    for k, vol in enumerate(study.volumes):
        acc: tuple[str, ...] = ()
        if study.accuracy is not None and study.accuracy_se is not None:  # labels y given
            acc = (f"{study.accuracy[k]:.3f}", f"{study.accuracy_se[k]:.3f}")
        table.add_row(f"{vol:g}", f"{study.agreement[k]:.3f}", f"{study.agreement_se[k]:.3f}",
                      *acc, f"{study.mean_events[k]:.3g}")  # fmt: skip
    console.print(table)
    console.print(f"answers averaged over t in [{study.burn_in:.4g}, {study.t_end:.4g}]; the "
                  f"deterministic chemistry settles (1%) by t = {study.settled:.4g}")  # fmt: skip
    if study.deterministic_accuracy is not None:
        console.print(f"deterministic accuracy: {study.deterministic_accuracy:.3f}")
    if args.output_dir is not None:
        _plot(study, args.output_dir / "noise.png")
        summary = {
            "volumes": study.volumes.tolist(), "agreement": study.agreement.tolist(),
            "agreement_se": study.agreement_se.tolist(),
            "accuracy": None if study.accuracy is None else study.accuracy.tolist(),
            "accuracy_se": None if study.accuracy_se is None else study.accuracy_se.tolist(),
            "deterministic_accuracy": study.deterministic_accuracy, "runs": study.runs,
            "t_end": study.t_end, "burn_in": study.burn_in, "solver": study.solver,
            "settled": study.settled,
        }  # fmt: skip
        write_atomic(args.output_dir / "noise.json",
                     lambda tmp: tmp.write_text(json.dumps(summary, indent=2)))  # fmt: skip
        console.print(f"wrote {args.output_dir / 'noise.png'} and noise.json")
    return 0
