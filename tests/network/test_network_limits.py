"""Limits the core value enforces on files and arguments (issue 14, items 7-9).

Stoichiometric coefficients are bounded by MAX_COEFFICIENT, labels cannot hold lone
surrogates, JSON that Python's parser cannot take (deep nesting, 5000-digit integers) is a
FormatError, and the metadata keys nncrn reads back are checked for their shape.
"""

from __future__ import annotations

import json

import pytest

from nncrn._errors import FormatError, NetworkError
from nncrn.network import Reaction, ReactionNetwork, Readout, Species, network_from_json
from nncrn.network._reaction import MAX_COEFFICIENT


def small(**metadata) -> ReactionNetwork:
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [Reaction.parse("X + Y -> X + 2 Y", 0.5), Reaction.parse("2 Y -> Y", 1.0)],
        metadata=metadata,
    )


def doc(**changes) -> dict:
    d = json.loads(small().to_json())
    d.update(changes)
    return d


# ---------------------------------------------------------------- coefficients
def test_coefficient_limit_is_the_dual_rail_limit():
    assert MAX_COEFFICIENT == 2**15
    assert Reaction({"A": MAX_COEFFICIENT}, {"B": 1}, 1.0).order == MAX_COEFFICIENT


@pytest.mark.parametrize(
    "coeff",
    [MAX_COEFFICIENT + 1, 1_000_000, 2**63, 1e300, 10**5000],
    ids=["2**15+1", "1e6", "2**63", "1e300", "10**5000"],
)
def test_coefficients_above_the_limit_are_refused(coeff):
    with pytest.raises(NetworkError, match=r"reaction .*A -> B.* above the limit of 32768"):
        Reaction({"A": coeff}, {"B": 1}, 1.0)
    with pytest.raises(NetworkError, match="above the limit of 32768"):
        Reaction({"B": 1}, {"A": coeff}, 1.0)


@pytest.mark.parametrize(
    "text",
    ["1000000 A -> B", "1" * 5000 + " A -> B", "A -> 40000 B"],
    ids=["1e6", "5000-digits", "product"],
)
def test_parsed_coefficients_above_the_limit_are_refused(text):
    with pytest.raises(NetworkError, match="above the limit of 32768"):
        Reaction.parse(text, 1.0)


@pytest.mark.parametrize("coeff", [1_000_000, 2**63, 1e300])
def test_network_json_with_a_huge_coefficient_is_refused(coeff):
    d = doc()
    d["reactions"][0]["reactants"]["Y"] = coeff
    with pytest.raises(NetworkError, match="above the limit of 32768"):
        network_from_json(json.dumps(d))


# ---------------------------------------------------------------- JSON the parser cannot take
@pytest.mark.parametrize(
    "text, match",
    [
        ("[" * 100_000, "too deeply"),
        ('{"format": "nncrn.network", "version": ' + "1" * 5000 + "}", "5000 digits"),
    ],
    ids=["deep", "5000-digits"],
)
def test_json_the_parser_cannot_take_is_a_format_error(text, match):
    with pytest.raises(FormatError, match=match):
        network_from_json(text)


def test_deep_metadata_is_refused():
    nested: list = []
    for _ in range(200):
        nested = [nested]
    text = json.dumps(doc(metadata={"x": nested}))
    with pytest.raises(NetworkError, match="more than 64 levels"):
        network_from_json(text)


# ---------------------------------------------------------------- lone surrogates
def test_lone_surrogate_labels_are_refused():
    with pytest.raises(NetworkError, match=r"lone surrogate '\\ud800' \(U\+D800\)"):
        Reaction({"A": 1}, {}, 1.0, "layer 1 \ud800")
    with pytest.raises(NetworkError, match="lone surrogate"):
        Readout("y\udfff", "Y")
    d = doc()
    d["reactions"][0]["label"] = "x\ud800"
    with pytest.raises(NetworkError, match="lone surrogate"):
        network_from_json(json.dumps(d))  # the JSON escape \ud800 decodes to one


def test_valid_non_ascii_labels_still_round_trip():
    net = ReactionNetwork([Species("A")], [Reaction({"A": 1}, {}, 1.0, "é 😀 \u2028 ok")])
    assert network_from_json(net.to_json()) == net


# ---------------------------------------------------------------- metadata
@pytest.mark.parametrize(
    "metadata, match",
    [
        ({"feature_names": 5}, r"metadata\['feature_names'\] must be a list of strings; got a int"),
        ({"feature_names": ["a", 1]}, "feature_names"),
        ({"feature_names": ["a", "b"]}, "has 2 names but the network has 1 input"),
        ({"classes": 5}, r"metadata\['classes'\] must be a list of class labels"),
        ({"classes": [[1]]}, "classes"),
        ({"classes": ["a", "b", "c"]}, "has 3 labels but the network has 1 readouts"),
        ({"scheme": 5}, r"metadata\['scheme'\] must be an object with a string \"name\""),
        ({"scheme": {"eps": 1}}, "scheme"),
        ({"scheme": {"name": "x", "dual_inputs": "yes"}}, "dual_inputs"),
        ({"layers": 5}, "layers"),
        ({"layers": [{"species": "H"}]}, r"layers\[0\].species"),
        ({"output_stage": "argmax"}, "output_stage"),
        ({"renamed_species": ["a"]}, "renamed_species"),
    ],
)
def test_known_metadata_keys_are_checked(metadata, match):
    with pytest.raises(NetworkError, match=match):
        small(**metadata)
    with pytest.raises(NetworkError, match=match):
        network_from_json(json.dumps(doc(metadata=metadata)))


@pytest.mark.parametrize(
    "metadata",
    [
        {"feature_names": ["width"], "classes": ["no", "yes"]},  # binary: one readout
        {"classes": [0]},
        {"classes": None, "scheme": {"name": "smooth_relu", "eps": 0.001}},
        {"scheme": "ajd"},
        {"layers": [{"species": ["Y"], "activation": "smooth_relu"}]},
        {"output_stage": {"kind": "argmax"}, "renamed_species": {"A_1": "A-1"}},
        {"anything": {"else": [1, "x", None]}},
    ],
)
def test_valid_metadata_is_accepted(metadata):
    net = small(**metadata)
    assert network_from_json(net.to_json()) == net
