"""nncrn.dsd: translation, per-module verification, refusals, crosstalk and leaks."""

from __future__ import annotations

import importlib.util
import re
from contextlib import nullcontext

import numpy as np
import pytest

from nncrn._errors import FormatError, UnsupportedModelError

# Not pytest.importorskip: importing peppercorn raises the recursion limit of the whole test
# process to 10**6 (nncrn.dsd imports it lazily and puts the limit back).
if not all(importlib.util.find_spec(m) for m in ("peppercornenumerator", "crnverifier")):
    pytest.skip("the dsd extra is not installed", allow_module_level=True)

from nncrn import Reaction, ReactionNetwork, Species
from nncrn.dsd import (
    EnumeratedReaction,
    Enumeration,
    Qian2011,
    SchemeRefusal,
    Soloveichik2010,
    dsd_network,
    enumerate_modules,
    enumerate_pil,
    fuel_depletion,
    interpret,
    translate,
    verify,
    verify_reaction,
)
from nncrn.dsd._verify import _bisimulation, _formal

# Every reaction type the compilation schemes emit (AJD smooth ReLU, dual rail).
TYPES = [
    "X + Y -> X + 2 Y",  # positive weight
    "X + Y -> X",  # negative weight
    "0 -> Y",  # eps production
    "Y -> 0",  # negative bias
    "2 Y -> Y",  # AJD degradation
    "Y -> 2 Y",  # positive bias
    "Yp + Yn -> 0",  # dual-rail annihilation
    "H_n + H_c -> H_d",  # dual-rail ReLU comparison
    "X0 -> H1 + H2 + H3",  # dual-rail fan-out
    "H -> Y",
]


def _net(*texts: str, rate: float = 1.0) -> ReactionNetwork:
    reactions = [Reaction.parse(t, rate) for t in texts]
    names = dict.fromkeys(s for r in reactions for s in (*r.reactants, *r.products))
    return ReactionNetwork(tuple(Species(n) for n in names), tuple(reactions))


@pytest.mark.parametrize("text", TYPES)
def test_every_reaction_type_verifies_under_qian2011(text):
    check = verify_reaction(Reaction.parse(text, 1.0), Qian2011())
    assert check.correct, check.implementation
    assert check.species > 0 and check.reactions > 0


def test_a_seven_product_fan_out_verifies():
    # The first dual-rail layer of iris: crnverifier alone finds no interpretation for the
    # release chain; the one the toehold exchanges imply is offered to it and checked.
    text = "X3 -> H1_0p + H1_2n + H1_3n + H1_4p + H1_5n + H1_6n + H1_7p"
    check = verify_reaction(Reaction.parse(text, 1.0), Qian2011(), index=3)
    assert check.correct and check.reactions == 18


def _shape(r: Reaction) -> str:
    """A reaction with its species renamed A, B, ... (reactants first): its type."""
    names: dict[str, str] = {}
    for s in (*sorted(r.reactants), *sorted(r.products)):
        names.setdefault(s, "ABCDEFGHIJKLMNOP"[len(names)])

    def side(d) -> str:
        return (
            " + ".join(f"{c} {names[s]}" if c > 1 else names[s] for s, c in sorted(d.items()))
            or "0"
        )

    return f"{side(r.reactants)} -> {side(r.products)}"


def _emitted_types() -> dict[str, set[str]]:
    """Every reaction type that nncrn's compilation schemes emit, harvested from compiled
    networks (smooth ReLU, polynomial, chemical sigmoid, each with and without the argmax
    stage; dual rail with 2-bit weights; an RNCRN), with the schemes that emit it."""
    torch = pytest.importorskip("torch")
    from nncrn.compile import (
        ChemicalSigmoidScheme,
        DualRail,
        Polynomial,
        SmoothReLUScheme,
        compile_network,
        with_argmax,
    )
    from nncrn.rncrn import RNCRN

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2))
    model = model.double()
    nets = {}
    with pytest.warns(Warning):  # ReLU compiled as its smooth or bounded stand-in
        for name, scheme in (("smooth", SmoothReLUScheme(1e-3)),
                             ("sigmoid", ChemicalSigmoidScheme()),
                             ("polynomial", Polynomial(P=[1e-3, 0, -1], Q=[0, 1]))):  # fmt: skip
            nets[name] = compile_network(model, scheme=scheme, input_range=(0.0, 1.0))
            nets[name + "+argmax"] = with_argmax(nets[name])
    with torch.no_grad():
        for layer in (model[0], model[2]):  # integer levels -2..2, as 3-bit linear QAT gives
            layer.weight.copy_(torch.randint(-2, 3, layer.weight.shape, dtype=torch.float64))
    nets["dual-rail"] = compile_network(
        model, scheme=DualRail(rescale=True), input_range=(0.0, 1.0)
    )
    rn = RNCRN(alpha=np.array([[1.0, -1.0]]), omega=np.array([[1.0], [-1.0]]),
               bias=np.array([0.5, -0.5]), beta=np.array([1.0]), gamma=np.ones(2), tau=np.ones(2))  # fmt: skip
    nets["rncrn"] = rn.to_network(0.01)
    types: dict[str, set[str]] = {}
    for name, net in nets.items():
        for r in net.reactions:
            types.setdefault(_shape(r), set()).add(name)
    return types


def test_every_emitted_reaction_type_verifies_under_some_scheme():
    types = _emitted_types()
    # the harvest covers what the schemes are known to emit, the third-order steps included
    assert {"A + B + C -> 2 A + C", "A + B -> 2 A", "2 A -> A", "A + B -> C"} <= set(types)
    assert len(types) >= 15
    failed = []
    for shape in sorted(types):
        r = Reaction.parse(shape, 1.0)
        ok = any(
            cls().refusal(r) is None and verify_reaction(r, cls()).correct
            for cls in (Qian2011, Soloveichik2010)
        )
        if not ok:
            failed.append((shape, sorted(types[shape])))
    assert not failed


def test_a_third_order_module_verifies_and_soloveichik2010_proposes_qian2011():
    r = Reaction.parse("A + B + C -> 2 A + C", 1.0)
    check = verify_reaction(r, Qian2011())
    assert check.correct and check.reactions == 14
    with pytest.raises(SchemeRefusal, match=r"order 3.*up to order 2.*use scheme 'qian2011'"):
        translate(_net("A + B + C -> 2 A + C"), "soloveichik2010")


_QUICK = {"X + Y -> X + 2 Y", "0 -> Y", "Yp + Yn -> 0"}


@pytest.mark.parametrize(
    "text",
    [
        t if t in _QUICK else pytest.param(t, marks=pytest.mark.slow)
        for t in TYPES
        if t != "2 Y -> Y"
    ],
)
def test_soloveichik2010_verifies_every_type_but_the_degradation(text):
    assert verify_reaction(Reaction.parse(text, 1.0), Soloveichik2010()).correct


def test_soloveichik2010_refuses_2y_to_y_and_proposes_qian2011():
    net = _net("0 -> Y", "2 Y -> Y")
    with pytest.raises(SchemeRefusal, match=r"2 Y -> Y.*reads Y twice.*use scheme 'qian2011'"):
        translate(net, "soloveichik2010")
    assert translate(net, "qian2011").cost().fuels > 0


@pytest.mark.slow
def test_the_refused_module_indeed_fails_verification():
    # The reason the refusal states, measured: 149 condensed reactions, no bisimulation.
    check = verify_reaction(Reaction.parse("2 Y -> Y", 1.0), Soloveichik2010(), time_limit=300)
    assert not check.correct and check.reactions == 149


@pytest.mark.parametrize(
    "scheme",
    [Soloveichik2010(), pytest.param(Qian2011(), marks=pytest.mark.slow)],
    ids=["2010", "2011"],
)
def test_crosstalk_with_an_extra_gate_makes_verification_fail(scheme):
    # A second gate in the tube that reads A and releases C: A alone now makes C.
    formal = Reaction.parse("A + B -> C", 1.0)
    assert verify_reaction(formal, scheme).correct
    spurious = scheme.module(1, Reaction.parse("A -> C", 1.0))
    assert not verify_reaction(formal, scheme, extra=spurious).correct


def test_a_fuel_fuel_leak_makes_verification_fail():
    scheme = Qian2011()
    formal = Reaction.parse("A + B -> C", 1.0)
    fuels = scheme.module(0, formal)
    tube = [scheme.signal("A"), scheme.signal("B"), *fuels]
    from nncrn.dsd._complex import pil_text

    lengths = {d.rstrip("*"): scheme.length(d.rstrip("*")) for c in tube for d in c.domains}
    enum = enumerate_pil(pil_text(tube, lengths), max_complex_size=12)
    names = {f.name for f in fuels}
    ok, _ = _bisimulation(_formal([formal]), interpret(enum, scheme, names), {"A", "B", "C"})
    assert ok
    c_state = next(k for k, v in enum.macrostates.items() if v[0].strands == (("h_C", "t", "r_C"),))
    leak = EnumeratedReaction(("m0-gate", "m0-commit"), (c_state,), 1e-2)
    leaky = Enumeration(enum.macrostates, (*enum.reactions, leak), enum.seconds)
    impl = interpret(leaky, scheme, names)
    assert [[], [c_state]] in impl.crn
    ok, _ = _bisimulation(_formal([formal]), impl, {"A", "B", "C"})
    assert not ok


@pytest.mark.parametrize("scheme", ["qian2011", "soloveichik2010"])
def test_pil_text_and_cost_agree_with_an_independent_count(scheme):
    design = translate(_net("A + B -> C", "X + Y -> X + 2 Y", "Y -> 0"), scheme)
    text = design.pil()
    lengths = dict(re.findall(r"^length (\S+) = (\d+)$", text, re.M))
    fuels = [ln for ln in text.splitlines() if "@initial" in ln]
    strands = sum(ln.split("=", 1)[1].split("@")[0].count("+") + 1 for ln in fuels)
    nt = 0
    for ln in fuels:  # kernel notation: "a(" opens a pair, ")" is a's complement
        opened: list[str] = []
        for token in ln.split("=", 1)[1].split("@")[0].split():
            if token == "+":
                continue
            name = opened.pop() if token == ")" else token.rstrip("(").rstrip("*")
            if token.endswith("("):
                opened.append(name)
            nt += int(lengths[name])
    cost = design.cost()
    assert (cost.fuels, cost.strands, cost.nucleotides) == (len(fuels), strands, nt)
    assert cost.signals == 5
    # peppercorn reads the file back: the complexes are well formed
    enum = enumerate_pil(text, max_complex_size=14)
    assert {c.name for cs in enum.macrostates.values() for c in cs} >= {"A", "B", "X", "Y"}


def test_shared_strands_appear_once_at_the_summed_concentration():
    design = translate(_net("A -> B", "C -> B"), "qian2011")
    fwd = [f for f in design.fuels if f.strands == (("t", "h_B"),)]
    assert len(fwd) == 2
    once = [c for c in design.complexes() if c.strands == (("t", "h_B"),)]
    assert len(once) == 1 and once[0].concentration == pytest.approx(2 * fwd[0].concentration)


def test_rate_mapping_of_a_unimolecular_module():
    # Three-domain Y -> 0 at rate k: gate and commit strand at g units, Q g^2 = k (2 g + C)
    # (Q = q c_u tau; the reverse strand of Y at C).
    scheme = Qian2011()
    design = translate(_net("Y -> 0", rate=3.0), scheme, time_unit=1e4)
    fuels = {f.name: f.concentration for f in design.modules[0].fuels}
    big_q, cap = 3e5 * 7 * 1e-9 * 1e4, 1e3
    g = fuels["m0-gate"] / 1e-9
    assert fuels["m0-commit"] == pytest.approx(fuels["m0-gate"])
    assert big_q * g * g == pytest.approx(3.0 * (2 * g + cap))
    assert fuels["m0-rev-Y"] == pytest.approx(1e-6)
    with pytest.raises(UnsupportedModelError, match=r"Y -> 0.*gate would have to exceed C"):
        translate(_net("Y -> 0", rate=3.0), scheme, time_unit=1e-3)
    with pytest.raises(UnsupportedModelError, match=r"A \+ B -> C.*time_unit >= "):
        translate(_net("A + B -> C", rate=3.0), scheme, time_unit=100.0)


def _rate_at_the_dsd_level(design, text: str) -> float:
    """The rate constant a module shows at the DSD level in the free signals: the product Z
    it releases over the integral of its reactants' free amounts (formal units and time),
    with the signals far below the fuels."""
    from nncrn import ScipyODE, integrate

    net = dsd_network(design)
    y0 = np.array([[s.initial for s in net.species]])
    y0[0, net.index("Y")] = 1e-6
    if "X" in text:
        y0[0, net.index("X")] = 1e-4
    if "W" in text:
        y0[0, net.index("W")] = 1e-2
    ts = np.linspace(0.0, 2.0, 801)
    c = integrate(net, None, ts, y0=y0, solver=ScipyODE(rtol=1e-10, atol=1e-20)).concentrations[0]
    mass = c[:, net.index("Y")] * (c[:, net.index("X")] if "X" in text else 1.0)
    mass = mass * (c[:, net.index("W")] if "W" in text else 1.0)
    late = slice(400, None)  # after the gates' intermediates have settled
    dz = c[-1, net.index("Z")] - c[400, net.index("Z")]
    return float(dz / np.trapezoid(mass[late], ts[late]))


@pytest.mark.parametrize(
    ("scheme", "text"),
    [(s, t) for s in ("qian2011", "soloveichik2010") for t in ("Y -> Z", "X + Y -> Z")]
    + [("qian2011", "W + X + Y -> Z")],
)
def test_a_module_runs_at_its_formal_rate_at_the_dsd_level(scheme, text):
    # The gate's toehold exchanges run at q / 2 each way in peppercorn's condensed
    # reactions (three-domain modules ran at 2/3 of their rate, join gates of bimolecular
    # reactions at twice theirs), and a bimolecular gate above its buffering strand
    # saturates (at the default time unit the three-domain X + Y -> X ran at 1/50).
    design = translate(_net(text, rate=2.0), scheme)
    assert _rate_at_the_dsd_level(design, text) == pytest.approx(2.0, rel=0.04)
    slow = translate(_net(text, rate=2.0), scheme, time_unit=10 * design.time_unit)
    assert _rate_at_the_dsd_level(slow, text) == pytest.approx(2.0, rel=0.04)


def test_a_buffering_strand_shared_by_modules_stays_at_c():
    # r_X t is one species in the tube; summed over the modules that read X it buffered
    # each of them at a multiple of C (2 Y -> Y in the smooth XOR: ~100 times too slow).
    design = translate(_net("X + Y -> X", "X + Z -> X", "X -> 0"), "qian2011")
    rev = [c for c in design.complexes() if c.strands == (("r_X", "t"),)]
    assert len(rev) == 1 and rev[0].concentration == pytest.approx(1e-6)


def test_a_smooth_relu_neuron_settles_at_the_formal_steady_state():
    # dy/dt = x y - y^2 - y / 2 with x = 1: y -> 1/2. With fuels 10^7 units above the signals
    # (so that depletion stays small over the run), the DSD-level network settles there.
    from nncrn import ScipyODE, integrate

    net = _net("X + Y -> X + 2 Y", "2 Y -> Y")
    net = ReactionNetwork(net.species, (*net.reactions, Reaction.parse("Y -> 0", 0.5)))
    design = translate(net, Qian2011(fuel_concentration=1e-5, concentration_unit=1e-12))
    dna = dsd_network(design)
    y0 = np.array([[s.initial for s in dna.species]])
    y0[0, dna.index("X")], y0[0, dna.index("Y")] = 1.0, 0.1
    end = integrate(dna, None, [0.0, 20.0], y0=y0, solver=ScipyODE()).concentrations[0, -1]
    assert end[dna.index("Y")] == pytest.approx(0.5, abs=0.015)
    assert end[dna.index("X")] == pytest.approx(0.75, rel=0.01)  # a quarter of X in its gate


def test_dsd_network_is_a_reaction_network_in_formal_units_with_leaks():
    design = translate(_net("A + B -> C"), "qian2011")
    enums = enumerate_modules(design)
    net = dsd_network(design, enumerations=enums)
    assert {"A", "B", "C"} <= set(net.species_names)
    cu, tau = design.scheme.concentration_unit, design.time_unit
    gate = net.species[net.index("m0__gate")]
    assert gate.initial == pytest.approx(design.modules[0].fuels[0].concentration / cu)
    raw = {r.rate for r in enums[0].enumeration.reactions if len(r.reactants) == 2}
    scaled = {r.rate for r in net.reactions if r.order == 2}
    np.testing.assert_allclose(sorted(scaled), sorted(k * cu * tau for k in raw), rtol=1e-12)
    leaky = dsd_network(design, enumerations=enums, leak=0.5)
    extra = set(leaky.reactions) - set(net.reactions)
    (leak,) = extra
    assert leak.equation() == "m0__gate + m0__commit -> C"
    assert leak.rate == pytest.approx(0.5 * cu * tau)


def test_dsd_network_runs_a_conversion_to_completion():
    # Rate-independent result: A -> B moves all of A into B, whatever the DSD rates.
    from nncrn import integrate

    design = translate(_net("A -> B"), "qian2011")
    net = dsd_network(design)
    y0 = np.array([[s.initial for s in net.species]])
    y0[0, net.index("A")] = 2.0
    end = integrate(net, None, [0.0, 200.0], y0=y0).concentrations[0, -1]
    assert end[net.index("B")] == pytest.approx(2.0, rel=1e-4)
    assert end[net.index("A")] < 1e-4


def test_fuel_depletion_reports_the_fuel_left_and_when_it_ran_low():
    from nncrn import ScipyODE, integrate

    design = translate(_net("A -> B"), "qian2011")
    net = dsd_network(design)
    y0 = np.array([[s.initial for s in net.species]] * 2)
    y0[0, net.index("A")], y0[1, net.index("A")] = 40.0, 1.0
    ts = np.linspace(0.0, 20.0, 401)
    traj = integrate(net, None, ts, y0=y0, solver=ScipyODE())
    report = fuel_depletion(net, traj, thresholds=(0.9, 0.5, 0.01))
    fuels = [i for i, s in enumerate(net.species) if s.initial > 0]
    assert {net.species[i].name for i in fuels} == {"m0__gate", "m0__commit", "m0__rev_A",
                                                   "m0__fwd_B"}  # fmt: skip
    share = traj.concentrations[0][:, fuels] / [net.species[i].initial for i in fuels]
    np.testing.assert_allclose(report.min_fraction, share.min(axis=1))  # the item with 40 A
    assert report.min_fraction[0] == pytest.approx(1.0)
    # the commit strand goes twice per firing (a second one binds the spent gate)
    assert report.fuel[-1] == "m0__commit"
    commit = net.species[net.index("m0__commit")].initial
    assert report.min_fraction[-1] == pytest.approx(1 - 2 * 40.0 / commit, abs=0.02)
    for th in (0.9, 0.5):
        j = int(np.flatnonzero(report.min_fraction < th)[0])
        assert ts[j - 1] <= report.first_below[th] <= ts[j]
    assert report.first_below[0.01] is None
    assert report.as_dict()["first_below"]["0.9"] == report.first_below[0.9]
    with pytest.raises(ValueError, match="threshold"):
        fuel_depletion(net, traj, thresholds=(1.5,))
    with pytest.raises(ValueError, match="same species"):
        fuel_depletion(_net("A -> B"), traj)


def test_a_gate_leak_releases_products_without_inputs():
    from nncrn import ScipyODE, integrate

    design = translate(_net("A + B -> C"), "qian2011")
    enums = enumerate_modules(design)
    tight = dsd_network(design, enumerations=enums)
    leaky = dsd_network(design, enumerations=enums, gate_leak=1e-5)
    (leak,) = set(leaky.reactions) - set(tight.reactions)
    assert leak.equation() == "m0__gate -> C"
    assert leak.rate == pytest.approx(1e-5 * design.time_unit)
    assert leaky.metadata["dsd"]["gate_leak_per_s"] == 1e-5
    y0 = np.array([[s.initial for s in tight.species]])  # no A, no B
    for net, made in ((tight, False), (leaky, True)):
        end = integrate(net, None, [0.0, 10.0], y0=y0, solver=ScipyODE()).concentrations[0, -1]
        assert bool(end[net.index("C")] > 1e-3) is made
    # the 2010 fork gate holds the products there
    fork = dsd_network(translate(_net("A + B -> C"), "soloveichik2010"), gate_leak=1e-5)
    assert any(r.equation() == "m0__fork -> C" for r in fork.reactions)
    with pytest.raises(ValueError, match="gate_leak"):
        dsd_network(design, enumerations=enums, gate_leak=-1.0)


def test_a_gate_leak_makes_module_verification_fail():
    scheme = Qian2011()
    formal = Reaction.parse("A + B -> C", 1.0)
    fuels = scheme.module(0, formal)
    tube = [scheme.signal("A"), scheme.signal("B"), *fuels]
    from nncrn.dsd._complex import pil_text

    lengths = {d.rstrip("*"): scheme.length(d.rstrip("*")) for c in tube for d in c.domains}
    enum = enumerate_pil(pil_text(tube, lengths), max_complex_size=12)
    names = {f.name for f in fuels}
    c_state = next(k for k, v in enum.macrostates.items() if v[0].strands == (("h_C", "t", "r_C"),))
    leak = EnumeratedReaction(("m0-gate",), (c_state,), 1e-5)
    leaky = Enumeration(enum.macrostates, (*enum.reactions, leak), enum.seconds)
    impl = interpret(leaky, scheme, names)
    assert [[], [c_state]] in impl.crn
    ok, _ = _bisimulation(_formal([formal]), impl, {"A", "B", "C"})
    assert not ok


def test_whole_design_of_a_small_network_is_verified():
    design = translate(_net("A -> B", "B + C -> D"), "qian2011")
    result = verify(design, whole=True)
    assert result.correct and result.whole is True and result.pathway is True
    assert result.whole_reactions is not None and result.whole_reactions > 0


def test_errors_name_the_problem():
    with pytest.raises(Exception, match=r"unknown DSD scheme 'nuskell'.*qian2011"):
        translate(_net("A -> B"), "nuskell")
    with pytest.raises(ValueError, match="toehold_length 15 must be shorter"):
        Qian2011(toehold_length=15)
    with pytest.raises(SchemeRefusal, match=r"order 4.*split it into steps of order 3"):
        translate(_net("A + B + C + D -> E"), "qian2011")
    with pytest.raises(ValueError, match="leak"):
        dsd_network(translate(_net("A -> B"), "qian2011"), leak=-1.0)


@pytest.mark.parametrize("scheme", ["smooth", "dual-rail"])
def test_one_neuron_compiled_network_whole_design(scheme):
    torch = pytest.importorskip("torch")
    from nncrn.compile import DualRail, SmoothReLUScheme, compile_network

    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.ReLU()).double()
    with torch.no_grad():
        model[0].weight[:] = 2.0 if scheme == "smooth" else 1.0
        model[0].bias[:] = -0.5 if scheme == "smooth" else -1.0
    compiler = SmoothReLUScheme(eps=1e-3) if scheme == "smooth" else DualRail()
    with pytest.warns(Warning) if scheme == "smooth" else nullcontext():
        net = compile_network(model, scheme=compiler, input_range=(0.0, 1.0))
    assert net.n_reactions == (4 if scheme == "smooth" else 3)
    result = verify(translate(net, "qian2011"), whole=True, time_limit=300)
    assert all(m.correct for m in result.modules)
    assert result.whole is True and result.pathway is True
    assert result.whole_reactions == (28 if scheme == "smooth" else 22)


@pytest.mark.slow
def test_xor_compiled_network_whole_design_bisimulation():
    torch = pytest.importorskip("torch")
    from nncrn.compile import SmoothReLUScheme, compile_network

    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.ReLU(), torch.nn.Linear(2, 1))
    with torch.no_grad():
        model[0].weight[:] = torch.tensor([[1.0, -1.0], [-1.0, 1.0]])
        model[0].bias[:] = 0.0
        model[2].weight[:] = torch.tensor([[1.0, 1.0]])
        model[2].bias[:] = 0.0
    with pytest.warns(Warning):
        net = compile_network(model, scheme=SmoothReLUScheme(eps=1e-3), input_range=(0.0, 1.0))
    result = verify(translate(net, "qian2011"), whole=True, time_limit=900)
    assert all(m.correct for m in result.modules) and len(result.modules) == 12
    assert result.whole is True and result.pathway is True


def test_importing_the_enumerator_leaves_the_recursion_limit_alone():
    # peppercorn sets sys.setrecursionlimit(10**6) on import; left in place, a deeply nested
    # JSON file read later in the same process overflowed the C stack (a segfault, seen in
    # the test suite) instead of raising the FormatError that names it.
    import sys

    from nncrn.dsd._enumerate import deep_recursion, require
    from nncrn.export import from_crn_text

    before = sys.getrecursionlimit()
    require("peppercornenumerator.enumerator")
    require("crnverifier")
    assert sys.getrecursionlimit() == before
    with deep_recursion():
        assert sys.getrecursionlimit() >= 10**6
    assert sys.getrecursionlimit() == before
    nested = "#@nncrn metadata " + "[" * 100_000 + "]" * 100_000 + "\nA -> B [k = 1]\n"
    with pytest.raises(FormatError, match="nests JSON arrays or objects too deeply"):
        from_crn_text(nested)


def test_a_whole_design_search_past_its_time_limit_is_undecided(monkeypatch):
    # True and False are proofs; a search stopped by time_limit decides nothing.
    import time

    import crnverifier

    from nncrn.dsd._verify import Implementation, _whole_bisimulation

    def slow(*args, **kwargs):
        time.sleep(5)
        return True, {}

    monkeypatch.setattr(crnverifier, "crn_bisimulation_test", slow)
    impl = Implementation([[["A"], ["B"]]], {"A": "A", "B": "B"}, ())
    start = time.perf_counter()
    ok, note = _whole_bisimulation([[["A"], ["B"]]], impl, {"A", "B"}, {}, 0.3)
    assert ok is None and time.perf_counter() - start < 2
    assert note.startswith("CRN bisimulation: the guided searches did not finish within 0.3 s")
