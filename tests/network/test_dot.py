"""ReactionNetwork.to_dot (structure of the DOT text) and to_networkx (counts, attributes)."""

from __future__ import annotations

import re
import sys

import pytest

from nncrn.network import Reaction, ReactionNetwork, Readout, Species

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|->|[{}\[\];=,]|[A-Za-z0-9_.#]+|//[^\n]*|\s+')


def _tokens(text: str) -> list[str]:
    """DOT tokens; fails on any character outside a token (an unbalanced quote, say)."""
    out, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        assert m is not None, f"no DOT token at {text[pos:pos + 40]!r}"
        pos = m.end()
        if not m.group().isspace() and not m.group().startswith("//"):
            out.append(m.group())
    return out


def _statements(text: str) -> tuple[set[str], list[tuple[str, str]], list[list[str]]]:
    """(node ids, edges, rank groups) of a ``digraph name { ... }`` written by to_dot."""
    toks = _tokens(text)
    assert toks[:2] == ["digraph", toks[1]] and toks[2] == "{" and toks[-1] == "}"
    body, nodes, edges, ranks = toks[3:-1], set(), [], []
    depth = 0
    i = 0
    while i < len(body):
        t = body[i]
        if t == "[":  # skip an attribute list, checking it is key=value pairs
            j = body.index("]", i)
            attrs = [a for a in body[i + 1 : j] if a != ","]
            assert len(attrs) % 3 == 0 and all(attrs[k + 1] == "=" for k in range(0, len(attrs), 3))
            i = j + 1
            continue
        if t == "{":
            depth += 1
            j = body.index("}", i)
            ranks.append([x[1:-1] for x in body[i + 1 : j] if x.startswith('"')])
            i = j + 1
            depth -= 1
            continue
        if t.startswith('"') and i + 2 < len(body) and body[i + 1] == "->":
            edges.append((t[1:-1], body[i + 2][1:-1]))
            i += 3
            continue
        if t.startswith('"'):
            nodes.add(t[1:-1])
        i += 1
    assert depth == 0
    return nodes, edges, ranks


def _expected_edges(net: ReactionNetwork) -> int:
    """Reactant and catalyst edges (one per reactant) plus product edges (changed products)."""
    return sum(
        len(r.reactants) + sum(1 for s, c in r.products.items() if r.reactants.get(s) != c)
        for r in net.reactions
    )


@pytest.fixture
def enzyme():
    return ReactionNetwork(
        [Species("E", "input", 1.0), Species("S", "input", 1.0), Species("ES"), Species("P", "output")],
        [Reaction.parse("E + S -> ES", 1.0, 'binding "fast"\nstep \\ 1'),
         Reaction.parse("ES -> E + S", 0.5), Reaction.parse("ES -> E + P", 0.3),
         Reaction.parse("E + P -> E + 2 P", 0.2), Reaction.parse("2 P -> 0", 0.05)],
        [Readout("p", "P")],
    )  # fmt: skip


@pytest.fixture
def compiled():
    from nncrn.compile import DenseLayer, LayerStack, SmoothReLUScheme

    stack = LayerStack((
        DenseLayer([[2.0, -1.0], [0.0, 0.5]], [0.5, -0.25], "relu"),
        DenseLayer([[1.0, -3.0]], [0.0], "identity"),
    ), "small")  # fmt: skip
    return SmoothReLUScheme().build(stack)


def test_dot_counts_match_species_and_reactions(enzyme, compiled):
    for net in (enzyme, compiled):
        nodes, edges, _ = _statements(net.to_dot())
        reactions = {f"reaction {k}" for k in range(net.n_reactions)}
        assert nodes == set(net.species_names) | reactions
        assert len(edges) == _expected_edges(net)
        for tail, head in edges:  # bipartite: every edge joins a species and a reaction
            assert (tail in reactions) != (head in reactions)
            assert tail in nodes and head in nodes


def test_dot_escapes_labels_and_marks_catalysts(enzyme):
    text = enzyme.to_dot()
    assert '\\"fast\\"' in text and "\\\\ 1" in text and "\n  step" not in text
    catalyst = [ln for ln in text.splitlines() if ln.startswith('  "E" -> "reaction 3"')]
    assert len(catalyst) == 1 and 'style="dashed"' in catalyst[0]
    assert '"reaction 4" [' in text and '"P" -> "reaction 4" [label="2"]' in text


def test_dot_ranks_compiled_layers(compiled, enzyme):
    _, _, ranks = _statements(compiled.to_dot())
    assert ranks == [["X0", "X1"], ["H1_0", "H1_1"], ["Y0p", "Y0n"]]
    assert _statements(enzyme.to_dot())[2] == []  # no layer metadata, no ranks
    assert "rankdir=TB" in compiled.to_dot(rankdir="TB")
    with pytest.raises(ValueError, match="rankdir"):
        compiled.to_dot(rankdir="sideways")


def test_networkx_graph_counts_and_attributes(enzyme, compiled):
    nx = pytest.importorskip("networkx")
    g = enzyme.to_networkx()
    assert isinstance(g, nx.DiGraph)
    assert g.number_of_nodes() == enzyme.n_species + enzyme.n_reactions
    assert g.number_of_edges() == _expected_edges(enzyme)
    species = {n for n, d in g.nodes(data=True) if d["bipartite"] == 0}
    assert species == set(enzyme.species_names)
    assert nx.is_bipartite(g)
    assert g.nodes["E"]["role"] == "input" and g.nodes["ES"]["role"] == "auxiliary"
    r = g.nodes["reaction 3"]
    assert (r["kind"], r["rate"], r["equation"]) == ("reaction", 0.2, "E + P -> E + 2 P")
    assert r["reactants"] == {"E": 1, "P": 1} and r["products"] == {"E": 1, "P": 2}
    assert g.edges["E", "reaction 3"] == {"role": "catalyst", "stoichiometry": 1}
    assert g.edges["reaction 3", "P"] == {"role": "product", "stoichiometry": 2}
    assert g.edges["P", "reaction 4"] == {"role": "reactant", "stoichiometry": 2}
    assert not g.has_edge("reaction 3", "E")
    c = compiled.to_networkx()
    assert [c.nodes[s]["layer"] for s in ("X0", "H1_1", "Y0n")] == [0, 1, 2]


def test_networkx_missing_names_the_extra(enzyme, monkeypatch):
    monkeypatch.setitem(sys.modules, "networkx", None)
    with pytest.raises(ImportError, match=r"pip install 'nncrn\[plot\]'"):
        enzyme.to_networkx()
    assert enzyme.to_dot().startswith("digraph")  # DOT needs nothing
