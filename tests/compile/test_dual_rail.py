"""Rate-independent dual-rail ReLU networks: structure, exactness, rate independence, iris."""

import itertools

import numpy as np
import pytest
import torch
from sklearn.datasets import load_iris
from sklearn.model_selection import StratifiedKFold

from nncrn import _errors
from nncrn.compile import (
    ApproximationWarning,
    DenseLayer,
    DualRail,
    LayerStack,
    SmoothReLUScheme,
    competition_violations,
    compile_network,
    dual_rail_inputs,
    layer_stack,
)
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import integrate, steady_state

TIGHT = {"atol": 1e-15, "rtol": 0.0}


def integer_stack(seed, sizes, low=-2, high=2):
    rng = np.random.default_rng(seed)
    layers = [
        DenseLayer(
            rng.integers(low, high + 1, (m, n)),
            rng.normal(size=m),
            "identity" if k == len(sizes) - 2 else "relu",
        )
        for k, (n, m) in enumerate(itertools.pairwise(sizes))
    ]
    return LayerStack(tuple(layers), "random integer")


def test_reactions_of_a_small_network():
    stack = LayerStack((
        DenseLayer([[2, -1], [0, 1]], [0.5, -0.25], "relu"),
        DenseLayer([[1, -3]], [0.0], "identity"),
    ), "small")  # fmt: skip
    net = DualRail().build(stack)
    eqs = sorted(r.equation() for r in net.reactions)
    assert eqs == sorted([
        "X0 -> 2 H1_0p", "X1 -> H1_0n + H1_1p",
        "H1_0p -> H1_0 + H1_0c", "H1_0n + H1_0c -> H1_0d",
        "H1_1p -> H1_1 + H1_1c", "H1_1n + H1_1c -> H1_1d",
        "H1_0 -> Y0p", "H1_0d -> Y0n", "H1_1 -> 3 Y0n", "H1_1d -> 3 Y0p",
    ])  # fmt: skip
    init = {s.name: s.initial for s in net.species}
    assert (init["H1_0p"], init["H1_0n"], init["H1_1p"], init["H1_1n"]) == (0.5, 0, 0, 0.25)
    assert max(r.order for r in net.reactions) == 2
    assert competition_violations(net) == []
    x = np.array([[1.0, 2.0], [0.3, 0.0]])
    ss = steady_state(net, x, **TIGHT)
    h = np.maximum(x @ np.array([[2, -1], [0, 1]]).T + [0.5, -0.25], 0)
    np.testing.assert_allclose(ss.outputs[:, 0], h @ [1, -3], rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("dual", [False, True])
def test_steady_state_equals_relu_network(dual):
    stack = integer_stack(0 if dual else 1, [4, 6, 5, 3])
    net = DualRail(dual_inputs=dual).build(stack)
    rng = np.random.default_rng(2)
    x = rng.uniform(-1 if dual else 0, 2, size=(12, 4))
    ss = steady_state(net, dual_rail_inputs(x) if dual else x, **TIGHT)
    np.testing.assert_allclose(ss.outputs, stack.forward(x), rtol=1e-8, atol=1e-8)
    np.testing.assert_allclose(DualRail().forward(stack, x), stack.forward(x), rtol=1e-15)


def test_same_outputs_under_random_rates_spanning_three_decades():
    stack = integer_stack(3, [3, 5, 2], low=-1, high=1)
    net = DualRail().build(stack)
    x = np.random.default_rng(4).uniform(0, 2, size=(10, 3))
    want = stack.forward(x)
    rng = np.random.default_rng(5)
    for _ in range(3):
        rates = 10.0 ** rng.uniform(-1.5, 1.5, net.n_reactions)
        assert rates.max() / rates.min() > 100
        ss = steady_state(net.with_rates(rates), x, **TIGHT)
        np.testing.assert_allclose(ss.outputs, want, rtol=1e-7, atol=1e-8)


def test_real_weights_refused_with_discretization_hint():
    stack = LayerStack((DenseLayer([[1.0, 0.37]], [0.0], "relu"),), "real")
    with pytest.raises(_errors.UnsupportedModelError, match=r"w\[0,1\] = 0\.37.*[Dd]iscretize"):
        DualRail().build(stack)
    with pytest.raises(_errors.UnsupportedModelError, match="drop input_range"):
        DualRail(dual_inputs=True).build(integer_stack(0, [2, 1]), input_range=[(0, 1), (0, 1)])


def test_rescale_makes_quantized_layers_integer():
    rng = np.random.default_rng(7)
    alphas = (0.37, 1.9)
    stack = LayerStack((
        DenseLayer(0.37 * rng.integers(-1, 2, (5, 3)), rng.normal(size=5), "relu"),
        DenseLayer(1.9 * rng.integers(-1, 2, (2, 5)), rng.normal(size=2), "identity"),
    ), "ternary")  # fmt: skip
    with pytest.raises(_errors.UnsupportedModelError, match=r"w\[.*Discretize"):
        DualRail().build(stack)
    scheme = DualRail(rescale=True)
    net = scheme.build(stack)
    assert net.metadata["output_scale"] == pytest.approx(alphas[0] * alphas[1], rel=1e-15)
    assert all(float(r.rate) == 1.0 for r in net.reactions)
    x = rng.uniform(0, 2, size=(8, 3))
    want = stack.forward(x) / (alphas[0] * alphas[1])
    np.testing.assert_allclose(scheme.forward(stack, x), want, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(steady_state(net, x, **TIGHT).outputs, want, rtol=1e-8, atol=1e-8)
    bad = LayerStack((DenseLayer([[1.0, 2**0.5]], [0.0], "relu"),), "not a multiple")
    with pytest.raises(
        _errors.UnsupportedModelError,
        match=r"not integer multiples of a common unit.*w\[0,1\] = 1\.414.* times min\|w\|",
    ):
        scheme.build(bad)


def test_rescale_unit_is_the_common_divisor_not_the_smallest_weight():
    scheme = DualRail(rescale=True)
    # integer weights whose smallest magnitude (2) is not the unit (1)
    integers = LayerStack((DenseLayer([[2.0, 3.0], [-3.0, 2.0]], [0.5, -1.0], "relu"),), "ints")
    stack, scale = scheme.integerize(integers)
    assert scale == 1.0
    np.testing.assert_array_equal(stack.layers[0].weight, [[2, 3], [-3, 2]])
    # 0.3 and 1.0 are 3 and 10 units of 0.1
    tenths, scale = scheme.integerize(LayerStack((DenseLayer([[0.3, -1.0]], [0.0], "relu"),), "t"))
    assert scale == pytest.approx(0.1, rel=1e-15)
    np.testing.assert_array_equal(tenths.layers[0].weight, [[3, -10]])


def test_rescale_refuses_real_weights_with_a_tiny_one():
    # One weight of 3e-7 among N(0, 1) weights: 1e-6 relative of ~1e7 "units" is a whole
    # unit, so without a cap on the coefficients every weight looked like an integer.
    w = np.random.default_rng(0).normal(size=(4, 4))
    w[0, 0] = 3e-7
    stack = LayerStack((DenseLayer(w, np.zeros(4), "relu"),), "real")
    with pytest.raises(_errors.UnsupportedModelError, match=r"span max\|w\| / min\|w\| = .*e\+0[67]"):
        DualRail(rescale=True).integerize(stack)


def test_rescale_accepts_float32_linear_quantization():
    from nncrn.train import quantize_model

    x = np.random.default_rng(0).uniform(0, 2, size=(5, 4))
    for seed in range(20):  # the smallest-magnitude unit refused 19 of these 20
        torch.manual_seed(seed)
        model = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        q = quantize_model(model, 3, "linear", biases=False)
        assert q[0].weight.dtype == torch.float32
        stack = layer_stack(q)
        integers, scale = DualRail(rescale=True).integerize(stack)
        for layer in integers.layers:  # 3 bits: levels -3..3 of one step per layer
            assert np.abs(layer.weight).max() <= 3
        np.testing.assert_allclose(
            DualRail(rescale=True).forward(stack, x) * scale, stack.forward(x),
            rtol=1e-6, atol=1e-6,
        )  # fmt: skip


def test_smooth_relu_layers_become_exact_relu_with_warning():
    smooth = LayerStack((DenseLayer([[1.0, -2.0]], [0.1], "smooth_relu", eps=1e-2),), "smooth")
    with pytest.warns(ApproximationWarning, match=r"sqrt\(eps\) = 0\.1"):
        net = DualRail().build(smooth)
    x = np.array([[1.0, 0.2], [0.0, 1.0]])
    np.testing.assert_allclose(steady_state(net, x, **TIGHT).outputs[:, 0], [0.7, 0.0], atol=1e-8)


def test_non_competitiveness_check():
    smooth = SmoothReLUScheme(1e-3).build(integer_stack(0, [2, 3, 1]))
    problems = competition_violations(smooth)
    assert any("compete" in p for p in problems)
    assert any("consumes nothing" in p for p in problems)  # the leak 0 -> Y
    cyc = ReactionNetwork(
        [Species("A"), Species("B")],
        [Reaction.parse("A -> B", 1.0), Reaction.parse("B -> A", 1.0)],
    )
    assert competition_violations(cyc) == [
        "species A can be produced from itself (a cycle of reactions)"
    ]


def test_compile_network_folds_input_range_into_initial_concentrations():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)
    ).double()
    with torch.no_grad():
        for lin in (model[0], model[2]):
            lin.weight.copy_(torch.sign(lin.weight))
    net = compile_network(model, scheme=DualRail(), input_range=(-1, 1))
    x = np.array([[-1.0, 0.5], [0.9, -0.2], [0.0, 0.0]])
    ss = steady_state(net, x, **TIGHT)
    want = model(torch.tensor(x)).detach().numpy()
    np.testing.assert_allclose(ss.outputs, want, rtol=1e-8, atol=1e-8)


def train_sign_network(x, y, seed, epochs=400):
    """A 4-8-3 ReLU network with weights in {-1, +1} (sign, straight-through) and real biases."""
    torch.manual_seed(seed)
    lin1, lin2 = torch.nn.Linear(4, 8).double(), torch.nn.Linear(8, 3).double()
    scale = torch.nn.Parameter(torch.tensor(1.0, dtype=torch.float64))  # argmax-invariant
    params = [*lin1.parameters(), *lin2.parameters(), scale]
    opt = torch.optim.Adam(params, lr=0.03)

    def sign(w):  # value sign(w), gradient of clamp(w, -1, 1)
        c = w.clamp(-1, 1)
        return c + (torch.where(w >= 0, 1.0, -1.0).double() - c).detach()

    xt, yt = torch.tensor(x), torch.tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        h = torch.relu(xt @ sign(lin1.weight).T + lin1.bias)
        logits = scale * (h @ sign(lin2.weight).T + lin2.bias)
        torch.nn.functional.cross_entropy(logits, yt).backward()
        opt.step()
    with torch.no_grad():
        return LayerStack((
            DenseLayer(torch.where(lin1.weight >= 0, 1.0, -1.0).numpy(), lin1.bias.numpy(), "relu"),
            DenseLayer(torch.where(lin2.weight >= 0, 1.0, -1.0).numpy(), lin2.bias.numpy(), "identity"),
        ), "iris sign network")  # fmt: skip


def test_iris_architecture_size_matches_published_count():
    rng = np.random.default_rng(0)
    stack = LayerStack((
        DenseLayer(rng.choice([-1.0, 1.0], (8, 4)), rng.normal(size=8), "relu"),
        DenseLayer(rng.choice([-1.0, 1.0], (3, 8)), rng.normal(size=3), "identity"),
    ), "4-8-3")  # fmt: skip
    # the published construction for 4-8-3: 40 reactions, 54 species (dual-rail inputs)
    assert (DualRail(dual_inputs=True).build(stack).n_reactions,
            DualRail(dual_inputs=True).build(stack).n_species) == (40, 54)  # fmt: skip
    # single-rail inputs (features as concentrations): 4 species and 4 reactions fewer
    single = DualRail().build(stack)
    assert (single.n_reactions, single.n_species) == (36, 50)


@pytest.mark.slow
def test_iris_binary_network_five_fold():
    data = load_iris()
    x = (data.data - data.data.mean(0)) / data.data.std(0)
    accs, agree = [], []
    for fold, (tr, te) in enumerate(
        StratifiedKFold(5, shuffle=True, random_state=0).split(x, data.target)
    ):
        stack = train_sign_network(x[tr], data.target[tr], fold)
        net = DualRail(dual_inputs=True).build(stack)
        # the published construction for 4-8-3: 40 reactions, 54 species
        assert (net.n_reactions, net.n_species) == (40, 54)
        ss = steady_state(net, dual_rail_inputs(x[te]), atol=1e-12, rtol=1e-10)
        chem = ss.outputs.argmax(1)
        agree.append(np.mean(chem == stack.forward(x[te]).argmax(1)))
        accs.append(np.mean(chem == data.target[te]))
    print(f"iris 4-8-3 +-1 dual-rail: 5-fold held-out accuracy {np.mean(accs):.4f} "
          f"(folds {np.round(accs, 3).tolist()}), NN agreement {np.mean(agree):.4f}")  # fmt: skip
    assert np.mean(agree) == 1.0
    assert np.mean(accs) >= 0.85


@pytest.mark.parametrize("z", [0.4, -0.3, 2.0])
def test_convergence_rate_is_the_late_decay_rate(z):
    # one ReLU neuron z = x + b at x = 1: the slowest mode decays at min(1, |z|) (unit rates)
    stack = LayerStack((DenseLayer([[1.0]], [z - 1.0], "relu"),), "one neuron")
    scheme = DualRail()
    net = scheme.build(stack)
    rate = float(scheme.convergence_rate(np.array(z)))
    t1, t2 = 10.0 / rate, 14.0 / rate  # late, but errors stay far above solver tolerance
    traj = integrate(net, [[1.0]], [t1, t2])
    # |readout error| and, for z < 0 (output 0 exactly), the leftover copy species Y0c
    err = np.abs(traj.outputs[0, :, 0] - max(z, 0.0))
    if z < 0:
        err = traj.concentrations[0, :, net.index("Y0c")]
    measured = np.log(err[0] / err[1]) / (t2 - t1)
    # z > 1: two chained unit-rate steps, error ~ t exp(-t), so the log-slope is 8% lower
    assert measured == pytest.approx(rate, rel=0.1)
