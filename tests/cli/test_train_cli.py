"""``nncrn fit``, ``nncrn robustness`` and ``nncrn train --bits``: tables, files, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from nncrn.cli import main
from nncrn.compile import compile_network
from nncrn.network import ReactionNetwork
from nncrn.nn import SmoothReLU
from nncrn.simulate import fixed_point
from nncrn.train import extract_terms

from ._data import write_task


@pytest.fixture
def files(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 4), SmoothReLU(0.01), torch.nn.Linear(4, 2))
    net = compile_network(model.double())
    net.save(tmp_path / "net.json")
    X, y = write_task(tmp_path)
    (tmp_path / "y.csv").write_text("label\n" + "\n".join(str(c) for c in y) + "\n")
    return tmp_path, net, X, y


def test_fit_cli_trains_and_reports_rates(files, capsys):
    d, net, X, y = files
    code = main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "--epochs", "60",
                 "--lr", "0.05", "--k-min", "0.01", "--k-max", "10", "-o", str(d / "fit.json"),
                 "--plot", str(d / "fit.png")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    trained = ReactionNetwork.load(d / "fit.json")
    acc = float((fixed_point(trained, X).outputs.argmax(1) == y).mean())
    row = next(line for line in out.splitlines() if "accuracy after" in line)
    assert float(row.split("│")[-2]) == pytest.approx(acc, abs=1e-4)
    assert acc > float((fixed_point(net, X).outputs.argmax(1) == y).mean())
    assert acc >= 0.9
    w = np.abs(extract_terms(trained).weights)
    assert w.min() >= 0.01 and w.max() <= 10
    rates = trained.stoichiometry.rates
    assert f"{np.unique(rates).size}" in next(x for x in out.splitlines() if "distinct rate" in x)
    assert "decades" in out
    assert (d / "fit.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--k-min", "5", "--k-max", "1"], "k_min must be < k_max"),
        (["--target", "cls"], "no column named 'cls'"),
        (["--epochs", "0"], "epochs=0"),
    ],
)
def test_fit_cli_bad_input(files, capsys, extra, match):
    d, *_ = files
    code = main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "-o",
                 str(d / "o.json"), *extra])  # fmt: skip
    assert code == 2
    assert match in capsys.readouterr().err
    assert not (d / "o.json").exists()


def test_fit_cli_rejects_labels_out_of_range(files, capsys):
    d, *_ = files
    text = (d / "train.csv").read_text().replace(",1\n", ",7\n", 1)
    (d / "bad.csv").write_text(text)
    code = main(["fit", str(d / "net.json"), "--csv", str(d / "bad.csv"), "-o", str(d / "o.json")])
    assert code == 2
    assert "'7'" in capsys.readouterr().err


def test_robustness_cli_table_plot_and_json(files, capsys):
    d, net, X, y = files
    code = main(["robustness", str(d / "net.json"), "--inputs", str(d / "X.csv"), "--labels",
                 str(d / "y.csv"), "--sigma", "0,0.3,1.0", "--draws", "16",
                 "--times", "0.01,1,1000", "-o", str(d)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "agreement" in out and "early readout" in out
    s = json.loads((d / "robustness.json").read_text())
    assert s["sigmas"] == [0.0, 0.3, 1.0] and s["method"] == "layered"
    assert np.all(np.array(s["agreement"][0]) == 1.0)
    clean = float((fixed_point(net, X).outputs.argmax(1) == y).mean())
    assert s["clean_accuracy"] == pytest.approx(clean)
    assert s["early_agreement"][-1] == 1.0
    assert (d / "robustness.png").read_bytes()[:4] == b"\x89PNG"


def test_robustness_cli_bad_sigma(files, capsys):
    d, *_ = files
    code = main(
        ["robustness", str(d / "net.json"), "--inputs", str(d / "X.csv"), "--sigma", "0.1,x"]
    )
    assert code == 2
    assert "--sigma" in capsys.readouterr().err


@pytest.fixture(scope="module")
def iris_csv(tmp_path_factory):
    from sklearn.datasets import load_iris

    d = tmp_path_factory.mktemp("iris")
    X, y = load_iris(return_X_y=True)
    rows = "\n".join(",".join([*(f"{v:g}" for v in x), f"c{c}"]) for x, c in zip(X, y, strict=True))
    (d / "iris.csv").write_text("a,b,c,d,species\n" + rows + "\n")
    return d / "iris.csv"


@pytest.mark.parametrize(
    ("method", "qat", "floor"), [("exponential", True, 0.95), ("linear", False, 0.75)]
)
def test_train_mlp_discretizes_the_deployed_weights(method, qat, floor):
    from sklearn.datasets import load_iris

    from nncrn.cli._pipeline import train_mlp

    X, y = load_iris(return_X_y=True)
    model = train_mlp(X, y, 3, (8,), 1e-3, 80, 0, quantize=(3, method, qat))
    for layer in (model[0], model[2]):
        for p in (layer.weight, layer.bias):
            mags = np.unique(np.abs(p.detach().numpy()))
            assert (mags > 0).sum() <= 3  # 2^(3-1) magnitudes, one of them 0
    net = compile_network(model)
    terms = extract_terms(net)
    assert np.unique(np.abs(terms.weights)).size <= 3 * 4  # 3 non-zero levels x 2 layers x (w, b)
    crn = fixed_point(net, X).outputs.argmax(1)
    with torch.no_grad():
        nn = model(torch.from_numpy(X)).argmax(1).numpy()
    assert (crn == nn).all()
    assert (nn == y).mean() > floor


@pytest.mark.slow
def test_train_cli_with_bits_reports_the_discretization(iris_csv, tmp_path, capsys):
    code = main(["train", "--csv", str(iris_csv), "--target", "species", "--hidden", "8",
                 "--epochs", "80", "--bits", "3", "--discretize", "exponential", "--qat",
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert "exponential, 3 bits, QAT" in out
    row = next(line for line in out.splitlines() if "NN/CRN agreement" in line)
    assert float(row.split("│")[-2]) == 1.0
    row = next(line for line in out.splitlines() if "CRN test accuracy" in line)
    assert float(row.split("│")[-2]) > 0.85
    net = ReactionNetwork.load(tmp_path / "network.json")
    assert np.unique(np.abs(extract_terms(net).weights)).size <= 3 * 4


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--bits", "0"], "bits=0"),
        (["--qat"], "--qat needs"),
        (["--discretize", "linear"], "needs --bits"),
    ],
)
def test_train_cli_bad_discretization(iris_csv, tmp_path, capsys, extra, match):
    code = main(["train", "--csv", str(iris_csv), "--target", "species", "--out", str(tmp_path),
                 *extra])  # fmt: skip
    assert code == 2
    assert match in capsys.readouterr().err
