"""Hand-built AJD networks and their closed form, shared by the export tests."""

from __future__ import annotations

import numpy as np

from nncrn.network import Reaction, ReactionNetwork, Readout, Species


def ajd_network(weights, biases, eps, input_range=None, metadata=None) -> ReactionNetwork:
    """Anderson-Joshi-Deshpande CRN of a ReLU MLP built reaction by reaction.

    Species ``X{j}`` are inputs, ``Y{l}_{i}`` neuron ``i`` of layer ``l``: ``0 -> Y`` at eps,
    ``2 Y -> Y`` at 1, weights as (de)catalysed growth, biases as growth/decay.
    """
    n_in = np.shape(weights[0])[1]
    species = [Species(f"X{j}", "input", 0.0, input_range) for j in range(n_in)]
    reactions = []
    prev = [f"X{j}" for j in range(n_in)]
    for layer, (w, b) in enumerate(zip(weights, biases, strict=True), 1):
        last = layer == len(weights)
        names = [f"Y{layer}_{i}" for i in range(len(b))]
        for i, y in enumerate(names):
            species.append(Species(y, "output" if last else "hidden"))
            tag = f"layer {layer} neuron {i}"
            reactions.append(Reaction.parse(f"0 -> {y}", eps, f"{tag} eps"))
            reactions.append(Reaction.parse(f"2 {y} -> {y}", 1.0, f"{tag} decay"))
            for j, x in enumerate(prev):
                wij = float(w[i][j])
                if wij > 0:
                    reactions.append(
                        Reaction.parse(f"{x} + {y} -> {x} + 2 {y}", wij, f"{tag} w{j}")
                    )
                elif wij < 0:
                    reactions.append(Reaction.parse(f"{x} + {y} -> {x}", -wij, f"{tag} w{j}"))
            if b[i] > 0:
                reactions.append(Reaction.parse(f"{y} -> 2 {y}", float(b[i]), f"{tag} bias"))
            elif b[i] < 0:
                reactions.append(Reaction.parse(f"{y} -> 0", -float(b[i]), f"{tag} bias"))
        prev = names
    readout = [Readout(f"out_{i}", y) for i, y in enumerate(prev)]
    meta = {"scheme": "ajd", "eps": eps, "source": "hand-built test network"}
    return ReactionNetwork(species, reactions, readout, metadata or meta)


def sigma(z, eps):
    """Closed-form positive fixed point of dy/dt = eps + z y - y^2."""
    z = np.asarray(z, dtype=float)
    return (z + np.sqrt(z * z + 4 * eps)) / 2


def ajd_forward(net_params, x, eps):
    """Layer-by-layer closed form: each layer applies sigma to the previous layer's values."""
    a = np.asarray(x, dtype=float)
    for w, b in net_params:
        a = sigma(np.asarray(w) @ a + b, eps)
    return a
