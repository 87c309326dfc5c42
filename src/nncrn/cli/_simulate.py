"""``nncrn simulate``: inputs CSV -> outputs CSV (steady state or state at a chemical time)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.cli._io import check_not_input, input_matrix, write_csv
from nncrn.network import ReactionNetwork


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a network on the inputs in a CSV file",
        description="Inputs CSV: a header row naming the network's input species (any order) "
        "or its feature names, one row per input. Output CSV: the readout values (headed by "
        "the class names when the network carries them, then a `predicted` column with the "
        "class of the largest output, empty for a row that did not converge), per-row "
        "convergence flag and final residual (with --t-end: whether the integration reached T).",
    )
    p.add_argument("network", type=Path, help="network JSON")
    p.add_argument("--inputs", type=Path, required=True, help="inputs CSV")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--until-steady", action="store_true", help="run to steady state (default)")
    mode.add_argument("--t-end", type=float, help="report the state at this chemical time")
    p.add_argument("-o", "--output", type=Path, required=True, help="outputs CSV to write")
    p.set_defaults(func=run)


def _columns(network: ReactionNetwork) -> tuple[list[str], list[str] | None]:
    """Output column names (the class names when the network carries one per output) and classes."""
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


def run(args: argparse.Namespace, console: Any) -> int:
    from nncrn.simulate import integrate, steady_state

    check_not_input(args.output, {"the network": args.network, "--inputs": args.inputs})
    network = ReactionNetwork.load(args.network)
    X = input_matrix(network, args.inputs)
    names, classes = _columns(network)
    extra = ["predicted"] if classes is not None else []
    if args.t_end is not None:
        if not np.isfinite(args.t_end) or args.t_end <= 0:
            raise InputError(f"--t-end must be a finite time > 0, got {args.t_end}")
        # The state at T need not be steady: say only that it was reached, not "converged".
        traj = integrate(network, X, np.array([0.0, args.t_end]), throw=False)
        ok = traj.converged
        final = traj.outputs[:, -1, :]
        pred = _predicted(final, ok, classes)
        rows = [[*v.tolist(), *p, bool(c)] for v, p, c in zip(final, pred, ok, strict=True)]
        write_csv(args.output, [*names, *extra, "integrated"], rows)
        console.print(f"wrote {args.output}: {len(X)} rows, {int(ok.sum())} integrated to "
                      f"t = {args.t_end:g} (steady state not checked; use --until-steady)")  # fmt: skip
        return 0 if ok.all() else 1
    ss = steady_state(network, X, throw=False)
    values, ok, residual = ss.outputs, ss.converged, ss.residual
    pred = _predicted(values, ok, classes)
    rows = [[*v.tolist(), *p, bool(c), float(r)]
            for v, p, c, r in zip(values, pred, ok, residual, strict=True)]  # fmt: skip
    write_csv(args.output, [*names, *extra, "converged", "residual"], rows)
    console.print(f"wrote {args.output}: {len(X)} rows, {int(ok.sum())} converged")
    return 0 if ok.all() else 1
