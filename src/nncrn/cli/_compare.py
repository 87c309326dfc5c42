"""``nncrn compare``: one trained model compiled by several schemes, side by side."""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path
from typing import Any

from nncrn._errors import InputError, NNCRNWarning, UnsupportedModelError
from nncrn.cli._info import (
    add_data_arguments,
    chemistry_report,
    load_features,
    make_solver,
    model_features,
    report_rows,
    subsample,
)
from nncrn.cli._schemes import SCHEME_NAMES, make_scheme


def _merge(order: list[str], keys: list[str]) -> None:
    """Add ``keys`` to ``order``, each new one right after its predecessor in ``keys``."""
    for prev, key in zip([None, *keys], keys, strict=False):
        if key not in order:
            order.insert(order.index(prev) + 1 if prev in order else len(order), key)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "compare",
        help="compile one model with several schemes and compare size, speed and agreement",
        description="Schemes: smooth-relu (the model's own eps), rectified-root (eps + z y - y^3), "
        "sigmoid (bounded chemical sigmoid), dual-rail (rate-independent; weights must be integer "
        "multiples of one unit per layer, e.g. binary/ternary, and outputs come divided by the "
        "product of the units). "
        "rectified-root and sigmoid replace the model's activation, so their agreement measures "
        "how much the function changes.",
    )
    p.add_argument("model", type=Path, help="model.json written by `nncrn train`/`nncrn demo`")
    p.add_argument("--schemes", default="smooth-relu,dual-rail",
                   help=f"comma-separated, from {', '.join(SCHEME_NAMES)} (default smooth-relu,dual-rail)")  # fmt: skip
    add_data_arguments(p)
    p.add_argument(
        "--argmax", action="store_true", help="append the chemical argmax stage to every network"
    )
    p.add_argument("--labels", type=Path,
                   help="CSV of class labels (names or indices; column `label` or the first), "
                   "one per --inputs row: adds each scheme's accuracy")  # fmt: skip
    p.add_argument("--times", action="store_true",
                   help="also integrate trajectories for the settling times (within 10%% and 1%% of "
                   "the steady state, as nncrn.simulate.settling_time); "
                   "far slower than the steady states")  # fmt: skip
    p.add_argument("--out", type=Path,
                   help="directory to write each scheme's network into (NAME.json)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    import torch
    from rich.table import Table

    from nncrn.cli._models import load_model
    from nncrn.compile import compile_network, with_argmax

    names = [n.strip() for n in args.schemes.split(",") if n.strip()]
    unknown = [n for n in names if n not in SCHEME_NAMES]
    if not names:
        raise InputError(
            f"--schemes {args.schemes!r} names no scheme; pass a comma-separated list from "
            f"{', '.join(SCHEME_NAMES)}, e.g. --schemes smooth-relu,dual-rail"
        )
    if unknown:
        raise InputError(
            f"--schemes {args.schemes!r}: unknown {unknown}; choose from {', '.join(SCHEME_NAMES)}"
        )
    model, meta = load_model(args.model)
    eps = float(meta.get("eps", 1e-3))
    rng = meta.get("input_range")
    input_range = None if rng is None else [tuple(r) for r in rng]
    if args.labels is not None and not args.inputs:
        raise InputError("--labels go with --inputs (one label per input row)")
    written: list[Path] = []
    columns: dict[str, dict[str, str]] = {}
    order: list[str] = []
    for name in names:
        scheme = make_scheme(name, eps)
        try:
            with warnings.catch_warnings():
                # rectified-root and sigmoid say they replace the activation: so does --help
                warnings.simplefilter("ignore", NNCRNWarning)
                network = compile_network(model, scheme=scheme, input_range=input_range,
                                          input_scale=meta.get("input_scale"))  # fmt: skip
        except UnsupportedModelError as exc:
            columns[name] = {"refused": str(exc)}
            _merge(order, list(columns[name]))
            continue
        if args.argmax:
            network = with_argmax(network)
        # as `nncrn compile` does: feature names let --inputs name its columns like demo's CSVs
        extra = {k: meta[k] for k in ("classes", "feature_names") if k in meta}
        if extra:
            network = network.with_metadata(**extra)
        X = load_features(args, network)
        chem = None
        if X is not None:
            labels = None
            if args.labels is not None:  # one per --inputs row, thinned as --limit thins them
                from nncrn.cli._io import input_matrix
                from nncrn.cli._noise import _labels

                n = len(input_matrix(network, args.inputs))
                labels = _labels(args.labels, network, n)[subsample(n, args.limit)]
            with torch.no_grad():
                reference = model(torch.tensor(model_features(network, X))).numpy()
            chem = chemistry_report(network, X, reference, t_max=args.t_max,
                                    solver=make_solver(args), times=args.times, labels=labels)  # fmt: skip
        if args.out is not None:
            args.out.mkdir(parents=True, exist_ok=True)
            network.save(args.out / f"{name}.json")
            written.append(args.out / f"{name}.json")
        columns[name] = dict(report_rows(network, chem))
        _merge(order, list(columns[name]))
    table = Table(title=f"{args.model.name} compiled by {len(names)} schemes", header_style="bold")
    table.add_column("quantity")
    for name in names:
        table.add_column(name, justify="right", overflow="fold")
    for key in order:
        table.add_row(key, *(columns[n].get(key, "-") for n in names))
    console.print(table)
    for path in written:
        console.print(f"wrote {path}")
    return 0
