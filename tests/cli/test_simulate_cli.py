"""``nncrn simulate``: --times, --solver, --device, --stochastic, and networks without inputs."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from nncrn.cli import main
from nncrn.network import Reaction, ReactionNetwork, Species


@pytest.fixture
def exchange(tmp_path):
    """``A <-> B`` (rates 1 and 0.5) from A = 1, no inputs: A(t) = 1/3 + 2/3 exp(-1.5 t)."""
    net = ReactionNetwork((Species("A", initial=1.0), Species("B")),
                          (Reaction({"A": 1}, {"B": 1}, 1.0), Reaction({"B": 1}, {"A": 1}, 0.5)))  # fmt: skip
    net.save(tmp_path / "ab.json")
    return tmp_path / "ab.json"


def _rows(path):
    return list(csv.DictReader(path.open()))


def test_network_without_inputs_simulates_from_its_initial_state(exchange, tmp_path):
    out = tmp_path / "ss.csv"
    assert main(["simulate", str(exchange), "-o", str(out)]) == 0
    (row,) = _rows(out)
    assert float(row["A"]) == pytest.approx(1 / 3, rel=1e-8) and row["converged"] == "True"


def test_times_write_one_row_per_time_matching_the_closed_form(exchange, tmp_path):
    out = tmp_path / "t.csv"
    assert main(["simulate", str(exchange), "--times", "0.5,1,5", "-o", str(out)]) == 0
    rows = _rows(out)
    t = np.array([float(r["time"]) for r in rows])
    np.testing.assert_allclose(t, [0.5, 1, 5])
    np.testing.assert_allclose([float(r["A"]) for r in rows], 1 / 3 + 2 / 3 * np.exp(-1.5 * t),
                               rtol=1e-6)  # fmt: skip
    assert all(r["integrated"] == "True" for r in rows)


def test_scipy_solver_gives_the_same_steady_state(exchange, tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    assert main(["simulate", str(exchange), "-o", str(a)]) == 0
    assert main(["simulate", str(exchange), "--solver", "scipy", "-o", str(b)]) == 0
    assert float(_rows(a)[0]["B"]) == pytest.approx(float(_rows(b)[0]["B"]), rel=1e-8)
    assert main(["simulate", str(exchange), "--device", "cpu", "-o", str(a)]) == 0


def test_stochastic_runs_average_near_the_ode(exchange, tmp_path):
    out = tmp_path / "ssa.csv"
    assert main(["simulate", str(exchange), "--stochastic", "--volume", "2000", "--t-end", "20",
                 "--runs", "4", "-o", str(out)]) == 0  # fmt: skip
    rows = _rows(out)
    assert [r["run"] for r in rows] == ["0", "1", "2", "3"]
    a = np.array([float(r["A"]) for r in rows])
    # binomial stationary law: sd of A = sqrt(p (1 - p) / 2000) = 0.0105 per sample; the
    # time average over [10, 20] is tighter still
    assert abs(a.mean() - 1 / 3) < 0.03
    assert all(r["completed"] == "True" for r in rows)


@pytest.mark.parametrize(
    ("extra", "match"),
    [
        (["--times", "5,1"], "must increase"),
        (["--times", "1,x"], "as numbers"),
        (["--stochastic"], "needs --volume"),
        (["--stochastic", "--volume", "10", "--t-end", "1", "--runs", "0"], "--runs"),
        (["--volume", "10"], "--stochastic only"),
        (["--solver", "scipy", "--device", "cpu"], "--solver torch only"),
        (["--device", "nonsense"], "not a torch device"),
    ],
)
def test_bad_options_are_errors(exchange, tmp_path, capsys, extra, match):
    assert main(["simulate", str(exchange), "-o", str(tmp_path / "o.csv"), *extra]) == 2
    assert match in capsys.readouterr().err
    assert not (tmp_path / "o.csv").exists()


def test_network_with_inputs_needs_them(tmp_path, capsys):
    net = ReactionNetwork((Species("X", "input"), Species("Y", "output")),
                          (Reaction({"X": 1}, {"X": 1, "Y": 1}, 1.0), Reaction({"Y": 1}, {}, 1.0)))  # fmt: skip
    net.save(tmp_path / "n.json")
    assert main(["simulate", str(tmp_path / "n.json"), "-o", str(tmp_path / "o.csv")]) == 2
    assert "give their values with --inputs" in capsys.readouterr().err
