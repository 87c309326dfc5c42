"""Drawings of a :class:`~nncrn.network.ReactionNetwork` (matplotlib, nothing else).

Three views, picked by :func:`draw_network`:

* **layered**, for a compiled network (``metadata["layers"]``): inputs, one column per
  layer, the readouts. A neuron is one node, or two side by side for a pair of rails
  (``Y0p``/``Y0n``; a dual-rail ReLU neuron's ``H1_0``/``H1_0d``). One edge per non-zero
  weight, read back from the reactions: blue for a positive weight, red for a negative
  one, width proportional to ``|weight|`` (the rate constant of a catalytic reaction,
  the coefficient times the rate of a dual-rail fan-out).
* **bipartite**, for any other network: species (circles, filled by role) and reactions
  (small squares), reactant and product arrows, catalysts dashed.
* **summary**, when either would draw more than ``max_reactions`` reactions: one block per
  column (or per species role), with counts, and one aggregated edge per sign between
  blocks, so a digits 64-100-10 network draws in about a second, not as a hairball.

The artists carry gids a caller (or a test) can find: ``"nncrn-species"`` (the species
nodes, one path each), ``"nncrn-reactions"`` (bipartite reaction nodes), ``"nncrn-blocks"``
(summary blocks) and ``"nncrn-edges"``.

The views share one geometry (data units at a fixed scale, fonts scaled with the Axes), so
they live in one module of some 650 lines rather than behind a private interface.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, require_network

__all__ = ["draw_network"]

POSITIVE, NEGATIVE, GREY = "#2166ac", "#b2182b", "#888888"
_FILL = {"input": "#cfe2f3", "hidden": "#e6e6e6", "output": "#d9ead3", "auxiliary": "#ffffff"}
_LAYOUTS = ("auto", "layered", "bipartite")
_MAX_REACTIONS = {"layered": 2000, "bipartite": 300}
_UNIT_IN = 0.8  # inches per data unit in a figure draw_network makes
_BASE_PT = 72 * _UNIT_IN  # points per data unit the font sizes below are chosen for
_R = 0.22  # species node radius (data units)
_RAIL = 0.25  # offset of each rail of a pair from the pair's centre
_MAX_FIG_IN = 24.0


def draw_network(
    network: ReactionNetwork,
    ax: Any = None,
    *,
    layout: str = "auto",
    summarize: bool | None = None,
    max_reactions: int | None = None,
    labels: bool = True,
    legend: bool = True,
    title: str | None = None,
) -> Any:
    """Draw ``network`` into ``ax`` and return the Axes (see the module docstring).

    Parameters
    ----------
    ax:
        A matplotlib Axes. Default: a new figure sized to the drawing (unlike the result
        plots, which draw into the current Axes: a network drawing has its own aspect
        ratio, and a column of 100 neurons needs a tall figure to stay legible).
    layout:
        ``"auto"`` (layered for a compiled network, else bipartite), ``"layered"`` or
        ``"bipartite"``.
    summarize:
        None (default): summarize when the network has more than ``max_reactions``
        reactions; True or False forces it.
    max_reactions:
        Threshold for ``summarize=None``; default 2000 for the layered view (a wine
        13-32-16-3 network, ~1000 reactions, is drawn in full) and 300 for the bipartite
        one, whose node-link layout stops being readable sooner.
    labels, legend, title:
        Species names, the colour legend, and the title (default: a description of the
        network; ``""`` for none).
    """
    network = require_network(network, "draw_network")
    if layout not in _LAYOUTS:
        raise InputError(f"draw_network layout is {layout!r}; it must be one of {', '.join(_LAYOUTS)}")
    layers = _Layers.of(network) if layout != "bipartite" else None
    if layout == "layered" and layers is None:
        raise InputError(
            "draw_network(layout='layered') needs a compiled network: its metadata['layers'] "
            "lists the species of each layer; draw other networks with layout='bipartite'"
        )
    view = "layered" if layers is not None else "bipartite"
    limit = _MAX_REACTIONS[view] if max_reactions is None else max_reactions
    if isinstance(limit, bool) or not isinstance(limit, int | np.integer) or limit < 0:
        raise InputError(f"draw_network max_reactions is {max_reactions!r}; it must be an integer >= 0")
    if summarize is None:
        summarize = network.n_reactions > limit
    head = _title(network, layers) if title is None else title
    if layers is not None:
        scene = _layer_summary(network, layers) if summarize else _layered(network, layers, labels)
    else:
        scene = _role_summary(network) if summarize else _bipartite(network, labels)
    extent = scene.extent(head, legend)
    ax, pt = _canvas(ax, extent)
    scene.paint(ax, pt)
    if head:
        ax.text((extent[0] + extent[1]) / 2, extent[3] - 0.15, head, ha="center", va="top",
                fontsize=_fs(10, pt))  # fmt: skip
    if legend and scene.handles:
        ax.legend(handles=scene.handles, loc="lower center", ncol=scene.legend_columns(),
                  fontsize=_fs(8, pt), title=scene.legend_title,
                  title_fontsize=_fs(8, pt), frameon=False)  # fmt: skip
    return ax


# --------------------------------------------------------------------------- shared helpers
def _fs(size: float, pt: float) -> float:
    """Font size ``size`` (chosen at the default scale) at ``pt`` points per data unit."""
    return float(np.clip(size * pt / _BASE_PT, 3.0, 2.0 * size))


def _canvas(ax: Any, extent: tuple[float, float, float, float]) -> tuple[Any, float]:
    """``(ax, points per data unit)``: limits, equal aspect, no frame; a new figure if None."""
    x0, x1, y0, y1 = extent
    if ax is None:
        import matplotlib.pyplot as plt

        w, h = (x1 - x0) * _UNIT_IN, (y1 - y0) * _UNIT_IN
        s = min(1.0, _MAX_FIG_IN / w, _MAX_FIG_IN / h)
        fig, ax = plt.subplots(figsize=(w * s, h * s))
        fig.subplots_adjust(left=0.0, right=1.0, bottom=0.0, top=1.0)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    box = ax.get_position()
    fw, fh = ax.figure.get_size_inches()
    inches = min(box.width * fw / (x1 - x0), box.height * fh / (y1 - y0))
    return ax, 72.0 * inches


def _title(network: ReactionNetwork, layers: _Layers | None) -> str:
    counts = f"{network.n_species} species, {network.n_reactions:,} reactions"
    if layers is None:
        return f"reaction network: {counts}"
    scheme = network.metadata.get("scheme")
    name = scheme if isinstance(scheme, str) else (scheme or {}).get("name", "compiled")
    sizes = "-".join(str(len(c)) for c in layers.columns)
    return f"{name} network {sizes}: {counts}"


def _nodes(ax: Any, xy: Sequence[tuple[float, float]], colors: Sequence[str], gid: str,
           pt: float, square: float = 0.0) -> None:  # fmt: skip
    """One collection of circles (or squares of side ``square``) at ``xy`` with ``gid``."""
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Circle, Rectangle

    patches = [
        Rectangle((x - square / 2, y - square / 2), square, square) if square else Circle((x, y), _R)
        for x, y in xy
    ]
    coll = PatchCollection(patches, facecolors=list(colors), edgecolors="#333333",
                           linewidths=0.8 * pt, zorder=3)  # fmt: skip
    coll.set_gid(gid)
    ax.add_collection(coll)


def _label_size(text: str, pt: float, size: float = 7.5) -> float:
    """Font size that fits ``text`` inside a node (about 0.8 of its diameter)."""
    return min(_fs(size, pt), 1.6 * _R * pt / max(1, 0.6 * len(text)))


def _line_handles(entries: Sequence[tuple[str, str, str]]) -> list[Any]:
    from matplotlib.lines import Line2D

    return [Line2D([], [], color=c, lw=2, ls=ls, label=text) for text, c, ls in entries]


def _patch_handles(roles: Sequence[str]) -> list[Any]:
    from matplotlib.patches import Patch

    return [Patch(facecolor=_FILL[r], edgecolor="#333333", label=f"{r} species") for r in roles]


# --------------------------------------------------------------------------- layered view
@dataclass
class _Layers:
    """A compiled network's columns of neurons (each one species or a pair of rails)."""

    titles: list[str]
    columns: list[list[tuple[str, tuple[str, ...]]]]  # per column: (neuron label, rails)
    rail: dict[str, tuple[int, int, int]] = field(default_factory=dict)  # species -> (c, i, sign)

    @classmethod
    def of(cls, network: ReactionNetwork) -> _Layers | None:
        meta = network.metadata.get("layers")
        if not meta:
            return None
        titles, columns = ["inputs"], [_group(network.inputs, network)]
        for depth, layer in enumerate(meta, start=1):
            titles.append(f"layer {depth}\n{layer.get('activation', '')}")
            columns.append(_group(layer.get("species", ()), network))
        out = cls(titles, columns)
        for c, col in enumerate(columns):
            for i, (base, rails) in enumerate(col):
                for k, s in enumerate(rails):
                    out.rail[s] = (c, i, -1 if k else 1)
                if len(rails) == 2 and rails[1] == base + "d":  # dual-rail ReLU neuron
                    for suffix, sign in (("p", 1), ("n", -1), ("c", 1)):
                        if base + suffix in network and base + suffix not in out.rail:
                            out.rail[base + suffix] = (c, i, sign)
        return out


def _group(names: Sequence[str], network: ReactionNetwork) -> list[tuple[str, tuple[str, ...]]]:
    """``names`` as neurons: ``Yp``/``Yn`` and ``H``/``Hd`` pairs become one two-rail neuron."""
    have = {n for n in names if n in network}
    used: set[str] = set()
    out: list[tuple[str, tuple[str, ...]]] = []
    for n in names:
        if n not in have or n in used:
            continue
        rails: tuple[str, ...]
        if n.endswith("p") and n[:-1] + "n" in have:
            base, rails = n[:-1], (n, n[:-1] + "n")
        elif n + "d" in have:
            base, rails = n, (n, n + "d")
        else:
            base, rails = n, (n,)
        used.update(rails)
        out.append((base, rails))
    return out


def _weights(network: ReactionNetwork, layers: _Layers) -> tuple[dict, dict[int, set[str]]]:
    """Neuron-to-neuron weights ``{((c, i), (c', j)): w}`` read from the reactions.

    A catalytic reaction (``X + Y -> X + 2 Y``, ``X -> X + Yn``) gives catalyst -> each
    changed species; a fan-out (``S -> 2 Ap + Bn``) gives its one consumed species -> each
    product. The sign is that of the change times the sign of both rails, the magnitude the
    rate times the change; a neuron read on two rails averages them (they agree). Also
    returns, per sign (+1, -1), the mechanisms seen, in words for the legend.
    """
    total: dict[tuple, float] = {}
    sources: dict[tuple, set[str]] = {}
    seen: dict[int, set[str]] = {1: set(), -1: set()}
    for r in network.reactions:
        net = r.net()
        cats = [s for s, c in r.reactants.items() if r.products.get(s) == c]
        targets, catalytic = net, bool(cats)
        if not catalytic:
            cats = [s for s, d in net.items() if d < 0]
            targets = {t: d for t, d in net.items() if d > 0}
            if len(cats) != 1 or not targets:
                continue
        for s in cats:
            if s not in layers.rail:
                continue
            cs, i, sign_s = layers.rail[s]
            for t, d in targets.items():
                if t not in layers.rail or t == s or layers.rail[t][:2] == (cs, i):
                    continue
                ct, j, sign_t = layers.rail[t]
                key = ((cs, i), (ct, j))
                w = math.copysign(r.rate * abs(d), d) * sign_s * sign_t
                total[key] = total.get(key, 0.0) + w
                sources.setdefault(key, set()).add(s)
                if not catalytic:
                    rail = "same-sign" if sign_s == sign_t else "opposite-sign"
                    words = f"fan-out into the {rail} rail, coefficient |w|"
                elif d < 0:
                    words = "catalytic degradation"
                else:
                    words = "catalytic production" + (" of the − rail" if sign_t < 0 else "")
                seen[1 if w > 0 else -1].add(words)
    return {k: v / len(sources[k]) for k, v in total.items() if v != 0}, seen


def _readouts(network: ReactionNetwork) -> list[str]:
    """Readout labels: the class names when there is one per readout, else the readout names."""
    classes = network.metadata.get("classes")
    names = list(network.outputs)
    if isinstance(classes, Sequence) and len(classes) == len(names) and len(names) > 0:
        return [f"{c}" for c in classes]
    return names


@dataclass
class _Scene:
    """Geometry of a view: its extent (data units), how to draw it, its legend handles."""

    body: tuple[float, float, float, float]
    paint: Any
    handles: list[Any] = field(default_factory=list)
    legend_title: str | None = None

    def legend_columns(self) -> int:
        """As many legend columns as fit the drawing's width (estimated at 8 pt)."""
        widths = [0.9 + 0.08 * len(h.get_label()) for h in self.handles]
        room = self.body[1] - self.body[0]
        for ncol in range(len(widths), 1, -1):
            rows = [widths[i::ncol] for i in range(ncol)]
            if sum(max(col) for col in rows) <= room:
                return ncol
        return 1

    def extent(self, title: str, legend: bool) -> tuple[float, float, float, float]:
        x0, x1, y0, y1 = self.body
        rows = 0
        if legend and self.handles:
            rows = math.ceil(len(self.handles) / self.legend_columns()) + bool(self.legend_title)
        return (x0, x1, y0 - 0.2 - 0.3 * rows, y1 + (0.6 if title else 0.1))


def _layered(network: ReactionNetwork, layers: _Layers, labels: bool) -> _Scene:
    readout = network.readout
    assert readout is not None, "ReactionNetwork fills in the default readout"
    dx, dy = 2.6, 0.62
    pos: dict[tuple[int, int], tuple[float, float]] = {}
    for c, col in enumerate(layers.columns):
        for i in range(len(col)):
            pos[(c, i)] = (c * dx, ((len(col) - 1) / 2 - i) * dy)
    tallest = max((len(col) for col in layers.columns), default=1)
    top = (tallest - 1) / 2 * dy + 0.5
    weights, seen = _weights(network, layers)
    features = network.metadata.get("feature_names") or ()
    inputs = layers.columns[0]
    feature_of = {rails[0]: str(f) for (_, rails), f in zip(inputs, features, strict=False)}
    if len(features) != len(inputs):
        feature_of = {}
    out_x = (len(layers.columns) - 1) * dx + 1.5
    names = _readouts(network)
    ro_text = [
        f"{n}  ({ro.plus} − {ro.minus})" if ro.minus else f"{n}  ({ro.plus})"
        for n, ro in zip(names, readout, strict=True)
    ]
    last = len(layers.columns) - 1
    stage = network.metadata.get("output_stage") or {}
    staged = len(layers.columns[last]) == len(readout) and any(
        ro.plus not in layers.rail for ro in readout
    )
    left = max((len(t) for t in feature_of.values()), default=0) * 0.075 + 0.7
    right = out_x + max((len(t) for t in ro_text), default=0) * 0.075 + 0.4
    half = lambda c, i: _R + (_RAIL if len(layers.columns[c][i][1]) == 2 else 0.0)  # noqa: E731

    def paint(ax: Any, pt: float) -> None:
        from matplotlib.collections import LineCollection
        from matplotlib.colors import to_rgba
        from matplotlib.patches import FancyBboxPatch

        segs, colors, widths = [], [], []
        wmax = max((abs(w) for w in weights.values()), default=1.0)
        for (a, b), w in sorted(weights.items(), key=lambda kv: abs(kv[1])):
            (xa, ya), (xb, yb) = pos[a], pos[b]
            segs.append([(xa + half(*a), ya), (xb - half(*b), yb)])
            # faint small weights: in a dense layer the large ones still stand out
            colors.append(to_rgba(POSITIVE if w > 0 else NEGATIVE, 0.3 + 0.55 * abs(w) / wmax))
            widths.append((0.4 + 2.4 * abs(w) / wmax) * pt / _BASE_PT)
        edges = LineCollection(segs, colors=colors, linewidths=widths, zorder=1)
        edges.set_gid("nncrn-edges")
        ax.add_collection(edges)
        xy, fills, texts = [], [], []
        for c, col in enumerate(layers.columns):
            for i, (_, rails) in enumerate(col):
                x, y = pos[(c, i)]
                offsets = (-_RAIL, _RAIL) if len(rails) == 2 else (0.0,)
                if len(rails) == 2:
                    ax.add_patch(FancyBboxPatch(
                        (x - 2 * _RAIL - 0.04, y - _R - 0.04), 4 * _RAIL + 0.08, 2 * _R + 0.08,
                        boxstyle="round,pad=0,rounding_size=0.12", fc="#f7f7f7", ec="#bbbbbb",
                        lw=0.6, zorder=2,
                    ))  # fmt: skip
                for s, off in zip(rails, offsets, strict=True):
                    xy.append((x + off, y))
                    fills.append(_FILL[network.species[network.index(s)].role.value])
                    texts.append((x + off, y, s))
        _nodes(ax, xy, fills, "nncrn-species", pt / _BASE_PT)
        if labels:
            for x, y, s in texts:
                ax.text(x, y, s, ha="center", va="center", fontsize=_label_size(s, pt), zorder=4)
            for (_, rails), (x, y) in zip(inputs, [pos[(0, i)] for i in range(len(inputs))],
                                          strict=True):  # fmt: skip
                if rails[0] in feature_of:
                    ax.text(x - half(0, 0) - 0.12, y, feature_of[rails[0]], ha="right",
                            va="center", fontsize=_fs(7.5, pt))  # fmt: skip
        for k, (text, ro) in enumerate(zip(ro_text, readout, strict=True)):
            y = ((len(ro_text) - 1) / 2 - k) * dy
            ls = "-"
            neuron: tuple[int, int] | None = None  # (column, row) the readout is drawn from
            if ro.plus in layers.rail:
                neuron = layers.rail[ro.plus][:2]
            elif staged:  # read through an output stage: from the k-th output neuron
                neuron, ls = (last, k), "--"
            if neuron is not None:
                x0, y0 = pos[neuron]
                ax.plot([x0 + half(*neuron) + 0.04, out_x - 0.1], [y0, y], color=GREY, ls=ls,
                        lw=0.9 * pt / _BASE_PT, zorder=1)  # fmt: skip
            ax.text(out_x, y, text, ha="left", va="center", fontsize=_fs(8, pt),
                    bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": GREY, "lw": 0.6})  # fmt: skip
        for c, head in enumerate([*layers.titles, "readouts"]):
            x = c * dx if c < len(layers.columns) else out_x + 0.6
            n = len(layers.columns[c]) if c < len(layers.columns) else len(ro_text)
            pairs = c < len(layers.columns) and any(len(r) == 2 for _, r in layers.columns[c])
            sub = f"{n} {'pairs' if pairs else 'species' if c == 0 else 'neurons'}"
            if c == len(layers.columns):
                sub = f"{n} values"
            ax.text(x, top, f"{head.strip()}\n{sub}".replace("\n\n", "\n"), ha="center",
                    va="bottom", fontsize=_fs(8, pt), color="#333333")  # fmt: skip

    handles = _line_handles([
        (f"{word} weight: {', or '.join(sorted(seen[sign]))}", color, "-")
        for word, sign, color in (("positive", 1, POSITIVE), ("negative", -1, NEGATIVE))
        if seen[sign]
    ] + [("readout", GREY, "-")])
    if staged:
        kind = stage.get("kind", "output") if isinstance(stage, Mapping) else "output"
        handles += _line_handles([(f"readout through the {kind} stage (its species not drawn)",
                                   GREY, "--")])  # fmt: skip
    return _Scene((-left, right, -top + 0.1, top + 0.6), paint, handles,
                  "edge colour: sign of the weight; width ∝ |weight|")


def _layer_summary(network: ReactionNetwork, layers: _Layers) -> _Scene:
    """Blocks per column with counts, one aggregated edge per sign between columns."""
    weights, _ = _weights(network, layers)
    ncol = len(layers.columns)
    agg: dict[tuple[int, int], list[float]] = {}  # (from, to) -> [n+, n-, sum+, sum-]
    for ((ca, _), (cb, _)), w in weights.items():
        a = agg.setdefault((ca, cb), [0, 0, 0.0, 0.0])
        a[0 if w > 0 else 1] += 1
        a[2 if w > 0 else 3] += abs(w)
    drawn = set(layers.rail)
    per_col = [sum(1 for s, (c, _, _) in layers.rail.items() if c == k) for k in range(ncol)]
    widest = max(1, *(len(col) for col in layers.columns))
    dx, bw = 3.4, 2.0
    heights = [1.3 + 2.2 * math.sqrt(len(col) / widest) for col in layers.columns]
    n_out = len(network.outputs)  # one output per readout
    out_h = 1.3 + 2.2 * math.sqrt(min(n_out, widest) / widest)
    top = max([*heights, out_h]) / 2
    busiest = max((a[0] + a[1] for a in agg.values()), default=1)

    def paint(ax: Any, pt: float) -> None:
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import FancyBboxPatch

        scale = pt / _BASE_PT
        for (ca, cb), (npos, nneg, spos, sneg) in sorted(agg.items()):
            xa, xb = ca * dx + bw / 2, cb * dx - bw / 2
            for n, total, y, color, word in ((npos, spos, 0.3, POSITIVE, "positive"),
                                             (nneg, sneg, -0.3, NEGATIVE, "negative")):  # fmt: skip
                if not n:
                    continue
                ax.plot([xa, xb], [y, y], color=color, alpha=0.8, solid_capstyle="butt",
                        lw=(1.5 + 16 * n / busiest) * scale)  # fmt: skip
                ax.text((xa + xb) / 2, y + (0.22 if y > 0 else -0.22), f"{n:,} {word}\nΣ|w| = {total:.3g}",
                        ha="center", va="bottom" if y > 0 else "top", fontsize=_fs(7.5, pt))  # fmt: skip
        blocks, fills = [], []
        for c, col in enumerate(layers.columns):
            h = heights[c]
            blocks.append(FancyBboxPatch((c * dx - bw / 2, -h / 2), bw, h,
                                         boxstyle="round,pad=0,rounding_size=0.2"))  # fmt: skip
            role = network.species[network.index(col[0][1][0])].role.value if col else "hidden"
            fills.append(_FILL[role])
            pairs = sum(1 for _, r in col if len(r) == 2)
            what = "features" if c == 0 else "neurons"
            lines = [layers.titles[c].replace("\n", " · ").strip(" ·"), f"{len(col):,} {what}",
                     f"{per_col[c]:,} species" + (f" ({pairs:,} pairs)" if pairs else "")]  # fmt: skip
            ax.text(c * dx, 0, "\n".join(lines), ha="center", va="center", fontsize=_fs(8, pt),
                    zorder=4)  # fmt: skip
        x_out = ncol * dx - 0.6
        blocks.append(FancyBboxPatch((x_out - bw / 2, -out_h / 2), bw, out_h,
                                     boxstyle="round,pad=0,rounding_size=0.2"))  # fmt: skip
        fills.append("#ffffff")
        ax.plot([(ncol - 1) * dx + bw / 2, x_out - bw / 2], [0, 0], color=GREY, lw=2 * scale)
        ax.text(x_out, 0, f"readouts\n{n_out:,} values", ha="center", va="center",
                fontsize=_fs(8, pt), zorder=4)  # fmt: skip
        coll = PatchCollection(blocks, facecolors=fills, edgecolors="#333333",
                               linewidths=0.8 * scale, zorder=3)  # fmt: skip
        coll.set_gid("nncrn-blocks")
        ax.add_collection(coll)
        other = network.n_species - len(drawn)
        if other:
            ax.text(ncol * dx / 2 - dx / 2, -top - 0.35, f"{other:,} further species (pre-activation "
                    "rails, helpers) not shown", ha="center", va="top", fontsize=_fs(7, pt),
                    color="#555555")  # fmt: skip

    handles = _line_handles([
        ("positive weights", POSITIVE, "-"), ("negative weights", NEGATIVE, "-"),
        ("edge width ∝ number of weights", GREY, "-"),
    ])  # fmt: skip
    x1 = ncol * dx - 0.6 + bw / 2 + 0.3
    foot = 0.8 if network.n_species > len(drawn) else 0.1
    return _Scene((-bw / 2 - 0.3, x1, -top - foot, top + 0.2), paint, handles)


# --------------------------------------------------------------------------- any network
_ROLES = ("input", "hidden", "auxiliary", "output")


def _spring(n: int, edges: np.ndarray, start: np.ndarray, iterations: int = 150) -> np.ndarray:
    """Fruchterman–Reingold layout of ``n`` nodes from ``start`` (deterministic)."""
    x, y = start[:, 0].copy(), start[:, 1].copy()
    adj = np.zeros((n, n))
    if len(edges):
        adj[edges[:, 0], edges[:, 1]] = adj[edges[:, 1], edges[:, 0]] = 1.0
    k = 1.0 / math.sqrt(max(n, 1))
    for step in range(iterations):
        dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
        d2 = np.maximum(dx * dx + dy * dy, 1e-6)
        force = k * k / d2 - adj * np.sqrt(d2) / k  # repulsion k^2/d, attraction d^2/k
        fx, fy = (force * dx).sum(axis=1), (force * dy).sum(axis=1)
        length = np.maximum(np.hypot(fx, fy), 1e-9)
        move = np.minimum(length, 0.1 * (1 - step / iterations)) / length
        x += fx * move
        y += fy * move
    return np.c_[x, y]


def _separate(pos: np.ndarray, gap: float, rounds: int = 200) -> np.ndarray:
    """Push apart nodes closer than ``gap`` (so no two circles overlap)."""
    jitter = np.random.default_rng(1).normal(scale=1e-3 * gap, size=pos.shape)
    x, y = pos[:, 0] + jitter[:, 0], pos[:, 1] + jitter[:, 1]  # no two nodes coincide
    for _ in range(rounds):
        dx, dy = x[:, None] - x[None, :], y[:, None] - y[None, :]
        dist = np.hypot(dx, dy)
        np.fill_diagonal(dist, np.inf)
        overlap = np.clip(gap - dist, 0, None)
        if overlap.max() < 0.1 * gap:  # what is left is margin, not overlap
            break
        push = 0.55 * overlap / np.maximum(dist, 1e-6)
        x, y = x + (push * dx).sum(axis=1), y + (push * dy).sum(axis=1)
    return np.c_[x, y]


def _bipartite(network: ReactionNetwork, labels: bool) -> _Scene:
    from nncrn.network._dot import graph_edges, reaction_node

    ns, nr = network.n_species, network.n_reactions
    if ns + nr == 0:
        return _Scene((-2.0, 2.0, -0.5, 0.5), lambda ax, pt: ax.text(
            0, 0, "(no species, no reactions)", ha="center", va="center", fontsize=_fs(9, pt)))
    node = {s: i for i, s in enumerate(network.species_names)}
    node.update({reaction_node(k): ns + k for k in range(nr)})
    edges = [(node[a], node[b], role, c) for a, b, role, c in graph_edges(network)]
    angle = np.linspace(0, 2 * np.pi, ns, endpoint=False)
    start = np.zeros((ns + nr, 2))
    start[:ns] = np.c_[np.cos(angle), np.sin(angle)]
    for k, r in enumerate(network.reactions):
        members = [node[s] for s in (*r.reactants, *r.products)]
        start[ns + k] = start[members].mean(axis=0) * 0.9 if members else 0.0
    start += np.random.default_rng(0).normal(scale=0.01, size=start.shape)
    pairs = np.array([(a, b) for a, b, _, _ in edges], dtype=np.int64).reshape(-1, 2)
    pos = _spring(ns + nr, pairs, start)
    pos -= pos.mean(axis=0)
    _, _, axes = np.linalg.svd(pos, full_matrices=False)
    pos = pos @ axes.T  # the long axis horizontal: a landscape figure, like the legend
    pos *= 0.9 * math.sqrt(ns + nr) / max(np.abs(pos).max(), 1e-9)
    pos = _separate(pos, 2 * _R + 0.25)
    long = max((len(s) for s in network.species_names), default=0) > 6
    pad = 0.6 + (0.075 * max((len(s) for s in network.species_names), default=0) if long else 0)
    margin = np.array([pad, 0.6])
    x0, y0 = pos.min(axis=0) - margin
    x1, y1 = pos.max(axis=0) + margin
    grow = max(0.0, 9.0 - (x1 - x0)) / 2  # room for the legend's three columns
    x0, x1 = x0 - grow, x1 + grow
    square = 0.16

    def paint(ax: Any, pt: float) -> None:
        from matplotlib.collections import LineCollection, PolyCollection

        segs, styles, heads = [], [], []
        for a, b, role, c in edges:
            p, q = pos[a], pos[b]
            d = q - p
            length = max(float(np.hypot(*d)), 1e-9)
            u = d / length
            start = p + u * (_R if a < ns else square * 0.7)
            end = q - u * (_R if b < ns else square * 0.7)
            segs.append([start, end])
            styles.append("--" if role == "catalyst" else "-")
            normal = np.array([-u[1], u[0]])
            heads.append([end, end - 0.14 * u + 0.06 * normal, end - 0.14 * u - 0.06 * normal])
            if c != 1 and labels:
                mid = 0.6 * start + 0.4 * end
                ax.text(mid[0], mid[1], str(c), fontsize=_fs(7, pt), ha="center", va="center",
                        bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none"})  # fmt: skip
        lines = LineCollection(segs, colors="#555555", linestyles=styles,
                               linewidths=0.8 * pt / _BASE_PT, zorder=1)  # fmt: skip
        lines.set_gid("nncrn-edges")
        ax.add_collection(lines)
        ax.add_collection(PolyCollection(heads, facecolors="#555555", edgecolors="none", zorder=2))
        fills = [_FILL[s.role.value] for s in network.species]
        _nodes(ax, [tuple(p) for p in pos[:ns]], fills, "nncrn-species", pt / _BASE_PT)
        _nodes(ax, [tuple(p) for p in pos[ns:]], ["#444444"] * nr, "nncrn-reactions",
               pt / _BASE_PT, square=square)  # fmt: skip
        if labels:
            for (x, y), s in zip(pos[:ns], network.species_names, strict=True):
                if len(s) <= 6:
                    ax.text(x, y, s, ha="center", va="center", fontsize=_label_size(s, pt), zorder=4)
                else:
                    ax.text(x + _R + 0.05, y, s, ha="left", va="center", fontsize=_fs(7, pt), zorder=4)
            if nr <= 60:
                for (x, y), r in zip(pos[ns:], network.reactions, strict=True):
                    ax.text(x + square * 0.6, y + square * 0.6, f"{r.rate:.3g}", ha="left",
                            va="bottom", fontsize=_fs(6.5, pt), color="#333333", zorder=4,
                            bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none",
                                  "alpha": 0.8})  # fmt: skip

    roles = [r for r in _ROLES if any(s.role.value == r for s in network.species)]
    handles = _patch_handles(roles) + _line_handles([
        ("reactant → ■ reaction (rate) → product", "#555555", "-"),
        ("catalyst (unchanged)", "#555555", "--"),
    ])  # fmt: skip
    return _Scene((x0, x1, y0, y1), paint, handles)


def _role_summary(network: ReactionNetwork) -> _Scene:
    """Blocks per species role; reactions counted between the roles they connect.

    A reaction links the role of each reactant to the role of each species it changes
    (``X + Y -> X + 2 Y`` links X's role to Y's); one whose reactants and changed species
    all have one role (or that has no reactants) counts inside that role's block.
    """
    role = {s.name: s.role.value for s in network.species}
    roles = [r for r in _ROLES if r in role.values()]
    within = dict.fromkeys(roles, 0)
    between: dict[tuple[str, str], int] = {}
    for r in network.reactions:
        changed = {role[s] for s in r.net()}
        src = {role[s] for s in r.reactants} or changed
        if len(src | changed) == 1:
            within[next(iter(src | changed))] += 1
            continue
        for a in src:
            for b in changed - {a}:
                between[(a, b)] = between.get((a, b), 0) + 1
    count = {r: sum(1 for v in role.values() if v == r) for r in roles}
    dx, bw, bh = 3.6, 2.2, 1.6
    x = {r: i * dx for i, r in enumerate(roles)}

    def paint(ax: Any, pt: float) -> None:
        from matplotlib.collections import PatchCollection
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

        busiest = max(between.values(), default=1)
        for (a, b), n in between.items():
            rad = 0.35
            arrow = FancyArrowPatch((x[a], bh / 2 if x[a] < x[b] else -bh / 2),
                                    (x[b], bh / 2 if x[a] < x[b] else -bh / 2),
                                    connectionstyle=f"arc3,rad={-rad}", arrowstyle="-|>",
                                    mutation_scale=12 * pt / _BASE_PT, color=GREY,
                                    lw=(1 + 8 * n / busiest) * pt / _BASE_PT, zorder=1)  # fmt: skip
            ax.add_patch(arrow)
            mid_y = (1 if x[a] < x[b] else -1) * (bh / 2 + 0.35 * abs(x[b] - x[a]) / 2 + 0.1)
            ax.text((x[a] + x[b]) / 2, mid_y, f"{n:,}", ha="center", va="center",
                    fontsize=_fs(8, pt), bbox={"fc": "white", "ec": "none", "pad": 1})  # fmt: skip
        blocks = [FancyBboxPatch((x[r] - bw / 2, -bh / 2), bw, bh,
                                 boxstyle="round,pad=0,rounding_size=0.2") for r in roles]  # fmt: skip
        coll = PatchCollection(blocks, facecolors=[_FILL[r] for r in roles],
                               edgecolors="#333333", linewidths=0.8 * pt / _BASE_PT, zorder=3)  # fmt: skip
        coll.set_gid("nncrn-blocks")
        ax.add_collection(coll)
        for r in roles:
            ax.text(x[r], 0, f"{r}\n{count[r]:,} species\n{within[r]:,} reactions among them",
                    ha="center", va="center", fontsize=_fs(8, pt), zorder=4)  # fmt: skip

    handles = _line_handles([("reactions in which one role changes another (count)", GREY, "-")])
    reach = 0.35 * dx * max(len(roles) - 1, 1) / 2 + bh / 2 + 0.6
    return _Scene((-bw / 2 - 0.4, x[roles[-1]] + bw / 2 + 0.4 if roles else 1.0, -reach, reach),
                  paint, handles)  # fmt: skip
