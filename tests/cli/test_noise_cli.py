"""``nncrn noise``: table, plot and JSON summary for a small network."""

from __future__ import annotations

import json

import numpy as np

from nncrn.cli import main
from nncrn.network import Reaction, ReactionNetwork, Species


def _classifier(tmp_path):
    # Two outputs driven by two inputs: the answer is the larger input.
    net = ReactionNetwork(
        [Species("X0", "input"), Species("X1", "input"), Species("A", "output"),
         Species("B", "output")],
        [Reaction.parse("X0 -> X0 + A", 1.0), Reaction.parse("A -> 0", 1.0),
         Reaction.parse("X1 -> X1 + B", 1.0), Reaction.parse("B -> 0", 1.0)],
    )  # fmt: skip
    path = tmp_path / "net.json"
    net.save(path)
    (tmp_path / "X.csv").write_text("X0,X1\n1.0,2.0\n3.0,1.0\n1.0,1.2\n")
    (tmp_path / "y.csv").write_text("label\n1\n0\n0\n")
    return path


def test_noise_cli_writes_table_plot_and_json(tmp_path, capsys):
    path = _classifier(tmp_path)
    code = main([
        "noise", str(path), "--inputs", str(tmp_path / "X.csv"), "--labels",
        str(tmp_path / "y.csv"), "--volumes", "1,1000", "--runs", "8", "--t-end", "20",
        "--out", str(tmp_path),
    ])  # fmt: skip
    assert code == 0
    out, err = capsys.readouterr()
    assert "agreement" in out and "accuracy" in out
    # not a terminal: plain progress lines on stderr, the last one at 100%
    lines = [line for line in err.splitlines() if line.startswith("stochastic runs:")]
    assert len(lines) >= 2 and "100% of the expected events" in lines[-1]
    assert "s left" in lines[0] or len(lines) == 2  # an estimate while work remains
    summary = json.loads((tmp_path / "noise.json").read_text())
    assert summary["volumes"] == [1.0, 1000.0]
    assert summary["agreement"][1] == 1.0 and summary["agreement"][0] < 1.0
    assert np.isclose(summary["accuracy"][1], 2 / 3) and summary["deterministic_accuracy"] == 2 / 3
    assert (tmp_path / "noise.png").read_bytes()[:4] == b"\x89PNG"
    assert summary["from_steady_state"] and summary["readings"] == 40
    assert summary["solver"] == "NextReactionMethod(), TauLeaping(epsilon=0.03, n_critical=10, " \
        "ssa_factor=10.0, n_ssa=100)"  # auto: exact at volume 1, tau-leaping at 1000


def test_noise_cli_from_initial_state_reports_the_settling_time(tmp_path, capsys):
    path = _classifier(tmp_path)
    code = main(["noise", str(path), "--inputs", str(tmp_path / "X.csv"), "--volumes", "20",
                 "--runs", "2", "--from-initial", "--jobs", "1", "--solver", "direct",
                 "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    out = " ".join(capsys.readouterr().out.split())  # the console wraps long lines
    assert "settles (1%) by t = 4.6" in out  # A and B relax at rate 1: ln(100)
    summary = json.loads((tmp_path / "noise.json").read_text())
    assert not summary["from_steady_state"] and summary["relaxation_time"] is None
    assert summary["t_end"] == np.float64(2 * summary["settled"])


def test_noise_cli_rejects_bad_jobs(tmp_path, capsys):
    path = _classifier(tmp_path)
    code = main(["noise", str(path), "--inputs", str(tmp_path / "X.csv"), "--jobs", "0"])
    assert code == 2
    assert "--jobs must be >= 1" in capsys.readouterr().err


def test_noise_cli_rejects_bad_volume(tmp_path, capsys):
    path = _classifier(tmp_path)
    code = main(["noise", str(path), "--inputs", str(tmp_path / "X.csv"), "--volumes", "10,-1"])
    assert code == 2
    assert "volume" in capsys.readouterr().err
