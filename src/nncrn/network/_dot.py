"""The network as a graph: Graphviz DOT text and a networkx ``DiGraph``.

Both are the species–reaction bipartite graph: one node per species, one per reaction
(named ``"reaction {k}"``, which no species name can clash with: species names are
identifiers). A reactant points to its reaction, a reaction to its products; a catalyst
(the same coefficient on both sides, such as ``X`` in ``X + Y -> X + 2 Y``) has one edge
to the reaction, of role ``"catalyst"``, rather than a pair that cancels. Each edge carries
its stoichiometric coefficient. Nothing here needs Graphviz: the DOT text is built by hand
and networkx is imported only by :func:`network_to_networkx`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from nncrn._errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    from nncrn.network._network import ReactionNetwork
    from nncrn.network._reaction import Reaction

__all__ = ["graph_edges", "network_to_dot", "network_to_networkx", "reaction_node", "species_layers"]

_FILL = {"input": "#cfe2f3", "hidden": "#eeeeee", "output": "#d9ead3", "auxiliary": "#ffffff"}
_RANKDIRS = ("LR", "TB", "RL", "BT")
_EXTRA = "plot"


def reaction_node(k: int) -> str:
    """Graph node of reaction ``k``: ``"reaction 3"`` (not an identifier, so never a species)."""
    return f"reaction {k}"


def graph_edges(network: ReactionNetwork) -> Iterator[tuple[str, str, str, int]]:
    """``(tail, head, role, stoichiometry)`` of every edge, reaction by reaction.

    ``role`` is ``"reactant"`` (species -> reaction), ``"product"`` (reaction -> species)
    or ``"catalyst"`` (species -> reaction, the species is given back unchanged).
    """
    for k, r in enumerate(network.reactions):
        yield from _reaction_edges(k, r)


def _reaction_edges(k: int, r: Reaction) -> Iterator[tuple[str, str, str, int]]:
    node = reaction_node(k)
    for s, c in r.reactants.items():
        yield (s, node, "catalyst" if r.products.get(s) == c else "reactant", c)
    for s, c in r.products.items():
        if r.reactants.get(s) != c:
            yield (node, s, "product", c)


def species_layers(network: ReactionNetwork) -> dict[str, int]:
    """Layer of each species of a compiled network: inputs 0, ``metadata["layers"][l]`` l + 1.

    Species in no layer (a dual-rail neuron's pre-activation rails, helpers) are left out;
    a network without layer metadata gives only its inputs.
    """
    out = {name: 0 for name in network.inputs}
    for depth, layer in enumerate(network.metadata.get("layers") or (), start=1):
        for name in layer.get("species", ()):
            if name in network and name not in out:
                out[name] = depth
    return out


def _quote(text: str) -> str:
    """``text`` as a DOT double-quoted string (a line break becomes DOT's ``\\n``)."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    text = text.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")
    return '"' + "".join(ch if ch >= " " else " " for ch in text) + '"'


def _attrs(**attrs: object) -> str:
    return "[" + ", ".join(f"{k}={_quote(str(v))}" for k, v in attrs.items()) + "]"


def network_to_dot(network: ReactionNetwork, *, rankdir: str = "LR") -> str:
    """Graphviz DOT text of the species–reaction graph (see the module docstring).

    Species are ellipses filled by role, reactions small boxes labelled with their rate
    constant (the equation and label are the tooltip), catalysts dashed edges with an open
    dot. A compiled network's species are ranked per layer (inputs first, outputs last),
    so ``dot`` draws one column per layer with ``rankdir="LR"`` (the default; ``"TB"``
    draws rows). One statement per line; needs nothing but this text to render
    (``dot -Tsvg net.dot -o net.svg``).

    >>> from nncrn.network import Reaction, ReactionNetwork, Species
    >>> net = ReactionNetwork([Species("X", "input"), Species("Y", "output")],
    ...                       [Reaction.parse("X + Y -> X + 2 Y", 0.5)])
    >>> for line in net.to_dot().splitlines():
    ...     if '" -> "' in line:  # the edges
    ...         print(line.strip())
    "X" -> "reaction 0" [style="dashed", arrowhead="odot"];
    "Y" -> "reaction 0" [constraint="false"];
    "reaction 0" -> "Y" [label="2"];
    """
    if rankdir not in _RANKDIRS:
        raise InputError(f"to_dot rankdir is {rankdir!r}; it must be one of {', '.join(_RANKDIRS)}")
    name = str(network.metadata.get("name") or "network")
    lines = [
        f"digraph {_quote(name)} {{",
        f"  graph [rankdir={rankdir}, nodesep=0.15, ranksep=0.6, fontname=Helvetica];",
        '  node [fontname=Helvetica, fontsize=11];',
        '  edge [arrowsize=0.6, color="#555555"];',
        f"  // {network.n_species} species, {network.n_reactions} reactions, "
        f"kinetics {network.kinetics}",
    ]
    for s in network.species:
        role = s.role.value
        lines.append(f"  {_quote(s.name)} " + _attrs(
            shape="ellipse", style="filled", fillcolor=_FILL[role], tooltip=f"{s.name} ({role})"
        ) + ";")  # fmt: skip
    for k, r in enumerate(network.reactions):
        tip = f"{r.equation()}  (k = {r.rate:g})" + (f"\n{r.label}" if r.label else "")
        lines.append(f"  {_quote(reaction_node(k))} " + _attrs(
            shape="box", label=f"{r.rate:.3g}", fontsize=8, height=0.2, width=0.3, margin=0.03,
            tooltip=tip,
        ) + ";")  # fmt: skip
    for k, r in enumerate(network.reactions):
        for tail, head, role, c in _reaction_edges(k, r):
            attrs: dict[str, object] = {"label": c} if c != 1 else {}
            if role == "catalyst":
                attrs.update(style="dashed", arrowhead="odot")
            elif role == "reactant" and tail in r.products:
                # autocatalytic (Y in X + Y -> X + 2 Y): rank Y by its production edge only
                attrs["constraint"] = "false"
            tail_head = f"  {_quote(tail)} -> {_quote(head)}"
            lines.append(tail_head + (f" {_attrs(**attrs)};" if attrs else ";"))
    layers = species_layers(network)
    if network.metadata.get("layers"):
        depth = max(layers.values(), default=0)
        for d in range(depth + 1):
            members = " ".join(_quote(s) for s, v in layers.items() if v == d)
            if members:
                lines.append(f"  {{ rank={'min' if d == 0 else 'same'}; {members} }}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def network_to_networkx(network: ReactionNetwork) -> Any:
    """A ``networkx.DiGraph`` of the species–reaction graph (see the module docstring).

    Species nodes (named by the species) have ``kind="species"``, ``bipartite=0``,
    ``role`` (``"input"``, ``"hidden"``, ``"output"``, ``"auxiliary"``), ``initial`` and, in
    a compiled network, ``layer`` (0 for inputs). Reaction nodes (``"reaction {k}"``) have
    ``kind="reaction"``, ``bipartite=1``, ``index``, ``rate``, ``label``, ``equation``,
    ``reactants`` and ``products`` (name -> coefficient). Edges have ``role``
    (``"reactant"``, ``"product"``, ``"catalyst"``) and ``stoichiometry``.
    """
    try:
        import networkx as nx
    except ImportError:
        raise ImportError(
            "ReactionNetwork.to_networkx needs the optional package 'networkx', which is not "
            f"installed; install it with: pip install 'nncrn[{_EXTRA}]' (or pip install "
            "networkx). ReactionNetwork.to_dot needs nothing"
        ) from None
    graph = nx.DiGraph(kinetics=network.kinetics)
    layers = species_layers(network)
    for s in network.species:
        extra = {"layer": layers[s.name]} if s.name in layers else {}
        graph.add_node(s.name, kind="species", bipartite=0, role=s.role.value,
                       initial=s.initial, **extra)  # fmt: skip
    for k, r in enumerate(network.reactions):
        graph.add_node(
            reaction_node(k), kind="reaction", bipartite=1, index=k, rate=r.rate, label=r.label,
            equation=r.equation(), reactants=dict(r.reactants), products=dict(r.products),
        )  # fmt: skip
    for tail, head, role, c in graph_edges(network):
        graph.add_edge(tail, head, role=role, stoichiometry=c)
    return graph
