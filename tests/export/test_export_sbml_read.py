"""Reading foreign SBML: shadowing, packages, Level 2 defaults, zeros, duplicates, empty text."""

from __future__ import annotations

import pytest

from nncrn._errors import FormatError, UnsupportedModelError
from nncrn.export import from_sbml

pytest.importorskip("libsbml")

MATHML = "http://www.w3.org/1998/Math/MathML"
L3V1 = 'xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1"'


def _species(*specs: tuple[str, float]) -> str:
    return "".join(
        f'<species id="{name}" compartment="c" initialConcentration="{init}" '
        'hasOnlySubstanceUnits="false" boundaryCondition="false" constant="false"/>'
        for name, init in specs
    )


def _refs(tag: str, refs) -> str:
    if not refs:
        return ""
    body = "".join(
        f'<speciesReference species="{s}" stoichiometry="{n}" constant="true"/>' for s, n in refs
    )
    return f"<{tag}>{body}</{tag}>"


def _reaction(rid, reactants, products, law, local="") -> str:
    params = f"<listOfLocalParameters>{local}</listOfLocalParameters>" if local else ""
    return (
        f'<reaction id="{rid}" reversible="false" fast="false">'
        f"{_refs('listOfReactants', reactants)}{_refs('listOfProducts', products)}"
        f'<kineticLaw><math xmlns="{MATHML}">{law}</math>{params}</kineticLaw></reaction>'
    )


def _document(
    species: str, reactions: str, params: str = "", sbml: str = L3V1, extra: str = ""
) -> str:
    plist = f"<listOfParameters>{params}</listOfParameters>" if params else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<sbml {sbml}><model id="m">'
        '<listOfCompartments><compartment id="c" spatialDimensions="3" size="1" '
        'constant="true"/></listOfCompartments>'
        f"<listOfSpecies>{species}</listOfSpecies>{plist}"
        f"<listOfReactions>{reactions}</listOfReactions></model>{extra}</sbml>"
    )


def _param(pid: str, value: float) -> str:
    return f'<parameter id="{pid}" value="{value}" constant="true"/>'


def _times(*factors: str) -> str:
    return "<apply><times/>" + "".join(factors) + "</apply>"


def _ci(name: str) -> str:
    return f"<ci> {name} </ci>"


def test_local_parameter_shadows_a_species_of_the_same_id():
    # law B * A with a local parameter B = 0.3: B is the number, not the species
    law = _times(_ci("B"), _ci("A"))
    text = _document(
        _species(("A", 1.0), ("B", 0.5)),
        _reaction("r", [("A", 1)], [("B", 1)], law, '<localParameter id="B" value="0.3"/>'),
    )
    (r,) = from_sbml(text).reactions
    assert r.equation() == "A -> B" and r.rate == 0.3


def test_local_parameter_shadows_a_global_parameter():
    law = _times(_ci("k"), _ci("A"))
    text = _document(
        _species(("A", 1.0)),
        _reaction("r", [("A", 1)], [], law, '<localParameter id="k" value="0.25"/>'),
        _param("k", 5.0),
    )
    assert from_sbml(text).reactions[0].rate == 0.25


_COMP = (
    'xmlns="http://www.sbml.org/sbml/level3/version1/core" '
    'xmlns:comp="http://www.sbml.org/sbml/level3/version1/comp/version1" level="3" '
    'version="1" comp:required="true"'
)


def test_hierarchical_comp_model_is_refused_with_a_flattening_hint():
    text = _document(
        _species(("A", 1.0)),
        _reaction("r", [("A", 1)], [], _times(_ci("k"), _ci("A"))),
        _param("k", 1.0),
        sbml=_COMP,
    )
    text = text.replace(
        "</listOfReactions></model>",
        '</listOfReactions><comp:listOfSubmodels><comp:submodel comp:id="sub" '
        'comp:modelRef="inner"/></comp:listOfSubmodels></model>',
    )
    with pytest.raises(UnsupportedModelError, match=r"'comp' package.*flatten comp"):
        from_sbml(text)


def test_unknown_required_package_is_refused():
    sbml = (
        _COMP.replace("version1/comp/version1", "version1/madeup/version1")
        .replace("xmlns:comp", "xmlns:made")
        .replace("comp:required", "made:required")
    )
    text = _document(
        _species(("A", 1.0)),
        _reaction("r", [("A", 1)], [], _times(_ci("k"), _ci("A"))),
        _param("k", 1.0),
        sbml=sbml,
    )
    with pytest.raises(UnsupportedModelError, match=r"package 'made'.*madeup.*core only"):
        from_sbml(text)


@pytest.mark.parametrize(
    ("sbml", "match"),
    [
        ('xmlns="http://www.sbml.org/sbml/level3/version1/core" level="3" version="1" '
         'xmlns:foo="http://example.com/foo" foo:required="true"',
         r"package 'foo' \(http://example\.com/foo, required=\"true\""),
        (_COMP.replace("xmlns:comp", "xmlns:h").replace("comp:required", "h:required"),
         "'comp' package"),  # comp under another prefix
    ],
)
def test_required_packages_are_refused_by_the_sbml_element(sbml, match):
    text = _document(
        _species(("A", 1.0)),
        _reaction("r", [("A", 1)], [], _times(_ci("k"), _ci("A"))),
        _param("k", 1.0),
        sbml=sbml,
    )
    with pytest.raises(UnsupportedModelError, match=match):
        from_sbml(text)


_L2 = """<?xml version="1.0" encoding="UTF-8"?>
<sbml xmlns="http://www.sbml.org/sbml/level2/version4" level="2" version="4"><model id="m">
<listOfCompartments><compartment id="c" size="1"/></listOfCompartments>
<listOfSpecies><species id="A" compartment="c" initialConcentration="1"/>
<species id="B" compartment="c" initialConcentration="0"/></listOfSpecies>
<listOfParameters><parameter id="k" value="0.4"/><parameter id="n" value="2"/></listOfParameters>
<listOfReactions><reaction id="r" reversible="false">
<listOfReactants><speciesReference species="A"/></listOfReactants>
<listOfProducts><speciesReference species="B">%s</speciesReference></listOfProducts>
<kineticLaw><math xmlns="http://www.w3.org/1998/Math/MathML"><apply><times/><ci>k</ci><ci>A</ci>
</apply></math></kineticLaw></reaction></listOfReactions></model></sbml>"""


def test_level2_species_reference_without_stoichiometry_defaults_to_one():
    (r,) = from_sbml(_L2 % "").reactions
    assert r.equation() == "A -> B" and r.rate == 0.4


def test_level2_stoichiometry_math_is_refused_by_name():
    math = f'<stoichiometryMath><math xmlns="{MATHML}"><ci>n</ci></math></stoichiometryMath>'
    with pytest.raises(UnsupportedModelError, match="product 'B' has a stoichiometryMath"):
        from_sbml(_L2 % math)


def test_level3_species_reference_without_stoichiometry_is_refused():
    text = _document(
        _species(("A", 1.0)),
        _reaction("r", [("A", 1)], [], _times(_ci("k"), _ci("A"))),
        _param("k", 1.0),
    ).replace(' stoichiometry="1"', "")
    with pytest.raises(UnsupportedModelError, match=r"no stoichiometry.*Level 3 has no default"):
        from_sbml(text)


@pytest.mark.parametrize(
    ("law", "shown"),
    [
        ("<apply><divide/>" + _times(_ci("k"), _ci("A")) + _ci("z") + "</apply>", "'z' is 0"),
        (_times("<apply><divide/>" + _ci("k") + "<cn> 0 </cn></apply>", _ci("A")), "'0' is 0"),
    ],
)
def test_zero_divisor_is_refused_naming_reaction_and_law(law, shown):
    text = _document(
        _species(("A", 1.0), ("B", 0.0)),
        _reaction("r", [("A", 1)], [("B", 1)], law),
        _param("k", 1.0) + _param("z", 0.0),
    )
    with pytest.raises(UnsupportedModelError, match=rf"reaction 'r' .*divides by zero.*{shown}"):
        from_sbml(text)


def test_zero_power_is_one():
    law = _times(_ci("k"), "<apply><power/><ci> A </ci><cn type='integer'> 0 </cn></apply>")
    text = _document(
        _species(("A", 1.0), ("B", 0.0)), _reaction("r", [], [("B", 1)], law), _param("k", 0.7)
    )
    (r,) = from_sbml(text).reactions
    assert r.equation() == "0 -> B" and r.rate == 0.7


def test_negative_and_fractional_powers_name_the_exponent():
    for exponent, words in (("-1", "negative power -1"), ("1.5", "non-integer power 1.5")):
        law = _times(
            _ci("k"), _ci("A"), f"<apply><power/><ci> B </ci><cn> {exponent} </cn></apply>"
        )
        text = _document(
            _species(("A", 1.0), ("B", 1.0)), _reaction("r", [("A", 1)], [], law), _param("k", 1.0)
        )
        with pytest.raises(UnsupportedModelError, match=words):
            from_sbml(text)


def test_reversible_law_with_zero_reverse_rate_is_one_reaction():
    law = "<apply><minus/>" + _times(_ci("kf"), _ci("A")) + _times(_ci("kr"), _ci("B")) + "</apply>"
    text = _document(
        _species(("A", 1.0), ("B", 0.0)),
        _reaction("r", [("A", 1)], [("B", 1)], law),
        _param("kf", 2.0) + _param("kr", 0.0),
    ).replace('reversible="false"', 'reversible="true"')
    (r,) = from_sbml(text).reactions
    assert (r.equation(), r.rate, r.label) == ("A -> B", 2.0, "r")
    both = from_sbml(text.replace('id="kr" value="0.0"', 'id="kr" value="0.5"'))
    assert [(r.equation(), r.rate) for r in both.reactions] == [("A -> B", 2.0), ("B -> A", 0.5)]


def test_duplicate_reactions_name_their_sbml_ids():
    law = _times(_ci("k"), _ci("A"))
    text = _document(
        _species(("A", 1.0), ("B", 0.0)),
        _reaction("first", [("A", 1)], [("B", 1)], law)
        + _reaction("again", [("A", 1)], [("B", 1)], law),
        _param("k", 1.5),
    )
    with pytest.raises(
        UnsupportedModelError,
        match=r"SBML reactions 'first' and 'again' are both A -> B.*1\.5 \+ 1\.5",
    ):
        from_sbml(text)


@pytest.mark.parametrize("text", ["", "  \n\t", "\ufeff"])
def test_empty_sbml_says_empty(text):
    with pytest.raises(FormatError, match="SBML text is empty"):
        from_sbml(text)


def test_byte_order_mark_is_ignored():
    text = _document(
        _species(("A", 1.0)),
        _reaction("r", [("A", 1)], [], _times(_ci("k"), _ci("A"))),
        _param("k", 3.0),
    )
    assert from_sbml("\ufeff" + text).reactions[0].rate == 3.0
