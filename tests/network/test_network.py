"""The core value: invariants, immutability, array view, JSON round trips."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from nncrn._errors import FormatError, InputError, NetworkError
from nncrn.network import (
    KINETICS,
    Reaction,
    ReactionNetwork,
    Readout,
    Role,
    Species,
    initial_state,
    input_concentrations,
    load,
    network_from_json,
)


def neuron(eps: float = 1e-3, w: float = 0.5) -> ReactionNetwork:
    return ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [
            Reaction.parse("0 -> Y", eps),
            Reaction.parse("2 Y -> Y", 1.0),
            Reaction.parse("X + Y -> X + 2 Y", w),
        ],
        metadata={"scheme": {"name": "smooth_relu", "eps": eps}},
    )


def test_reaction_parse_and_stoichiometry():
    r = Reaction.parse("X + 2 Y -> X + 3 Y", 0.25)
    assert dict(r.reactants) == {"X": 1, "Y": 2}
    assert dict(r.products) == {"X": 1, "Y": 3}
    assert r.net() == {"Y": 1}
    assert r.order == 3
    assert r.equation() == "X + 2 Y -> X + 3 Y"
    assert Reaction.parse("Y -> 0", 1.0).net() == {"Y": -1}


@pytest.mark.parametrize("rate", [0.0, -0.3, math.nan, math.inf, "fast"])
def test_rate_constant_must_be_positive_and_finite(rate):
    with pytest.raises(NetworkError, match="rate constants must be finite and > 0") as info:
        Reaction.parse("X -> Y", rate)
    assert "degradation reaction" in str(info.value)


@pytest.mark.parametrize(
    "reactants, msg",
    [({"Y": 0}, "leave a species out"), ({"Y": 1.5}, "positive integers"), ({"2Y": 1}, "valid identifier")],
)
def test_bad_stoichiometry(reactants, msg):
    with pytest.raises(NetworkError, match=msg):
        Reaction(reactants, {}, 1.0)


def test_unparseable_reaction_text():
    with pytest.raises(NetworkError, match="exactly one '->'"):
        Reaction.parse("X = Y", 1.0)
    with pytest.raises(NetworkError, match=r"cannot read '2\.5 Y'.*'2\*Y'"):
        Reaction.parse("X + 2.5 Y -> Y", 1.0)
    # "3PG" is not 3 PG: a coefficient needs a space or '*' (as in the CRN text reader)
    with pytest.raises(NetworkError, match=r"'3PG' is ambiguous.*'3\*PG'"):
        Reaction.parse("3PG -> 2PG", 1.0)
    assert Reaction.parse("2*Y -> Y", 1.0) == Reaction.parse("2 Y -> Y", 1.0)


@pytest.mark.parametrize("side", ["2 X + Y", "2*X+Y", "0", "", "X + X", "3 _a1", "2 3A",
                                  "A + ", "1e3", "X Y", "32768 X", "32769 X", "0 X"])
def test_reaction_parse_and_crn_text_share_one_grammar(side):
    # The same terms are accepted, or refused with the same message, by both readers.
    from nncrn import FormatError
    from nncrn.export import from_crn_text

    try:
        parsed = Reaction.parse(f"{side} -> Z", 1.0)
    except NetworkError as exc:
        with pytest.raises(FormatError) as crn:
            from_crn_text(f"{side} -> Z [k = 1]\n")
        assert str(exc).split(": ", 1)[1] == str(crn.value).split(": ", 1)[1]
    else:
        net = from_crn_text(f"{side} -> Z [k = 1]\n")
        assert net.reactions[0].key() == parsed.key()


def test_only_the_crn_text_reader_takes_foreign_names_and_it_renames_them():
    from nncrn.export import from_crn_text

    with pytest.raises(NetworkError, match="species name \"x'\" is not a valid identifier"):
        Reaction.parse("x' -> Z", 1.0)
    net = from_crn_text("x' -> Z [k = 1]\n")
    assert net.species_names[0] != "x'" and net.metadata["renamed_species"]


def test_network_invariants():
    with pytest.raises(NetworkError, match="duplicate species name 'Y'"):
        ReactionNetwork([Species("Y"), Species("Y")], [])
    with pytest.raises(NetworkError, match=r"names species 'Z'.*not among"):
        ReactionNetwork([Species("Y")], [Reaction.parse("Z -> Y", 1.0)])
    with pytest.raises(NetworkError, match=r"merge them.*0\.5 \+ 0\.25"):
        ReactionNetwork(
            [Species("Y")], [Reaction.parse("Y -> 0", 0.5), Reaction.parse("Y -> 0", 0.25)]
        )
    with pytest.raises(NetworkError, match="readout 'r' reads species 'Q'"):
        ReactionNetwork([Species("Y")], [], readout=[Readout("r", "Q")])
    with pytest.raises(NetworkError, match="initial concentration"):
        Species("Y", initial=-1.0)
    with pytest.raises(NetworkError, match="only input species"):
        Species("Y", "hidden", input_range=(0, 1))
    with pytest.raises(NetworkError, match="high > low"):
        Species("X", "input", input_range=(1, 1))
    with pytest.raises(NetworkError, match="role must be one of"):
        Species("X", "neuron")
    with pytest.raises(NetworkError, match=r"pass nncrn.Species"):
        ReactionNetwork(["X"], [])


def test_network_is_immutable_and_with_rates_returns_new():
    net = neuron()
    with pytest.raises(AttributeError):
        net.species = ()  # type: ignore[misc]
    assert not net.stoichiometry.rates.flags.writeable
    new = net.with_rates([0.1, 2.0, 3.0])
    assert [r.rate for r in new.reactions] == [0.1, 2.0, 3.0]
    assert [r.rate for r in net.reactions] == [1e-3, 1.0, 0.5]
    with pytest.raises(NetworkError, match=r"shape \(3,\)"):
        net.with_rates([1.0])
    assert net.kinetics == KINETICS == "mass_action"


def test_stoichiometry_view_and_roles():
    net = neuron()
    view = net.stoichiometry
    assert view is net.stoichiometry  # cached
    np.testing.assert_array_equal(view.net_dense(), [[0, 1], [0, -1], [0, 1]])
    np.testing.assert_array_equal(view.reactant_dense(), [[0, 0], [0, 2], [1, 1]])
    np.testing.assert_array_equal(view.product_dense(), [[0, 1], [0, 1], [1, 2]])
    np.testing.assert_array_equal(view.order, [0, 2, 2])
    np.testing.assert_array_equal(view.dynamic, [False, True])
    assert net.inputs == ("X",) and net.outputs == ("Y",)
    assert [s.name for s in net.species_with_role(Role.OUTPUT)] == ["Y"]


def test_readout_differences():
    net = ReactionNetwork(
        [Species("P", "output"), Species("N", "output")],
        [],
        readout=[Readout("logit", "P", "N")],
    )
    np.testing.assert_allclose(net.read_outputs(np.array([[3.0, 1.25]])), [[1.75]])


def test_json_round_trip_is_exact(tmp_path):
    rates = np.random.default_rng(0).uniform(1e-6, 1e3, 3)
    net = neuron().with_rates(rates)
    net = ReactionNetwork(
        (Species("X", "input", input_range=(-1.5, math.inf)), *net.species[1:]),
        net.reactions,
        metadata=dict(net.metadata) | {"note": "ünïcode"},
    )
    path = tmp_path / "net.json"
    net.save(path)
    back = load(path)
    assert back == net
    assert [r.rate for r in back.reactions] == [r.rate for r in net.reactions]
    assert back.species[0].input_range == (-1.5, math.inf)
    assert back.to_json() == net.to_json()


@pytest.mark.parametrize(
    "mutate, msg",
    [
        (lambda d: "{not json", "malformed at line 1"),
        (lambda d: json.dumps(d | {"version": 99}), "format version 99"),
        (lambda d: json.dumps(d | {"format": "other"}), "not an nncrn network file"),
        (lambda d: json.dumps(d | {"kinetics": "mass_action_factorial"}), "kinetics"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k != "reactions"}), "no 'reactions'"),
        (lambda d: json.dumps(d | {"species": "X"}), "species must be a list"),
    ],
)
def test_malformed_json_is_rejected(mutate, msg):
    doc = json.loads(neuron().to_json())
    with pytest.raises(FormatError, match=msg):
        network_from_json(mutate(doc))


def test_json_with_invalid_content_names_the_problem():
    doc = json.loads(neuron().to_json())
    doc["reactions"][0]["rate"] = -0.3
    with pytest.raises(NetworkError, match=r"-0.3"):
        network_from_json(json.dumps(doc))


def test_missing_file_is_a_format_error(tmp_path):
    with pytest.raises(FormatError, match="does not exist"):
        load(tmp_path / "nope.json")


def test_input_validation_messages():
    net = neuron()
    with pytest.raises(InputError, match=r"reshape\(1, -1\)"):
        input_concentrations(net, [1.0])
    with pytest.raises(InputError, match="2 columns but the network has 1"):
        input_concentrations(net, [[1.0, 2.0]])
    with pytest.raises(InputError, match="'X' is nan in row 1"):
        input_concentrations(net, [[1.0], [np.nan]])
    with pytest.raises(InputError, match=r"must be >= 0.*input_range"):
        input_concentrations(net, [[-0.5]])
    with pytest.raises(InputError, match="missing"):
        input_concentrations(net, {})
    np.testing.assert_array_equal(input_concentrations(net, {"X": [1.0, 2.0]}), [[1.0], [2.0]])


def test_input_range_shifts_and_bounds():
    net = ReactionNetwork(
        [Species("X", "input", input_range=(-2.0, 3.0)), Species("Y", "output")],
        [Reaction.parse("X + Y -> X", 1.0)],
    )
    np.testing.assert_array_equal(input_concentrations(net, [[-2.0], [0.5]]), [[0.0], [2.5]])
    with pytest.raises(InputError, match=r"'X' is 3.5 in row 0 \(counting from 0\), outside its declared input_range"):
        input_concentrations(net, [[3.5]])


def test_initial_state_forms():
    net = neuron()
    y = initial_state(net, [[2.0], [3.0]], y0={"Y": 0.5})
    np.testing.assert_array_equal(y, [[2.0, 0.5], [3.0, 0.5]])
    y = initial_state(net, [[2.0]], y0=[9.0, 7.0])  # inputs override y0 for input species
    np.testing.assert_array_equal(y, [[2.0, 7.0]])
    with pytest.raises(InputError, match=r"'Y' is -1.0"):
        initial_state(net, [[2.0]], y0={"Y": -1.0})
    with pytest.raises(InputError, match=r"expected \(2,\) or \(1, 2\)"):
        initial_state(net, [[2.0]], y0=np.zeros((3, 2)))
