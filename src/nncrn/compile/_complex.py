"""Complex values as pairs of real features: the input and readout layout of complex networks."""

from __future__ import annotations

import numpy as np

from nncrn._errors import InputError

__all__ = ["complex_inputs", "complex_outputs"]


def complex_inputs(x: object) -> np.ndarray:
    """``(batch, n)`` complex -> ``(batch, 2 n)`` real ``[Re x_0, Im x_0, Re x_1, ...]``.

    The input columns (species ``X0, X1, ...``) of a network compiled from a model whose
    first layer is a :class:`nncrn.nn.ComplexLinear`. A real array is read as ``x + 0i``.

    >>> complex_inputs([[1 + 2j, 2 - 3j]])
    array([[ 1.,  2.,  2., -3.]])
    """
    arr = np.asarray(x)
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise InputError(f"complex_inputs takes a numeric (batch, n) array, got dtype {arr.dtype}")
    if arr.ndim != 2:
        raise InputError(
            f"complex_inputs takes a (batch, n) array, got shape {arr.shape}; a single input is "
            "a batch of one: x.reshape(1, -1)"
        )
    arr = arr.astype(np.complex128)
    return np.stack([arr.real, arr.imag], axis=-1).reshape(arr.shape[0], -1)


def complex_outputs(y: object) -> np.ndarray:
    """``(batch, 2 m)`` real readouts ``[y0_re, y0_im, ...]`` -> ``(batch, m)`` complex.

    >>> complex_outputs([[1.0, 2.0, 0.0, -3.0]])
    array([[1.+2.j, 0.-3.j]])
    """
    arr = np.asarray(y, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] % 2:
        raise InputError(
            f"complex_outputs takes a (batch, 2 m) array of readouts y0_re, y0_im, ..., got "
            f"shape {arr.shape}; the readout count must be even"
        )
    return arr[:, 0::2] + 1j * arr[:, 1::2]
