"""``nncrn simulate``: inputs CSV -> outputs CSV (steady state or state at a chemical time)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.cli._io import input_matrix, write_csv
from nncrn.network import ReactionNetwork


def register(sub: Any) -> None:
    p = sub.add_parser(
        "simulate",
        help="simulate a network on the inputs in a CSV file",
        description="Inputs CSV: a header row naming the network's input species (any order) "
        "or its feature names, one row per input. Output CSV: the readout values, per-row "
        "convergence flag and final residual (with --t-end: whether the integration reached T).",
    )
    p.add_argument("network", type=Path, help="network JSON")
    p.add_argument("--inputs", type=Path, required=True, help="inputs CSV")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--until-steady", action="store_true", help="run to steady state (default)")
    mode.add_argument("--t-end", type=float, help="report the state at this chemical time")
    p.add_argument("-o", "--output", type=Path, required=True, help="outputs CSV to write")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    from nncrn.simulate import integrate, steady_state

    network = ReactionNetwork.load(args.network)
    X = input_matrix(network, args.inputs)
    if args.t_end is not None:
        if not np.isfinite(args.t_end) or args.t_end <= 0:
            raise InputError(f"--t-end must be a finite time > 0, got {args.t_end}")
        # The state at T need not be steady: say only that it was reached, not "converged".
        traj = integrate(network, X, np.array([0.0, args.t_end]), throw=False)
        ok = traj.converged
        rows = [[*v.tolist(), bool(c)] for v, c in zip(traj.outputs[:, -1, :], ok, strict=True)]
        write_csv(args.output, [*network.outputs, "integrated"], rows)
        console.print(f"wrote {args.output}: {len(X)} rows, {int(ok.sum())} integrated to "
                      f"t = {args.t_end:g} (steady state not checked; use --until-steady)")  # fmt: skip
        return 0 if ok.all() else 1
    ss = steady_state(network, X, throw=False)
    values, ok, residual = ss.outputs, ss.converged, ss.residual
    rows = [[*v.tolist(), bool(c), float(r)] for v, c, r in zip(values, ok, residual, strict=True)]
    write_csv(args.output, [*network.outputs, "converged", "residual"], rows)
    console.print(f"wrote {args.output}: {len(X)} rows, {int(ok.sum())} converged")
    return 0 if ok.all() else 1
