"""Round trips JSON -> SBML / Antimony / CRN text -> network, and what each format keeps."""

from __future__ import annotations

import math

import pytest

from nncrn.export import from_antimony, from_crn_text, from_sbml, to_antimony, to_crn_text, to_sbml
from nncrn.network import Reaction, ReactionNetwork, Readout, Species

pytest.importorskip("libsbml")


def _same_numbers(a: ReactionNetwork, b: ReactionNetwork) -> None:
    assert a.species_names == b.species_names
    for ra, rb in zip(a.reactions, b.reactions, strict=True):
        assert ra.key() == rb.key()
        assert math.isclose(ra.rate, rb.rate, rel_tol=1e-15, abs_tol=0)
    for sa, sb in zip(a.species, b.species, strict=True):
        assert math.isclose(sa.initial, sb.initial, rel_tol=1e-15, abs_tol=0)


def _with_initials(net: ReactionNetwork) -> ReactionNetwork:
    species = [
        Species(s.name, s.role, 0.1 + 0.2 if s.role.value == "hidden" else 1 / 3, s.input_range)
        for s in net.species
    ]
    return ReactionNetwork(species, net.reactions, net.readout, dict(net.metadata))


def test_sbml_round_trip_is_exact(small_ajd):
    net = _with_initials(small_ajd)
    back = from_sbml(to_sbml(net))
    _same_numbers(net, back)
    assert back == net  # roles, input ranges, readout, labels, metadata too


def test_antimony_round_trip_is_exact(small_ajd):
    pytest.importorskip("antimony")
    net = _with_initials(small_ajd)
    text = to_antimony(net)
    assert " => " in text and " -> " not in text.split("model", 1)[1]
    back = from_antimony(text)
    _same_numbers(net, back)
    assert back == net


def test_crn_text_round_trip_is_exact(small_ajd):
    net = _with_initials(small_ajd)
    back = from_crn_text(to_crn_text(net))
    _same_numbers(net, back)
    assert back == net


def test_json_file_round_trip_through_every_format(small_ajd, tmp_path):
    small_ajd.save(tmp_path / "net.json")
    net = ReactionNetwork.load(tmp_path / "net.json")
    assert from_sbml(to_sbml(net)) == net
    assert from_crn_text(to_crn_text(net)) == net


def test_antimony_loses_double_quotes_in_labels_only():
    pytest.importorskip("antimony")
    net = ReactionNetwork(
        [Species("A"), Species("B")], [Reaction.parse("A -> B", 2.5, 'says "hi"  twice')]
    )
    back = from_antimony(to_antimony(net))
    assert back.reactions[0].label == "says 'hi' twice"
    assert from_sbml(to_sbml(net)).reactions[0].label == 'says "hi"  twice'


def test_readout_with_minus_part_and_empty_network_pieces():
    net = ReactionNetwork(
        [Species("P", "output"), Species("M", "output"), Species("_aux")],
        [Reaction.parse("0 -> P", 1.0), Reaction.parse("P + M -> 0", 3.0),
         Reaction.parse("_aux -> 0", 1e-300)],
        [Readout("value", "P", "M")],
        {"nested": {"list": [1, 2.5, None, "x"]}},
    )  # fmt: skip
    assert from_sbml(to_sbml(net)) == net
    assert from_crn_text(to_crn_text(net)) == net


def test_ids_that_collide_with_species_names_are_renamed():
    net = ReactionNetwork(
        [Species("cell"), Species("r0"), Species("k_r0")],
        [Reaction.parse("cell + r0 -> k_r0", 0.5)],
    )
    text = to_sbml(net)
    assert 'id="cell_"' in text and 'id="r0_"' in text and 'id="k_r0_"' in text
    assert from_sbml(text) == net


def test_foreign_crn_text_nuskell_style():
    text = """
    # a Nuskell-style CRN
    A + B -> C [k = 1.5e-3]
    2*C -> [k = 2]; C <=> D [kf = 2, kr = 0.25]
    x' + A-1 -> 2 x' [k = 1]
    """
    net = from_crn_text(text)
    assert net.species_names == ("A", "B", "C", "D", "x_", "A_1")
    assert dict(net.metadata["renamed_species"]) == {"x_": "x'", "A_1": "A-1"}
    eqs = {r.equation(): r.rate for r in net.reactions}
    assert eqs == {
        "A + B -> C": 1.5e-3, "2 C -> 0": 2.0, "C -> D": 2.0, "D -> C": 0.25,
        "x_ + A_1 -> 2 x_": 1.0,
    }  # fmt: skip
    assert all(s.role.value == "auxiliary" and s.initial == 0 for s in net.species)


def test_crn_text_errors_name_the_line():
    with pytest.raises(ValueError, match="line 2: reaction A -> B already appears on line 1"):
        from_crn_text("A -> B [k = 1]\nA -> B [k = 2]\n")
    with pytest.raises(ValueError, match="line 1: cannot read"):
        from_crn_text("A + B => C [k = 1]")
    with pytest.raises(ValueError, match="line 1: cannot read rate"):
        from_crn_text("A -> B [rate = 1]")
    with pytest.raises(ValueError, match="no rate constant"):
        from_crn_text("A -> B")
    assert from_crn_text("A -> B", default_rate=1.0).reactions[0].rate == 1.0
    header = '#@nncrn species {"name": "A", "role": "auxiliary", "initial": 1.0}\n'
    with pytest.raises(ValueError, match="line 2: unknown species 'Q'"):
        from_crn_text(header + "A -> Q [k = 1]\n")
    with pytest.raises(ValueError, match="line 1: unknown pragma"):
        from_crn_text("#@nncrn colour {}\n")
