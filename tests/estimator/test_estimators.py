"""CRNClassifier / CRNRegressor: scikit-learn estimators answered by the chemistry."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import NotFittedError
from sklearn.model_selection import cross_val_score, train_test_split

from nncrn import InputError, NNCRNWarning
from nncrn.data import load_dataset
from nncrn.estimator import CRNClassifier, CRNRegressor
from nncrn.simulate import fixed_point


@pytest.fixture(scope="module")
def wine():
    ds = load_dataset("wine")
    return train_test_split(ds.X, np.array(ds.classes)[ds.y], test_size=0.25, random_state=0,
                            stratify=ds.y)  # fmt: skip


def test_classifier_predicts_with_the_network(wine):
    Xtr, Xte, ytr, yte = wine
    clf = CRNClassifier(hidden=(8,), epochs=100).fit(Xtr, ytr)
    assert list(clf.classes_) == ["class_0", "class_1", "class_2"]
    assert clf.score(Xte, yte) >= 0.9
    # the answers are the network's steady states, which equal the trained model's outputs
    closed = fixed_point(clf.network_, Xte).outputs
    np.testing.assert_allclose(clf.decision_function(Xte), closed, atol=1e-9)
    with torch.no_grad():
        nn = clf.model_(torch.tensor(Xte * clf.scaling_.input_scale)).numpy()
    np.testing.assert_allclose(closed, nn, atol=1e-9)
    proba = clf.predict_proba(Xte)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    assert (clf.classes_[proba.argmax(1)] == clf.predict(Xte)).all()
    again = pickle.loads(pickle.dumps(clf))
    assert again.network_ == clf.network_ and (again.predict(Xte) == clf.predict(Xte)).all()


def test_dual_rail_ternary_classifier_in_cross_validation():
    ds = load_dataset("iris")
    clf = CRNClassifier(hidden=(8,), epochs=100, scheme="dual-rail", discretize="ternary",
                        qat=True, qat_epochs=100)  # fmt: skip
    scores = cross_val_score(clf, ds.X, ds.y, cv=3)
    assert scores.mean() >= 0.85
    net = clf.fit(ds.X, ds.y).network_
    assert net.metadata["scheme"]["name"] == "dual_rail" and len(np.unique(net.stoichiometry.rates)) == 1


def test_binary_problem_has_a_one_column_decision_function():
    ds = load_dataset("moons")
    clf = CRNClassifier(hidden=(8,), epochs=60).fit(ds.X, ds.classes[0] == np.array(ds.classes)[ds.y])
    d = clf.decision_function(ds.X[:5])
    assert d.shape == (5,)
    assert (clf.predict(ds.X[:5]) == clf.classes_[(d > 0).astype(int)]).all()


def test_regressor_outputs_are_the_network_outputs():
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    reg = CRNRegressor(hidden=(16,), epochs=150).fit(X[:300], y[:300])
    assert reg.score(X[300:], y[300:]) > 0.3
    np.testing.assert_allclose(reg.predict(X[300:310]), fixed_point(reg.network_, X[300:310]).outputs[:, 0],
                               rtol=1e-9)  # fmt: skip


def test_errors_name_the_problem(wine):
    Xtr, Xte, ytr, _ = wine
    with pytest.raises(NotFittedError):
        CRNClassifier().predict(Xte)
    with pytest.raises(InputError, match="discretize='ternary'"):
        CRNClassifier(scheme="dual-rail").fit(Xtr, ytr)
    with pytest.raises(InputError, match="1 class"):
        CRNClassifier(epochs=1).fit(Xtr[:5], ["a"] * 5)
    with pytest.raises(ValueError, match="NaN"):
        CRNClassifier(epochs=1).fit(np.where(Xtr > 100, np.nan, Xtr), ytr)
    clf = CRNClassifier(hidden=(4,), epochs=5).fit(Xtr, ytr)
    with pytest.raises(InputError, match="negative"):
        clf.predict(-Xte)  # wine features are >= 0: each is a concentration


def test_features_below_the_compiled_range_are_clipped_with_a_warning():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 2))
    y = (X[:, 0] > 0).astype(int)
    clf = CRNClassifier(hidden=(4,), epochs=20).fit(X, y)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.predict(np.array([[-100.0, 0.0]]))
    assert any(issubclass(w.category, NNCRNWarning) and "clipped" in str(w.message) for w in caught)


@pytest.mark.slow
@pytest.mark.parametrize("estimator", [CRNClassifier(hidden=(8,)), CRNRegressor(hidden=(8,))],
                         ids=["classifier", "regressor"])  # fmt: skip
def test_passes_scikit_learns_estimator_checks(estimator):
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(estimator, on_fail=None)
    failed = [r["check_name"] for r in results if r["status"] == "failed"]
    assert failed == [] and len(results) > 50
