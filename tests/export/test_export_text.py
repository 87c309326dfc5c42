"""Text the writers cannot get wrong: comments, reserved names, labels, ids, tiny numbers.

Also the CRN text reader's terms (coefficients, ``0``, ``*``, a byte-order mark) and the
line numbers of its rate and pragma errors.
"""

from __future__ import annotations

import sys

import pytest

from nncrn._errors import FormatError, InputError
from nncrn.export import from_antimony, from_crn_text, from_sbml, to_antimony, to_crn_text, to_sbml
from nncrn.export._common import ANTIMONY_RESERVED
from nncrn.network import Reaction, ReactionNetwork, Readout, Species

libsbml = pytest.importorskip("libsbml")


def _pair(label: str = "", **metadata) -> ReactionNetwork:
    return ReactionNetwork(
        [Species("A", initial=1.0), Species("B")],
        [Reaction.parse("A -> B", 2.5, label)],
        None,
        metadata,
    )


# --- provenance comments --------------------------------------------------------------

INJECTED = "model.pt\nC -> D [k = 9]\r\nend\x85E -> F [k = 1]\u2028G -> H [k = 2]\x0b"


def test_multiline_source_cannot_inject_crn_reactions():
    net = _pair(source=INJECTED)
    text = to_crn_text(net)
    header = text.splitlines()[0]
    assert header.endswith("source: model.pt C -> D [k = 9] end E -> F [k = 1] G -> H [k = 2])")
    back = from_crn_text(text)
    assert [r.equation() for r in back.reactions] == ["A -> B"]
    assert back == net  # the pragma keeps the source exactly


def test_multiline_source_keeps_antimony_loadable():
    pytest.importorskip("antimony")
    net = _pair(source=INJECTED)
    text = to_antimony(net)
    assert text.splitlines()[0].startswith("// nncrn reaction network (nncrn ")
    assert from_antimony(text) == net
    notes = libsbml.readSBMLFromString(to_sbml(net))
    assert "model.pt C -&gt; D [k = 9] end" in notes.getModel().getNotesString()


# --- Antimony names and ids ------------------------------------------------------------


def test_reserved_species_names_are_refused_by_to_antimony():
    net = ReactionNetwork(
        [Species("time", initial=1.0), Species("B"), Species("pi")],
        [Reaction.parse("time -> B", 1.0), Reaction.parse("B -> pi", 1.0)],
    )
    with pytest.raises(FormatError, match=r"species 'time', 'pi' are Antimony reserved words"):
        to_antimony(net)
    assert from_sbml(to_sbml(net)) == net  # SBML and CRN text have no reserved words
    assert from_crn_text(to_crn_text(net)) == net


def test_reserved_list_agrees_with_antimony():
    antimony = pytest.importorskip("antimony")

    def loads(name: str) -> bool:
        antimony.clearPreviousLoads()
        text = (
            f"model m\n  compartment c = 1;\n  species {name} in c;\n  {name} = 1;\n"
            f"  r0: {name} => ; c * k * {name};\n  k = 1;\nend\n"
        )
        return antimony.loadAntimonyString(text) >= 0

    rejected = {n for n in ANTIMONY_RESERVED if not loads(n)}
    # exponentialE is reserved in some Antimony releases only
    assert rejected >= ANTIMONY_RESERVED - {"exponentialE"}
    assert all(loads(n) for n in ("Time", "e", "k", "asinh", "layout", "priority", "t0"))
    antimony.clearPreviousLoads()


def test_species_named_like_the_model_id():
    net = ReactionNetwork(
        [Species("nncrn_network", initial=1.0), Species("B")],
        [Reaction.parse("nncrn_network -> B", 1.5)],
    )
    text = to_sbml(net)
    doc = libsbml.readSBMLFromString(text)
    doc.checkConsistency()
    errors = [
        doc.getError(i).getMessage()
        for i in range(doc.getNumErrors())
        if doc.getError(i).getSeverity() >= libsbml.LIBSBML_SEV_ERROR
    ]
    assert errors == []
    assert doc.getModel().getId() == "nncrn_network_"
    assert from_sbml(text) == net
    pytest.importorskip("antimony")
    assert "model nncrn_network_" in to_antimony(net)
    assert from_antimony(to_antimony(net)) == net


# --- labels ----------------------------------------------------------------------------

AWKWARD = 'tab\there, line\nbreak\r\n &amp; &#9; <x> "q" back\\slash'


def test_sbml_keeps_labels_readout_names_and_metadata_exactly():
    net = ReactionNetwork(
        [Species("A", initial=1.0), Species("B", "output")],
        [Reaction.parse("A -> B", 2.5, AWKWARD)],
        [Readout(AWKWARD, "B")],
        {"name": "net &amp; more\nlines", "note": "x &lt; y &#65; @nncrn-fill-0@"},
    )
    back = from_sbml(to_sbml(net))
    assert back.reactions[0].label == AWKWARD
    assert back.readout[0].name == AWKWARD
    assert back.metadata["note"] == "x &lt; y &#65; @nncrn-fill-0@"
    assert back == net


def test_antimony_label_losses_are_only_the_documented_ones():
    pytest.importorskip("antimony")
    back = from_antimony(to_antimony(_pair(AWKWARD)))
    assert back.reactions[0].label == "tab here, line break &amp; &#9; <x> 'q' back\\slash"
    ends = from_antimony(to_antimony(_pair("ends with \\")))
    assert ends.reactions[0].label == "ends with \\"


@pytest.mark.parametrize("char", ["\x01", "\x0b", "\x1f", "\ufffe"])
def test_labels_with_control_characters_are_refused_by_xml_formats(char):
    net = _pair(f"bad{char}label")
    for writer in (to_sbml, to_antimony):
        with pytest.raises(FormatError, match=r"reaction 0 \(A -> B\) has label .*control") as info:
            writer(net)
        crn = "writes it as a space" if char.isspace() else "keeps it"
        assert str(info.value).endswith(f"export CRN text (to_crn_text), which {crn}")
    assert from_crn_text(to_crn_text(net)).reactions[0].label == (
        f"bad{char}label" if not char.isspace() else "bad label"
    )


def test_readout_names_with_control_characters_are_refused_by_sbml_only():
    net = ReactionNetwork(
        [Species("A", "output")], [Reaction.parse("A -> 0", 1.0)], [Readout("y\x02", "A")]
    )
    with pytest.raises(FormatError, match="readout 'y\\\\x02'"):
        to_sbml(net)
    assert from_crn_text(to_crn_text(net)) == net
    pytest.importorskip("antimony")
    assert from_antimony(to_antimony(net)) == net  # a JSON pragma, not SBML


# --- subnormal numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("initial", "rate", "what"),
    [
        (5e-324, 1.0, "initial concentration of species 'A' is 5e-324"),
        (1.0, 1e-310, r"rate constant of reaction 0 \(A -> B\) is 1e-310"),
    ],
)
def test_subnormal_numbers_are_refused_by_sbml_and_antimony(initial, rate, what):
    net = ReactionNetwork(
        [Species("A", initial=initial), Species("B")], [Reaction.parse("A -> B", rate)]
    )
    for writer in (to_sbml, to_antimony):
        with pytest.raises(InputError, match=rf"{what}, a subnormal double"):
            writer(net)
    assert from_crn_text(to_crn_text(net)) == net  # CRN text keeps them exactly


def test_smallest_normal_double_round_trips_through_sbml():
    tiny = sys.float_info.min
    net = ReactionNetwork(
        [Species("A", initial=tiny), Species("B")], [Reaction.parse("A -> B", tiny)]
    )
    back = from_sbml(to_sbml(net))
    assert back.species[0].initial == tiny and back.reactions[0].rate == tiny


def test_subnormal_stochastic_volume_is_refused():
    with pytest.raises(InputError, match="subnormal"):
        to_sbml(_pair(), stochastic_volume=1e-310)


def test_stochastic_sbml_writes_a_subnormal_initial_as_its_count():
    net = ReactionNetwork(
        [Species("A", initial=5e-324), Species("B")], [Reaction.parse("A -> B", 1.0)]
    )
    text = to_sbml(net, stochastic_volume=100)  # only round(5e-324 * 100) = 0 is written
    assert 'id="A" compartment="cell" initialAmount="0.0"' in text
    slow = ReactionNetwork(
        [Species("A", initial=5e-324), Species("B")], [Reaction.parse("A -> B", 1e-310)]
    )
    with pytest.raises(InputError, match="rate constant of reaction 0"):
        to_sbml(slow, stochastic_volume=100)  # rates are written, so still checked


# --- CRN text terms --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("term", "says", "not_says"),
    [
        ("2 3A", ["coefficient 2 before '3A'", "write '6 A'", "e.g. 'A3'"], ["3 molecules"]),
        ("\u0663X", ["starts with the digit '\u0663' (U+0663)", "digits 0-9"], ["molecules"]),
        ("1e3", ["'1e3' is a number where a species name should be", "integers"],
         ["molecules", "'e3'"]),
        ("1A", ["1 molecule of 'A'", "Write '1 A'"], ["molecules"]),
    ],
)  # fmt: skip
def test_crn_terms_starting_with_a_digit_are_explained(term, says, not_says):
    with pytest.raises(FormatError) as info:
        from_crn_text(f"{term} -> B [k = 1]\n")
    message = str(info.value)
    assert message.startswith("CRN text line 1: ")
    for text in says:
        assert text in message
    for text in not_says:
        assert text not in message


def test_crn_coefficients_need_a_space_or_star():
    net = from_crn_text("2*A + 3 * B -> 2 C [k = 1]\n")
    assert [r.equation() for r in net.reactions] == ["2 A + 3 B -> 2 C"]
    assert net.species_names == ("A", "B", "C")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("3PG -> 2PG [k = 1]", r"line 1: '3PG' is ambiguous.*Write '3 PG' \(or '3\*PG'\)"),
        ("A -> B [k=1]\n2D -> 0 [k = 1]", r"line 2: '2D' is ambiguous"),
        ("10 -> X [k = 1]", r"line 1: '10' is a number where a species name should be"),
        ("A + 0 -> B [k = 1]", r"line 1: '0' is a number.*not 'A \+ 0 -> B'"),
        ("A + + B -> C [k = 1]", r"line 1: empty term in 'A \+ \+ B'"),
        ("*A -> B [k = 1]", r"line 1: cannot read '\*A'"),
    ],
)
def test_crn_ambiguous_or_numeric_terms_are_refused(text, match):
    with pytest.raises(FormatError, match=match):
        from_crn_text(text)


def test_crn_byte_order_mark_is_not_part_of_a_name():
    net = from_crn_text("\ufeffA -> B [k = 1]\n")
    assert net.species_names == ("A", "B")
    assert "renamed_species" not in net.metadata


@pytest.mark.parametrize(
    ("rate", "match"),
    [
        ("[k = 0]", "line 2: rate constant k = 0; rate constants must be finite and > 0"),
        ("[k = -1]", "line 2: rate constant k = -1;"),
        ("[k = 1e400]", r"line 2: rate constant k = 1e400 overflows a double"),
        ("[kf = 1, kr = 0]", "line 2: rate constant kr = 0;"),
    ],
)
def test_crn_bad_rates_name_the_line(rate, match):
    arrow = "<=>" if "kf" in rate else "->"
    with pytest.raises(FormatError, match=match):
        from_crn_text(f"A -> B [k = 1]\nB {arrow} C {rate}\n")


@pytest.mark.parametrize(
    ("entry", "match"),
    [
        ('"initial": true', "line 1: species 'A' has initial concentration True"),
        ('"initial": "1"', "line 1: species 'A' has initial concentration '1' \\(a str\\)"),
        ('"initial": -1', "line 1: species 'A' has initial concentration -1"),
        ('"role": "inputs"', "line 1: species 'A' has role 'inputs'"),
        ('"role": "input", "input_range": [false, 1]', "line 1: species 'A' has input_range"),
        ('"role": "input", "input_range": [0]', r"line 1: species 'A' has input_range \[0\]"),
        ('"input_range": [0, 1]', "line 1: species 'A' has role 'auxiliary' but an input_range"),
        ('"initial": 1, "name2": 0', None),
    ],
)
def test_crn_pragma_values_are_checked_with_the_line(entry, match):
    text = f'#@nncrn species {{"name": "A", {entry}}}\nA -> 0 [k = 1]\n'
    if match is None:
        assert from_crn_text(text).species[0].initial == 1.0
        return
    with pytest.raises(FormatError, match=match):
        from_crn_text(text)


def test_crn_pragma_keeps_a_foreign_name_for_renaming():
    text = '#@nncrn species {"name": "A.1", "initial": 2}\nA.1 -> 0 [k = 1]\n'
    with pytest.raises(FormatError, match=r"line 1: species 'A\.1' has initial concentration -1"):
        from_crn_text(text.replace('"initial": 2', '"initial": -1'))
    net = from_crn_text(text)
    assert net.species[0].initial == 2.0 and net.metadata["renamed_species"]


@pytest.mark.parametrize("default_rate", [0.0, "x", True, float("nan")])
def test_crn_default_rate_must_be_positive(default_rate):
    with pytest.raises(InputError, match="default_rate must be a finite number > 0"):
        from_crn_text("A -> B", default_rate=default_rate)
