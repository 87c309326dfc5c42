"""The core value: species, reactions, the immutable network, its array view and JSON.

This package depends on numpy alone.
"""

from nncrn.network._inputs import initial_state, input_concentrations, input_features
from nncrn.network._json import network_to_json, save
from nncrn.network._network import (
    KINETICS,
    ReactionNetwork,
    Readout,
    load,
    network_from_json,
    require_network,
    require_readout,
)
from nncrn.network._reaction import Reaction
from nncrn.network._species import Role, Species
from nncrn.network._stoich import StoichiometryView

__all__ = [
    "KINETICS",
    "Reaction",
    "ReactionNetwork",
    "Readout",
    "Role",
    "Species",
    "StoichiometryView",
    "initial_state",
    "input_concentrations",
    "input_features",
    "load",
    "network_from_json",
    "network_to_json",
    "require_network",
    "require_readout",
    "save",
]
