"""ChemicalSigmoid refuses a bad rate with the library's InputError (issue 14, item 9)."""

from __future__ import annotations

import math

import pytest

from nncrn._errors import InputError
from nncrn.compile import ChemicalSigmoidScheme


@pytest.mark.parametrize("rate", [0, -1.0, math.inf, math.nan, "0.5", True, None])
def test_bad_rate_is_an_input_error(rate):
    with pytest.raises(InputError, match=r"ChemicalSigmoidScheme rate is .* finite and > 0"):
        ChemicalSigmoidScheme(rate)
