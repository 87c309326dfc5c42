"""ScipyODE and the deterministic entry points: unreached times, settings, the solver argument."""

from __future__ import annotations

import numpy as np
import pytest

from nncrn import ConvergenceWarning, InputError
from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import (
    DirectMethod,
    ScipyODE,
    TorchODE,
    integrate,
    steady_state,
)
from nncrn.simulate._solver import check_setting_int, check_setting_real


def blow_up() -> ReactionNetwork:
    """``2 A -> 3 A`` from A = 1: A(t) = 1 / (1 - t), infinite at t = 1."""
    return ReactionNetwork([Species("A", initial=1.0)], [Reaction.parse("2 A -> 3 A", 1.0)])


def decay() -> ReactionNetwork:
    return ReactionNetwork([Species("A", initial=2.0), Species("C", initial=3.0)],
                           [Reaction.parse("A -> 0", 0.7)])  # fmt: skip


# ---------------------------------------------------------------- unreached times
def test_scipy_fills_unreached_times_with_nan():
    with pytest.warns(ConvergenceWarning, match="did not reach t = 2"):
        tr = integrate(blow_up(), None, [0.0, 0.5, 2.0], solver=ScipyODE(), throw=False)
    assert not tr.converged[0]
    a = tr.concentration("A")[0]
    np.testing.assert_allclose(a[:2], [1.0, 2.0], rtol=1e-6)  # reached: exact 1 / (1 - t)
    assert np.isnan(a[2])  # never reached: not the initial state 1.0


def test_scipy_reached_times_and_constant_species_are_filled():
    tr = integrate(decay(), None, [0.0, 1.0, 2.0], solver=ScipyODE())
    np.testing.assert_allclose(tr.concentration("A")[0], 2.0 * np.exp(-0.7 * np.arange(3)), rtol=1e-7)
    np.testing.assert_array_equal(tr.concentration("C")[0], [3.0, 3.0, 3.0])


# ---------------------------------------------------------------- settings
@pytest.mark.parametrize(
    "kwargs, match",
    [({"max_steps": "a"}, r"ScipyODE\(max_steps='a'\) \(a str\): max_steps must be an integer >= 1"),
     ({"max_steps": 1.5}, r"ScipyODE\(max_steps=1.5\)"),
     ({"max_steps": True}, r"ScipyODE\(max_steps=True\)"),
     ({"rtol": "a"}, r"ScipyODE\(rtol='a'\) \(a str\): rtol must be a finite number > 0"),
     ({"atol": None}, r"ScipyODE\(atol=None\)"),
     ({"t_max": True}, r"ScipyODE\(t_max=True\)")],
)  # fmt: skip
def test_bad_scipy_settings_name_the_parameter(kwargs, match):
    with pytest.raises(InputError, match=match):
        ScipyODE(**kwargs)


def test_scipy_settings_are_normalised():
    s = ScipyODE(max_steps=np.int64(50), rtol=np.float32(1e-6), t_max=1e5)
    assert (type(s.max_steps), type(s.rtol), s.max_steps) == (int, float, 50)
    assert ScipyODE(max_steps=1e3).max_steps == 1000


@pytest.mark.parametrize("name", ["atol", "rtol"])
@pytest.mark.parametrize("value", ["x", None, True, -1.0])
def test_bad_steady_state_tolerances(name, value):
    with pytest.raises(InputError, match=rf"steady_state\({name}=.*{name} must be a finite number >= 0"):
        steady_state(decay(), **{name: value})


def test_setting_helpers_for_solver_fields():
    assert check_setting_real("TorchODE", "rtol", np.float64(1e-6)) == 1e-6
    assert check_setting_int("TorchODE", "max_steps", np.int64(7)) == 7
    with pytest.raises(InputError, match=r"TorchODE\(rtol='a'\) \(a str\): rtol must be a finite number > 0, or None"):
        check_setting_real("TorchODE", "rtol", "a", hint=", or None for the default")
    with pytest.raises(InputError, match=r"TorchODE\(max_steps=1.5\): max_steps must be an integer"):
        check_setting_int("TorchODE", "max_steps", 1.5)  # a number, so no "(a float)"
    with pytest.raises(InputError, match=r"TorchODE\(max_steps='7'\) \(a str\)"):
        check_setting_int("TorchODE", "max_steps", "7")
    with pytest.raises(InputError, match=r"TorchODE\(chunk_size=0\): chunk_size must be an integer >= 1"):
        check_setting_int("TorchODE", "chunk_size", 0)


# ---------------------------------------------------------------- messages
def test_solver_class_is_explained():
    with pytest.raises(InputError, match=r"an instance such as TorchODE\(\).*add the parentheses") as info:
        steady_state(decay(), solver=TorchODE)
    assert "classes, not strings" not in str(info.value)
    with pytest.raises(InputError, match=r"ScipyODE\(\)"):
        integrate(decay(), None, [0.0, 1.0], solver=ScipyODE)
    with pytest.raises(InputError, match=r"stochastic solvers .* are for nncrn\.gillespie"):
        steady_state(decay(), solver=DirectMethod())
    with pytest.raises(InputError, match=r"pass an instance, e\.g\. solver=TorchODE\(\)"):
        steady_state(decay(), solver="TorchODE")


@pytest.mark.parametrize(
    "t_eval, match",
    [(np.array([0.0, 1.0, 1.0]), r"t_eval\[1\] = 1.0 >= t_eval\[2\] = 1.0"),
     (np.array([-2.0, 1.0]), r"t_eval\[0\] = -2.0"),
     (["0", "1"], "real numbers"), (np.array([0, 1 + 1j]), "real numbers")],
)  # fmt: skip
def test_output_time_messages_show_plain_numbers(t_eval, match):
    with pytest.raises(InputError, match=match) as info:
        integrate(decay(), None, t_eval, solver=ScipyODE())
    assert "np.float64" not in str(info.value)
