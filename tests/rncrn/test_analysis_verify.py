"""Fixed points, oscillations and the verification of a compiled network, on closed-form cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from nncrn import InputError
from nncrn.rncrn import RNCRN, Target, get_target, verify
from nncrn.rncrn._analysis import find_fixed_points, oscillation, simulate_field


def hand_model() -> RNCRN:
    """``dx/dt = 2 - x y(x)``, ``y = (x + sqrt(x^2 + 4)) / 2``: one stable point at 2/sqrt(3)."""
    return RNCRN(alpha=[[-1.0]], omega=[[1.0]], bias=[0.0], beta=[2.0], gamma=[1.0], tau=[1.0])


def hand_field(x: np.ndarray) -> np.ndarray:
    return 2.0 - x * (x + np.sqrt(x**2 + 4.0)) / 2.0


def test_fixed_point_of_a_hand_set_network_is_the_closed_form():
    model = hand_model()
    (fp,) = find_fixed_points(model.vector_field, [0.1], [5.0], jacobian=model.jacobian)
    assert fp.x[0] == pytest.approx(2 / math.sqrt(3), rel=1e-12)
    assert fp.stable
    # full network at mu = 0.01: the same point, stable in all N + M directions
    eig = np.linalg.eigvals(model.full_jacobian(fp.x[None, :], 0.01)[0])
    assert (eig.real < 0).all()


def test_fixed_points_of_sin_and_of_a_linear_saddle_and_focus():
    fps = find_fixed_points(np.sin, [1.0], [12.0])
    np.testing.assert_allclose(
        [f.x[0] for f in fps], [math.pi, 2 * math.pi, 3 * math.pi], rtol=1e-10
    )
    assert [f.stable for f in fps] == [True, False, True]

    def saddle(x: np.ndarray) -> np.ndarray:  # zero at (1, 2): eigenvalues -1 and +1
        return np.stack([-(x[:, 0] - 1.0), x[:, 1] - 2.0], axis=1)

    (fp,) = find_fixed_points(saddle, [0.0, 0.0], [3.0, 3.0])
    np.testing.assert_allclose(fp.x, [1.0, 2.0], atol=1e-9)
    assert sorted(fp.eigenvalues.real) == pytest.approx([-1.0, 1.0]) and not fp.stable

    def focus(x: np.ndarray) -> np.ndarray:  # stable spiral at (2, 2), eigenvalues -0.1 +- i
        u, v = x[:, 0] - 2.0, x[:, 1] - 2.0
        return np.stack([-0.1 * u - v, u - 0.1 * v], axis=1)

    (fp,) = find_fixed_points(focus, [0.5, 0.5], [4.0, 4.0])
    assert fp.stable and np.abs(fp.eigenvalues.imag).max() == pytest.approx(1.0)


def test_oscillation_period_and_amplitude_of_a_sine_and_of_a_constant():
    t = np.linspace(0, 100, 20001)
    x = np.stack([3 + np.sin(2 * math.pi * t / 7.0), 1 + 0.5 * np.cos(t)], axis=1)
    period, amp = oscillation(t, x)
    assert period == pytest.approx(7.0, rel=1e-5)
    assert amp[0] == pytest.approx(2.0, rel=1e-4)
    period, amp = oscillation(t, np.ones((t.size, 1)))
    assert math.isnan(period) and amp[0] == 0


def test_the_bessel_target_has_the_published_period():
    target = get_target("bessel-oscillator")
    t = np.linspace(0, 200, 20001)
    period, _ = oscillation(t, simulate_field(target, target.x0, t))
    assert period == pytest.approx(7.023, abs=0.01)


def test_verify_a_hand_set_network_against_its_closed_form():
    target = Target("hand", hand_field, (0.1,), (5.0,), beta=2.0, x0=(4.0,), t_end=30.0)
    v = verify(hand_model(), target, mu=0.01, samples=601, starts=4)
    assert v.rmse < 1e-12
    assert v.reactions == 2 + 3 + 1 - 1  # bias 0: no Y -> 2 Y
    assert v.attractors.shape == (1, 1)
    assert v.attractors[0, 0] == pytest.approx(2 / math.sqrt(3), rel=1e-5)
    assert v.attractor_error[0] < 1e-5
    # the full network and the target trajectories agree to O(mu)
    assert np.abs(v.x_network - v.x_target).max() < 0.05
    row = v.summary()
    assert row["reactions"] == 5 and row["max_fixed_point_error"] < 1e-5
    frame = v.to_frame()
    assert frame.loc[0, "quantity"] == "stable fixed point"


def test_verify_refuses_a_model_of_the_wrong_dimension():
    with pytest.raises(InputError, match="executive species"):
        verify(hand_model(), get_target("bessel-oscillator"))


def test_unknown_target_names_the_choices():
    with pytest.raises(InputError, match="bistable"):
        get_target("lorenz")


def test_stochastic_run_fluctuates_around_the_deterministic_fixed_point():
    from nncrn.rncrn import stochastic_run

    target = Target("hand", hand_field, (0.1,), (5.0,), beta=2.0, x0=(1.0,), t_end=20.0)
    run = stochastic_run(hand_model(), target, volume=200.0, mu=0.1, n_times=201, rng=3)
    assert run.completed and run.x.shape == (201, 1)
    assert np.allclose(run.x * 200, np.round(run.x * 200))  # whole molecules
    late = run.x[run.t >= 5, 0]
    # Poisson-like noise of ~sqrt(230)/200 ~ 0.08 around 2/sqrt(3)
    assert abs(late.mean() - 2 / math.sqrt(3)) < 0.06
    assert 0.01 < late.std() < 0.2
