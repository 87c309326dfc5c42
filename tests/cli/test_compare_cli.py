"""``nncrn compare`` and the data-driven rows of ``nncrn info``, on tiny hand-checkable models."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nncrn.cli import main
from nncrn.cli._models import save_model
from nncrn.compile import DualRail, compile_network, layer_stack


def relu_model(w1, b1, w2, b2):
    lin1, lin2 = (
        torch.nn.Linear(len(w1[0]), len(w1)).double(),
        torch.nn.Linear(len(w2[0]), len(w2)).double(),
    )
    with torch.no_grad():
        for lin, w, b in ((lin1, w1, b1), (lin2, w2, b2)):
            lin.weight.copy_(torch.tensor(w, dtype=torch.float64))
            lin.bias.copy_(torch.tensor(b, dtype=torch.float64))
    return torch.nn.Sequential(lin1, torch.nn.ReLU(), lin2)


def row(text: str, label: str) -> list[str]:
    line = next(line for line in text.splitlines() if line.startswith(f"│ {label}"))
    return [c.strip() for c in line.split("│")[2:-1]]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line


@pytest.fixture
def files(tmp_path):
    model = relu_model(
        [[1, -1], [2, 1], [-1, 1]], [0.5, -0.25, 0.1], [[1, -1, 1], [-1, 2, 0]], [0.0, 0.3]
    )
    path = tmp_path / "model.json"
    save_model(path, model, {"eps": 1e-3, "classes": ["a", "b"]})
    x = np.array([[0.2, 1.0], [1.5, 0.1], [0.7, 0.7], [2.0, 0.0]])
    csv = tmp_path / "x.csv"
    csv.write_text("X0,X1\n" + "\n".join(f"{a},{b}" for a, b in x) + "\n")
    return path, csv, model, x


def test_compare_structure_side_by_side(files, capsys):
    path, _, model, _ = files
    assert main(["compare", str(path), "--schemes", "smooth-relu,dual-rail,sigmoid"]) == 0
    text = capsys.readouterr().out
    # smooth: 2 inputs + 3 hidden + 2 dual-rail outputs; dual-rail: 2 + 3 x 5 + 2 x 2;
    # sigmoid: 2 + 3 x 2 (neuron and complement) + 2 x 2
    assert row(text, "species ") == ["9", "21", "12"]
    # dual-rail: 2 input fan-outs + 3 x 2 ReLU + 6 hidden fan-outs (output and debt of each)
    dual = DualRail().build(layer_stack(model))
    assert row(text, "reactions ")[1] == str(dual.n_reactions) == "14"
    assert row(text, "distinct rate constants")[1] == "1"
    assert "rows simulated (converged)" not in text  # no data given


def test_compare_on_data(files, capsys):
    path, csv, *_ = files
    assert main(["compare", str(path), "--schemes", "smooth-relu,dual-rail", "--inputs", str(csv),
                 "--t-max", "300", "--solver", "scipy"]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert row(text, "NN agreement (argmax)") == ["1.0000", "1.0000"]
    assert row(text, "rows simulated (converged)") == ["4 (4)"] * 2
    # the largest concentration is at least the largest input (inputs are species too)
    assert all(float(v) >= 2.0 for v in row(text, "max concentration reached"))


def test_compare_with_argmax_stage(files, capsys):
    path, *_ = files
    assert main(["compare", str(path), "--schemes", "dual-rail", "--argmax"]) == 0
    text = capsys.readouterr().out
    # + W0, W1; + 2 x 1 ordered pairs x 2 (dual-rail readouts: both parts catalyse)
    assert row(text, "species ") == ["23"] and row(text, "reactions ") == ["18"]
    assert row(text, "reactions of molecularity 3") == ["4"]


def test_compare_reports_refusal_and_bad_scheme(tmp_path, capsys):
    model = relu_model([[2**0.5, -1]], [0.0], [[1], [-1]], [0.0, 0.0])  # no common unit
    path = tmp_path / "real.json"
    save_model(path, model, {"eps": 1e-3})
    assert main(["compare", str(path), "--schemes", "dual-rail,smooth-relu"]) == 0
    text = capsys.readouterr().out
    assert "refused" in text and "1.414" in text and "Discretize" in text
    assert row(text, "species ")[1] == "7"  # smooth-relu still compiled: 2 + 1 + 2 x 2
    assert main(["compare", str(path), "--schemes", "magic"]) == 2
    assert "unknown ['magic']" in capsys.readouterr().err


def test_info_max_concentration_and_agreement(tmp_path, capsys):
    # y = relu(2 x + 0.5) read linearly: at x = 1 the copy species H1_0c ends at 2.5
    model = relu_model([[2.0]], [0.5], [[1.0], [-1.0]], [0.0, 0.0])
    mpath, npath = tmp_path / "m.json", tmp_path / "n.json"
    save_model(mpath, model, {"eps": 1e-3})
    compile_network(model, scheme=DualRail()).save(npath)
    csv = tmp_path / "x.csv"
    csv.write_text("X0\n1.0\n0.2\n")
    assert main(["info", str(npath), "--inputs", str(csv), "--model", str(mpath)]) == 0
    text = capsys.readouterr().out
    assert float(row(text, "max concentration reached")[0]) == pytest.approx(2.5, rel=1e-6)
    assert row(text, "NN agreement (argmax)") == ["1.0000"]
    median, worst = (
        float(v) for v in row(text, "time to within 1% of steady state, median / worst")[0].split(" / ")
    )
    assert 0 < median <= worst < 1e3


def test_info_settling_times_are_settling_time(tmp_path, capsys):
    """One definition: info's 'within 1%' times are nncrn.simulate.settling_time's."""
    from nncrn.network import ReactionNetwork
    from nncrn.simulate import settling_time

    model = relu_model([[2.0]], [0.5], [[1.0], [-1.0]], [0.0, 0.0])
    npath = tmp_path / "n.json"
    compile_network(model).save(npath)
    csv = tmp_path / "x.csv"
    csv.write_text("X0\n1.0\n0.2\n")
    assert main(["info", str(npath), "--inputs", str(csv)]) == 0
    text = capsys.readouterr().out
    median, worst = (float(v) for v in
                     row(text, "time to within 1% of steady state, median / worst")[0].split(" / "))  # fmt: skip
    want = settling_time(ReactionNetwork.load(npath), np.array([[1.0], [0.2]]), rtol=0.01)
    assert worst == pytest.approx(want.max(), rel=1e-3)
    assert median == pytest.approx(np.median(want), rel=1e-3)


def test_info_on_dual_input_network_reads_either_column_layout(tmp_path, capsys):
    model = relu_model([[1.0, -1.0]], [0.0], [[1.0], [-1.0]], [0.0, 0.0])
    mpath, npath = tmp_path / "m.json", tmp_path / "n.json"
    save_model(mpath, model, {"eps": 1e-3})
    compile_network(model, scheme=DualRail(dual_inputs=True)).save(npath)
    # x = (-1, -2.5) as dual-rail columns: y0 = relu(-1 + 2.5) = 1.5 = -y1; x = (3, 1): y0 = 2
    csv = tmp_path / "x.csv"
    csv.write_text("X0p,X0n,X1p,X1n\n0,1,0,2.5\n3,0,1,0\n")
    assert main(["info", str(npath), "--inputs", str(csv), "--model", str(mpath)]) == 0
    text = capsys.readouterr().out
    assert row(text, "NN agreement (argmax)") == ["1.0000"]
    # largest: the copy species of the hidden neuron at x = (3, 1), 3 (its positive part)
    assert float(row(text, "max concentration reached")[0]) == pytest.approx(3.0, rel=1e-6)


def test_compare_accuracy_from_labels_and_times_only_when_asked(files, tmp_path, capsys):
    path, csv, model, x = files
    with torch.no_grad():
        pred = model(torch.tensor(x)).argmax(1).numpy()
    labels = tmp_path / "y.csv"
    truth = pred.copy()
    truth[0] = 1 - truth[0]  # one wrong label: accuracy 3/4 for every exact scheme
    labels.write_text("label\n" + "\n".join("ab"[c] for c in truth) + "\n")
    out = tmp_path / "nets"
    assert main(["compare", str(path), "--schemes", "smooth-relu,dual-rail", "--inputs", str(csv),
                 "--labels", str(labels), "--out", str(out)]) == 0  # fmt: skip
    text = capsys.readouterr().out
    assert row(text, "accuracy (labels)") == ["0.7500", "0.7500"]
    assert row(text, "NN agreement (argmax)") == ["1.0000", "1.0000"]
    assert "steady state, median" not in text  # no trajectories without --times
    assert (out / "dual-rail.json").exists() and (out / "smooth-relu.json").exists()
    assert main(["compare", str(path), "--schemes", "dual-rail", "--inputs", str(csv),
                 "--times"]) == 0  # fmt: skip
    assert "time to within 1% of steady state" in capsys.readouterr().out


def test_compare_labels_need_inputs(files, tmp_path, capsys):
    path, *_ = files
    assert main(["compare", str(path), "--dataset", "iris", "--labels", str(tmp_path / "y.csv")]) == 2
    assert "--labels go with --inputs" in capsys.readouterr().err


def test_info_json_is_one_object_with_the_table_numbers(files, tmp_path, capsys):
    import json

    path, csv, *_ = files
    net_path = tmp_path / "net.json"
    assert main(["compile", str(path), "-o", str(net_path)]) == 0
    capsys.readouterr()
    assert main(["info", str(net_path), "--json", "--inputs", str(csv), "--model", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["species"] == 9 and doc["inputs"] == ["X0", "X1"]
    assert doc["chemistry"]["rows"] == 4 and doc["chemistry"]["agreement"] == 1.0
    assert doc["torch_steady_path"] == "sweep"
