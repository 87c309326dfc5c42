"""Validation of inputs and initial concentrations at the public boundary.

Every simulator and the closed-form oracle go through these two functions, so the rules
(batch axis first, inputs in feature units inside each input's range, concentrations
finite and >= 0) and their messages live in one place.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from nncrn._errors import InputError
from nncrn.network._network import ReactionNetwork, require_network

__all__ = ["initial_state", "input_concentrations"]


def _as_float_array(value: object, what: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numeric; could not convert {type(value).__name__}") from None
    return arr


def _from_mapping(
    values: Mapping[str, object], names: tuple[str, ...], what: str
) -> np.ndarray:
    unknown = [k for k in values if k not in names]
    if unknown:
        raise InputError(
            f"{what} names {unknown}, which are not among the network's {what}: {list(names)}"
        )
    missing = [n for n in names if n not in values]
    if missing:
        raise InputError(f"{what} mapping is missing {missing}; give a value for every one of {list(names)}")
    cols = [np.atleast_1d(_as_float_array(values[n], f"{what}[{n!r}]")) for n in names]
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
    """
    network = require_network(network, "input_concentrations")
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
        x = _as_float_array(inputs, "inputs")
        if x.ndim != 2:
            hint = (
                f"; for a single input use x.reshape(1, -1), shape (1, {len(names)})"
                if x.ndim == 1 else ""
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
    bad = ~np.isfinite(x)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"input {names[col]!r} is {float(x[row, col])} in row {row} ({int(bad.sum())} non-finite "
            "values in all); inputs must be finite numbers — impute or drop those rows"
        )
    species = [network.species[network.index(n)] for n in names]
    low = np.array([s.input_range[0] if s.input_range else 0.0 for s in species])
    high = np.array([s.input_range[1] if s.input_range else np.inf for s in species])
    outside = (x < low) | (x > high)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        s = species[col]
        if s.input_range is None:
            raise InputError(
                f"input {s.name!r} is {float(x[row, col])!r} in row {row}; inputs are concentrations and "
                "must be >= 0. Compile with input_range=(low, high) to accept negative features"
            )
        raise InputError(
            f"input {s.name!r} is {float(x[row, col])!r} in row {row}, outside its declared input_range "
            f"[{float(low[col])!r}, {float(high[col])!r}] ({int(outside.sum())} values outside in all); "
            "recompile with a wider input_range or clip the features"
        )
    return x - low


def initial_state(
    network: ReactionNetwork, inputs: object, y0: object = None
) -> np.ndarray:
    """Initial concentrations ``(batch, n_species)``: ``y0`` (or species' ``initial``) with inputs set.

    ``y0`` may be None, an array ``(n_species,)`` or ``(batch, n_species)``, or a mapping
    from species name to a scalar or a ``(batch,)`` array (species not named keep their
    ``initial``). Input species always take the concentrations given by ``inputs``.
    """
    network = require_network(network, "initial_state")
    x = input_concentrations(network, inputs)
    batch = x.shape[0]
    if not network.inputs and y0 is not None and not isinstance(y0, Mapping):
        # No inputs to fix the batch: a (batch, n_species) y0 sets it.
        arr = _as_float_array(y0, "y0")
        if arr.ndim == 2 and arr.shape[1] == network.n_species and arr.shape[0] > 0:
            batch = arr.shape[0]
            x = np.zeros((batch, 0))
    state = np.tile(np.array([s.initial for s in network.species]), (batch, 1))
    if isinstance(y0, Mapping):
        for name, value in y0.items():
            if name not in network:
                raise InputError(f"y0 names species {name!r}, which is not in the network")
            col = np.atleast_1d(_as_float_array(value, f"y0[{name!r}]"))
            if col.shape not in ((1,), (batch,)):
                raise InputError(
                    f"y0[{name!r}] has shape {col.shape}; give a scalar or an array of shape ({batch},)"
                )
            state[:, network.index(name)] = col
    elif y0 is not None:
        arr = _as_float_array(y0, "y0")
        if arr.shape == (network.n_species,):
            arr = np.broadcast_to(arr, state.shape)
        if arr.shape != state.shape:
            raise InputError(
                f"y0 has shape {arr.shape}; expected ({network.n_species},) or "
                f"({batch}, {network.n_species}) — batch first, species in network.species order"
            )
        state = np.array(arr, dtype=np.float64)
    bad = ~np.isfinite(state) | (state < 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"initial concentration of {network.species[col].name!r} is {float(state[row, col])!r} in "
            f"row {row}; concentrations must be finite and >= 0"
        )
    idx = [network.index(n) for n in network.inputs]
    state[:, idx] = x
    return state
