"""``nncrn search`` end to end on iris with a tiny budget, and its refusals."""

from __future__ import annotations

import csv

import pytest

from nncrn.cli import main
from nncrn.network import ReactionNetwork


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")  # one table row per line


def test_search_writes_the_best_network_front_and_table(tmp_path, capsys):
    out = tmp_path / "res"
    argv = ["search", "--dataset", "iris", "--budget", "4", "--strategy", "random",
            "--epochs", "15", "--qat-epochs", "5", "--min-steps", "1", "--batch-size", "2", "--times",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "Pareto front" in text and "(best)" in text and "test accuracy of the best" in text
    assert "t99" in text
    rows = list(csv.DictReader((out / "evaluations.csv").open()))
    assert [r["index"] for r in rows] == ["0", "1", "2", "3"]
    assert all((r["reason"] == "") == (r["feasible"] == "True") for r in rows)
    best = max(rows, key=lambda r: (float(r["val_accuracy"]), -int(r["reactions"])))
    net = ReactionNetwork.load(out / "best_network.json")
    assert net.n_reactions == int(best["reactions"]) and net.n_species == int(best["species"])
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--csv", "x.csv"], "--csv needs --target"),
        (["--dataset", "iris", "--target", "y"], "--target goes with --csv"),
        (["--dataset", "iris", "--budget", "0"], "--budget 0"),
        (["--dataset", "iris", "--max-reactions", "0"], "max_reactions=0"),
        (["--dataset", "iris", "--min-steps", "0"], "min_steps=0"),
    ],
)
def test_search_refuses_bad_options(tmp_path, capsys, extra, message):
    assert main(["search", *extra, "--out", str(tmp_path / "o"), "--epochs", "5"]) == 2
    assert message in capsys.readouterr().err
