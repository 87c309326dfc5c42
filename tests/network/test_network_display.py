"""``str(network)`` lists reactions (elided past 40); ``_repr_html_`` is a notebook table."""

from __future__ import annotations

from nncrn import Reaction, ReactionNetwork, Species


def _chain(n: int) -> ReactionNetwork:
    species = [Species(f"S{i}") for i in range(n + 1)]
    return ReactionNetwork(species, [Reaction.parse(f"S{i} -> S{i + 1}", 0.5 + i) for i in range(n)])


def test_str_lists_every_reaction_with_its_rate_and_repr_stays_one_line():
    net = ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [Reaction.parse("0 -> Y", 1e-3), Reaction.parse("X + Y -> X + 2 Y", 2.5)],
    )
    assert str(net).splitlines() == [
        repr(net),
        "  0 -> Y            [k = 0.001]",
        "  X + Y -> X + 2 Y  [k = 2.5]",
    ]
    assert "\n" not in repr(net)


def test_str_elides_the_middle_past_forty_reactions():
    lines = str(_chain(840)).splitlines()
    assert len(lines) == 1 + 20 + 1 + 20
    assert lines[21] == "  ... 800 more reactions ..."
    assert lines[1].startswith("  S0 -> S1") and lines[-1].startswith("  S839 -> S840")
    assert "..." not in str(_chain(40))
    assert "  ... 1 more reaction ..." in str(_chain(41)).splitlines()


def test_html_names_the_species_count_and_shows_the_first_reactions():
    html = _chain(25)._repr_html_()
    assert "26 species" in html and "25 reactions" in html
    assert html.count("<tr>") == 1 + 10 and "15 more reactions" in html
    assert "S0 -&gt; S1" in html
