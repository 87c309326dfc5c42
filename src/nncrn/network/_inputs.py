"""Validation of inputs and initial concentrations at the public boundary.

Every simulator and the closed-form oracle go through these two functions, so the rules
(batch axis first, inputs in feature units inside each input's range, concentrations
finite and >= 0) and their messages live in one place.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np

from nncrn._errors import InputError
from nncrn.network._network import ReactionNetwork, require_network

__all__ = [
    "as_float_array",
    "fill_state",
    "initial_state",
    "input_concentrations",
    "input_features",
]


def as_float_array(value: object, what: str) -> np.ndarray:
    """``value`` as a float64 array; :class:`InputError` for text, complex or non-numeric values.

    Booleans count as 0 and 1 (binary features); strings such as ``"1.0"`` and complex
    numbers are rejected rather than parsed or truncated to their real part.
    """
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError):
        raw = None
    if raw is not None and raw.dtype.kind in "USc":
        kind = "complex numbers" if raw.dtype.kind == "c" else "text"
        raise InputError(
            f"{what} must be real numbers; got {kind} (dtype {raw.dtype}) — convert it, e.g. "
            "np.asarray(values, dtype=float), and drop imaginary parts explicitly"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            return np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError, np.exceptions.ComplexWarning):
        raise InputError(
            f"{what} must be numeric (an array of real numbers); could not convert "
            f"{type(value).__name__}"
        ) from None


def _from_mapping(values: Mapping[str, object], names: tuple[str, ...], what: str) -> np.ndarray:
    unknown = [k for k in values if k not in names]
    if unknown:
        raise InputError(
            f"{what} names {unknown}, which are not among the network's {what}: {list(names)}"
        )
    missing = [n for n in names if n not in values]
    if missing:
        raise InputError(
            f"{what} mapping is missing {missing}; give a value for every one of {list(names)}"
        )
    cols = [np.atleast_1d(as_float_array(values[n], f"{what}[{n!r}]")) for n in names]
    lengths = {c.shape for c in cols}
    if len(lengths) != 1 or any(c.ndim != 1 for c in cols):
        raise InputError(
            f"{what} mapping values must all be 1-D of the same length (one entry per batch "
            f"item); got shapes {sorted(lengths)}"
        )
    return np.stack(cols, axis=1) if cols else np.zeros((1, 0))


def input_concentrations(network: ReactionNetwork, inputs: object) -> np.ndarray:
    """Validate ``inputs`` (feature units) and return input concentrations ``(batch, n_inputs)``.

    ``inputs`` is an array ``(batch, n_inputs)`` in the order of ``network.inputs`` or a
    mapping from input species name to a 1-D array of length ``batch``. A feature with
    ``input_range = (low, high)`` must lie in ``[low, high]`` and becomes concentration
    ``feature - low``; a feature without a range is itself a concentration and must be >= 0.
    Either is then multiplied by the species' ``input_scale`` (1 unless the network keeps a
    feature scaling, e.g. min-max, outside its weights).
    """
    network = require_network(network, "input_concentrations")
    x = input_concentrations_shared(network, inputs)
    # a fresh array is the caller's; anything else may be (a view of) the user's inputs
    return x if x is not inputs and x.base is None else x.copy()


def input_concentrations_shared(network: ReactionNetwork, inputs: object) -> np.ndarray:
    """:func:`input_concentrations` without a copy where none is needed: may be ``inputs``.

    Features without a range and scale are their own concentrations; a caller that only
    reads them (the steady-state solver's direct path) saves a copy of the batch.
    """
    x = input_features(network, inputs)
    species = [network.species[network.index(n)] for n in network.inputs]
    low = np.array([s.input_range[0] if s.input_range else 0.0 for s in species])
    scale = np.array([s.input_scale for s in species])
    if (scale != 1.0).any():
        return (x - low) * scale
    return x - low if low.any() else x


def input_features(network: ReactionNetwork, inputs: object) -> np.ndarray:
    """Validate ``inputs`` and return them as features ``(batch, n_inputs)``, columns in
    ``network.inputs`` order (a mapping is arranged by name); see :func:`input_concentrations`.
    """
    network = require_network(network, "input_features")
    names = network.inputs
    if inputs is None:
        if names:
            raise InputError(
                f"the network has {len(names)} input species {list(names)[:5]}; pass inputs of "
                f"shape (batch, {len(names)})"
            )
        return np.zeros((1, 0))
    if isinstance(inputs, Mapping):
        x = _from_mapping(inputs, names, "inputs")
    else:
        x = as_float_array(inputs, "inputs")
        if x.ndim != 2:
            hint = (
                f"; for a single input use x.reshape(1, -1), shape (1, {len(names)})"
                if x.ndim == 1
                else ""
            )
            raise InputError(
                f"inputs must have shape (batch, n_inputs) = (batch, {len(names)}); got shape "
                f"{x.shape}{hint}"
            )
    if x.shape[1] != len(names):
        raise InputError(
            f"inputs have {x.shape[1]} columns but the network has {len(names)} input species "
            f"{list(names)[:8]}{'...' if len(names) > 8 else ''}; pass shape (batch, {len(names)})"
        )
    if x.shape[0] == 0:
        raise InputError("inputs have an empty batch (shape (0, ...)); pass at least one row")
    species = [network.species[network.index(n)] for n in names]
    low = np.array([s.input_range[0] if s.input_range else 0.0 for s in species])
    high = np.array([s.input_range[1] if s.input_range else np.inf for s in species])
    if x.size:
        # Two reductions without temporaries decide the common case (min and max propagate
        # NaN); the element-wise masks below only find what to report.
        lo, hi = x.min(axis=0), x.max(axis=0)
        if (
            np.isfinite(lo).all()
            and np.isfinite(hi).all()
            and (lo >= low).all()
            and (hi <= high).all()
        ):
            return x
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"input {names[col]!r} is {float(x[row, col])} in row {row} (counting from 0) ({int(bad.sum())} non-finite "
            "values in all); inputs must be finite numbers — impute or drop those rows"
        )
    outside = (x < low) | (x > high)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        s = species[col]
        if s.input_range is None:
            raise InputError(
                f"input {s.name!r} is {float(x[row, col])!r} in row {row} (counting from 0); inputs are concentrations and "
                "must be >= 0. Compile with input_range=(low, high) to accept negative features (`nncrn "
                "train` and `demo` set it from the training data)"
            )
        raise InputError(
            f"input {s.name!r} is {float(x[row, col])!r} in row {row} (counting from 0), outside its declared input_range "
            f"[{float(low[col])!r}, {float(high[col])!r}] ({int(outside.sum())} values outside in all); "
            "recompile with a wider input_range or clip the features"
        )
    return x


def fill_state(
    network: ReactionNetwork, x: np.ndarray, values: object, default: np.ndarray, what: str
) -> np.ndarray:
    """``(batch, n_species)`` float array: ``default (n_species,)`` overridden by ``values``.

    ``values`` is None, an array ``(n_species,)`` or ``(batch, n_species)``, or a mapping from
    species name to a scalar or a ``(batch,)`` array (species not named keep ``default``).
    ``batch`` is ``x.shape[0]`` (the validated inputs); a network without inputs takes it
    from a ``(batch, n_species)`` array. Values are converted, not range-checked; input
    columns are left for the caller to set. ``what`` names the argument in messages.
    """
    batch = x.shape[0]
    if not network.inputs and values is not None and not isinstance(values, Mapping):
        # No inputs to fix the batch: a (batch, n_species) array sets it.
        arr = as_float_array(values, what)
        if arr.ndim == 2 and arr.shape[1] == network.n_species and arr.shape[0] > 0:
            batch = arr.shape[0]
    state = np.tile(np.asarray(default, dtype=np.float64), (batch, 1))
    if isinstance(values, Mapping):
        for name, value in values.items():
            if name not in network:
                raise InputError(
                    f"{what} names species {name!r}, which is not in the network; its species "
                    f"are {list(network.species_names)[:8]}"
                    f"{'...' if network.n_species > 8 else ''}"
                )
            col = np.atleast_1d(as_float_array(value, f"{what}[{name!r}]"))
            if col.shape not in ((1,), (batch,)):
                raise InputError(
                    f"{what}[{name!r}] has shape {col.shape}; give a scalar or an array of "
                    f"shape ({batch},), one value per batch item"
                )
            state[:, network.index(name)] = col
    elif values is not None:
        arr = as_float_array(values, what)
        if arr.shape == (network.n_species,):
            arr = np.broadcast_to(arr, state.shape)
        if arr.shape != state.shape:
            raise InputError(
                f"{what} has shape {arr.shape}; expected ({network.n_species},) or "
                f"({batch}, {network.n_species}) — batch first, species in network.species "
                "order — or a mapping from species name to a scalar or a (batch,) array"
            )
        state = np.array(arr, dtype=np.float64)
    return state


def initial_state(network: ReactionNetwork, inputs: object, y0: object = None) -> np.ndarray:
    """Initial concentrations ``(batch, n_species)``: ``y0`` (or species' ``initial``) with inputs set.

    ``y0`` may be None, an array ``(n_species,)`` or ``(batch, n_species)``, or a mapping
    from species name to a scalar or a ``(batch,)`` array (species not named keep their
    ``initial``). Input species always *start* at the concentrations given by ``inputs``;
    whether they stay there is up to the reactions (a species no reaction changes, such
    as an input that only catalyses, stays at its initial value; one that is consumed,
    as in dual-rail networks, changes like any other species).
    """
    network = require_network(network, "initial_state")
    x = input_concentrations(network, inputs)
    default = np.array([s.initial for s in network.species])
    state = fill_state(network, x, y0, default, "y0")
    if x.shape[0] != state.shape[0]:  # a network without inputs took its batch from y0
        x = np.zeros((state.shape[0], 0))
    bad = ~np.isfinite(state) | (state < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"initial concentration of {network.species[col].name!r} is {float(state[row, col])!r} in "
            f"row {row} (counting from 0); concentrations must be finite and >= 0"
        )
    idx = [network.index(n) for n in network.inputs]
    state[:, idx] = x
    return state
