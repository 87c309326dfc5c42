"""``nncrn rncrn``: train a recurrent reaction network that reproduces a dynamical system."""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path
from typing import Any

from nncrn._errors import InputError

OUTPUT_FILES = ("network.json", "network.sbml", "model.json", "verification.csv", "portrait.png")


def register(sub: Any) -> None:
    from nncrn.rncrn import TARGETS

    p = sub.add_parser(
        "rncrn",
        help="train a recurrent CRN whose executive species follow a given vector field",
        description="Trains a recurrent neural chemical reaction network (executive species X, "
        "fast perceptrons Y at time scale mu; Dack et al. 2024) to reproduce a target vector "
        "field on a box, compiles it at --mu and verifies the full network against the "
        "target (fixed points, limit-cycle period, time averages). Writes network.json, "
        "network.sbml, model.json (the trained parameters), verification.csv and portrait.png "
        "to --out.",
    )
    p.add_argument("--target", required=True,
                   help=f"a built-in system ({', '.join(TARGETS)}) or FILE.py:FUNC, a function "
                   "f(x) taking a (batch, N) numpy array and returning dx/dt of the same shape "
                   "(with --low and --high), or CURVE.csv: points along a closed curve, one "
                   "per row in the order of motion, N columns (a header line is skipped), "
                   "designed as an attracting limit cycle of period --period")  # fmt: skip
    p.add_argument("--period", type=float,
                   help="period of the designed limit cycle (CURVE.csv targets)")  # fmt: skip
    p.add_argument("--attraction", type=float, default=1.0,
                   help="rate at which the designed cycle pulls a point back to the curve "
                   "(CURVE.csv targets; default 1)")  # fmt: skip
    p.add_argument(
        "--perceptrons", type=int, help="M, the number of perceptrons (default: the target's)"
    )
    p.add_argument(
        "--mu", type=float, help="perceptron time scale (default: the target's, 0.01 or 0.1)"
    )
    p.add_argument(
        "--low", type=float, nargs="+", help="lower corner of the box (FILE.py:FUNC targets)"
    )
    p.add_argument(
        "--high", type=float, nargs="+", help="upper corner of the box (FILE.py:FUNC targets)"
    )
    p.add_argument("--beta", type=float,
                   help="fix every beta_i (0: no 0 -> X reactions); default: the target's, learned "
                   "for FILE.py:FUNC")  # fmt: skip
    p.add_argument("--epochs", type=int, default=2000, help="Adam epochs per start (default 2000)")
    p.add_argument("--restarts", type=int, default=3,
                   help="starts trained in full; the one closest to the target's dynamics is kept "
                   "(default 3)")  # fmt: skip
    p.add_argument("--screen", type=int, default=8,
                   help="starts drawn and trained briefly, of which the best --restarts go on "
                   "(default 8)")  # fmt: skip
    p.add_argument("--max-decades", type=float, default=3.0,
                   help="largest allowed rate spread, in decades (default 3); 0 for no limit")  # fmt: skip
    p.add_argument(
        "--t-end", type=float, help="length of the verification run (default: the target's)"
    )
    p.add_argument("--seed", type=int, default=0, help="initialisation seed (default 0)")
    p.add_argument("--out", type=Path, required=True, help="directory for the results")
    p.set_defaults(func=run)


def _load_function(spec: str) -> Any:
    path_text, _, name = spec.rpartition(":")
    path = Path(path_text)
    if not path_text or not name or path.suffix != ".py":
        raise InputError(
            f"--target {spec!r} is neither a built-in target nor FILE.py:FUNC (e.g. "
            "my_system.py:f, a function of a (batch, N) array)"
        )
    if not path.is_file():
        raise FileNotFoundError(f"--target {spec!r}: no file {str(path)!r}")
    module_spec = importlib.util.spec_from_file_location(f"_nncrn_target_{path.stem}", path)
    if module_spec is None or module_spec.loader is None:  # pragma: no cover - a .py file loads
        raise InputError(f"--target {spec!r}: cannot load {str(path)!r} as Python")
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    func = getattr(module, name, None)
    if not callable(func):
        raise InputError(f"--target {spec!r}: {str(path)!r} defines no function {name!r}")
    return func


def _designed(args: argparse.Namespace) -> Any:
    import numpy as np

    from nncrn.rncrn import design_cycle

    path = Path(args.target)
    if not path.is_file():
        raise FileNotFoundError(f"--target {args.target!r}: no file {str(path)!r}")
    if args.period is None:
        raise InputError(f"--target {args.target!r} is a curve: give its period, --period T")
    if args.low is not None or args.high is not None:
        raise InputError(
            "--low/--high go with FILE.py:FUNC targets; a curve's box is set around it"
        )
    lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
    try:
        float(lines[0].split(",")[0])
    except (ValueError, IndexError):
        lines = lines[1:]  # a header
    try:
        points = np.array([[float(v) for v in ln.split(",")] for ln in lines])
    except ValueError as err:
        raise InputError(
            f"--target {args.target!r}: every line after the header must be numbers separated by "
            f"commas ({err})"
        ) from None
    return design_cycle(points, args.period, attraction=args.attraction, name=path.stem)


def _target(args: argparse.Namespace) -> Any:
    from dataclasses import replace

    from nncrn.rncrn import TARGETS, Target

    if not args.target.endswith(".csv") and (args.period is not None or args.attraction != 1.0):
        raise InputError(
            f"--period/--attraction go with CURVE.csv targets (a designed limit cycle); "
            f"{args.target!r} is not one"
        )
    if args.target in TARGETS:
        if args.low is not None or args.high is not None:
            raise InputError(
                f"--low/--high go with FILE.py:FUNC targets; {args.target!r} has its own box"
            )
        target = TARGETS[args.target]
    elif args.target.endswith(".csv"):
        target = _designed(args)
    else:
        func = _load_function(args.target)
        if args.low is None or args.high is None:
            raise InputError(
                "a FILE.py:FUNC target needs its box: --low L1 [L2 ...] --high H1 [H2 ...]"
            )
        name = args.target.rpartition(":")[2]
        target = Target(name, func, tuple(args.low), tuple(args.high), beta=None)
    changes: dict[str, Any] = {}
    if args.perceptrons is not None:
        changes["perceptrons"] = args.perceptrons
    if args.mu is not None:
        changes["mu"] = args.mu
    if args.beta is not None:
        changes["beta"] = args.beta
    if args.t_end is not None:
        if args.t_end <= 0:
            raise InputError(f"--t-end {args.t_end}: give a positive duration")
        changes["t_end"] = args.t_end
    return replace(target, **changes) if changes else target


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    from nncrn.cli._io import atomic_path, check_output_dir
    from nncrn.export import to_sbml
    from nncrn.rncrn import train, verify
    from nncrn.rncrn._portrait import phase_portrait

    if args.epochs < 0 or args.restarts < 1 or args.screen < 0:
        raise InputError("--epochs and --screen must be >= 0 and --restarts >= 1")
    if args.max_decades < 0:
        raise InputError(
            f"--max-decades {args.max_decades}: give a number of decades >= 0 (0: no limit)"
        )
    target = _target(args)
    args.out.mkdir(parents=True, exist_ok=True)
    check_output_dir(args.out / OUTPUT_FILES[0])
    with console.status(
        f"training {target.name} (M = {target.perceptrons}, {args.restarts} starts)"
    ):
        result = train(target, epochs=args.epochs, restarts=args.restarts, screen=args.screen,
                       rng=args.seed,
                       max_decades=args.max_decades or None)  # fmt: skip
    model = result.model
    with console.status(f"verifying the full network at mu = {target.mu:g}"):
        v = verify(model, target, target.mu)
    net = model.to_network(target.mu, x0=target.x0)
    with atomic_path(args.out / "network.json") as tmp:
        net.save(tmp)
    with atomic_path(args.out / "network.sbml") as tmp:
        tmp.write_text(to_sbml(net), encoding="utf-8")
    with atomic_path(args.out / "model.json") as tmp:
        doc = {"target": target.name, "mu": target.mu, "parameters": model.to_dict()}
        tmp.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    with atomic_path(args.out / "verification.csv") as tmp:
        v.to_frame().to_csv(tmp, index=False)
    fig = phase_portrait(model, target, v)
    with atomic_path(args.out / "portrait.png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    table = Table(
        title=f"nncrn rncrn: {target.name}, M = {model.n_perceptrons}, mu = {target.mu:g}"
    )
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for key, value in v.summary().items():
        table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
    table.add_row("training time (s)", f"{result.seconds:.1f}")
    console.print(table)
    console.print(f"wrote {', '.join(str(args.out / f) for f in OUTPUT_FILES)}")
    return 0
