"""fit: same loss curve as torch training, gradients of the simulated steady state, constraints."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from nncrn import InputError, NetworkError
from nncrn.compile import compile_network
from nncrn.network import Reaction, ReactionNetwork, Readout, Species
from nncrn.simulate import fixed_point, steady_state
from nncrn.train import Constraints, extract_terms, fit

from .conftest import with_feedback


def test_fit_matches_torch_training_of_the_smooth_relu_model(compiled, data):
    model, net = compiled
    X, y = data
    new, hist = fit(net, X, y, epochs=25, lr=0.05, constraints=Constraints.none())
    ref = copy.deepcopy(model)
    opt = torch.optim.Adam(ref.parameters(), lr=0.05)
    curve = []
    for _ in range(25):
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(ref(torch.from_numpy(X)), torch.from_numpy(y))
        loss.backward()
        opt.step()
        curve.append(loss.item())
    assert hist.gradient == "layered"
    assert curve[-1] < 0.8 * curve[0]  # the curve is not flat: training did something
    np.testing.assert_allclose(hist.loss, curve, rtol=1e-6, atol=0)
    # The returned network is the trained torch model, compiled.
    np.testing.assert_allclose(
        fixed_point(new, X).outputs,
        fixed_point(compile_network(ref), X).outputs,
        rtol=1e-9,
        atol=1e-12,
    )


def _sgd_step_vs_fd(net, X, target, idx, sim, **kw):
    """One full-batch SGD step of fit equals -lr * finite-difference gradient (indices idx)."""
    terms = extract_terms(net)
    lr = 1e-3
    new, _ = fit(net, X, target, loss="mse", epochs=1, optimizer="sgd", lr=lr,
                 constraints=Constraints.none(), **kw)  # fmt: skip
    step = (extract_terms(new).weights - terms.weights) / -lr

    def loss(w):
        return float(np.mean((sim(terms.rebuild(w), X) - target) ** 2))

    fd = []
    for i in idx:
        h = 1e-4 * max(abs(terms.weights[i]), 1e-2)
        vals = []
        for k in (-2, -1, 1, 2):
            w = terms.weights.copy()
            w[i] += k * h
            vals.append(loss(w))
        fd.append((vals[0] - 8 * vals[1] + 8 * vals[2] - vals[3]) / (12 * h))
    fd = np.array(fd)
    np.testing.assert_allclose(step[idx], fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())
    return terms


def test_fit_sgd_step_is_the_steady_state_gradient_smooth_relu(compiled, data):
    _, net = compiled
    X = data[0][:12]
    target = np.random.default_rng(2).standard_normal((12, 3))
    n = extract_terms(net).n_terms
    _sgd_step_vs_fd(net, X, target, np.arange(n), lambda nw, x: fixed_point(nw, x).outputs)


def test_fit_sgd_step_is_the_ift_gradient_without_closed_form(compiled, data):
    net = with_feedback(compiled[1])
    X = data[0][:6]
    target = np.random.default_rng(3).standard_normal((6, 3))
    terms = extract_terms(net)
    # Every weight into hidden neuron 0 (the one fed back on), an output weight, the feedback.
    idx = [i for i, lab in enumerate(terms.labels)
           if (lab.startswith("layer 1") and "[0," in lab) or lab.endswith("b[0]")][:6]  # fmt: skip
    idx += [terms.labels.index("feedback"), terms.n_terms - 2]

    def sim(nw, x):
        return steady_state(nw, x, atol=1e-14, rtol=1e-13).outputs

    _sgd_step_vs_fd(net, X, target, np.array(idx), sim, gradient="implicit")


def test_implicit_fit_trains_a_network_without_closed_form(compiled, data):
    net = with_feedback(compiled[1])
    X, y = data
    new, hist = fit(net, X[:20], y[:20], epochs=8, lr=0.05)
    assert hist.gradient == "implicit"
    assert hist.loss[-1] < hist.loss[0] - 0.05
    assert any(r.label == "feedback" for r in new.reactions)


def test_rates_stay_inside_the_realizable_range(compiled, data):
    _, net = compiled
    X, y = data
    c = Constraints(k_min=0.05, k_max=0.4)
    new, _ = fit(net, X, y, epochs=40, lr=0.1, constraints=c)
    trained = extract_terms(new).weights
    assert np.all((np.abs(trained) >= 0.05) & (np.abs(trained) <= 0.4))
    # Both bounds are reached (the constraint is active), to within the clamp's smoothness.
    assert np.abs(trained).min() < 0.051 and np.abs(trained).max() > 0.39
    fixed = [new.reactions[j].rate for j in extract_terms(new).fixed]
    assert sorted(set(fixed)) == [0.01, 1.0]  # leaks, saturations, decays: untouched


def test_parametrisation_inverts_exactly_inside_the_range():
    c = Constraints()
    w = np.array([-900.0, -0.3, 2e-3, 0.7, 15.0, 999.0])
    back = c.weights(torch.from_numpy(c.latents(w))).numpy()
    np.testing.assert_allclose(back, w, rtol=1e-9)


def _one_weight_network(w: float) -> ReactionNetwork:
    species = [Species("X0", role="input"), Species("Yp", role="output"),
               Species("Yn", role="output")]  # fmt: skip
    kind = {"Yp": 1} if w > 0 else {"Yn": 1}
    reactions = [
        Reaction({"X0": 1}, {"X0": 1, **kind}, abs(w), "weight"),
        Reaction({"Yp": 1}, {}, 1.0, "decay p"),
        Reaction({"Yn": 1}, {}, 1.0, "decay n"),
    ]
    return ReactionNetwork(species, reactions, [Readout("y0", "Yp", "Yn")])


def test_a_weight_changing_sign_moves_to_the_other_reaction():
    net = _one_weight_network(0.5)
    X = np.linspace(0.0, 1.0, 11)[:, None]
    new, _ = fit(net, X, -0.8 * X, loss="mse", epochs=300, lr=0.02)
    weight = [r for r in new.reactions if r.label == "weight"]
    assert len(weight) == 1 and weight[0].products == {"X0": 1, "Yn": 1}
    assert weight[0].rate == pytest.approx(0.8, rel=1e-3)
    np.testing.assert_allclose(fixed_point(new, X).outputs, -0.8 * X, atol=1e-3)


def test_l1_removes_reactions_and_levels_are_capped(compiled, data):
    _, net = compiled
    X, y = data
    sparse, hist = fit(
        net, X, y, epochs=60, lr=0.05, constraints=Constraints(l1=0.02, prune_below=0.02)
    )
    assert hist.n_pruned > 5
    assert sparse.n_reactions == net.n_reactions - hist.n_pruned
    capped, _ = fit(net, X, y, epochs=10, lr=0.05, constraints=Constraints(max_levels=4))
    mags = np.unique(np.abs(extract_terms(capped).weights))
    assert mags.size == 4


def test_fit_is_reproducible_given_rng(compiled, data):
    _, net = compiled
    X, y = data
    a, ha = fit(net, X, y, epochs=3, batch_size=8, rng=5)
    b, hb = fit(net, X, y, epochs=3, batch_size=8, rng=np.random.default_rng(5))
    c, _ = fit(net, X, y, epochs=3, batch_size=8, rng=6)
    assert a == b
    np.testing.assert_array_equal(ha.step_loss, hb.step_loss)
    assert a != c


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"y": np.zeros((40, 1), dtype=int)}, r"shape \(40, 1\).*y.ravel"),
        ({"y": np.array(["a"] * 40)}, "map class names to indices"),
        ({"y": np.full(40, 3)}, r"class indices must lie in \[0, 2\]"),
        ({"X": np.zeros((0, 4)), "y": np.zeros(0, dtype=int)}, "non-empty"),
        ({"X": [["a"] * 4] * 40}, "numeric"),
        ({"loss": "hinge"}, "choose one of"),
        ({"lr": -1.0}, "learning rate"),
        ({"epochs": 0}, "epochs=0"),
    ],
)
def test_fit_rejects_bad_input(compiled, data, kwargs, match):
    args = {"X": data[0], "y": data[1], **kwargs}
    X, y = args.pop("X"), args.pop("y")
    with pytest.raises(InputError, match=match):
        fit(compiled[1], X, y, **args)


def test_layered_gradient_on_a_feedback_network_names_the_fix(compiled, data):
    with pytest.raises(NetworkError, match="use gradient='implicit'"):
        fit(with_feedback(compiled[1]), data[0], data[1], gradient="layered")


def test_constraints_reject_an_empty_range():
    with pytest.raises(InputError, match="k_min must be < k_max"):
        Constraints(k_min=1.0, k_max=1.0)
    with pytest.raises(InputError, match="max_levels"):
        Constraints(max_levels=0)
