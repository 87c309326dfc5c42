"""General one-species activations: the checks, the refusals, the realisation, the steady state."""

import warnings

import numpy as np
import pytest
import torch
from numpy.polynomial import polynomial as npoly

from nncrn._activations import polynomial_root, smooth_relu
from nncrn._errors import NNCRNWarning
from nncrn.compile import (
    ActivationError,
    ChemicalSigmoidScheme,
    DenseLayer,
    LayerStack,
    Polynomial,
    SmoothReLUScheme,
    analyse_activation,
    check_activation,
    chemical_sigmoid,
    compile_network,
    layer_stack,
)
from nncrn.nn import ChemicalSigmoid as SigmoidModule
from nncrn.nn import PolynomialActivation, RectifiedRoot
from nncrn.nn import SmoothReLU as SmoothReLUModule
from nncrn.simulate import integrate, steady_state
from nncrn.simulate._massaction import rhs


def random_stack(seed, sizes, last="identity"):
    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(sizes) - 1):
        act = last if k == len(sizes) - 2 else "relu"
        w = rng.normal(size=(sizes[k + 1], sizes[k])) * (rng.random((sizes[k + 1], sizes[k])) > 0.3)
        layers.append(DenseLayer(w, rng.normal(size=sizes[k + 1]), act))
    return LayerStack(tuple(layers), "random")


def build(scheme, stack):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scheme.build(stack)


def test_issue_example_refused_with_both_reasons():
    reasons = analyse_activation([0.5, -1], [0, 1, -1])
    assert len(reasons) == 2
    assert "blow up" in reasons[0] and "z < 0" in reasons[0]
    # the second root above 1: at the quoted z, both quoted roots really are roots
    assert "second positive root" in reasons[1]
    z = float(reasons[1].split("at z = ")[1].split(" ")[0])
    roots = [float(v) for v in reasons[1].split("y = ")[-1].split(";")[0].split(", ")]
    assert len(roots) == 2 and roots[0] < 1 < roots[1]
    for y in roots:
        assert abs(0.5 - y + z * (y - y * y)) < 1e-3
    with pytest.raises(ActivationError, match="blow up"):
        Polynomial((0.5, -1.0), (0.0, 1.0, -1.0))


@pytest.mark.parametrize(
    ("P", "Q", "match"),
    [
        ([-0.1, 1, -1], [0, 1], "not mass action: the monomial -0.1 has no y"),
        ([0.1, 0, -1], [1, 1], "Q must have no constant term"),
        ([0, 1, -1], [0, 1], "y = 0 is a fixed point"),
        ([0.1, 0, 1], [0, 1], "leading coefficient of P is 1 > 0"),
        ([0.1, -1], [0, 1], "deg Q = 1 >= deg P = 1"),
        ([0.1, 0, -1], [0, 0], "Q is 0"),
        # bistable: g(y) = -P/y has g' = 0.01/y^2 - 3 + 2y < 0 near y = 1
        ([0.01, 0, 3, -1], [0, 1], "not monotone"),
        ([0.1, 0, 0, -1], [0, 2, -1], "Q vanishes at y = 2"),
    ],
)
def test_refusals_name_the_reason(P, Q, match):
    with pytest.raises(ActivationError, match=match):
        check_activation(P, Q)
    with pytest.raises(ActivationError):
        PolynomialActivation(P, Q)


def test_bistable_example_really_has_three_roots():
    (reason,) = analyse_activation([0.01, 0, 3, -1], [0, 1])
    z = float(reason.split("at z = ")[1].split(" ")[0])
    roots = npoly.polyroots([0.01, z, 3, -1])
    assert np.sum((np.abs(roots.imag) < 1e-9) & (roots.real > 0)) == 3


@pytest.mark.parametrize("k", [2, 3, 5])
def test_rectified_root_passes_and_solves(k):
    scheme = Polynomial.rectified_root(k, eps=1e-3)
    z = np.concatenate([-np.logspace(-3, 3, 40), [0.0], np.logspace(-3, 3, 40)])
    y = scheme.activation(z)
    assert (y > 0).all() and (np.diff(y[np.argsort(z)]) > 0).all()
    scale = 1e-3 + np.abs(z * y) + y**k  # residual relative to the terms that cancel
    assert (np.abs(1e-3 + z * y - y**k) <= 1e-14 * scale).all()
    # large z: y ~ z^(1/(k-1)); very negative z: y ~ eps/|z|
    assert abs(y[-1] / 1e3 ** (1 / (k - 1)) - 1) < 1e-3
    assert abs(y[np.argmin(z)] * 1e3 / 1e-3 - 1) < 1e-3
    rate = scheme.convergence_rate(z)
    np.testing.assert_allclose(rate, -(z - k * y ** (k - 1)), rtol=1e-12)
    assert (rate > 0).all()


def test_smooth_relu_polynomial_equals_closed_form():
    z = np.linspace(-50, 50, 1001)
    np.testing.assert_allclose(Polynomial.smooth_relu(0.01).activation(z), smooth_relu(z, 0.01),
                               rtol=1e-14)  # fmt: skip
    with pytest.raises(ActivationError, match="integer k >= 2"):
        Polynomial.rectified_root(1)


def test_reactions_realise_p_plus_zq():
    scheme = Polynomial((0.02, 0.5, 0.0, -2.0), (0.0, 1.0, 0.3))  # Q = y + 0.3 y^2 > 0
    stack = random_stack(4, [3, 4, 2], last="relu")
    net = build(scheme, stack)
    rng = np.random.default_rng(1)
    state = rng.uniform(0, 2, size=(30, net.n_species))
    f = rhs(net.stoichiometry, state)
    col = {n: i for i, n in enumerate(net.species_names)}
    x = state[:, [col[f"X{j}"] for j in range(3)]]
    h = state[:, [col[f"H1_{i}"] for i in range(4)]]
    y = state[:, [col[f"Y{i}"] for i in range(2)]]
    for val, inp, layer in ((h, x, stack.layers[0]), (y, h, stack.layers[1])):
        z = inp @ layer.weight.T + layer.bias
        want = npoly.polyval(val, scheme._P) + z * npoly.polyval(val, scheme._Q)
        got = f[
            :, [col[n] for n in (["H1_0", "H1_1", "H1_2", "H1_3"] if val is h else ["Y0", "Y1"])]
        ]
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-12)
    assert max(r.order for r in net.reactions) == 3  # 3 Y -> 2 Y and X + 2 Y -> X + 3 Y


@pytest.mark.parametrize(
    "scheme",
    [Polynomial.rectified_root(3, 1e-2), Polynomial((0.05, 0.0, -1.0, -0.5), (0.0, 1.0)),
     ChemicalSigmoidScheme(0.25), SmoothReLUScheme(1e-3)],
    ids=["rectified_root_k3", "cubic", "sigmoid", "smooth_relu"],
)  # fmt: skip
def test_steady_state_equals_stated_map(scheme):
    for seed in range(2):
        stack = random_stack(seed, [3, 5, 2])
        net = build(scheme, stack)
        x = np.random.default_rng(seed).uniform(0, 2, size=(8, 3))
        ss = steady_state(net, x, atol=1e-14, rtol=1e-13)
        np.testing.assert_allclose(ss.outputs, scheme.forward(stack, x), rtol=1e-8, atol=1e-10)


def test_chemical_sigmoid_closed_form_and_checks():
    z = np.linspace(-40, 40, 801)
    y = chemical_sigmoid(z, 0.5)
    P, Q = np.array([0.5, -1.0]), np.array([0.0, 1.0, -1.0])
    np.testing.assert_allclose(y, polynomial_root(P, Q, z, upper=1.0), rtol=1e-12)
    np.testing.assert_allclose(y + chemical_sigmoid(-z, 0.5), 1.0, rtol=1e-14)
    assert (np.diff(y) > 0).all() and 0 < y.min() < y.max() < 1
    assert abs((chemical_sigmoid(1e-6, 0.5) - 0.5) / 1e-6 - 1 / 4) < 1e-6  # slope 1/(8 rate)
    assert analyse_activation(P, Q, upper=1.0) == []
    assert analyse_activation(P, Q) != []  # unbounded species: refused (deg Q >= deg P)
    s = ChemicalSigmoidScheme(0.5)
    np.testing.assert_allclose(s.convergence_rate(z), -(-1.0 + z * (1 - 2 * y)), rtol=1e-12)
    with pytest.raises(ValueError, match="rate is 0"):
        ChemicalSigmoidScheme(0)


def test_chemical_sigmoid_network_conserves_pairs():
    stack = random_stack(3, [2, 3, 1])
    net = build(ChemicalSigmoidScheme(), stack)
    assert net.n_species == 2 + 2 * 3 + 2
    for r in net.reactions:
        changed = [s for s in r.net() if s.startswith("H1_")]
        if changed:
            i = changed[0][:4]
            assert r.net().get(i, 0) + r.net().get(i + "c", 0) == 0


def test_slowest_rate_and_forward_of_interface():
    stack = random_stack(5, [3, 4, 2], last="relu")
    s = Polynomial.rectified_root(3, 1e-2)
    x = np.random.default_rng(0).uniform(0, 1, size=(6, 3))
    z1 = x @ stack.layers[0].weight.T + stack.layers[0].bias
    h = s.activation(z1)
    z2 = h @ stack.layers[1].weight.T + stack.layers[1].bias
    want = np.minimum(s.convergence_rate(z1).min(1), s.convergence_rate(z2).min(1))
    np.testing.assert_allclose(s.slowest_rate(stack, x), want, rtol=1e-14)
    np.testing.assert_allclose(s.forward(stack, x), s.activation(z2), rtol=1e-14)
    assert ChemicalSigmoidScheme.closed_form and SmoothReLUScheme.closed_form and not Polynomial.closed_form


def test_torch_modules_match_schemes_and_gradients():
    z = torch.linspace(-6, 6, 61, dtype=torch.float64)
    rr = RectifiedRoot(3, 1e-2)
    np.testing.assert_allclose(rr(z).numpy(), Polynomial.rectified_root(3, 1e-2).activation(z.numpy()),
                               rtol=1e-15)  # fmt: skip
    np.testing.assert_allclose(RectifiedRoot(2, 0.01)(z).numpy(), SmoothReLUModule(0.01)(z).numpy(),
                               rtol=1e-13)  # fmt: skip
    np.testing.assert_allclose(SigmoidModule(0.3)(z).numpy(), chemical_sigmoid(z.numpy(), 0.3),
                               rtol=1e-15)  # fmt: skip
    zg = torch.tensor([-3.0, -0.2, 0.0, 0.4, 5.0], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(rr, (zg,))
    assert torch.autograd.gradcheck(PolynomialActivation([0.05, 0, -1, -0.5], [0, 1]), (zg,))
    assert torch.autograd.gradgradcheck(SigmoidModule(0.3), (zg,))
    assert "k=3" in repr(rr) and "z (y)" in repr(PolynomialActivation([0.1, 0, -1], [0, 1]))


def test_compile_network_with_replacing_schemes_warns_and_states_its_map():
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2)
    ).double()
    stack = layer_stack(model)
    x = np.array([[0.1, 0.9], [1.5, 0.3]])
    for scheme in (ChemicalSigmoidScheme(0.5), Polynomial.rectified_root(3, 1e-2)):
        with pytest.warns(NNCRNWarning, match="in place of the model's relu"):
            net = compile_network(model, scheme=scheme)
        meta = net.metadata["scheme"]
        assert {
            k: list(v) if isinstance(v, tuple) else v for k, v in meta.items()
        } == scheme.describe()
        ss = steady_state(net, x, atol=1e-14, rtol=1e-13)
        np.testing.assert_allclose(ss.outputs, scheme.forward(stack, x), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize(
    "scheme",
    [Polynomial.rectified_root(3, 1e-2), ChemicalSigmoidScheme(0.5)],
    ids=["rectified_root_k3", "sigmoid"],
)
def test_convergence_rate_is_the_measured_decay_rate(scheme):
    # one neuron, z = 1.5 x - 0.2; start a small step above the fixed point and watch it decay
    stack = LayerStack((DenseLayer([[1.5]], [-0.2], "relu"),), "one neuron")
    net = build(scheme, stack)
    x = np.array([[0.8]])
    z = 1.5 * 0.8 - 0.2
    y_star, rate = scheme.activation(np.array(z)), scheme.convergence_rate(np.array(z))
    delta, t = 1e-5, 2.0 / rate
    y0 = {"Y0": y_star + delta}
    if "Y0c" in net:
        y0["Y0c"] = 1.0 - y_star - delta  # stay on the conserved line y + yc = 1
    traj = integrate(net, x, [t], y0=y0)
    measured = -np.log((traj.outputs[0, 0, 0] - y_star) / delta) / t
    assert measured == pytest.approx(rate, rel=1e-3)
