"""``nncrn dsd``: a DNA strand-displacement design (PIL) of a network, verified on request."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn._errors import InputError


def register(sub: Any) -> None:
    p = sub.add_parser(
        "dsd",
        help="translate a network into a DNA strand-displacement design (PIL) and verify it",
        description="Writes a domain-level DSD design of NETWORK as PIL under a published "
        "scheme (qian2011: three-domain, one toehold; soloveichik2010: join and fork gates). "
        "--verify enumerates each reaction's module with peppercorn and checks it against the "
        "reaction (CRN bisimulation, crnverifier); --whole also enumerates the whole design. "
        "Needs the dsd extra: pip install 'nncrn[dsd]'.",
    )
    p.add_argument("network", type=Path, help="network JSON file (nncrn compile writes one)")
    p.add_argument("--scheme", choices=("qian2011", "soloveichik2010"), default="qian2011",
                   help="translation scheme (default qian2011)")  # fmt: skip
    p.add_argument("-o", "--output", type=Path, required=True, help="PIL file to write")
    p.add_argument("--toehold", type=int, default=7, help="toehold length, nt (default 7)")
    p.add_argument("--branch", type=int, default=15,
                   help="branch-migration and history domain length, nt (default 15)")  # fmt: skip
    p.add_argument("--fuel", type=float, default=1e-6,
                   help="fuel concentration C_max, M (default 1e-6)")  # fmt: skip
    p.add_argument("--unit", type=float, default=1e-9,
                   help="molar concentration of one formal unit (default 1e-9)")  # fmt: skip
    p.add_argument("--verify", action="store_true", help="verify every module (bisimulation)")
    p.add_argument("--whole", action="store_true",
                   help="with --verify: also enumerate and verify the whole design")  # fmt: skip
    p.add_argument("--time-limit", type=float, default=120.0,
                   help="seconds per enumeration (default 120)")  # fmt: skip
    p.add_argument("--leak", type=float, default=None, metavar="RATE",
                   help="add fuel + fuel -> products leaks at RATE /M/s to the DSD-level network")  # fmt: skip
    p.add_argument("--gate-leak", type=float, default=None, metavar="RATE",
                   help="add gate -> products leaks (a gate releasing its products without "
                        "its input) at RATE /s to the DSD-level network")  # fmt: skip
    p.add_argument("--dsd-network", type=Path, metavar="PATH",
                   help="write the condensed DSD-level network (JSON) to PATH")  # fmt: skip
    p.add_argument("--report", action="store_true", help="print the cost and verification table")
    p.set_defaults(func=run)


def _scheme(args: argparse.Namespace) -> Any:
    from nncrn.dsd import SCHEMES

    return SCHEMES[args.scheme](toehold_length=args.toehold, branch_length=args.branch,
                                fuel_concentration=args.fuel, concentration_unit=args.unit)  # fmt: skip


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    from nncrn.cli._io import check_not_input, write_atomic
    from nncrn.dsd import dsd_network, translate, verify
    from nncrn.network import ReactionNetwork

    if args.whole and not args.verify:
        raise InputError("--whole goes with --verify (it verifies the whole design as well)")
    if args.leak is not None and args.leak < 0:
        raise InputError(f"--leak {args.leak}: give a rate constant >= 0 in /M/s, e.g. 1e-2")
    if args.gate_leak is not None and args.gate_leak < 0:
        raise InputError(f"--gate-leak {args.gate_leak}: give a rate constant >= 0 in /s, "
                         "e.g. 1e-7")  # fmt: skip
    check_not_input(args.output, {"the network": args.network})
    if args.dsd_network is not None:
        check_not_input(args.dsd_network, {"the network": args.network}, "--dsd-network")
    network = ReactionNetwork.load(args.network)
    design = translate(network, _scheme(args))
    text = design.pil()
    write_atomic(args.output, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    console.print(f"wrote {args.output} ({design!r})")
    result = None
    if args.verify:
        result = verify(design, whole=args.whole, time_limit=args.time_limit)
    dsd = None
    if args.dsd_network is not None or args.leak is not None or args.gate_leak is not None:
        dsd = dsd_network(design, leak=args.leak or 0.0, gate_leak=args.gate_leak or 0.0,
                          time_limit=args.time_limit)  # fmt: skip
        if args.dsd_network is not None:
            dsd.save(args.dsd_network)
            console.print(f"wrote {args.dsd_network} ({dsd!r})")
    if args.report or args.verify:
        cost = design.cost()
        table = Table(title=f"DSD design, scheme {design.scheme.name}")
        table.add_column("quantity")
        table.add_column("value", justify="right")
        for key, value in cost.as_dict().items():
            table.add_row(key.replace("_", " "), str(value))
        table.add_row("time unit (s)", f"{design.time_unit:.4g}")
        if dsd is not None:
            table.add_row("DSD-level species", str(dsd.n_species))
            table.add_row("DSD-level reactions", str(dsd.n_reactions))
        if result is not None:
            table.add_row(
                "enumerated species (modules)", str(sum(m.species for m in result.modules))
            )
            table.add_row("enumerated reactions (modules)",
                          str(sum(m.reactions for m in result.modules)))  # fmt: skip
            table.add_row("modules verified", f"{sum(m.correct for m in result.modules)}"
                          f"/{len(result.modules)}")  # fmt: skip
            if args.whole:
                whole = (
                    "not run: " + result.whole_note if result.whole is None else str(result.whole)
                )
                table.add_row("whole-design bisimulation", whole)
                table.add_row("pathway decomposition", str(result.pathway))
        console.print(table)
        if result is not None:
            mods = Table(title="modules (CRN bisimulation per formal reaction)")
            for col in ("#", "reaction", "verified", "species", "reactions", "enumeration s"):
                mods.add_column(col)
            for m in result.modules:
                mods.add_row(str(m.index), m.reaction, "yes" if m.correct else "NO",
                             str(m.species), str(m.reactions), f"{m.enumeration_s:.2f}")  # fmt: skip
            console.print(mods)
    if result is not None and not result.correct:
        console.print("verification FAILED: the design does not implement the network")
        return 1
    return 0
