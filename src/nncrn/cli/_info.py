"""``nncrn info``: what a network file contains."""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from nncrn.network import ReactionNetwork, Role


def reaction_kind(reaction: Any) -> str:
    """Classify a reaction by what it does to the species it changes."""
    net = reaction.net()
    catalysts = [s for s in reaction.reactants if s in reaction.products and s not in net]
    cat = " (catalysed)" if catalysts else ""
    if not reaction.reactants:
        return "production 0 -> Y"
    if all(v < 0 for v in net.values()) and not [s for s in reaction.products if s in net]:
        return f"degradation{cat}"
    if all(v > 0 for v in net.values()) and all(s in reaction.reactants for s in net):
        return f"autocatalytic growth{cat}"
    if catalysts and all(v > 0 for v in net.values()):
        return "catalytic production"
    if len(net) == 1 and next(iter(net.values())) < 0:
        return f"annihilation/dimerisation{cat}"
    return "conversion"


def summary(network: ReactionNetwork) -> dict[str, Any]:
    rates = network.stoichiometry.rates
    return {
        "species_by_role": {r.value: len(network.species_with_role(r)) for r in Role},
        "reactions": network.n_reactions,
        "by_molecularity": dict(sorted(Counter(network.stoichiometry.order.tolist()).items())),
        "by_kind": dict(Counter(reaction_kind(r) for r in network.reactions).most_common()),
        "distinct_rates": len(np.unique(rates)),
        "rate_min": float(rates.min()) if len(rates) else float("nan"),
        "rate_max": float(rates.max()) if len(rates) else float("nan"),
    }


def register(sub: Any) -> None:
    p = sub.add_parser("info", help="summarise a network file")
    p.add_argument("network", type=Path, help="network JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Any) -> int:
    from rich.table import Table

    network = ReactionNetwork.load(args.network)
    s = summary(network)
    table = Table(title=f"{args.network.name}: {network.n_species} species, "
                  f"{network.n_reactions} reactions", header_style="bold")  # fmt: skip
    table.add_column("quantity")
    table.add_column("value", justify="right")
    for role, n in s["species_by_role"].items():
        if n:
            table.add_row(f"species ({role})", str(n))
    for order, n in s["by_molecularity"].items():
        table.add_row(f"reactions of molecularity {order}", str(n))
    for kind, n in s["by_kind"].items():
        table.add_row(f"reactions: {kind}", str(n))
    table.add_row("distinct rate constants", str(s["distinct_rates"]))
    if network.n_reactions:
        table.add_row("rate constants min / max", f"{s['rate_min']:.4g} / {s['rate_max']:.4g}")
        table.add_row("rate dynamic range (max/min)", f"{s['rate_max'] / s['rate_min']:.4g}")
    scheme = network.metadata.get("scheme")
    if scheme:
        table.add_row("scheme", ", ".join(f"{k}={v}" for k, v in scheme.items()))
    if "source" in network.metadata:
        table.add_row("source", str(network.metadata["source"]))
    table.add_row("outputs", ", ".join(network.outputs[:12]) + (" ..." if len(network.outputs) > 12 else ""))
    console.print(table)
    return 0
