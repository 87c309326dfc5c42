"""``nncrn draw``: a network JSON file -> a picture (PNG, SVG or PDF) of the network."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from nncrn._errors import FormatError
from nncrn.cli._io import check_not_input, check_output_dir, write_atomic

__all__ = ["register"]

_FORMATS = {".png": "png", ".svg": "svg", ".pdf": "pdf"}


def register(sub: Any) -> None:
    p = sub.add_parser(
        "draw",
        help="draw a network (JSON) as a PNG, SVG or PDF picture",
        description="Draw a network saved as JSON. A compiled network is drawn in layers "
        "(inputs, one column per layer, readouts; edge colour: sign of the weight, width: "
        "its size), any other network as species and reactions; a network with more "
        "reactions than --max-reactions is summarized as blocks with counts. The format "
        f"comes from the extension of -o ({', '.join(_FORMATS)}).",
    )
    p.add_argument("network", type=Path, help="network JSON (from `nncrn compile` or `nncrn demo`)")
    p.add_argument("-o", "--output", required=True, help="picture to write: net.png, net.svg or net.pdf")
    p.add_argument("--layout", choices=("auto", "layered", "bipartite"), default="auto",
                   help="layered (compiled networks) or bipartite species-reaction graph "
                   "(default: auto, layered when the network has layer metadata)")  # fmt: skip
    p.add_argument("--summarize", action=argparse.BooleanOptionalAction, default=None,
                   help="draw blocks with counts instead of every node (default: when the "
                   "network has more than --max-reactions reactions)")  # fmt: skip
    p.add_argument("--max-reactions", type=int, default=None, metavar="N",
                   help="summarize above N reactions (default: 2000 layered, 300 bipartite)")  # fmt: skip
    p.add_argument("--dpi", type=float, default=150.0, help="resolution of a PNG (default: 150)")
    p.add_argument("--title", help="title above the drawing (default: a description; '' for none)")
    p.set_defaults(func=run)


def _format(output: str) -> str:
    suffix = Path(output).suffix.lower()
    if suffix not in _FORMATS:
        raise FormatError(
            f"cannot draw to {output!r}: the extension {suffix or '(none)'!r} is not a picture "
            f"format nncrn draw writes; use one of {', '.join(_FORMATS)} (e.g. -o net.png)"
        )
    return _FORMATS[suffix]


def run(args: argparse.Namespace, console: Any) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nncrn._errors import InputError
    from nncrn.network import ReactionNetwork
    from nncrn.plot import draw_network

    fmt = _format(args.output)
    check_output_dir(args.output, example="net.png")
    check_not_input(args.output, {"the network": args.network})
    if args.max_reactions is not None and args.max_reactions < 0:
        raise InputError(f"--max-reactions must be >= 0, got {args.max_reactions}")
    if not (args.dpi > 0 and args.dpi <= 1200):
        raise InputError(f"--dpi must be in (0, 1200], got {args.dpi}")
    network = ReactionNetwork.load(args.network)
    ax = draw_network(network, layout=args.layout, summarize=args.summarize,
                      max_reactions=args.max_reactions, title=args.title)  # fmt: skip
    try:
        write_atomic(args.output, lambda tmp: ax.figure.savefig(tmp, format=fmt, dpi=args.dpi))
    finally:
        plt.close(ax.figure)
    console.print(f"wrote {args.output}: {fmt} drawing of {network.n_species} species and "
                  f"{network.n_reactions:,} reactions")  # fmt: skip
    return 0
