"""``nncrn compare``: one trained model compiled by several schemes, side by side."""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from nncrn._errors import InputError, NNCRNWarning, UnsupportedModelError
from nncrn.cli._info import (
    add_data_arguments,
    chemistry_report,
    clip_features,
    load_features,
    make_solver,
    report_rows,
)


def _schemes() -> dict[str, Callable[[float], Any]]:
    """The CLI's name -> scheme table (the library itself takes scheme objects)."""
    from nncrn.compile import ChemicalSigmoid, DualRail, Polynomial, SmoothReLU

    return {
        "smooth-relu": lambda eps: SmoothReLU(eps),
        "rectified-root": lambda eps: Polynomial.rectified_root(3, eps),
        "sigmoid": lambda eps: ChemicalSigmoid(),
        "dual-rail": lambda eps: DualRail(rescale=True),
    }


SCHEME_NAMES = ("smooth-relu", "rectified-root", "sigmoid", "dual-rail")


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
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    import torch
    from rich.table import Table

    from nncrn.cli._io import load_model
    from nncrn.compile import compile_network, with_argmax

    names = [n.strip() for n in args.schemes.split(",") if n.strip()]
    table_of = _schemes()
    unknown = [n for n in names if n not in table_of]
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
    columns: dict[str, dict[str, str]] = {}
    order: list[str] = []
    for name in names:
        scheme = table_of[name](eps)
        try:
            with warnings.catch_warnings():
                # rectified-root and sigmoid say they replace the activation: so does --help
                warnings.simplefilter("ignore", NNCRNWarning)
                network = compile_network(model, scheme=scheme, input_range=input_range)
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
            with torch.no_grad():
                reference = model(torch.tensor(clip_features(network, X)[0])).numpy()
            chem = chemistry_report(
                network, X, reference, t_max=args.t_max, solver=make_solver(args)
            )
        columns[name] = dict(report_rows(network, chem))
        _merge(order, list(columns[name]))
    table = Table(title=f"{args.model.name} compiled by {len(names)} schemes", header_style="bold")
    table.add_column("quantity")
    for name in names:
        table.add_column(name, justify="right", overflow="fold")
    for key in order:
        table.add_row(key, *(columns[n].get(key, "-") for n in names))
    console.print(table)
    return 0
