"""Results as pandas frames and notebook HTML: the frames hold exactly the result's arrays."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from nncrn import Reaction, ReactionNetwork, Species
from nncrn._errors import InputError
from nncrn.simulate import integrate, steady_state
from tests.plot import _factories as make

pd = pytest.importorskip("pandas")


def test_steady_state_frame_rows_are_items_columns_outputs_and_flags():
    ss = make.steady()
    df = ss.to_dataframe()
    assert list(df.columns) == ["Y0", "Y1", "converged", "residual"]
    assert df.index.name == "item" and list(df.index) == list(range(5))
    np.testing.assert_array_equal(df[["Y0", "Y1"]].to_numpy(), ss.outputs)
    np.testing.assert_array_equal(df["converged"].to_numpy(), ss.converged)
    assert df["converged"].dtype == bool
    np.testing.assert_array_equal(df["residual"].to_numpy(), ss.residual)


def test_steady_state_frame_species_columns_are_bracketed_concentrations():
    ss = make.steady()
    df = ss.to_dataframe(species=True)
    assert list(df.columns[4:]) == ["[X]", "[H]", "[Y0]", "[Y1]"]
    np.testing.assert_array_equal(df[["[X]", "[H]", "[Y0]", "[Y1]"]].to_numpy(), ss.concentrations)
    assert list(ss.to_dataframe(species=["H"]).columns[4:]) == ["[H]"]
    with pytest.raises(InputError, match="'Z' is not a species"):
        ss.to_dataframe(species=["Z"])


def test_steady_state_frame_of_a_real_solve():
    net = ReactionNetwork(
        [Species("X", "input"), Species("Y", "output")],
        [Reaction.parse("0 -> Y", 1e-3), Reaction.parse("2 Y -> Y", 1.0),
         Reaction.parse("X + Y -> X + 2 Y", 1.0)],
    )  # fmt: skip
    X = np.array([[0.5], [1.0], [2.0]])
    ss = steady_state(net, X)
    df = ss.to_dataframe(species="X")
    np.testing.assert_array_equal(df["Y"].to_numpy(), ss.outputs[:, 0])
    np.testing.assert_array_equal(df["[X]"].to_numpy(), X[:, 0])
    traj = integrate(net, X, np.linspace(0.0, 2.0, 5))
    tf = traj.to_dataframe()
    assert tf.shape == (15, 1)
    np.testing.assert_array_equal(tf.loc[2]["Y"].to_numpy(), traj.outputs[2, :, 0])


def test_trajectory_frame_is_wide_with_an_item_time_multiindex():
    tr = make.trajectory(batch=3, n_times=7)
    df = tr.to_dataframe(species=["X"])
    assert df.shape == (21, 3) and list(df.columns) == ["Y0", "Y1", "[X]"]
    assert df.index.names == ["item", "time"]
    np.testing.assert_array_equal(df.loc[1].index.to_numpy(), tr.t)
    np.testing.assert_array_equal(df.loc[1][["Y0", "Y1"]].to_numpy(), tr.outputs[1])
    np.testing.assert_array_equal(df.xs(tr.t[3], level="time")["[X]"].to_numpy(),
                                  tr.concentrations[:, 3, 0])  # fmt: skip
    tidy = df.reset_index().melt(id_vars=["item", "time"], var_name="output")
    assert len(tidy) == 21 * 3


def test_ssa_frame_per_run_summary_and_samples():
    res = make.ssa(batch=2, runs=3, n_times=5)
    df = res.to_dataframe()
    assert df.index.names == ["item", "run"] and len(df) == 6
    assert list(df.columns) == ["Y0", "Y1", "Y0_se", "Y1_se", "completed", "n_events", "n_steps"]
    np.testing.assert_array_equal(df.loc[(1, 2), ["Y0", "Y1"]].to_numpy(dtype=float),
                                  res.outputs[1, 2])  # fmt: skip
    np.testing.assert_array_equal(df["n_events"].to_numpy(), res.n_events.ravel())
    with_species = res.to_dataframe(species=["H"])
    np.testing.assert_array_equal(with_species["[H]"].to_numpy(), res.time_average[..., 1].ravel())
    samples = res.to_dataframe(samples=True)
    assert samples.index.names == ["item", "run", "time"] and samples.shape == (30, 4)
    np.testing.assert_array_equal(samples.to_numpy(), res.concentrations.reshape(30, 4))


def test_study_frames():
    study = make.noise_study()
    df = study.to_dataframe()
    assert df.index.name == "volume" and list(df.index) == [10.0, 100.0, 1000.0]
    assert list(df.columns) == ["agreement", "agreement_se", "accuracy", "accuracy_se",
                                "mean_events"]  # fmt: skip
    np.testing.assert_array_equal(df["accuracy"].to_numpy(), study.accuracy)
    assert "accuracy" not in make.noise_study(labels=False).to_dataframe()
    rob = make.rate_noise()
    rf = rob.to_dataframe()
    assert rf.index.names == ["sigma", "draw"] and rf.shape == (12, 2)
    np.testing.assert_array_equal(rf.loc[0.3]["agreement"].to_numpy(), rob.agreement[1])
    early = make.early_readout(labels=False)
    ef = early.to_dataframe()
    assert ef.index.name == "time" and list(ef.columns) == ["agreement"]
    np.testing.assert_array_equal(ef["agreement"].to_numpy(), early.agreement)


def test_a_readout_named_like_a_status_column_is_refused():
    ss = make.steady()
    clash = type(ss)(**{**ss.__dict__, "output_names": ("converged", "Y1")})
    with pytest.raises(InputError, match="'converged'"):
        clash.to_dataframe()


def test_without_pandas_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)
    for result in (make.steady(), make.trajectory(), make.ssa(), make.noise_study(),
                   make.rate_noise(), make.early_readout()):  # fmt: skip
        with pytest.raises(ImportError, match="pip install pandas"):
            result.to_dataframe()


@pytest.mark.parametrize("factory", [make.steady, make.trajectory, make.ssa, make.noise_study,
                                     make.rate_noise, make.early_readout])  # fmt: skip
def test_html_is_a_summary_and_a_table_of_the_first_rows(factory):
    html = factory()._repr_html_()
    assert html.startswith("<div><p>") and "<table>" in html and html.count("<tr>") >= 3


def test_html_elides_rows_past_the_first_ten():
    html = make.steady(batch=25)._repr_html_()
    assert html.count("<tr>") == 1 + 10 and "15 more items" in html
