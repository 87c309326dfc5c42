"""nncrn.data: datasets, scaling kept as the input map, training and discretization."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn import InputError, compile_network
from nncrn.compile import DualRail
from nncrn.data import (
    DATASETS,
    Discretization,
    MinMaxScaling,
    build_mlp,
    discretize_mlp,
    fold_offset,
    load_dataset,
    train_mlp,
)
from nncrn.simulate import steady_state


def _predict(model, X):
    with torch.no_grad():
        return model(torch.as_tensor(X)).numpy()


@pytest.mark.parametrize("name", DATASETS)
def test_datasets_load_without_download(name):
    ds = load_dataset(name)
    assert ds.X.shape[0] == ds.y.shape[0] and ds.X.shape[1] == len(ds.feature_names)
    assert set(np.unique(ds.y)) == set(range(len(ds.classes)))
    assert 0 < ds.majority_rate < 1


def test_generated_pattern_is_seeded():
    a, b = load_dataset("moons", seed=1), load_dataset("moons", seed=1)
    assert np.array_equal(a.X, b.X) and not np.array_equal(a.X, load_dataset("moons").X)
    with pytest.raises(InputError, match="n_samples"):
        load_dataset("circles", n_samples=2)
    with pytest.raises(InputError, match="unknown dataset"):
        load_dataset("mnist")


@pytest.fixture(scope="module")
def wine():
    """Wine: features from ~0.1 to ~1,680, the case where folding the scaling broke levels."""
    ds = load_dataset("wine")
    scaling = MinMaxScaling.fit(ds.X)
    model = train_mlp(build_mlp((13, 8, 3), "relu", seed=0), scaling.transform(ds.X), ds.y,
                      epochs=60, lr=1e-2, seed=0)  # fmt: skip
    return ds, scaling, model


def test_fold_offset_keeps_weights_and_reads_scaled_features(wine):
    ds, scaling, model = wine
    folded = fold_offset(model, scaling.low, scaling.input_scale)
    np.testing.assert_allclose(_predict(folded, ds.X * scaling.input_scale),
                               _predict(model, scaling.transform(ds.X)), atol=1e-12)  # fmt: skip
    assert torch.equal(folded[0].weight, model[0].weight)


def test_qat_keeps_biases_real_and_weights_on_ternary_levels(wine):
    ds, scaling, model = wine
    A = scaling.transform(ds.X)
    q = discretize_mlp(model, A, ds.y, Discretization("ternary", qat=True, qat_epochs=60))
    for layer in (q[0], q[2]):
        mags = np.unique(np.abs(layer.weight.detach().numpy()))
        assert (mags.size <= 2 and mags[0] == 0) or mags.size == 1  # {0, alpha} or {alpha}
        assert np.unique(np.abs(layer.bias.detach().numpy())).size > 2  # trained, not rounded
    float_acc = (_predict(model, A).argmax(1) == ds.y).mean()
    assert (_predict(q, A).argmax(1) == ds.y).mean() >= float_acc - 0.03
    both = discretize_mlp(model, A, ds.y, Discretization("ternary", qat=True, qat_epochs=5,
                                                           biases=True))  # fmt: skip
    assert np.unique(np.abs(both[0].bias.detach().numpy())).size <= 2


def test_dual_rail_network_reads_raw_features_with_ternary_coefficients(wine):
    """The compiled network takes features in their own units; its coefficients are the levels."""
    ds, scaling, model = wine
    A = scaling.transform(ds.X)
    q = discretize_mlp(model, A, ds.y, Discretization("ternary", qat=True, qat_epochs=60))
    deployed = fold_offset(q, scaling.low, scaling.input_scale)
    net = compile_network(deployed, scheme=DualRail(rescale=True), input_scale=scaling.input_scale)
    coeffs = {c for r in net.reactions for c in (*r.reactants.values(), *r.products.values())}
    assert coeffs == {1}  # ternary: every fan-out coefficient is one unit
    rows = np.arange(0, len(ds.X), 6)
    ss = steady_state(net, ds.X[rows])
    assert ss.converged.all()
    nn = _predict(deployed, ds.X[rows] * scaling.input_scale)
    np.testing.assert_allclose(ss.outputs * net.metadata["output_scale"], nn, atol=1e-5)


def test_discretization_validates_its_settings():
    assert Discretization("binary", bits=7).bits == 1
    assert not Discretization("exponential", bits=3).integer_levels
    with pytest.raises(InputError, match="choose one of"):
        Discretization("octal")
    with pytest.raises(InputError, match="qat_epochs"):
        Discretization("ternary", qat_epochs=0)


def test_build_mlp_refuses_a_size_it_cannot_allocate():
    with pytest.raises(InputError, match="parameters"):
        build_mlp((4, 100_000_000, 3))


def test_load_csv_reads_a_classification_table(tmp_path):
    from nncrn.data import load_csv

    path = tmp_path / "t.csv"
    path.write_text("a,b,kind\n1.5,2,x\n0.5,-1,y\n2,0,x\n")
    ds = load_csv(path, "kind")
    assert ds.classes == ["x", "y"] and ds.feature_names == ["a", "b"]
    np.testing.assert_array_equal(ds.y, [0, 1, 0])
    np.testing.assert_array_equal(ds.X, [[1.5, 2], [0.5, -1], [2, 0]])
    path.write_text("a,kind\n1,x\nfoo,y\n")
    with pytest.raises(InputError, match=r"non-numeric value 'foo' in data row 2 \(line 3\)"):
        load_csv(path, "kind")
    with pytest.raises(InputError, match="no column named 'label'"):
        load_csv(path, "label")


@pytest.mark.parametrize("sep, name", [(";", "semicolons"), ("\t", "tabs")])
def test_a_table_separated_by_another_character_says_so(tmp_path, sep, name):
    from nncrn import FormatError
    from nncrn.data import read_table

    path = tmp_path / "t.csv"
    path.write_text(sep.join(["a", "b", "label"]) + "\n" + sep.join(["1", "2", "x"]) + "\n")
    with pytest.raises(FormatError, match=f"separated by {name}.*comma-separated"):
        read_table(path)
    path.write_text("a;b\n1\n")  # one column whose name holds ';' but rows without it: fine
    assert read_table(path) == (["a;b"], [["1"]])


def test_a_continuous_numeric_target_is_named_a_regression_target(tmp_path):
    from sklearn.datasets import load_diabetes

    from nncrn.data import load_csv

    d = load_diabetes()
    path = tmp_path / "diabetes.csv"
    rows = [",".join(map(repr, [*x.tolist(), float(y)])) for x, y in zip(d.data, d.target, strict=True)]
    path.write_text(",".join([*d.feature_names, "y"]) + "\n" + "\n".join(rows) + "\n")
    with pytest.raises(InputError, match=r"214 distinct numbers in 442 rows.*regression target"
                                         r".*CRNRegressor"):  # fmt: skip
        load_csv(path, "y")
    # many integer classes, each seen at least twice, are still classes
    path.write_text("u,c\n" + "\n".join(f"{i},{i % 25}" for i in range(100)) + "\n")
    assert len(load_csv(path, "c").classes) == 25
