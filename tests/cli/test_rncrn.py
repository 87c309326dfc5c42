"""``nncrn rncrn`` end to end with a short training, and its refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from nncrn.cli import main
from nncrn.network import ReactionNetwork
from nncrn.rncrn import RNCRN


@pytest.fixture(autouse=True)
def wide_console(monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")


def test_rncrn_writes_network_sbml_model_and_portrait(tmp_path, capsys):
    pytest.importorskip("libsbml")
    from nncrn.export import from_sbml

    out = tmp_path / "res"
    argv = ["rncrn", "--target", "bistable", "--epochs", "150", "--restarts", "1", "--screen", "0",
            "--t-end", "20", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "nncrn rncrn: bistable, M = 3, mu = 0.01" in text and "spread_decades" in text
    net = ReactionNetwork.load(out / "network.json")
    assert net.n_reactions <= 15 and net.n_species == 4
    assert from_sbml((out / "network.sbml").read_text()).n_reactions == net.n_reactions
    doc = json.loads((out / "model.json").read_text())
    model = RNCRN(**doc["parameters"])
    rates = sorted(r.rate for r in model.to_network(0.01).reactions)
    np.testing.assert_allclose(rates, sorted(r.rate for r in net.reactions), rtol=1e-12)
    assert np.log10(rates[-1] / rates[0]) <= 3.0 + 1e-6
    assert (out / "portrait.png").read_bytes()[:4] == b"\x89PNG"
    assert "stable fixed point" in (out / "verification.csv").read_text()


def test_rncrn_trains_a_function_from_a_file(tmp_path, capsys):
    pytest.importorskip("libsbml")
    src = tmp_path / "system.py"
    src.write_text("import numpy as np\n\ndef decay(x):\n    return 2.0 - x\n")
    out = tmp_path / "res"
    argv = ["rncrn", "--target", f"{src}:decay", "--low", "0.5", "--high", "4",
            "--perceptrons", "2", "--epochs", "300", "--restarts", "1", "--screen", "0", "--t-end", "10",
            "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    rows = (out / "verification.csv").read_text()
    assert "stable fixed point" in rows
    net = ReactionNetwork.load(out / "network.json")
    assert net.n_reactions <= 2 * 2 + 3 * 2 + 1


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target", "lorenz"], "neither a built-in target nor FILE.py:FUNC"),
        (["--target", "nothere.py:f", "--low", "1", "--high", "2"], "no file"),
        (["--target", "bistable", "--low", "1"], "--low/--high go with"),
        (["--target", "bistable", "--max-decades", "-1"], "--max-decades -1"),
        (["--target", "bistable", "--t-end", "0"], "--t-end 0"),
    ],
)
def test_rncrn_refusals(tmp_path, capsys, extra, message):
    assert main(["rncrn", *extra, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err


def test_rncrn_file_target_needs_a_box(tmp_path, capsys):
    src = tmp_path / "system.py"
    src.write_text("def f(x):\n    return -x\n")
    assert main(["rncrn", "--target", f"{src}:f", "--out", str(tmp_path / "o")]) == 2
    assert "needs its box" in capsys.readouterr().err
