"""Designer limit cycles: the designed field's orbit is the drawn curve, at the drawn period."""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import InputError
from nncrn.rncrn import cycle_samples, design_cycle
from nncrn.rncrn._analysis import oscillation


def simulate_field(f, x0, t):
    from scipy.integrate import solve_ivp

    sol = solve_ivp(lambda _, x: f(x[None, :])[0], (0.0, t[-1]), np.asarray(x0, dtype=float),
                    t_eval=t, rtol=1e-8, atol=1e-10)  # fmt: skip
    assert sol.success
    return sol.y.T


def _ellipse(k: int = 12) -> np.ndarray:
    th = np.linspace(0.0, 2 * np.pi, k, endpoint=False)
    return np.stack([4 + 2 * np.cos(th), 4 + 1.5 * np.sin(th)], axis=1)


def test_the_designed_field_turns_once_per_period_along_the_curve():
    target = design_cycle(_ellipse(), 10.0)
    assert target.kind == "limit-cycle" and target.x0 == pytest.approx((6.0, 4.0))
    t = np.linspace(0.0, 70.0, 3501)
    x = simulate_field(target, target.x0, t)
    period, amplitude = oscillation(t, x)
    assert period == pytest.approx(10.0, rel=1e-3)
    # a 12-point spline through an ellipse: the peak-to-peak amplitudes are 4 and 3
    np.testing.assert_allclose(amplitude, [4.0, 3.0], rtol=2e-3)


def test_a_start_off_the_curve_is_attracted_to_it():
    target = design_cycle(_ellipse(), 10.0, attraction=1.0)
    t = np.linspace(0.0, 15.0, 1501)
    x = simulate_field(target, (4.0 + 2.8, 4.0), t)  # 0.8 outside the curve
    r = ((x[-300:, 0] - 4) / 2) ** 2 + ((x[-300:, 1] - 4) / 1.5) ** 2
    np.testing.assert_allclose(r, 1.0, atol=0.02)


def test_padding_samples_point_back_to_the_curve():
    target = design_cycle(_ellipse(), 10.0, attraction=2.0)
    x, f = cycle_samples(target, padding=(0.2,), along=50)
    assert x.shape == (150, 2) and f.shape == (150, 2)
    out = x[50:]
    design = target.f.__self__
    q, v = design.project(out)
    pull = f[50:] - v
    # the pull is attraction * (nearest curve point - x): towards the curve
    np.testing.assert_allclose(pull, 2.0 * (q - out), atol=1e-12)
    np.testing.assert_allclose(np.linalg.norm(q - out, axis=1), 0.2 * 3.0, rtol=0.02)
    assert (np.linalg.norm(pull, axis=1) > 0.1).all()
    # on the curve the field is the tangent velocity: one length per period
    speed = np.linalg.norm(f[:50], axis=1)
    np.testing.assert_allclose(speed, design.length / 10.0, rtol=0.02)


@pytest.mark.parametrize(
    "points, period, match",
    [
        (np.ones((3, 2)), 1.0, "K >= 4"),
        (np.array([[1.0, 1.0], [2.0, 1.0], [2.0, -1.0], [1.0, 2.0]]), 1.0, "positive orthant"),
        (_ellipse(), 0.0, "period"),
        (np.vstack([_ellipse()[:1], _ellipse()]), 1.0, "repeat consecutively"),
    ],
)
def test_bad_curves_are_refused_with_the_fix(points, period, match):
    with pytest.raises(InputError, match=match):
        design_cycle(points, period)
