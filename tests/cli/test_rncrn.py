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
        (["--target", "bistable", "--period", "5"], "--period/--attraction go with CURVE.csv"),
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


def _curve(path, header=True, bad=False):
    th = np.linspace(0.0, 2 * np.pi, 10, endpoint=False)
    rows = [f"{4 + 2 * np.cos(t):.6f},{4 + 1.5 * np.sin(t):.6f}" for t in th]
    if bad:
        rows[3] = "1.0,oops"
    path.write_text(("x1,x2\n" if header else "") + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize(
    ("make", "extra", "message"),
    [
        (lambda p: _curve(p), [], "give its period, --period T"),
        (lambda p: _curve(p, bad=True), ["--period", "5"], "numbers separated by commas"),
        (lambda p: _curve(p), ["--period", "-1"], "period is -1.0"),
        (lambda p: _curve(p), ["--period", "5", "--low", "1"], "--low/--high go with"),
        (lambda p: p, ["--period", "5"], "no file"),
    ],
)
def test_rncrn_curve_target_refusals(tmp_path, capsys, make, extra, message):
    curve = make(tmp_path / "curve.csv")
    assert main(["rncrn", "--target", str(curve), *extra, "--out", str(tmp_path / "o")]) == 2
    assert message in capsys.readouterr().err


def test_rncrn_curve_target_is_a_designed_cycle(tmp_path):
    """The CSV (with or without a header) becomes design_cycle(points, period)."""
    import argparse

    from nncrn.cli._rncrn import _designed
    from nncrn.rncrn._design import is_design

    for header in (True, False):
        curve = _curve(tmp_path / f"c{header}.csv", header=header)
        args = argparse.Namespace(
            target=str(curve), period=7.0, attraction=2.0, low=None, high=None
        )
        target = _designed(args)
        assert is_design(target) and target.kind == "limit-cycle"
        design = target.f.__self__
        assert design.period == 7.0 and design.attraction == 2.0
        np.testing.assert_allclose(target.x0, (6.0, 4.0), atol=1e-6)
