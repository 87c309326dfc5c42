"""CLI answers on odd input: one ``error: ...`` line and exit 2, never a traceback or a wrong result."""

from __future__ import annotations

import csv
import os
import stat

import pytest
import torch

from nncrn import with_argmax
from nncrn.cli import main
from nncrn.cli._models import save_model
from nncrn.compile import compile_network
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.nn import SmoothReLU
from nncrn.simulate import fixed_point

from ._data import write_task


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line


@pytest.fixture
def files(tmp_path):
    torch.manual_seed(0)
    model = torch.nn.Sequential(
        torch.nn.Linear(2, 4), SmoothReLU(0.01), torch.nn.Linear(4, 2)
    ).double()
    net = compile_network(model)
    net.save(tmp_path / "net.json")
    save_model(tmp_path / "model.json", model,
               {"eps": 0.01, "classes": ["no", "yes"], "feature_names": ["width", "height"]})  # fmt: skip
    X, y = write_task(tmp_path)
    (tmp_path / "features.csv").write_text(
        "width,height\n" + "\n".join(f"{a},{b}" for a, b in X[:4]) + "\n"
    )
    return tmp_path, net, X, y


def error_of(argv: list[str], capsys) -> str:
    """Run ``nncrn argv``; assert exit 2, one ``error:`` line and nothing on stdout; return it."""
    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""  # no stray blank line before the error
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


def _row(text: str, label: str) -> str:
    line = next(line for line in text.splitlines() if label in line)
    return line.split("│")[-2].strip()


# ------------------------------------------------------------------ wrong answers


def test_fit_with_a_tiny_k_min_keeps_every_reaction(files, capsys):
    d, net, X, y = files
    code = main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "--k-min", "1e-40",
                 "--epochs", "2", "--lr", "1e-4", "-o", str(d / "o.json")])  # fmt: skip
    assert code == 0
    out = capsys.readouterr().out
    trained = ReactionNetwork.load(d / "o.json")
    assert trained.n_reactions == net.n_reactions  # was: most reactions silently deleted
    assert _row(out, "removed by L1") == "0"
    before = (fixed_point(net, X).outputs.argmax(1) == y).mean()
    assert float(_row(out, "training accuracy after")) == pytest.approx(before, abs=0.04)


def test_compare_reads_the_feature_named_inputs_that_demo_writes(files, capsys):
    d, *_ = files
    code = main(["compare", str(d / "model.json"), "--inputs", str(d / "features.csv"),
                 "--schemes", "smooth-relu"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert _row(out, "rows simulated (converged)") == "4 (4)"
    assert _row(out, "NN agreement (argmax)") == "1.0000"


# ------------------------------------------------------------------ crashes


@pytest.mark.parametrize(
    "argv",
    [
        ["fit", "{d}/net.json", "--csv", "{d}/train.csv", "--seed", "-1", "-o", "{d}/o.json"],
        ["demo", "--seed", "-1", "--epochs", "1", "--out", "{d}/out"],
        [
            "train",
            "--csv",
            "{d}/train.csv",
            "--target",
            "label",
            "--seed",
            "-1",
            "--out",
            "{d}/out",
        ],
        ["robustness", "{d}/net.json", "--inputs", "{d}/X.csv", "--seed", "-1"],
        ["noise", "{d}/net.json", "--inputs", "{d}/X.csv", "--seed", "-1"],
    ],
)
def test_a_negative_seed_is_refused(files, capsys, argv):
    d, *_ = files
    msg = error_of([a.format(d=d) for a in argv], capsys)
    assert "--seed -1" in msg and ">= 0" not in msg and "[0, 2**32)" in msg
    assert not (d / "out").exists() and not (d / "o.json").exists()


def test_train_with_a_class_of_one_row_says_which_class(tmp_path, capsys):
    rows = ["1,2,x", "2,1,y", "1,1,x", "3,3,x", "2,2,x", "0,1,x", "1,0,x", "4,1,x"]
    (tmp_path / "tiny.csv").write_text("a,b,species\n" + "\n".join(rows) + "\n")
    msg = error_of(["train", "--csv", str(tmp_path / "tiny.csv"), "--target", "species",
                    "--epochs", "1", "--out", str(tmp_path / "out")], capsys)  # fmt: skip
    assert "class 'y' has 1 row" in msg and "at least 2 rows" in msg


def test_train_with_too_few_rows_for_the_split(tmp_path, capsys):
    rows = ["1,2,x", "2,1,y", "1,1,x", "3,3,y", "2,2,z", "0,1,z"]
    (tmp_path / "tiny.csv").write_text("a,b,species\n" + "\n".join(rows) + "\n")
    msg = error_of(["train", "--csv", str(tmp_path / "tiny.csv"), "--target", "species",
                    "--epochs", "1", "--out", str(tmp_path / "out")], capsys)  # fmt: skip
    assert "6 rows are too few" in msg and "3 classes" in msg and "at least 12 rows" in msg


def test_a_csv_that_is_not_utf8_is_a_clear_error(files, capsys):
    d, *_ = files
    (d / "utf16.csv").write_bytes("X0,X1\n0.5,0.5\n".encode("utf-16"))
    msg = error_of(["simulate", str(d / "net.json"), "--inputs", str(d / "utf16.csv"), "-o",
                    str(d / "s.csv")], capsys)  # fmt: skip
    assert "is not UTF-8" in msg and "UTF-16" in msg and "save it as UTF-8" in msg


def _no_readout(d) -> str:
    R = Reaction.parse
    net = ReactionNetwork(
        [Species("X", "input"), Species("Y", "hidden")],
        [R("0 -> Y", 0.01), R("2 Y -> Y", 1.0), R("X + Y -> X + 2 Y", 0.5)],
    )
    net.save(d / "nr.json")
    (d / "nrx.csv").write_text("X\n1\n2\n")
    (d / "nry.csv").write_text("label\n0\n0\n")
    (d / "nr.csv").write_text("X,label\n1,0\n2,0\n")
    return str(d / "nr.json")


@pytest.mark.parametrize(
    "argv",
    [
        ["robustness", "{net}", "--inputs", "{d}/nrx.csv", "--draws", "2"],
        ["robustness", "{net}", "--inputs", "{d}/nrx.csv", "--labels", "{d}/nry.csv"],
        ["fit", "{net}", "--csv", "{d}/nr.csv", "-o", "{d}/o.json"],
    ],
)
def test_a_network_without_readout_says_so(files, capsys, argv):
    d, *_ = files
    net = _no_readout(d)
    msg = error_of([a.format(d=d, net=net) for a in argv], capsys)
    assert "the network has no readout" in msg and "Readout('y', 'Y')" in msg
    assert "[0, 0)" not in msg and "[0, -1]" not in msg


# ------------------------------------------------------------------ messages


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--lr", "inf"], "--lr inf: must be a finite number"),
        (["--l1", "inf"], "--l1 inf: must be a finite number"),
        (["--k-min", "nan"], "--k-min nan: must be a finite number"),
        (["--batch-size", "0"], "batch_size=0"),
    ],
)
def test_fit_refuses_non_finite_options_up_front(files, capsys, extra, match):
    d, *_ = files
    msg = error_of(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "-o",
                    str(d / "o.json"), *extra], capsys)  # fmt: skip
    assert match in msg and "rate constant nan" not in msg
    assert not (d / "o.json").exists()


def test_fit_on_an_argmax_network_says_to_add_the_stage_afterwards(files, capsys):
    d, net, *_ = files
    with_argmax(net).save(d / "arg.json")
    msg = error_of(["fit", str(d / "arg.json"), "--csv", str(d / "train.csv"), "-o",
                    str(d / "o.json")], capsys)  # fmt: skip
    assert "argmax" in msg and "with_argmax(trained)" in msg and "singular" not in msg


@pytest.mark.parametrize("command", ["demo", "train"])
def test_an_output_directory_that_is_a_file(files, capsys, command):
    d, *_ = files
    (d / "somefile").write_text("keep me")
    extra = ["--csv", str(d / "train.csv"), "--target", "label"] if command == "train" else []
    msg = error_of([command, *extra, "--epochs", "1", "--out", str(d / "somefile")], capsys)
    assert "'" + str(d / "somefile") + "' is a file, not a directory" in msg
    assert (d / "somefile").read_text() == "keep me"


def test_fit_checks_the_plot_path_before_training(files, capsys):
    d, *_ = files
    (d / "adir").mkdir()
    msg = error_of(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "-o",
                    str(d / "fo.json"), "--plot", str(d / "adir")], capsys)  # fmt: skip
    assert "--plot" in msg and "is a directory" in msg and ".fo.json" not in msg
    assert not (d / "fo.json").exists()  # no partial result


def test_compare_with_no_scheme_names_says_so(files, capsys):
    d, *_ = files
    msg = error_of(["compare", str(d / "model.json"), "--schemes", " , "], capsys)
    assert "names no scheme" in msg and "unknown []" not in msg


def test_info_model_without_data_is_an_error(files, capsys):
    d, *_ = files
    msg = error_of(["info", str(d / "net.json"), "--model", str(d / "model.json")], capsys)
    assert "--model" in msg and "--inputs" in msg and "--dataset" in msg


def test_noise_checks_volumes_before_the_progress_bar(files, capsys):
    d, *_ = files
    msg = error_of(["noise", str(d / "net.json"), "--inputs", str(d / "X.csv"), "--volumes",
                    "-1", "--runs", "2"], capsys)  # fmt: skip
    assert "--volumes" in msg and "> 0" in msg


def test_robustness_checks_times_in_its_own_words(files, capsys):
    d, *_ = files
    msg = error_of(["robustness", str(d / "net.json"), "--inputs", str(d / "X.csv"),
                    "--times", "1,0.5"], capsys)  # fmt: skip
    assert "--times '1,0.5'" in msg and "increasing" in msg and "t_eval" not in msg


# ------------------------------------------------------------------ cosmetic


def test_written_files_get_the_umask_mode_not_0600(files, capsys):
    d, *_ = files
    old = os.umask(0o022)
    try:
        assert main(["simulate", str(d / "net.json"), "--inputs", str(d / "X.csv"), "-o",
                     str(d / "s.csv")]) == 0  # fmt: skip
    finally:
        os.umask(old)
    assert stat.S_IMODE((d / "s.csv").stat().st_mode) == 0o644


def test_simulate_t_end_does_not_claim_a_steady_state(files, capsys):
    d, *_ = files
    assert main(["simulate", str(d / "net.json"), "--inputs", str(d / "X.csv"), "--t-end",
                 "0.01", "-o", str(d / "s.csv")]) == 0  # fmt: skip
    header = next(csv.reader((d / "s.csv").open()))
    assert header == ["y0", "y1", "integrated"]
    assert "steady state not checked" in capsys.readouterr().out


def test_info_says_not_done_by_t_max_instead_of_inf(files, capsys):
    d, *_ = files
    assert main(["info", str(d / "net.json"), "--inputs", str(d / "X.csv"), "--limit", "3",
                 "--t-max", "0.001"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert _row(out, "time to within 1% of steady state") == "> t-max 0.001 / > t-max 0.001"
    assert "inf" not in _row(out, "time to within 10% of steady state")


def test_fit_reports_the_loss_of_the_written_network(files, capsys):
    d, *_ = files
    assert main(["fit", str(d / "net.json"), "--csv", str(d / "train.csv"), "--epochs", "5",
                 "--lr", "0.05", "--max-levels", "2", "-o", str(d / "o.json")]) == 0  # fmt: skip
    out = capsys.readouterr().out
    meta = ReactionNetwork.load(d / "o.json").metadata["trained"]
    assert float(_row(out, "loss of the written network")) == pytest.approx(
        meta["final_loss"], abs=1e-4
    )
    assert meta["last_epoch_loss"] != meta["final_loss"]
