"""scikit-learn MLPs: logits through the dual-rail readout, the ReLU bound, refusals."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning as SkConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor

from nncrn import _errors
from nncrn.compile import DualRail, SmoothReLUScheme, compile_network, layer_stack
from nncrn.simulate import fixed_point

RNG = np.random.default_rng(0)
X = RNG.uniform(0, 1, size=(120, 4))


def fit(model, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SkConvergenceWarning)
        return model.fit(X, y)


def sk_logits(model, x):
    """The MLP's own pre-output-activation values, from its coefficients."""
    h = x
    for k, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        h = h @ w + b
        if k < len(model.coefs_) - 1 and model.activation == "relu":
            h = np.maximum(h, 0)
    return h


def sigma_forward(model, x, eps):
    """The sigma_eps network the chemistry computes (ReLU -> sigma_eps), in plain numpy."""
    h = x
    for k, (w, b) in enumerate(zip(model.coefs_, model.intercepts_, strict=True)):
        z = h @ w + b
        h = z if k == len(model.coefs_) - 1 else (z + np.sqrt(z**2 + 4 * eps)) / 2
    return h


CASES = [
    ("multiclass", lambda: MLPClassifier(hidden_layer_sizes=(6, 5), max_iter=60, random_state=0),
     (X[:, 0] * 3).astype(int)),
    ("binary", lambda: MLPClassifier(hidden_layer_sizes=(5,), max_iter=60, random_state=0),
     np.where(X[:, 1] > 0.5, "yes", "no")),
    ("regressor", lambda: MLPRegressor(hidden_layer_sizes=(7, 3), max_iter=60, random_state=0),
     np.stack([X.sum(1), X[:, 0] - X[:, 2]], axis=1)),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "make", "y"), CASES, ids=[c[0] for c in CASES])
def test_relu_mlp_compiles_with_bound(kind, make, y):
    model = fit(make(), y)
    eps = 1e-3
    with pytest.warns(_errors.NNCRNWarning) as rec:
        net = compile_network(model, scheme=SmoothReLUScheme(eps))
    kinds = sorted(type(w.message).__name__ for w in rec)
    assert kinds == (["ApproximationWarning"] if kind == "regressor" else
                     ["ApproximationWarning", "NNCRNWarning"])  # fmt: skip
    x = RNG.uniform(0, 1, size=(40, 4))
    got = fixed_point(net, x).outputs
    np.testing.assert_allclose(got, sigma_forward(model, x, eps), rtol=1e-10, atol=1e-13)
    logits = sk_logits(model, x)
    if kind == "regressor":
        np.testing.assert_allclose(logits, model.predict(x), rtol=1e-12)
    else:
        assert list(net.metadata["classes"]) == list(model.classes_)
        dropped = net.metadata["dropped"][0]
        assert ("softmax" if kind == "multiclass" else "logistic") in dropped
    if kind == "multiclass":
        p = np.exp(logits - logits.max(1, keepdims=True))
        np.testing.assert_allclose(p / p.sum(1, keepdims=True), model.predict_proba(x), rtol=1e-9)
        assert net.outputs == ("0", "1", "2")
    if kind == "binary":
        assert net.outputs == ("yes",)  # the positive class's logit
        np.testing.assert_array_equal(np.where(logits[:, 0] > 0, "yes", "no"), model.predict(x))
    bound = net.metadata["relu_bound"]
    assert 0 < np.abs(got - logits).max() <= bound
    assert net.metadata["source"] == f"sklearn.neural_network.{type(model).__name__}"


def test_identity_mlp_is_exact():
    model = fit(
        MLPRegressor(hidden_layer_sizes=(3,), activation="identity", max_iter=50, random_state=0),
        X[:, 0],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        net = compile_network(model)
    x = RNG.uniform(0, 1, size=(10, 4))
    np.testing.assert_allclose(fixed_point(net, x).outputs[:, 0], model.predict(x), rtol=1e-10)
    assert net.readout[0].minus == "Y0n"


def test_coefs_are_transposed():
    model = fit(MLPRegressor(hidden_layer_sizes=(3,), max_iter=5, random_state=0), X[:, 0])
    stack = layer_stack(model)
    np.testing.assert_array_equal(stack.layers[0].weight, model.coefs_[0].T)
    assert [layer.activation for layer in stack.layers] == ["relu", "identity"]


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_other_activations_refused(activation):
    model = fit(
        MLPClassifier(hidden_layer_sizes=(3,), activation=activation, max_iter=5), X[:, 0] > 0.5
    )
    with pytest.raises(_errors.UnsupportedModelError, match=f"activation='{activation}'.*relu"):
        compile_network(model)
    # the refusal holds for every scheme, so it must not blame the default one
    with pytest.raises(_errors.UnsupportedModelError, match="no nncrn scheme") as info:
        compile_network(model, scheme=DualRail())
    assert "smooth-ReLU scheme" not in str(info.value)


def test_non_finite_parameters_named_by_their_sklearn_index():
    model = fit(MLPRegressor(hidden_layer_sizes=(5,), max_iter=5, random_state=0), X[:, 0])
    model.coefs_[0][2, 4] = np.nan  # coefs_[0] is (n_in=4, n_hidden=5)
    with pytest.raises(_errors.UnsupportedModelError, match=r"coefs_\[0\]\[2, 4\] is nan"):
        compile_network(model)
    model.coefs_[0][2, 4] = 0.0
    model.intercepts_[1][0] = np.inf
    with pytest.raises(_errors.UnsupportedModelError, match=r"intercepts_\[1\]\[0\] is inf"):
        compile_network(model)


def test_empty_class_label_falls_back_to_numbered_readouts():
    y = np.array(["", "x", "y"])[(X[:, 0] * 3).astype(int)]
    model = fit(MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=0), y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", _errors.NNCRNWarning)
        net = compile_network(model)
    assert net.outputs == ("y0", "y1", "y2")
    assert net.metadata["classes"] == ("", "x", "y")


def test_unfitted_refused():
    with pytest.raises(_errors.UnsupportedModelError, match=r"not fitted.*model\.fit"):
        compile_network(MLPClassifier())
