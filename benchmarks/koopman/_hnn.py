"""The Hamiltonian neural network of the harmonic oscillator, many seeds at once.

``t -> (x, p)``: ``Linear(1, 10) - sin - Linear(10, 10) - sin - Linear(10, 2)``, with the
initial state built in, ``x = x0 + (1 - e^-t) N_x(t)``, ``p = p0 + (1 - e^-t) N_p(t)``
(Mattheakis et al.), and the physics loss ``mean[(x' - p)^2 + (p' + x)^2]`` of Hamilton's
equations for ``H = (x^2 + p^2) / 2`` on 200 fixed collocation points. The time derivative
is carried forward with the values (one backward pass per step, no double backward).

The weights of ``S`` seeds are stacked on a leading axis and the objective is the sum of
the per-seed losses: every optimizer used here (Adam, Adagrad, Adadelta) is elementwise, so
each seed trains exactly as it would alone.
"""

from __future__ import annotations

import math

import numpy as np
import torch

X0, P0 = 1.0, 0.0
N_POINTS, T_END = 200, 2 * math.pi
SHAPES = (("W1", (10, 1)), ("b1", (10,)), ("W2", (10, 10)), ("b2", (10,)),
          ("W3", (2, 10)), ("b3", (2,)))  # fmt: skip


def init(seeds: list[int]) -> dict[str, torch.Tensor]:
    """Stacked ``torch.nn.Linear`` default initialisations, one per seed."""
    stacks: dict[str, list[torch.Tensor]] = {name: [] for name, _ in SHAPES}
    for s in seeds:
        torch.manual_seed(s)
        for i, (a, b) in enumerate(((1, 10), (10, 10), (10, 2)), start=1):
            lin = torch.nn.Linear(a, b).double()
            stacks[f"W{i}"].append(lin.weight.detach())
            stacks[f"b{i}"].append(lin.bias.detach())
    return {k: torch.stack(v).clone().requires_grad_(True) for k, v in stacks.items()}


def losses(p: dict[str, torch.Tensor], t: torch.Tensor) -> torch.Tensor:
    """``(S,)`` physics loss of every seed."""
    w1 = p["W1"][:, :, 0]  # (S, 10)
    a1 = t[None, :, None] * w1[:, None, :] + p["b1"][:, None, :]
    h1, dh1 = torch.sin(a1), torch.cos(a1) * w1[:, None, :]
    a2 = h1 @ p["W2"].transpose(1, 2) + p["b2"][:, None, :]
    da2 = dh1 @ p["W2"].transpose(1, 2)
    h2, dh2 = torch.sin(a2), torch.cos(a2) * da2
    o = h2 @ p["W3"].transpose(1, 2) + p["b3"][:, None, :]
    do = dh2 @ p["W3"].transpose(1, 2)
    f, df = 1 - torch.exp(-t), torch.exp(-t)
    x, dx = X0 + f * o[..., 0], df * o[..., 0] + f * do[..., 0]
    q, dq = P0 + f * o[..., 1], df * o[..., 1] + f * do[..., 1]
    return ((dx - q) ** 2 + (dq + x) ** 2).mean(1)


def collocation() -> torch.Tensor:
    return torch.linspace(0.0, T_END, N_POINTS, dtype=torch.float64)


def node_groups(n_seeds: int) -> list[np.ndarray]:
    """Index groups (one per neuron per seed) into the flat vector of the stacked weights.

    The flat order is ``parameters_to_vector([W1, b1, W2, b2, W3, b3])`` of the stacks.
    """
    offsets, pos = {}, 0
    for name, shape in SHAPES:
        offsets[name] = pos
        pos += n_seeds * int(np.prod(shape))
    groups = []
    for s in range(n_seeds):
        for layer, (n_out, n_in) in enumerate(((10, 1), (10, 10), (2, 10)), start=1):
            wo = offsets[f"W{layer}"] + s * n_out * n_in
            bo = offsets[f"b{layer}"] + s * n_out
            for j in range(n_out):
                groups.append(np.r_[wo + j * n_in + np.arange(n_in), bo + j])
    return groups
