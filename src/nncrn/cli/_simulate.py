"""``nncrn simulate``: inputs CSV -> outputs CSV (steady state, states at times, or SSA runs)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.cli._io import check_not_input, input_matrix, write_csv
from nncrn.network import ReactionNetwork

SOLVERS = {"torch": "TorchODE", "scipy": "ScipyODE"}  # the CLI's name -> solver class


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a network on the inputs in a CSV file",
        description="Inputs CSV: a header row naming the network's input species (any order) "
        "or its feature names, one row per input; a network without inputs is simulated once "
        "from its initial state (no --inputs). Output CSV: the readout values (headed by "
        "the class names when the network carries them, then a `predicted` column with the "
        "class of the largest output, empty for a row that did not converge), per-row "
        "convergence flag and final residual. With --t-end or --times: the state at those "
        "times and whether the integration reached them (steady state not checked). With "
        "--stochastic: one row per input and run, the outputs averaged over the second half of "
        "the run and whether the run completed.",
    )
    p.add_argument("network", type=Path, help="network JSON")
    p.add_argument("--inputs", type=Path, help="inputs CSV (required when the network has inputs)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--until-steady", action="store_true", help="run to steady state (default)")
    mode.add_argument("--t-end", type=float, help="report the state at this chemical time")
    mode.add_argument("--times", help="report the state at these chemical times, e.g. 1,10,100 "
                      "(one row per input and time)")  # fmt: skip
    p.add_argument("--solver", choices=tuple(SOLVERS), default="torch",
                   help="ODE solver: torch (batched TorchODE, default) or scipy (ScipyODE)")  # fmt: skip
    p.add_argument("--device", default=None,
                   help="torch device for --solver torch, e.g. cpu or cuda (default: cuda if "
                   "available, else cpu)")  # fmt: skip
    p.add_argument("--stochastic", action="store_true",
                   help="exact stochastic simulation (Gillespie) instead of the ODE; needs "
                   "--volume and --t-end")  # fmt: skip
    p.add_argument("--volume", type=float, help="system size for --stochastic: molecules = "
                   "concentration x volume")  # fmt: skip
    p.add_argument("--runs", type=int, default=1, help="runs per input for --stochastic (default: 1)")
    p.add_argument("--seed", type=int, default=0, help="random seed for --stochastic (default: 0)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="outputs CSV to write; - writes it to standard output (the summary "
                   "line then goes to standard error)")  # fmt: skip
    p.set_defaults(func=run)


def _columns(network: ReactionNetwork) -> tuple[list[str], list[str] | None]:
    """Output column names (the class names when the network carries one per output) and classes.

    A network without a readout (e.g. an imported generic CRN) reports every species.
    """
    if not network.readout:
        return list(network.species_names), None
    classes = network.metadata.get("classes")
    if isinstance(classes, list | tuple) and len(classes) == len(network.outputs):
        names = [str(c) for c in classes]
        if len(set(names)) == len(names):
            return names, names
    return list(network.outputs), None


def _predicted(values: np.ndarray, ok: np.ndarray, classes: list[str] | None) -> list[list[str]]:
    """The ``predicted`` column: the class of the largest output; empty where ``ok`` is false."""
    if classes is None:
        return [[] for _ in values]
    return [[classes[int(np.argmax(v))] if good else ""] for v, good in zip(values, ok, strict=True)]


def _parse_times(text: str) -> np.ndarray:
    try:
        times = np.array([float(t) for t in text.split(",") if t.strip()])
    except ValueError:
        raise InputError(f"--times {text!r}: give chemical times as numbers, e.g. 1,10,100") from None
    if times.size == 0 or not np.isfinite(times).all() or (times <= 0).any():
        raise InputError(f"--times {text!r}: give one or more finite times > 0, e.g. 1,10,100")
    if (np.diff(times) <= 0).any():
        raise InputError(f"--times {text!r}: the times must increase, e.g. 1,10,100")
    return times


def _solver(args: argparse.Namespace) -> Any:
    import nncrn.simulate

    if args.device is not None and args.solver != "torch":
        raise InputError("--device applies to --solver torch only")
    if args.solver == "torch" and args.device is not None:
        import torch

        try:
            device = torch.device(args.device)
        except RuntimeError:
            raise InputError(f"--device {args.device!r} is not a torch device; use cpu or cuda") from None
        if device.type == "cuda" and not torch.cuda.is_available():
            raise InputError("--device cuda: torch sees no CUDA device here; use --device cpu")
        return nncrn.simulate.TorchODE(device=args.device)
    return getattr(nncrn.simulate, SOLVERS[args.solver])()


def run(args: argparse.Namespace, console: Any) -> int:
    from nncrn.simulate import integrate, steady_state

    check_not_input(args.output, {"the network": args.network, "--inputs": args.inputs})
    network = ReactionNetwork.load(args.network)
    if args.inputs is not None:
        X: np.ndarray | None = input_matrix(network, args.inputs)
    elif network.inputs:
        raise InputError(
            f"the network has {len(network.inputs)} input species {list(network.inputs)[:6]}; "
            "give their values with --inputs X.csv"
        )
    else:
        X = None  # one run from the network's initial state
    rows_in = 1 if X is None else len(X)
    names, classes = _columns(network)
    extra = ["predicted"] if classes is not None else []
    if args.stochastic:
        return _stochastic(args, network, X, names, extra, classes, console)
    for option in ("volume",):
        if getattr(args, option) is not None:
            raise InputError(f"--{option} applies to --stochastic only")
    solver = _solver(args)
    if args.t_end is not None or args.times is not None:
        if args.t_end is not None and (not np.isfinite(args.t_end) or args.t_end <= 0):
            raise InputError(f"--t-end must be a finite time > 0, got {args.t_end}")
        times = np.array([args.t_end]) if args.t_end is not None else _parse_times(args.times)
        # The state at T need not be steady: say only that it was reached, not "converged".
        traj = integrate(network, X, np.concatenate([[0.0], times]), throw=False, solver=solver)
        ok = traj.converged
        series = traj.outputs if network.readout else traj.concentrations
        if args.t_end is not None:
            final = series[:, -1, :]
            pred = _predicted(final, ok, classes)
            rows = [[*v.tolist(), *p, bool(c)] for v, p, c in zip(final, pred, ok, strict=True)]
            write_csv(args.output, [*names, *extra, "integrated"], rows)
        else:
            rows = []
            for i in range(rows_in):
                # a time point is reached when it is finite (NaN marks the times never reached)
                values = series[i, 1:, :]
                reached = np.isfinite(values).all(axis=1) & ok[i]
                pred = _predicted(values, reached, classes)
                rows += [[i, float(t), *v.tolist(), *p, bool(r)]
                         for t, v, p, r in zip(times, values, pred, reached, strict=True)]  # fmt: skip
            write_csv(args.output, ["row", "time", *names, *extra, "integrated"], rows)
        when = f"t = {args.t_end:g}" if args.t_end is not None else f"{len(times)} times"
        _said(args, console, f"{rows_in} rows, {int(ok.sum())} integrated to {when} "
              "(steady state not checked; use --until-steady)")  # fmt: skip
        return 0 if ok.all() else 1
    ss = steady_state(network, X, throw=False, solver=solver)
    values = ss.outputs if network.readout else ss.concentrations
    ok, residual = ss.converged, ss.residual
    pred = _predicted(values, ok, classes)
    rows = [[*v.tolist(), *p, bool(c), float(r)]
            for v, p, c, r in zip(values, pred, ok, residual, strict=True)]  # fmt: skip
    write_csv(args.output, [*names, *extra, "converged", "residual"], rows)
    _said(args, console, f"{rows_in} rows, {int(ok.sum())} converged")
    return 0 if ok.all() else 1


def _said(args: argparse.Namespace, console: Any, summary: str) -> None:
    """The summary line: after ``wrote FILE`` on standard output, or alone on standard error
    when the CSV itself went to standard output (``-o -``)."""
    if str(args.output) == "-":
        print(summary, file=sys.stderr)
    else:
        console.print(f"wrote {args.output}: {summary}")


def _stochastic(args: argparse.Namespace, network: ReactionNetwork, X: np.ndarray | None,
                names: list[str], extra: list[str], classes: list[str] | None,
                console: Any) -> int:  # fmt: skip
    from nncrn.simulate import gillespie

    if args.volume is None or args.t_end is None:
        raise InputError(
            "--stochastic needs --volume V (molecules = concentration x V) and --t-end T "
            "(how long to run), e.g. --volume 1000 --t-end 200"
        )
    if args.times is not None:
        raise InputError("--stochastic reports time averages; use --t-end, not --times")
    if not (np.isfinite(args.volume) and args.volume > 0):
        raise InputError(f"--volume must be a finite number > 0, got {args.volume}")
    if not (np.isfinite(args.t_end) and args.t_end > 0):
        raise InputError(f"--t-end must be a finite time > 0, got {args.t_end}")
    if args.runs < 1:
        raise InputError(f"--runs must be >= 1, got {args.runs}")
    if args.solver != "torch" or args.device is not None:
        raise InputError("--solver and --device choose the ODE solver; drop them with --stochastic")
    result = gillespie(network, X, volume=args.volume, t_end=args.t_end, runs=args.runs,
                       rng=args.seed, throw=False)  # fmt: skip
    averages = result.outputs if network.readout else result.time_average
    rows = []
    for i in range(averages.shape[0]):
        done = result.completed[i]
        pred = _predicted(averages[i], done, classes)
        rows += [[i, m, *v.tolist(), *p, bool(c)]
                 for m, (v, p, c) in enumerate(zip(averages[i], pred, done, strict=True))]  # fmt: skip
    write_csv(args.output, ["row", "run", *names, *extra, "completed"], rows)
    _said(args, console, f"{len(rows)} runs, {int(result.completed.sum())} completed "
          f"(outputs averaged over t in [{result.burn_in:g}, {args.t_end:g}])")  # fmt: skip
    return 0 if result.completed.all() else 1
