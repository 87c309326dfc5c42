"""Small compiled networks shared by the training tests."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from nncrn.compile import compile_network
from nncrn.network import Reaction, ReactionNetwork
from nncrn.nn import SmoothReLU


def small_model(
    seed: int = 0, sizes: tuple[int, ...] = (4, 6, 3), eps: float = 0.01
) -> torch.nn.Sequential:
    """A float64 ``Linear - SmoothReLU - ... - Linear`` model with fixed initial weights."""
    torch.manual_seed(seed)
    layers: list[torch.nn.Module] = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(SmoothReLU(eps))
    return torch.nn.Sequential(*layers).double()


def with_feedback(network: ReactionNetwork, rate: float = 0.2) -> ReactionNetwork:
    """Add ``Y0p + H1_0 -> Y0p``: the output inhibits a hidden neuron (no closed form)."""
    extra = Reaction({"Y0p": 1, "H1_0": 1}, {"Y0p": 1}, rate, "feedback")
    return ReactionNetwork(network.species, (*network.reactions, extra), network.readout,
                           dict(network.metadata))  # fmt: skip


@pytest.fixture
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    X = rng.uniform(0.0, 1.0, (40, 4))
    y = (X[:, 0] + X[:, 1] > X[:, 2] + 0.5).astype(np.int64) + (X[:, 3] > 0.7)
    return X, y


@pytest.fixture
def compiled() -> tuple[torch.nn.Sequential, ReactionNetwork]:
    model = small_model()
    return model, compile_network(model)
