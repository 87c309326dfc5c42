"""Boundary validation of the core value: numeric fields, containers, JSON files, messages."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nncrn._errors import FormatError, InputError, NetworkError
from nncrn.network import (
    Reaction,
    ReactionNetwork,
    Species,
    initial_state,
    input_concentrations,
    input_features,
    load,
    network_from_json,
)


def small() -> ReactionNetwork:
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "output", initial=0.25)],
        [Reaction.parse("X + Y -> X + 2 Y", 0.5), Reaction.parse("2 Y -> Y", 1.0)],
    )


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize(
    "coeff, want",
    [(np.int64(2), 2), (np.int32(3), 3), (np.uint8(1), 1), (2.0, 2), (np.float64(2.0), 2)],
)
def test_numpy_integer_coefficients_are_accepted(coeff, want):
    r = Reaction({"A": coeff}, {"B": coeff}, 1.0)
    assert dict(r.reactants) == {"A": want} and type(r.reactants["A"]) is int
    assert r.order == want


@pytest.mark.parametrize(
    "coeff, shown",
    [(True, "True"), (np.bool_(True), "True"), ("2", "'2'"), (np.float64(1.5), "1.5"),
     (2 + 0j, r"\(2\+0j\)")],
)  # fmt: skip
def test_non_integer_coefficients_are_rejected_with_plain_numbers(coeff, shown):
    with pytest.raises(NetworkError, match=rf"coefficient {shown} .*positive integers") as info:
        Reaction({"A": coeff}, {}, 1.0)
    assert "np." not in str(info.value)


@pytest.mark.parametrize("rate", [True, np.bool_(True), "1.0", 1 + 0j, np.complex128(2.0)])
def test_rate_must_be_a_real_number_not_bool_string_or_complex(rate):
    with pytest.raises(NetworkError, match=r"rate constant .*\(a \w+\); rate constants must be"):
        Reaction.parse("A -> B", rate)


@pytest.mark.parametrize("rate", [np.float32(1.5), np.int64(2), np.array(0.5), 3])
def test_rate_accepts_numpy_and_python_reals(rate):
    assert Reaction.parse("A -> B", rate).rate == float(rate)


def test_rate_message_shows_plain_numbers():
    with pytest.raises(NetworkError, match=r"rate constant -1\.0;") as info:
        Reaction.parse("A -> B", np.float64(-1.0))
    assert "np.float64" not in str(info.value)


@pytest.mark.parametrize("initial", ["x", None, True, "1.0", 1j])
def test_species_initial_must_be_a_real_number(initial):
    with pytest.raises(NetworkError, match=r"initial concentration .*\(a \w+\); initial concentrations must be finite numbers"):
        Species("A", initial=initial)


def test_species_input_range_rejects_strings_and_bools():
    with pytest.raises(NetworkError, match=r"input_range \('0', 1\); it must be a pair"):
        Species("X", "input", input_range=("0", 1))
    with pytest.raises(NetworkError, match="must be a pair"):
        Species("X", "input", input_range=(False, 1))
    assert Species("X", "input", input_range=(np.float64(-1), np.int64(2))).input_range == (-1.0, 2.0)


@pytest.mark.parametrize(
    "inputs", [[["1.0"]], np.array([[1 + 1j]]), [[1 + 0j]], np.array([["a"]])], ids=repr
)
def test_complex_and_text_inputs_are_rejected(inputs):
    with pytest.raises(InputError, match="real numbers"):
        input_concentrations(small(), inputs)
    with pytest.raises(InputError, match="real numbers"):
        initial_state(small(), [[1.0]], y0=np.array([1.0 + 2j, 0.5]))


# ---------------------------------------------------------------- containers
def test_unknown_species_message_names_the_species_to_add():
    with pytest.raises(NetworkError, match=r"add Species\('B'\) or fix the reaction"):
        ReactionNetwork([Species("A")], [Reaction.parse("A -> B", 1.0)])


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"species": None}, r"ReactionNetwork\(species=\.\.\.\) must be a list or tuple.*got NoneType"),
        ({"reactions": None}, r"ReactionNetwork\(reactions=\.\.\.\) must be a list or tuple.*got NoneType"),
        ({"reactions": 3}, r"reactions=\.\.\.\) must be a list or tuple.*got int"),
        ({"species": {"A": Species("A")}}, r"species=\.\.\.\) must be a list or tuple.*got dict"),
        ({"readout": 5}, r"readout=\.\.\.\) must be a list or tuple.*got int"),
        ({"metadata": [1, 2]}, r"metadata must be a mapping.*got list"),
    ],
)  # fmt: skip
def test_bad_containers_are_network_errors(kwargs, match):
    args = {"species": [Species("A")], "reactions": []} | kwargs
    with pytest.raises(NetworkError, match=match):
        ReactionNetwork(**args)


def test_metadata_none_means_no_metadata():
    net = ReactionNetwork([Species("A")], [], metadata=None)
    assert dict(net.metadata) == {}
    assert net == ReactionNetwork([Species("A")], [])


# ---------------------------------------------------------------- JSON
@pytest.mark.parametrize("version", [True, 1.0, "1"])
def test_json_version_must_be_the_integer_1(version):
    doc = json.loads(small().to_json()) | {"version": version}
    with pytest.raises(FormatError, match=rf"format version {version!r}"):
        network_from_json(json.dumps(doc))


@pytest.mark.parametrize(
    "where, value", [("rate", True), ("rate", "0.5"), ("initial", True)], ids=str
)
def test_json_rejects_bool_and_string_numbers(where, value):
    doc = json.loads(small().to_json())
    if where == "rate":
        doc["reactions"][0]["rate"] = value
    else:
        doc["species"][1]["initial"] = value
    # a JSON boolean or string is a format error, named with its place in the file
    place = "reactions\\[0\\].rate" if where == "rate" else "species\\[1\\].initial"
    with pytest.raises(FormatError, match=rf"{place} must be a number, got {type(value).__name__}"):
        network_from_json(json.dumps(doc))


@pytest.mark.parametrize("text", [None, 3, ["{}"]])
def test_from_json_of_a_non_text_is_a_format_error(text):
    with pytest.raises(FormatError, match=r"network JSON must be text .*got"):
        ReactionNetwork.from_json(text)


def test_non_utf8_file_and_bytes_are_format_errors(tmp_path):
    path = tmp_path / "binary.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(FormatError, match=r"binary.json' is not UTF-8 text"):
        load(path)
    with pytest.raises(FormatError, match="is not UTF-8 text"):
        network_from_json(b'{"format": "\xff"}')


def test_save_into_a_missing_directory_names_the_directory(tmp_path):
    target = tmp_path / "nodir" / "net.json"
    with pytest.raises(InputError, match=r"directory '.*nodir' does not exist; create it") as info:
        small().save(target)
    assert ".tmp" not in str(info.value)
    assert not (tmp_path / "nodir").exists()
    small().save(tmp_path / "net.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json"]  # no temporary left
    with pytest.raises(InputError, match="it is a directory"):
        small().save(tmp_path)


# ---------------------------------------------------------------- input features
def test_input_features_arranges_a_mapping_by_name_in_feature_units():
    net = ReactionNetwork(
        [Species("B", "input", input_range=(-1.0, 1.0)), Species("A", "input"), Species("Y")],
        [Reaction.parse("A + B + Y -> A + B", 1.0)],
    )
    x = input_features(net, {"A": [0.5, 2.0], "B": [-1.0, 0.25]})
    np.testing.assert_array_equal(x, [[-1.0, 0.5], [0.25, 2.0]])  # columns B, A; not shifted
    np.testing.assert_array_equal(input_concentrations(net, x), [[0.0, 0.5], [1.25, 2.0]])
