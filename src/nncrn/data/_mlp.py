"""The MLP training loop of ``nncrn train``/``nncrn demo``, as a library function."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Sequence

import numpy as np

from nncrn._errors import InputError

__all__ = ["build_mlp", "fold_offset", "train_mlp"]

ACTIVATIONS = ("smooth_relu", "relu")
_MAX_PARAMETERS = 50_000_000  # ~400 MB of float64 weights, before Adam doubles it twice


def build_mlp(sizes: Sequence[int], activation: str = "smooth_relu", eps: float = 1e-3,
              seed: int = 0):  # fmt: skip
    """A float64 ``torch.nn.Sequential`` of ``Linear`` layers ``sizes[0] -> ... -> sizes[-1]``.

    Hidden layers use :class:`nncrn.nn.SmoothReLU` ``(eps)`` (compiled exactly by the
    smoothed-ReLU scheme) or ``torch.nn.ReLU`` (computed exactly by :class:`~nncrn.DualRail`);
    the last layer is linear (logits).
    """
    import torch

    from nncrn.nn import SmoothReLU

    if activation not in ACTIVATIONS:
        raise InputError(f"activation {activation!r}; choose one of {ACTIVATIONS}")
    sizes = [int(s) for s in sizes]
    if len(sizes) < 2 or any(s < 1 for s in sizes):
        raise InputError(f"layer sizes {sizes}: need at least an input and an output size, each >= 1")
    n_params = sum((a + 1) * b for a, b in itertools.pairwise(sizes))
    if n_params > _MAX_PARAMETERS:
        raise InputError(
            f"layer sizes {sizes} make {n_params:,} parameters, more than the "
            f"{_MAX_PARAMETERS:,} this trainer allocates (and far more reactions than a "
            "simulation can hold); choose smaller hidden layers"
        )
    torch.manual_seed(seed)
    modules: list = []
    for i, (a, b) in enumerate(itertools.pairwise(sizes)):
        modules.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if i < len(sizes) - 2:
            modules.append(SmoothReLU(eps) if activation == "smooth_relu" else torch.nn.ReLU())
    return torch.nn.Sequential(*modules)


def train_mlp(model, X: object, y: object, *, epochs: int = 60, lr: float = 3e-3,
              batch_size: int = 32, weight_decay: float = 1e-4, seed: int = 0,
              loss: str = "cross_entropy",
              on_epoch: Callable[[int, float], None] | None = None,
              accelerate: object = None):  # fmt: skip
    """Train ``model`` (a copy) with Adam on ``X (n, d)`` and ``y``.

    ``loss="cross_entropy"``: ``y (n,)`` class indices, the model's outputs are logits.
    ``loss="mse"``: ``y (n, n_outputs)`` real targets (regression). Mini-batches of
    ``batch_size`` are shuffled each epoch with ``seed``; ``on_epoch(epoch, last batch
    loss)`` is called after each epoch (a progress bar). Returns the trained copy in eval mode.

    ``accelerate``: None, ``"koopman"`` (:data:`nncrn.train.KOOPMAN_PRESET`) or a
    :class:`nncrn.train.Koopman`: every ``window`` Adam steps, one DMD operator per neuron
    jumps the weights ``horizon`` steps ahead, kept only when it lowers the loss on all of
    ``(X, y)`` (see :func:`nncrn.train.koopman_train`). The jumps are in
    ``model.koopman_jumps`` of the returned copy.
    """
    import torch

    from nncrn.train import KOOPMAN_PRESET, Koopman, KoopmanAccelerator

    if accelerate == "koopman":
        accelerate = KOOPMAN_PRESET
    if accelerate is not None and not isinstance(accelerate, Koopman):
        raise InputError(
            f"accelerate={accelerate!r}; pass None, 'koopman' or nncrn.train.Koopman(...)"
        )

    if not isinstance(epochs, int) or epochs < 1:
        raise InputError(f"epochs must be an integer >= 1, got {epochs!r}")
    if loss not in ("cross_entropy", "mse"):
        raise InputError(f"loss={loss!r}; choose 'cross_entropy' (classes) or 'mse' (regression)")
    Xt = torch.as_tensor(np.asarray(X, dtype=np.float64))
    if loss == "mse":
        yt = torch.as_tensor(np.asarray(y, dtype=np.float64).reshape(len(Xt), -1))
    else:
        yt = torch.as_tensor(np.asarray(y, dtype=np.int64))
    model = copy.deepcopy(model)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loss_fn = torch.nn.CrossEntropyLoss() if loss == "cross_entropy" else torch.nn.MSELoss()
    model.train()
    accel = None if accelerate is None else KoopmanAccelerator(model, accelerate)

    def full_loss() -> float:
        with torch.no_grad():
            return float(loss_fn(model(Xt), yt))

    for epoch in range(epochs):
        perm = torch.randperm(len(yt), generator=gen)
        for start in range(0, len(yt), batch_size):
            idx = perm[start : start + batch_size]
            opt.zero_grad()
            value = loss_fn(model(Xt[idx]), yt[idx])
            value.backward()
            opt.step()
            if accel is not None and accel.after_step():
                accel.jump(full_loss)
        if on_epoch is not None:
            on_epoch(epoch, float(value.detach()))
    model.koopman_jumps = tuple(accel.jumps) if accel is not None else ()
    return model.eval()


def fold_offset(model, low: object, input_scale: object):
    """A copy of ``model`` that reads ``x * input_scale`` where ``model`` read ``(x - low) * input_scale``.

    Only the first ``Linear`` layer's bias changes (``b - W @ (low * input_scale)``): the
    weights, e.g. discretized levels, are untouched. Compile the result with
    ``compile_network(..., input_scale=input_scale)``.
    """
    import torch

    out = copy.deepcopy(model)
    first = next(m for m in out.modules() if isinstance(m, torch.nn.Linear))
    shift = torch.as_tensor(np.asarray(low, dtype=np.float64) * np.asarray(input_scale, dtype=np.float64))
    with torch.no_grad():
        first.bias.sub_(first.weight.detach().double() @ shift)
    return out
