"""Hand-built Anderson-Joshi-Deshpande networks and their closed-form fixed points.

Deliberately independent of :mod:`nncrn.compile` so the simulators are tested against the
construction as written in the paper, not against the compiler's reading of it.
"""

from __future__ import annotations

import itertools

import numpy as np

from nncrn.network import Reaction, ReactionNetwork, Species


def ajd_network(
    weights: list[np.ndarray], biases: list[np.ndarray], eps: float
) -> ReactionNetwork:
    """AJD network: ``weights[l]`` is ``(n_out, n_in)`` of layer ``l``, every layer smoothed ReLU.

    Species ``X0..`` are inputs, ``H{l}_{i}`` hidden neurons, ``Y{i}`` outputs.
    """
    n_in = np.shape(weights[0])[1]
    species = [Species(f"X{j}", "input") for j in range(n_in)]
    reactions = []
    prev = [f"X{j}" for j in range(n_in)]
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True)):
        last = layer == len(weights) - 1
        names = [f"Y{i}" if last else f"H{layer}_{i}" for i in range(np.shape(w)[0])]
        for i, y in enumerate(names):
            species.append(Species(y, "output" if last else "hidden"))
            if eps > 0:
                reactions.append(Reaction({}, {y: 1}, eps))
            reactions.append(Reaction({y: 2}, {y: 1}, 1.0))
            for j, x in enumerate(prev):
                wij = float(w[i][j])
                if wij > 0:
                    reactions.append(Reaction({x: 1, y: 1}, {x: 1, y: 2}, wij))
                elif wij < 0:
                    reactions.append(Reaction({x: 1, y: 1}, {x: 1}, -wij))
            if b[i] > 0:
                reactions.append(Reaction({y: 1}, {y: 2}, float(b[i])))
            elif b[i] < 0:
                reactions.append(Reaction({y: 1}, {}, -float(b[i])))
        prev = names
    return ReactionNetwork(species, reactions)


def sigma(z: np.ndarray, eps: float) -> np.ndarray:
    """Positive root of ``eps + z y - y^2``, written without cancellation for ``z < 0``."""
    z = np.asarray(z, dtype=np.float64)
    root = np.sqrt(z * z + 4 * eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        neg = np.where(root - z > 0, 2 * eps / (root - z), 0.0)
    return np.where(z >= 0, (z + root) / 2, neg)


def closed_form(
    weights: list[np.ndarray], biases: list[np.ndarray], eps: float, x: np.ndarray
) -> list[np.ndarray]:
    """Layer-by-layer fixed point: list of ``(batch, width)`` arrays, one per layer."""
    out, h = [], np.asarray(x, dtype=np.float64)
    for w, b in zip(weights, biases, strict=True):
        h = sigma(h @ np.asarray(w, dtype=np.float64).T + b, eps)
        out.append(h)
    return out


def random_ajd(
    rng: np.random.Generator, widths: list[int], eps: float, scale: float = 1.0
) -> tuple[ReactionNetwork, list[np.ndarray], list[np.ndarray]]:
    """Random AJD network with layer widths ``widths`` (first = inputs); weights ~ N(0, scale/sqrt(n_in))."""
    weights, biases = [], []
    for n_in, n_out in itertools.pairwise(widths):
        weights.append(rng.normal(0, scale / np.sqrt(n_in), (n_out, n_in)))
        biases.append(rng.normal(0, 0.5 * scale, n_out))
    return ajd_network(weights, biases, eps), weights, biases


def layer_columns(network: ReactionNetwork, widths: list[int]) -> list[list[int]]:
    """Species indices of each non-input layer, in neuron order."""
    cols = []
    for layer, n in enumerate(widths[1:]):
        last = layer == len(widths) - 2
        cols.append(
            [network.index(f"Y{i}" if last else f"H{layer}_{i}") for i in range(n)]
        )
    return cols
