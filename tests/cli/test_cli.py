"""The command-line interface, run in-process."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re

import numpy as np
import pytest

from nncrn.cli import main
from nncrn.network import ReactionNetwork


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["demo", "--dataset", "iris", "--epochs", "40", "--seed", "1", "--out", str(out)])
    assert code == 0
    return out, buf.getvalue()


@pytest.fixture(scope="module")
def demo_dir(demo_run):
    return demo_run[0]


def _row(text: str, label: str) -> float:
    line = next(line for line in text.splitlines() if label in line)
    return float(line.split("│")[-2])


def test_demo_on_iris_writes_network_model_and_plot(demo_dir):
    net = ReactionNetwork.load(demo_dir / "network.json")
    # 4 inputs, hidden 32 + 16 smooth neurons, 3 dual-rail outputs
    assert net.n_species == 4 + 32 + 16 + 2 * 3
    assert net.inputs == ("X0", "X1", "X2", "X3")
    assert net.metadata["dataset"] == "iris"
    png = (demo_dir / "trajectories.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    assert json.loads((demo_dir / "model.json").read_text())["format"] == "nncrn.mlp"
    assert b"\r" not in (demo_dir / "test_inputs.csv").read_bytes()  # \n line ends (paste works)


def test_demo_writes_its_smooth_relu_model_as_onnx_that_compiles_to_the_same_network(
    demo_dir, tmp_path
):
    # SmoothReLU is written as nncrn's model-local ONNX function, which an ONNX runtime
    # evaluates from its body and the ONNX reader compiles with its eps.
    import torch
    from onnx.reference import ReferenceEvaluator

    from nncrn.cli._models import load_model

    net = ReactionNetwork.load(demo_dir / "network.json")
    again = tmp_path / "from_onnx.json"
    assert main(["compile", str(demo_dir / "model.onnx"), "-o", str(again)]) == 0
    onnx_net = ReactionNetwork.load(again)
    assert onnx_net.reactions == net.reactions and onnx_net.species == net.species
    model, meta = load_model(demo_dir / "model.json")
    x = np.loadtxt(demo_dir / "test_inputs.csv", delimiter=",", skiprows=1)
    x = x * np.array(meta["input_scale"]) if "input_scale" in meta else x
    got = ReferenceEvaluator(str(demo_dir / "model.onnx")).run(None, {"input": x})[0]
    with torch.no_grad():
        np.testing.assert_allclose(got, model(torch.tensor(x)).numpy(), rtol=1e-12, atol=1e-12)


def test_demo_report_numbers(demo_run):
    out, text = demo_run
    net = ReactionNetwork.load(out / "network.json")
    assert _row(text, "NN/CRN agreement") == 1.0
    assert _row(text, "max |CRN - NN|") < 1e-6
    assert _row(text, "NN test accuracy") >= 0.9
    assert _row(text, "species") == net.n_species
    assert _row(text, "reactions") == net.n_reactions
    assert _row(text, "distinct rate constants") == len(np.unique(net.stoichiometry.rates))
    # slowest mode of a smoothed-ReLU layer decays at >= 2 sqrt(eps) ~ 0.063 per unit time
    assert 1.0 < _row(text, "99% of inputs within 1%") < 1e3


def test_demo_test_split_files_feed_simulate(demo_run, tmp_path):
    out, text = demo_run
    net = ReactionNetwork.load(out / "network.json")
    y_csv = tmp_path / "y.csv"
    assert main(["simulate", str(out / "network.json"), "--inputs", str(out / "test_inputs.csv"),
                 "-o", str(y_csv)]) == 0  # fmt: skip
    rows = list(csv.DictReader(y_csv.open()))
    labels = [r["label"] for r in csv.DictReader((out / "test_labels.csv").open())]
    assert len(rows) == len(labels) == 38  # 25% of iris, stratified
    classes = net.metadata["classes"]
    assert list(rows[0])[:4] == [*classes, "predicted"]  # class names head the output columns
    pred = [classes[int(np.argmax([float(r[c]) for c in classes]))] for r in rows]
    assert pred == [r["predicted"] for r in rows]
    accuracy = np.mean([p == t for p, t in zip(pred, labels, strict=True)])
    assert accuracy == pytest.approx(_row(text, "CRN test accuracy"), abs=1e-4)


def test_compile_and_simulate_match_demo_network(demo_dir, tmp_path):
    net_path = tmp_path / "net.json"
    assert main(["compile", str(demo_dir / "model.json"), "-o", str(net_path)]) == 0
    original = ReactionNetwork.load(demo_dir / "network.json")
    again = ReactionNetwork.load(net_path)
    assert again.species == original.species
    np.testing.assert_array_equal(again.stoichiometry.rates, original.stoichiometry.rates)

    X = np.array([[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]])
    inputs = tmp_path / "x.csv"
    inputs.write_text("X0,X1,X2,X3\n" + "\n".join(",".join(map(str, r)) for r in X) + "\n")
    out = tmp_path / "y.csv"
    assert main(["simulate", str(net_path), "--inputs", str(inputs), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 2 and all(r["converged"] == "True" for r in rows)
    classes = again.metadata["classes"]
    logits = np.array([[float(r[c]) for c in classes] for r in rows])
    assert logits[0].argmax() == 0 and logits[1].argmax() == 2  # setosa, virginica

    out_t = tmp_path / "yt.csv"
    assert main(["simulate", str(net_path), "--inputs", str(inputs), "--t-end", "1e4",
                 "-o", str(out_t)]) == 0  # fmt: skip
    late = np.array([[float(r[c]) for c in classes] for r in csv.DictReader(out_t.open())])
    np.testing.assert_allclose(late, logits, rtol=1e-5, atol=1e-7)


def test_compile_with_argmax_gives_one_hot_class_shares(demo_dir, tmp_path):
    net_path = tmp_path / "argmax.json"
    assert main(["compile", str(demo_dir / "model.json"), "-o", str(net_path), "--argmax"]) == 0
    net = ReactionNetwork.load(net_path)
    assert {"W0", "W1", "W2"} <= set(net.species_names) and net.metadata["classes"]
    inputs = tmp_path / "x.csv"
    inputs.write_text("X0,X1,X2,X3\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    out = tmp_path / "y.csv"
    assert main(["simulate", str(net_path), "--inputs", str(inputs), "-o", str(out)]) == 0
    shares = np.array([[float(r[c]) for c in net.metadata["classes"]]
                       for r in csv.DictReader(out.open())])  # fmt: skip
    np.testing.assert_allclose(shares, [[1, 0, 0], [0, 0, 1]], atol=1e-9)  # setosa, virginica


def test_info_lists_reaction_kinds(demo_dir, capsys):
    assert main(["info", str(demo_dir / "network.json")]) == 0
    text = capsys.readouterr().out
    assert "autocatalytic growth (catalysed)" in text  # positive weights
    assert "degradation (catalysed)" in text  # negative weights
    assert "distinct rate constants" in text
    assert "level sweep" in text
    assert "forward substitution" in text
    assert re.search(r"conservation laws\s*│\s*0\s*│", text)


def test_info_says_when_the_solver_falls_back(tmp_path, capsys):
    from nncrn.network import Reaction, Species

    net = ReactionNetwork(
        [Species("A", "hidden"), Species("B", "output")],
        [Reaction.parse("A -> B", 2.0), Reaction.parse("B -> A", 1.0)],
    )
    path = tmp_path / "cycle.json"
    net.save(path)
    assert main(["info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "Newton (graph has a cycle)" in text and "dense LU" in text
    assert re.search(r"conservation laws\s*│\s*1: A \+ B\s*│", text)


def test_info_says_when_reactions_are_fired_to_completion(tmp_path, capsys):
    from nncrn.network import Reaction, Species

    net = ReactionNetwork(
        [Species("A", "input"), Species("B", "hidden"), Species("C", "output")],
        [Reaction.parse("A + B -> C", 1.0)],
    )
    path = tmp_path / "join.json"
    net.save(path)
    assert main(["info", str(path)]) == 0
    assert "reactions fired to completion" in capsys.readouterr().out


def test_info_writes_conservation_laws_with_integer_coefficients(tmp_path, capsys):
    from nncrn.network import Reaction, Species

    # A -> B (1), A -> C (3): A + B + C and, from the rates, 3 B - C (echelon form below)
    net = ReactionNetwork(
        [Species("A"), Species("B"), Species("C")],
        [Reaction.parse("A -> B", 1.0), Reaction.parse("A -> C", 3.0)],
    )
    path = tmp_path / "branches.json"
    net.save(path)
    assert main(["info", str(path)]) == 0
    assert re.search(r"conservation laws\s*│\s*2: 3 A \+ 4 C; 3 B - C\s*│", capsys.readouterr().out)


def test_train_on_csv_with_negative_features(tmp_path, capsys):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 2))
    y = np.where(X[:, 0] - X[:, 1] > 0, "left", "right")
    path = tmp_path / "data.csv"
    path.write_text("a,b,label\n" + "\n".join(f"{p},{q},{c}" for (p, q), c in zip(X, y, strict=True)) + "\n")
    code = main(["train", "--csv", str(path), "--target", "label", "--hidden", "8",
                 "--epochs", "60", "--out", str(tmp_path / "o")])  # fmt: skip
    assert code == 0
    net = ReactionNetwork.load(tmp_path / "o" / "network.json")
    lows = [net.species[net.index(n)].input_range[0] for n in net.inputs]
    for j, lo in enumerate(lows):  # inferred from the training split: 10% below its minimum
        assert X[:, j].min() - 0.2 * np.ptp(X[:, j]) <= lo < np.quantile(X[:, j], 0.05)
    text = capsys.readouterr().out
    row = next(line for line in text.splitlines() if "CRN test accuracy" in line)
    assert float(row.split("│")[-2]) > 0.85


@pytest.mark.parametrize(
    "content, msg",
    [
        ("a,b,label\n1,2,x\n3,,y\n", "column 'b' has a missing value in data row 2"),
        ("a,b,label\n1,2,x\n3,abc,y\n", "column 'b' has non-numeric value 'abc' in data row 2"),
        ("a,b,label\n1,2,x\n3,4,x\n", "single class"),
        ("a,b\n1,2\n", "no column named 'label'"),
    ],
)
def test_train_bad_csv_is_a_clear_error(tmp_path, capsys, content, msg):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    out = tmp_path / "o"
    code = main(["train", "--csv", str(path), "--target", "label", "--out", str(out)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and msg in err
    assert "Traceback" not in err
    assert not out.exists()


def test_bad_network_file_and_inputs(tmp_path, demo_dir, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "nncrn.network", "version": 7}')
    assert main(["info", str(bad)]) == 2
    assert "format version 7" in capsys.readouterr().err

    inputs = tmp_path / "x.csv"
    inputs.write_text("X0,X1,X2,X3\n-1,3,1,0.2\n")
    out = tmp_path / "y.csv"
    assert main(["simulate", str(demo_dir / "network.json"), "--inputs", str(inputs), "-o", str(out)]) == 2
    assert "'X0' is -1.0 in row 0" in capsys.readouterr().err
    assert not out.exists()

    assert main(["compile", str(bad), "-o", str(tmp_path / "n.json")]) == 2
    assert "not an nncrn model" in capsys.readouterr().err
    assert not (tmp_path / "n.json").exists()


def test_bad_options(tmp_path, capsys):
    assert main(["demo", "--hidden", "8,x", "--out", str(tmp_path / "o")]) == 2
    assert "--hidden" in capsys.readouterr().err
    assert main(["demo", "--eps", "-1", "--out", str(tmp_path / "o")]) == 2
    assert "--eps must be > 0" in capsys.readouterr().err


@pytest.mark.parametrize(("env", "expected"), [(None, "1 False"), ("2", "2 True")])
def test_commands_run_torch_on_one_thread_unless_user_says(env, expected):
    import os
    import subprocess
    import sys

    code = (
        "import os\nfrom nncrn.cli import _one_thread\nwith _one_thread():\n"
        "    import torch\n    n = torch.get_num_threads()\n"
        "print(n, 'OMP_NUM_THREADS' in os.environ)"
    )
    # MKL_NUM_THREADS also caps torch's threads; drop it so the case is the one we set.
    environ = {k: v for k, v in os.environ.items()
               if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}  # fmt: skip
    if env is not None:
        environ["OMP_NUM_THREADS"] = env
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env=environ, check=True)  # fmt: skip
    assert out.stdout.strip() == expected  # the variable is restored afterwards
