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
_SOLVERS = ("auto", "tau", "direct", "next")


def register(sub: Any) -> None:
    p = sub.add_parser(
        "noise",
        help="how often stochastic runs agree with the deterministic answer, per volume",
        description="Simulate the network's chemical master equation RUNS times per input and "
        "volume, each run started at the input's deterministic steady state and read 40 "
        "times once its fluctuations are stationary; report the fraction of readings whose "
        "answer (the strictly largest instantaneous readout) is the deterministic one and, "
        "given labels, the accuracy. Defaults: volumes 10 and 100 (a few molecules per "
        "species, where answers start to fail, to about a hundred), 2 runs, all local "
        "cores; the horizon is 3 relaxation times of burn-in and 5 of readings (the iris "
        "demo network, 38 inputs: 76 s of CPU time).",
    )
    p.add_argument("network", type=Path, help="network JSON")
    p.add_argument("--inputs", type=Path, required=True, help="inputs CSV (header names inputs)")
    p.add_argument("--labels", type=Path, help="labels CSV: one column of class names or indices")
    p.add_argument("--volumes", default="10,100",
                   help="comma-separated volumes (default 10,100)")  # fmt: skip
    p.add_argument("--runs", type=int, default=2,
                   help="runs per input and volume (default 2; each is read 40 times)")  # fmt: skip
    p.add_argument("--t-end", type=float, default=None,
                   help="simulated time; answers are read over its second half (default: 8 "
                   "relaxation times of the chemistry at its steady state, read from the 3rd; "
                   "with --from-initial, twice the time the deterministic chemistry takes to "
                   "settle within 1%%)")  # fmt: skip
    p.add_argument("--from-initial", action="store_true",
                   help="start the runs at the species' initial values instead of the "
                   "deterministic steady state (slower: the chemistry must settle first)")  # fmt: skip
    p.add_argument("--solver", choices=_SOLVERS, default="auto",
                   help="default auto, per volume: tau-leaping where a leap at the "
                   "steady-state counts covers more events than it costs (large counts), "
                   "else the exact next-reaction method")  # fmt: skip
    p.add_argument("--jobs", type=int, default=None,
                   help="threads running simulations (default: every local core)")  # fmt: skip
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    add_output_directory(p, "noise.png and noise.json")
    p.set_defaults(func=run)


class _PlainProgress:
    """``progress(done, total)`` for a non-terminal: one line on stderr per ~10% of the work.

    ``done`` and ``total`` count expected reaction events, so the time left is estimated
    from the fraction of the work done, whatever the mix of volumes.
    """

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.next = 0.0

    def __call__(self, done: int, total: int) -> None:
        if total and (done / total >= self.next or done == total):
            elapsed = time.monotonic() - self.start
            frac = done / total
            left = f", about {elapsed * (1 - frac) / frac:.0f} s left" if 0 < frac < 1 else ""
            print(f"stochastic runs: {100 * frac:.0f}% of the expected events, "
                  f"{elapsed:.0f} s{left}", file=sys.stderr, flush=True)  # fmt: skip
            self.next = frac + 0.1


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
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TimeRemainingColumn
    from rich.table import Table

    from nncrn.simulate import DirectMethod, NextReactionMethod, TauLeaping, noise_study

    solvers = {"auto": None, "tau": TauLeaping, "direct": DirectMethod, "next": NextReactionMethod}
    make = solvers[args.solver]
    solver = None if make is None else make()
    if args.runs < 1:
        raise InputError(f"--runs must be >= 1, got {args.runs}")
    if args.jobs is not None and args.jobs < 1:
        raise InputError(f"--jobs must be >= 1 (threads), got {args.jobs}; leave it out for "
                         "every local core")  # fmt: skip
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
            network, X, y, volumes=volumes, runs=args.runs, rng=args.seed, n_jobs=args.jobs,
            t_end=args.t_end, solver=solver, from_steady_state=not args.from_initial,
            progress=_PlainProgress(),
        )  # fmt: skip
    else:
        with Progress(  # the bar counts expected reaction events: the time left is fair
            "[progress.description]{task.description}", BarColumn(), TaskProgressColumn(),
            TimeRemainingColumn(), console=console, transient=True,
        ) as bar:  # fmt: skip
            task = bar.add_task("stochastic runs", total=None)
            study = noise_study(
                network, X, y, volumes=volumes, runs=args.runs, rng=args.seed,
                n_jobs=args.jobs, t_end=args.t_end, solver=solver,
                from_steady_state=not args.from_initial,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )  # fmt: skip
    table = Table(title=f"{args.network.name}: {len(X)} inputs x {args.runs} runs x "
                  f"{study.readings} readings")  # fmt: skip
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
    if study.from_steady_state:
        console.print(f"runs started at the steady state; answers read over t in "
                      f"[{study.burn_in:.4g}, {study.t_end:.4g}] (relaxation time "
                      f"{study.relaxation_time:.4g}); solver {study.solver}")  # fmt: skip
    else:
        console.print(f"answers read over t in [{study.burn_in:.4g}, {study.t_end:.4g}]; the "
                      f"deterministic chemistry settles (1%) by t = {study.settled:.4g}; "
                      f"solver {study.solver}")  # fmt: skip
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
            "settled": None if np.isnan(study.settled) else study.settled,
            "relaxation_time": None if np.isnan(study.relaxation_time) else study.relaxation_time,
            "from_steady_state": study.from_steady_state, "readings": study.readings,
        }  # fmt: skip
        write_atomic(args.output_dir / "noise.json",
                     lambda tmp: tmp.write_text(json.dumps(summary, indent=2)))  # fmt: skip
        console.print(f"wrote {args.output_dir / 'noise.png'} and noise.json")
    return 0
