"""What the readers refuse (issue 14, items 5-7 and 9): file references, numbers a double
cannot hold, coefficients past MAX_COEFFICIENT, nesting libsbml or Python cannot take, and
labels no text file can hold. Each is a library error naming the place, never a traceback."""

from __future__ import annotations

import re

import pytest

from nncrn._errors import FormatError, NetworkError, UnsupportedModelError
from nncrn.export import from_antimony, from_crn_text, from_sbml, to_antimony, to_crn_text, to_sbml
from nncrn.network import Reaction, ReactionNetwork, Species

pytest.importorskip("libsbml")

BASE = "model m\n  species A, B; A = 1; B = 0; k = 0.5;\n  r: A => B; k*A\nend\n"


def tiny() -> ReactionNetwork:
    return ReactionNetwork([Species("A", initial=1.0), Species("B")],
                           [Reaction({"A": 2}, {"B": 1}, 1.0, "r")])  # fmt: skip


# ---------------------------------------------------------------- item 5: Antimony imports
@pytest.fixture
def other_model(tmp_path):
    path = tmp_path / "other.ant"
    path.write_text("model q\n  species Q; Q = 3; kq = 2;\n  rq: Q => ; kq*Q\nend\n")
    return path


@pytest.mark.parametrize("where", ["first", "last", "after_comment_cr", "after_block"])
def test_antimony_import_is_refused_by_default(other_model, where):
    pytest.importorskip("antimony")
    line = f'import "{other_model}"'
    text = {
        "first": f"{line}\n{BASE}",
        "last": f"{BASE}{line}\n",
        "after_comment_cr": f"// note\r{line}\n{BASE}",  # Antimony ends a comment at \r
        "after_block": f"/* note */ {line}\n{BASE}",
    }[where]
    with pytest.raises(FormatError, match=r"Antimony line \d+ .*'import' reads another file"):
        from_antimony(text)


def test_antimony_import_of_a_system_file_leaks_nothing():
    pytest.importorskip("antimony")
    with pytest.raises(FormatError) as info:
        from_antimony('import "/etc/passwd"\n' + BASE)
    assert "root" not in str(info.value) and "allow_imports=True" in str(info.value)


def test_antimony_import_is_followed_when_allowed(other_model):
    pytest.importorskip("antimony")
    net = from_antimony(f'import "{other_model}"\n{BASE}', allow_imports=True)
    assert set(net.species_names) == {"A", "B"}  # the main model is the last one


def test_the_word_import_in_comments_and_labels_is_fine():
    pytest.importorskip("antimony")
    net = ReactionNetwork([Species("A", initial=1.0)],
                          [Reaction({"A": 1}, {}, 1.0, "import /etc/passwd")])  # fmt: skip
    text = to_antimony(net)
    assert "import" in text
    assert from_antimony(text) == net
    assert from_antimony("// import x\n# import y\n/* import z */\n" + BASE).n_reactions == 1


# ---------------------------------------------------------------- item 6: Antimony numbers
@pytest.mark.parametrize(
    "literal, match",
    [("1e400", "too large for a double"), ("1.8e308", "too large"), ("1E999", "too large"),
     ("1e-400", "below the smallest"), ("2.5e-330", "below the smallest")],
)  # fmt: skip
def test_antimony_numbers_a_double_cannot_hold_are_refused(literal, match):
    pytest.importorskip("antimony")
    with pytest.raises(FormatError, match=rf"Antimony line 2 .*{match}"):
        from_antimony(BASE.replace("k = 0.5", f"k = {literal}"))
    with pytest.raises(FormatError, match=match):  # in a law, not an assignment
        from_antimony(BASE.replace("k*A", f"{literal}*A"))


def test_antimony_zero_and_exact_numbers_still_read():
    pytest.importorskip("antimony")
    net = from_antimony(BASE.replace("B = 0", "B = 0.0e-400").replace("k = 0.5", "k = 0.1e1"))
    assert net.reactions[0].rate == 1.0 and net.species[1].initial == 0.0


# ---------------------------------------------------------------- item 7: coefficients
@pytest.mark.parametrize("coeff", ["1000000", "99999999999999999999999", "1" * 5000],
                         ids=["1e6", "1e23", "5000-digits"])  # fmt: skip
def test_crn_text_coefficient_above_the_limit_is_refused(coeff):
    with pytest.raises(FormatError, match=r"CRN text line 2: .* above the limit of 32768"):
        from_crn_text(f"# x\n{coeff} A -> B [k = 1]")
    with pytest.raises(FormatError, match="above the limit of 32768"):
        from_crn_text(f"A -> {coeff}*B [k = 1]")


def test_crn_text_coefficient_at_the_limit_reads():
    assert from_crn_text("32768 A -> B [k = 1]").reactions[0].reactants == {"A": 32768}


def test_crn_text_leading_digit_names_with_huge_numbers_are_format_errors():
    with pytest.raises(FormatError, match="ambiguous"):
        from_crn_text("1" * 5000 + "A -> B [k = 1]")
    with pytest.raises(FormatError, match="not a species name"):
        from_crn_text("2 " + "1" * 5000 + "A -> B [k = 1]")


def test_antimony_coefficient_above_the_limit_is_refused():
    pytest.importorskip("antimony")
    with pytest.raises(FormatError, match=r"reaction 'r'.* 1e\+06, above the limit of 32768"):
        from_antimony(BASE.replace("r: A => B; k*A", "r: 1000000 A => B; k*A^1000000"))


@pytest.mark.parametrize("value", ["NaN", "INF", "-INF", "1e300", "99999999999999999999"])
def test_sbml_stoichiometry_nan_inf_and_huge_are_refused(value):
    text = to_sbml(tiny()).replace('stoichiometry="2"', f'stoichiometry="{value}"')
    with pytest.raises(FormatError, match=r"reaction 'r0': reactant 'A' has stoichiometry"):
        from_sbml(text)


def test_sbml_rational_with_zero_denominator_is_refused():
    text = to_sbml(tiny()).replace("<ci> k_r0 </ci>", '<cn type="rational"> 1 <sep/> 0 </cn>', 1)
    with pytest.raises(UnsupportedModelError, match="divides by zero"):
        from_sbml(text)


# ---------------------------------------------------------------- item 9: nesting, text
def _nested_law(depth: int) -> str:
    inner = "<ci> k_r0 </ci>"
    for _ in range(depth):
        inner = f"<apply><times/>{inner}<cn> 1 </cn></apply>"
    law = ("<apply><times/><ci> cell </ci>" + inner
           + '<apply><power/><ci> A </ci><cn type="integer"> 2 </cn></apply></apply>')  # fmt: skip
    text = to_sbml(tiny())
    return re.sub(r"(<math[^>]*>).*?(</math>)", lambda m: m.group(1) + law + m.group(2), text,
                  flags=re.S)  # fmt: skip


def test_sbml_mathml_nested_3000_deep_is_a_format_error():
    with pytest.raises(FormatError, match=r"nest 30.. deep, more than the 500 levels"):
        from_sbml(_nested_law(3000))


def test_sbml_mathml_nested_moderately_still_reads():
    assert from_sbml(_nested_law(300)).reactions[0].rate == 1.0


def test_sbml_entities_are_refused():
    text = to_sbml(tiny()).replace("<sbml ", '<!DOCTYPE sbml [<!ENTITY e "x">]>\n<sbml ', 1)
    with pytest.raises(FormatError, match="declares an XML entity"):
        from_sbml(text)


@pytest.mark.parametrize("reader, comment", [(from_crn_text, "#"), (from_antimony, "//")])
def test_deeply_nested_pragma_json_is_a_format_error(reader, comment):
    if reader is from_antimony:
        pytest.importorskip("antimony")
    text = f"{comment}@nncrn metadata {'[' * 100_000}\n" + (
        BASE if reader is from_antimony else "A -> B [k = 1]\n"
    )
    with pytest.raises(FormatError, match=r"line 1: the @nncrn metadata pragma nests JSON"):
        reader(text)


def test_huge_integer_in_pragma_json_is_a_format_error():
    with pytest.raises(FormatError, match="integer of 5000 digits"):
        from_crn_text('#@nncrn metadata {"x": ' + "7" * 5000 + "}\nA -> B [k = 1]\n")


def test_sbml_metadata_annotation_with_deep_json_is_a_format_error():
    text = to_sbml(tiny())
    text = re.sub(r"<nncrn:metadata>.*?</nncrn:metadata>",
                  "<nncrn:metadata>" + "[" * 5000 + "</nncrn:metadata>", text)  # fmt: skip
    with pytest.raises(FormatError, match="metadata annotation nests JSON"):
        from_sbml(text)


@pytest.mark.parametrize("writer", [to_crn_text, to_antimony, to_sbml])
def test_lone_surrogate_label_never_reaches_a_writer(writer):
    with pytest.raises(NetworkError, match="lone surrogate"):
        writer(ReactionNetwork([Species("A")], [Reaction({"A": 1}, {}, 1.0, "x\ud800")]))


@pytest.mark.parametrize("writer, reader", [(to_crn_text, from_crn_text),
                                            (to_sbml, from_sbml)])  # fmt: skip
def test_valid_unicode_labels_round_trip_exactly(writer, reader):
    net = ReactionNetwork([Species("A")], [Reaction({"A": 1}, {}, 1.0, "é 😀 𝔸 ok")])
    back = reader(writer(net))
    assert back.reactions[0].label == "é 😀 𝔸 ok"
    assert writer(net).encode("utf-8")


# ---------------------------------------------------------------- found by the fuzz suite
def test_sbml_text_with_a_lone_surrogate_is_a_format_error():
    text = to_sbml(tiny()).replace('name="r"', 'name="r\ud800"')
    with pytest.raises(FormatError, match=r"lone surrogate '\\ud800' .* on line \d+"):
        from_sbml(text)  # libsbml raised a TypeError


def test_antimony_text_with_a_lone_surrogate_is_a_format_error():
    pytest.importorskip("antimony")
    with pytest.raises(FormatError, match="lone surrogate"):
        from_antimony(BASE.replace("k*A", "k*A // \udfff"))


def test_antimony_error_quoting_half_a_character_is_a_format_error():
    pytest.importorskip("antimony")
    # Antimony's message cut 'é' in half, and its own decoding raised UnicodeDecodeError
    with pytest.raises(FormatError, match="Antimony text does not load"):
        from_antimony("model m\n  é = 1\nend\n")
