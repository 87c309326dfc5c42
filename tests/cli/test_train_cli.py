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
                 "--times", "0.01,1,1000", "--out", str(d)])  # fmt: skip
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


def _gene_table(path, n=400, seed=7):
    """A 10-feature, 4-class table with narrow feature ranges (7.0 +- ~0.3), like expression data."""
    from sklearn.datasets import make_classification

    X, y = make_classification(n_samples=n, n_features=10, n_informative=6, n_redundant=2,
                               n_classes=4, n_clusters_per_class=1, class_sep=1.5,
                               random_state=seed)  # fmt: skip
    X = 7.0 + 0.08 * X
    rows = "\n".join(",".join([*(f"{v:.5f}" for v in x), f"type{c}"]) for x, c in zip(X, y, strict=True))
    path.write_text(",".join(f"g{i}" for i in range(10)) + ",label\n" + rows + "\n")
    return path


def _table_value(out: str, label: str) -> float:
    row = next(line for line in out.splitlines() if label in line)
    return float(row.split("│")[-2])


def test_train_ternary_qat_dual_rail_end_to_end(tmp_path, capsys):
    """The path that was at chance: ternary + QAT + dual-rail on narrow-range features, then
    `simulate` on the written network reproduces the reported CRN accuracy."""
    csv = _gene_table(tmp_path / "genes.csv")
    out = tmp_path / "out"
    code = main(["train", "--csv", str(csv), "--target", "label", "--hidden", "8", "--epochs",
                 "150", "--discretize", "ternary", "--qat", "--qat-epochs", "150", "--scheme",
                 "dual-rail", "--out", str(out)])  # fmt: skip
    assert code == 0
    text = capsys.readouterr().out
    float_acc = _table_value(text, "float NN test accuracy")
    crn_acc = _table_value(text, "CRN test accuracy")
    assert _table_value(text, "NN/CRN agreement") == 1.0
    assert _table_value(text, "test inputs converged") == 100
    assert crn_acc >= 0.7 and crn_acc >= float_acc - 0.08  # chance is 0.25
    assert "warning" not in text
    net = ReactionNetwork.load(out / "network.json")
    assert net.metadata["scheme"]["name"] == "dual_rail"
    assert all(c == 1 for r in net.reactions for c in r.products.values() if c)  # ternary units
    sim = tmp_path / "sim.csv"
    assert main(["simulate", str(out / "network.json"), "--inputs", str(out / "test_inputs.csv"),
                 "-o", str(sim)]) == 0  # fmt: skip
    header = sim.read_text().splitlines()[0].split(",")
    assert header[:5] == ["type0", "type1", "type2", "type3", "predicted"]
    predicted = [line.split(",")[4] for line in sim.read_text().splitlines()[1:]]
    labels = (out / "test_labels.csv").read_text().splitlines()[1:]
    assert np.mean(np.array(predicted) == np.array(labels)) == pytest.approx(crn_acc, abs=1e-4)
    # `compile --scheme dual-rail` on the written model gives the same network
    again = tmp_path / "again.json"
    assert main(["compile", str(out / "model.json"), "--scheme", "dual-rail", "-o", str(again)]) == 0
    assert ReactionNetwork.load(again).reactions == net.reactions
    # a ReLU model is also written as ONNX (Gemm + Relu), with the input map in its metadata
    from onnx.reference import ReferenceEvaluator

    from nncrn.cli._models import load_model

    from_onnx = tmp_path / "from_onnx.json"
    assert main(["compile", str(out / "model.onnx"), "-o", str(from_onnx)]) == 0
    onnx_net = ReactionNetwork.load(from_onnx)
    assert onnx_net.reactions == net.reactions and onnx_net.species == net.species
    model, meta = load_model(out / "model.json")
    x = np.loadtxt(out / "test_inputs.csv", delimiter=",", skiprows=1) * np.array(meta["input_scale"])
    onnx_out = ReferenceEvaluator(str(out / "model.onnx")).run(None, {"input": x})[0]
    with torch.no_grad():
        np.testing.assert_allclose(onnx_out, model(torch.tensor(x)).numpy(), atol=1e-12)


def test_report_warns_when_predictions_are_one_class():
    from nncrn.cli._pipeline import Report, _accuracy_row

    report = Report()
    y = np.array([0, 0, 0, 1, 2, 2])
    _accuracy_row(report, "a", "CRN test accuracy", np.zeros(6, int), y, 0.5, 3)
    _accuracy_row(report, "b", "NN test accuracy", np.array([0, 0, 1, 2, 1, 1]), y, 0.5, 3)
    _accuracy_row(report, "c", "other", y, y, 0.5, 3)
    assert len(report.warnings) == 2
    assert "one class" in report.warnings[0] and "majority-class rate 0.5000" in report.warnings[0]
    assert "at or below the majority-class rate" in report.warnings[1]
    # rows without an answer (-1, not converged) are no class: not "one class" but low accuracy
    _accuracy_row(report, "d", "CRN", np.full(6, -1), y, 0.5, 3)
    assert "one class" not in report.warnings[-1] and "majority" in report.warnings[-1]


def test_train_test_size_zero_tests_on_training_rows(iris_csv, tmp_path, capsys):
    code = main(["train", "--csv", str(iris_csv), "--target", "species", "--hidden", "4",
                 "--epochs", "5", "--test-size", "0", "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    assert _table_value(out, "training rows (--test-size 0) simulated") == 150


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
        (["--discretize", "binary", "--bits", "3"], "drop --bits 3"),
        (["--scheme", "dual-rail"], "--discretize ternary"),
        (["--scheme", "dual-rail", "--bits", "3"], "--discretize exponential are not"),
        (["--test-size", "1"], "--test-size"),
        (["--quantize-biases"], "--quantize-biases needs"),
    ],
)
def test_train_cli_bad_discretization(iris_csv, tmp_path, capsys, extra, match):
    code = main(["train", "--csv", str(iris_csv), "--target", "species", "--out", str(tmp_path),
                 *extra])  # fmt: skip
    assert code == 2
    assert match in capsys.readouterr().err


def test_fit_cli_writes_the_best_epoch_and_warns_when_worse(files, capsys):
    d, *_ = files
    code = main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "--epochs", "5",
                 "--lr", "3", "--validation", "0", "-o", str(d / "fit.json")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    given = float(next(x for x in out.splitlines() if "loss of the network given" in x).split("│")[-2])
    written = float(next(x for x in out.splitlines() if "loss of the written network" in x).split("│")[-2])
    assert written <= given + 1e-4  # the best epoch (possibly the start), not the last
    assert "epoch written (best training loss)" in out
    code = main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "--epochs", "2",
                 "--max-levels", "1", "-o", str(d / "fit1.json")])  # fmt: skip
    assert code == 0
    assert "worse than the one given" in capsys.readouterr().out  # one rate level ruins it


def test_fit_cli_koopman_reports_jumps_and_evaluations(files, capsys, monkeypatch):
    # --koopman on `nncrn fit`: the table says how many jumps were kept and how many
    # steady-state evaluations the training took; both agree with the library's history.
    from nncrn.train import Koopman, fit

    monkeypatch.setenv("COLUMNS", "250")
    d, net, X, y = files
    args = ["--epochs", "40", "--lr", "0.05", "--validation", "0", "--seed", "0"]
    code = main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), *args, "--koopman",
                 "--koopman-window", "10", "--koopman-horizon", "20", "--koopman-rank", "1",
                 "-o", str(d / "k.json")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    _, hist = fit(net, X, y, epochs=40, lr=0.05, validation=0.0, rng=0,
                  accelerate=Koopman(window=10, horizon=20, rank=1))  # fmt: skip
    assert len(hist.jumps) >= 1
    kept = next(line for line in out.splitlines() if "Koopman jumps kept" in line)
    assert f"{sum(j.accepted for j in hist.jumps)} of {len(hist.jumps)} (20 steps each)" in kept
    evals = next(line for line in out.splitlines() if "steady-state evaluations" in line)
    assert int(evals.split("│")[-2]) == hist.evaluations
    # the settings need --koopman
    assert main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "--koopman-rank",
                 "3", "-o", str(d / "k2.json")]) == 2  # fmt: skip
    assert "needs --koopman" in capsys.readouterr().err
