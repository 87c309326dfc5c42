"""Inputs of an export in the units of the features, and the unit scale of an SBML export.

A compiled network reads feature ``x`` as the concentration ``(x - low) * scale`` of its
input species (:func:`nncrn.network.input_concentrations`; ``low`` from the species'
``input_range``, ``scale`` its ``input_scale``). Where that map is not the identity, the
SBML export holds the feature itself as a constant parameter named after the feature and
sets the species by an initial assignment ``X0 = (petal_length - low) * scale``, so a
modeller sets ``petal_length`` in feature units instead of working out the offset (in
libRoadRunner: ``rr["petal_length"] = 1.4`` then ``rr.reset()``). The species annotation
records the parameter (``feature="petal_length"``), and :func:`~nncrn.export.from_sbml`
computes the species' initial concentration from the parameter's value.

``inputs=`` (one row of features) sets those values, and the input species' initial
concentrations, at export time, in every format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from nncrn._errors import InputError
from nncrn.export._common import fresh
from nncrn.export._sbml_outputs import sbml_id
from nncrn.network import ReactionNetwork
from nncrn.network._inputs import input_concentrations, input_features

__all__ = [
    "CONCENTRATION_UNITS",
    "TIME_UNITS",
    "FeatureParameter",
    "feature_parameters",
    "unit_scales",
    "with_inputs",
]

# concentration unit -> power of ten of mole per litre; time unit -> seconds
CONCENTRATION_UNITS = {"M": 0, "mM": -3, "uM": -6, "µM": -6, "nM": -9, "pM": -12, "fM": -15}
TIME_UNITS = {"s": 1.0, "min": 60.0, "h": 3600.0}


def unit_scales(concentration_unit: object, time_unit: object) -> tuple[int, float]:
    """``(power of ten of the mole, seconds per time unit)``, or an error listing the choices."""
    if concentration_unit not in CONCENTRATION_UNITS:
        raise InputError(
            f"concentration_unit must be one of {', '.join(CONCENTRATION_UNITS)}; got "
            f"{concentration_unit!r}"
        )
    if time_unit not in TIME_UNITS:
        raise InputError(f"time_unit must be one of {', '.join(TIME_UNITS)}; got {time_unit!r}")
    return CONCENTRATION_UNITS[concentration_unit], TIME_UNITS[time_unit]  # type: ignore[index]


def _feature_names(network: ReactionNetwork) -> list[str]:
    features = network.metadata.get("feature_names")
    if isinstance(features, list | tuple) and len(features) == len(network.inputs):
        return [str(f) for f in features]
    return list(network.inputs)


def with_inputs(
    network: ReactionNetwork, inputs: object, what: str
) -> tuple[ReactionNetwork, dict[str, float]]:
    """``network`` whose input species start at the concentrations of one row of features,
    and that row (input species -> feature; empty when ``inputs`` is None).

    ``inputs``: ``(n_inputs,)`` or ``(1, n_inputs)`` features in ``network.inputs`` order,
    or a mapping from input species name (or feature name) to a number.
    """
    if inputs is None:
        return network, {}
    if not network.inputs:
        raise InputError(f"the network has no input species, so {what}(inputs=...) has "
                         "nothing to set; drop it")  # fmt: skip
    if isinstance(inputs, Mapping):
        by_feature = dict(zip(_feature_names(network), network.inputs, strict=True))
        row: object = {by_feature.get(k, k) if k not in network.inputs else k: v
                       for k, v in inputs.items()}  # fmt: skip
        for key, value in inputs.items():
            if np.ndim(value) != 0:
                raise InputError(
                    f"{what}(inputs=...) sets one row of features; {key!r} has shape "
                    f"{np.shape(value)}. Give one number per input"
                )
    else:
        try:
            array = np.asarray(inputs, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(
                f"{what}(inputs=...) must be numbers, one per input {list(network.inputs)}; "
                f"got {type(inputs).__name__}"
            ) from None
        if array.ndim == 1:
            array = array.reshape(1, -1)
        if array.ndim != 2 or array.shape[0] != 1:
            raise InputError(
                f"{what}(inputs=...) sets one row of features (the model's initial state); "
                f"got shape {array.shape}. Export one file per row, or use to_omex, whose "
                "SED-ML experiment has one run per row"
            )
        row = array
    conc = input_concentrations(network, row)[0]
    given = dict(zip(network.inputs, input_features(network, row)[0].tolist(), strict=True))
    species = list(network.species)
    for name, value in zip(network.inputs, conc, strict=True):
        i = network.index(name)
        species[i] = replace(species[i], initial=float(value))
    changed = ReactionNetwork(tuple(species), network.reactions, network.readout, network.metadata)
    return changed, given


@dataclass(frozen=True)
class FeatureParameter:
    """A feature held as an SBML parameter that sets an input species."""

    sid: str  # SBML id of the parameter
    name: str  # the feature's name
    species: str
    low: float
    scale: float
    value: float  # the feature, (initial / scale) + low

    def formula(self, unit: str) -> str:
        """The initial assignment of the species, in SBML L3 formula syntax; the offset's
        literal carries ``unit`` (the concentration unit's id) and the scale is a pure number."""
        shifted = self.sid if self.low == 0 else (
            f"{self.sid} + {-self.low!r} {unit}" if self.low < 0
            else f"{self.sid} - {self.low!r} {unit}"
        )
        if self.scale == 1.0:
            return shifted
        scale = f"{self.scale!r} dimensionless"
        return f"({shifted}) * {scale}" if self.low != 0 else f"{shifted} * {scale}"


def feature_parameters(
    network: ReactionNetwork, taken: set[str], given: Mapping[str, float]
) -> list[FeatureParameter]:
    """One parameter per input whose feature-to-concentration map is not the identity.

    Its id is the feature name made an SBML id (``petal length (cm)`` ->
    ``petal_length__cm_``), or ``X0_feature`` when the network names no features; ``taken``
    (ids in use) gains the new ids. ``given`` (input species -> feature) are the values
    set at export; other features are worked back from the initial concentrations.
    """
    found = []
    features = dict(zip(network.inputs, _feature_names(network), strict=True))
    for name in network.inputs:
        s = network.species[network.index(name)]
        low = s.input_range[0] if s.input_range is not None else 0.0
        if low == 0.0 and s.input_scale == 1.0:
            continue
        feature = features[name]
        base = sbml_id(feature if feature != name else f"{name}_feature")
        sid = fresh(base, taken)
        value = given.get(name, s.initial / s.input_scale + low)
        found.append(FeatureParameter(sid, feature, name, float(low), float(s.input_scale),
                                      float(value)))  # fmt: skip
    return found
