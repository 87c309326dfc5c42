"""Scalar number checks shared by every boundary that takes a rate, a concentration or a count.

``float(x)`` alone is too lenient for validation: it turns ``True`` into 1.0 and ``"1.0"``
into 1.0, and a complex numpy scalar into its real part (with only a ``ComplexWarning``).
These helpers accept real numbers of any kind (Python, numpy, 0-d arrays and tensors) and
nothing else, and format them for messages as plain numbers (``1.5``, not
``np.float64(1.5)``).
"""

from __future__ import annotations

import math
import numbers
import operator

import numpy as np

__all__ = ["as_integer", "as_real", "fmt_digits", "fmt_number"]

_NOT_NUMBERS = (bool, np.bool_, str, bytes, bytearray)


def _kind(value: object) -> str | None:
    """numpy dtype kind of an array-like scalar (``"f"``, ``"c"``, ``"b"``...), if it has one."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return None
    kind = getattr(dtype, "kind", None)
    if kind is not None:
        return kind
    name = str(dtype)  # a torch dtype: torch.float64, torch.complex64, torch.bool, ...
    if "complex" in name:
        return "c"
    return "b" if name.endswith("bool") else "f"


def as_real(value: object) -> float | None:
    """``value`` as a float if it is a real number, else None.

    Real numbers are Python and numpy ints and floats and 0-d real arrays or tensors.
    Booleans, strings, complex numbers and None are not. Integers too large for a float
    give ``inf`` (rejected by any finiteness check).
    """
    if value is None or isinstance(value, _NOT_NUMBERS):
        return None
    if not isinstance(value, numbers.Real):
        if isinstance(value, numbers.Complex) or _kind(value) not in (None, "i", "u", "f"):
            return None
    try:
        return float(value)  # type: ignore[arg-type]
    except OverflowError:
        return math.inf
    except (TypeError, ValueError):
        return None


def as_integer(value: object) -> int | None:
    """``value`` as an int if it is an integer (or an integral float), else None; never a bool."""
    if value is None or isinstance(value, _NOT_NUMBERS):
        return None
    try:
        return operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        pass
    real = as_real(value)
    if real is None or not math.isfinite(real) or not real.is_integer():
        return None
    return int(real)


def fmt_number(value: object) -> str:
    """``value`` for an error message: plain ``1.5`` / ``3`` for numbers, ``repr`` otherwise.

    An integer too long to print in full (Python refuses ``repr`` past 4300 digits, and
    such a number helps no reader) is shown by its leading digits and its length.
    """
    if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.shape == ()):
        value = value.item()
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 96:
        if value.bit_length() <= 10_000:
            return fmt_digits(str(value))
        return f"an integer of about {int(value.bit_length() * math.log10(2)) + 1} digits"
    return repr(value)


def fmt_digits(text: str) -> str:
    """A run of digits for a message: in full up to 30 characters, else ``123...`` and its length."""
    digits = text.lstrip("+-")
    if len(digits) <= 30:
        return text
    return f"{text[: len(text) - len(digits) + 12]}... (a {len(digits)}-digit number)"
