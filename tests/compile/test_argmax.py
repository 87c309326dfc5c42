"""The winner-take-all argmax stage: structure, rate law, steady state, digits agreement."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from nncrn import _errors
from nncrn.compile import (
    DenseLayer,
    DualRail,
    LayerStack,
    SmoothReLUScheme,
    argmax_map,
    compile_network,
    with_argmax,
)
from nncrn.nn import SmoothReLU as SmoothReLUModule
from nncrn.simulate import integrate, steady_state
from nncrn.simulate._massaction import rhs


def stack(seed, sizes, integer=False):
    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(sizes) - 1):
        w = (
            rng.integers(-1, 2, (sizes[k + 1], sizes[k]))
            if integer
            else rng.normal(size=(sizes[k + 1], sizes[k]))
        )
        act = "identity" if k == len(sizes) - 2 else "relu"
        layers.append(DenseLayer(w, rng.normal(size=sizes[k + 1]), act))
    return LayerStack(tuple(layers), "random")


@pytest.mark.parametrize("last", ["identity", "relu"])
def test_rate_law_is_replicator(last):
    base = stack(0, [3, 4, 3])
    if last == "relu":
        base = LayerStack(
            (*base.layers[:-1], DenseLayer(base.layers[-1].weight, base.layers[-1].bias, "relu")),
            "r",
        )
    inner = SmoothReLUScheme(1e-2).build(base)
    net = with_argmax(inner, rate=0.7)
    n, dual = 3, last == "identity"
    assert net.n_reactions - inner.n_reactions == n * (n - 1) * (2 if dual else 1)
    assert net.outputs == inner.outputs and [ro.plus for ro in net.readout] == ["W0", "W1", "W2"]
    assert {s.name: s.initial for s in net.species}["W1"] == pytest.approx(1 / 3)
    state = np.random.default_rng(1).uniform(0.1, 2, size=(20, net.n_species))
    f = rhs(net.stoichiometry, state)
    col = {s: i for i, s in enumerate(net.species_names)}
    w = state[:, [col[f"W{i}"] for i in range(n)]]
    y = inner.read_outputs(state[:, [col[s] for s in inner.species_names]])
    want = 0.7 * w * (y * w.sum(1, keepdims=True) - (w * y).sum(1, keepdims=True))
    np.testing.assert_allclose(f[:, [col[f"W{i}"] for i in range(n)]], want, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(f[:, [col[f"W{i}"] for i in range(n)]].sum(1), 0, atol=1e-12)


@pytest.mark.parametrize("scheme", [SmoothReLUScheme(1e-3), DualRail()], ids=["smooth", "dual_rail"])
def test_steady_state_is_one_hot_argmax(scheme):
    for seed in range(2):
        s = stack(seed, [3, 5, 4], integer=isinstance(scheme, DualRail))
        net = with_argmax(scheme.build(s))
        x = np.random.default_rng(seed).uniform(0, 2, size=(10, 3))
        ss = steady_state(net, x, atol=1e-14, rtol=1e-12)
        np.testing.assert_allclose(ss.outputs, argmax_map(scheme.forward(s, x)), atol=1e-8)


def test_bad_arguments():
    one = SmoothReLUScheme().build(stack(0, [2, 1]))
    with pytest.raises(_errors.NetworkError, match=r"at least 2 readouts.*threshold it"):
        with_argmax(one)
    two = SmoothReLUScheme().build(stack(0, [2, 2]))
    with pytest.raises(_errors.NetworkError, match="prefix"):
        with_argmax(two, prefix="X")
    with pytest.raises(_errors.InputError, match="rate is -1"):
        with_argmax(two, rate=-1)


@pytest.mark.parametrize("rate", ["a", "2", None, True, float("nan"), float("inf"), 0, np.complex128(2)])
def test_rate_must_be_a_positive_finite_number(rate):
    two = SmoothReLUScheme().build(stack(0, [2, 2]))
    with pytest.raises(_errors.InputError, match=r"rate is .*finite number > 0"):
        with_argmax(two, rate=rate)


@pytest.mark.parametrize("prefix", ["", "1a", "W-", None, "Ä"])
def test_prefix_must_make_valid_species_names(prefix):
    two = SmoothReLUScheme().build(stack(0, [2, 2]))
    with pytest.raises(_errors.InputError, match=r"prefix .* valid species names.*prefix='W'"):
        with_argmax(two, prefix=prefix)
    assert with_argmax(two, prefix="share_").outputs == two.outputs


def test_network_argument_must_be_a_network():
    model = torch.nn.Linear(2, 2)
    with pytest.raises(_errors.InputError, match=r"with_argmax .*got Linear.*compile_network"):
        with_argmax(model)


def digits_model():
    d = load_digits()
    xtr, xte, ytr, _ = train_test_split(d.data / 16, d.target, test_size=0.2, random_state=0,
                                        stratify=d.target)  # fmt: skip
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 24), SmoothReLUModule(1e-2),
                                torch.nn.Linear(24, 10)).double()  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    for _ in range(150):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(torch.tensor(xtr)), torch.tensor(ytr)).backward()
        opt.step()
    nn_class = model(torch.tensor(xte)).detach().numpy().argmax(1)
    return with_argmax(compile_network(model)), xte, nn_class


def test_digits_argmax_agrees_with_network():
    net, xte, nn_class = digits_model()
    ss = steady_state(net, xte)
    agree = np.mean(ss.outputs.argmax(1) == nn_class)
    print(f"digits argmax stage: agreement {agree:.4f} on {len(xte)} test inputs; min winner "
          f"share {ss.outputs.max(1).min():.6f}")  # fmt: skip
    assert agree >= 0.995
    assert ss.outputs.max(1).min() > 0.999


@pytest.mark.slow
def test_digits_argmax_read_from_trajectory():
    # before the steady state too: the share ranking follows the time-integrated outputs
    net, xte, nn_class = digits_model()
    traj = integrate(net, xte[:60], [20.0, 200.0])
    early = np.mean(traj.outputs[:, -1].argmax(1) == nn_class[:60])
    print(f"digits argmax stage read at t=200: agreement {early:.4f} on 60 test inputs")
    assert early >= 0.95
