"""The Koopman accelerator around any torch optimizer loop: train, fit operators, jump, repeat."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from nncrn._errors import InputError
from nncrn.simulate._solver import check_setting_int
from nncrn.train._koopman import PARTITIONS, Koopman, fit_koopman

__all__ = ["Jump", "KoopmanAccelerator", "KoopmanHistory", "koopman_train", "partition"]


def _parameters(params: object) -> list[torch.Tensor]:
    if isinstance(params, torch.nn.Module):
        return list(params.parameters())
    if isinstance(params, torch.Tensor):
        return [params]
    out = list(params) if isinstance(params, Iterable) else None
    if not out or not all(isinstance(p, torch.Tensor) for p in out):
        raise InputError(
            f"params must be a torch.nn.Module, a tensor or a list of tensors; got "
            f"{type(params).__name__}" + (" (empty)" if out == [] else "")
        )
    return out


def partition(params: object, kind: str = "node") -> list[np.ndarray]:
    """Index groups into the flat vector of ``params`` (``parameters_to_vector`` order).

    ``kind="node"``: for every module with a weight of 2 or more dimensions (``Linear``,
    ``Conv``), one group per output unit: its row of the weight and its bias entry; every
    other parameter (and every parameter when ``params`` is not a module) is one group.
    ``"layer"``: one group per module with a weight (its weight and bias), other parameters
    one each. ``"weight"``: one group per scalar.
    """
    if kind not in PARTITIONS:
        raise InputError(f"partition(kind={kind!r}); choose one of {PARTITIONS}")
    plist = _parameters(params)
    offsets, pos = {}, 0
    for p in plist:
        offsets[id(p)] = pos
        pos += p.numel()
    if kind == "weight":
        return [np.array([i]) for i in range(pos)]
    groups: list[np.ndarray] = []
    done: set[int] = set()
    modules = params.modules() if isinstance(params, torch.nn.Module) else ()
    for m in modules:
        weight = getattr(m, "weight", None)
        if not isinstance(weight, torch.nn.Parameter) or id(weight) not in offsets:
            continue
        if id(weight) in done or weight.ndim < 2:
            continue
        bias = getattr(m, "bias", None)
        w0 = offsets[id(weight)]
        rows = np.arange(weight.numel()).reshape(weight.shape[0], -1) + w0
        if isinstance(bias, torch.nn.Parameter) and id(bias) in offsets:
            rows = np.concatenate([rows, offsets[id(bias)] + np.arange(bias.numel())[:, None]], 1)
            done.add(id(bias))
        done.add(id(weight))
        groups += list(rows) if kind == "node" else [rows.ravel()]
    for p in plist:
        if id(p) not in done:
            groups.append(offsets[id(p)] + np.arange(p.numel()))
    return groups


@dataclass(frozen=True)
class Jump:
    """One Koopman jump.

    Attributes
    ----------
    step:
        Optimizer steps taken when the window ended (``t2``).
    iteration:
        Equivalent iterations at ``t2``: steps plus the horizons of earlier accepted jumps.
    loss_before, loss_after:
        Loss (by ``evaluate``) at ``w(t2)`` and at the predicted weights.
    accepted:
        False when the prediction was not better (or not finite): the weights went back to
        ``w(t2)``.
    max_abs_eig:
        Largest ``|lambda|`` over the groups, before clipping.
    n_clipped:
        Eigenvalues clipped, over the groups.
    seconds:
        Wall-clock of building and applying the operators (loss evaluations excluded).
    """

    step: int
    iteration: int
    loss_before: float
    loss_after: float
    accepted: bool
    max_abs_eig: float
    n_clipped: int
    seconds: float


class KoopmanAccelerator:
    """Records snapshots of ``params`` after each optimizer step and jumps when a window is full.

    Call :meth:`after_step` after every ``optimizer.step()``; when it returns True, call
    :meth:`jump` with a function that returns the loss at the current parameters. The
    optimizer's state (e.g. Adam's moments) is left as it is. After a jump, kept or not, the
    next window starts from the current weights (without ``start`` again).

    Parameters
    ----------
    params:
        A ``torch.nn.Module``, a tensor or a list of tensors, updated in place.
    koopman:
        :class:`Koopman` settings.
    groups:
        Index groups into the flat parameter vector; None: :func:`partition` of ``params``
        by ``koopman.partition``.
    """

    def __init__(self, params: object, koopman: Koopman, groups: Sequence[object] | None = None):
        if not isinstance(koopman, Koopman):
            raise InputError(f"koopman must be nncrn.train.Koopman, got {type(koopman).__name__}")
        self.params = _parameters(params)
        self.koopman = koopman
        self.groups = partition(params, koopman.partition) if groups is None else list(groups)
        n = sum(p.numel() for p in self.params)
        self._buffer = torch.empty(koopman.snapshots, n, dtype=torch.float64)
        self.steps = 0
        self.iteration = 0
        self.jumps: list[Jump] = []
        self._filled = 0
        self._since = -koopman.start  # steps since the window started (< 0: before start)
        if koopman.start == 0:
            self._record()

    def _flat(self) -> torch.Tensor:
        return torch.cat([p.detach().reshape(-1).double() for p in self.params])

    def _record(self) -> None:
        self._buffer[self._filled] = self._flat()
        self._filled += 1

    def after_step(self) -> bool:
        """Count one optimizer step; return True when the window is full (time to jump)."""
        self.steps += 1
        self.iteration += 1
        self._since += 1
        if self._since >= 0 and self._since % self.koopman.stride == 0:
            self._record()
        return self._filled == self.koopman.snapshots

    def _load(self, flat: torch.Tensor) -> None:
        pos = 0
        with torch.no_grad():  # in place: the optimizer and any views keep the same storage
            for p in self.params:
                p.copy_(flat[pos : pos + p.numel()].view_as(p))
                pos += p.numel()

    def jump(self, evaluate: Callable[[], float]) -> Jump:
        """Fit the operators on the window, jump ``horizon`` steps, keep it if the loss fell."""
        if self._filled != self.koopman.snapshots:
            raise InputError(
                f"jump: the window holds {self._filled} of {self.koopman.snapshots} snapshots; "
                "call jump only when after_step() returned True"
            )
        before = float(evaluate())
        tic = time.perf_counter()
        ops = fit_koopman(self._buffer, self.groups, self.koopman)
        current = self._buffer[-1].clone()
        predicted = ops.predict(current)
        self._load(predicted)
        seconds = time.perf_counter() - tic
        after = float(evaluate()) if torch.isfinite(predicted).all() else math.inf
        accepted = math.isfinite(after) and after <= before
        if not accepted:
            self._load(current)
        record = Jump(self.steps, self.iteration, before, after, accepted,
                      float(ops.max_abs_eig.max()) if ops.max_abs_eig.size else math.nan,
                      ops.n_clipped, seconds)  # fmt: skip
        if accepted:
            self.iteration += self.koopman.horizon
        self.jumps.append(record)
        self._filled, self._since = 0, 0  # the next window starts here
        self._record()
        return record


@dataclass(frozen=True)
class KoopmanHistory:
    """What happened in :func:`koopman_train`.

    Attributes
    ----------
    step_loss:
        ``(steps,)`` the value ``step()`` returned at each optimizer step.
    iteration:
        ``(steps,)`` equivalent iterations after each step (steps plus accepted horizons).
    jumps:
        Every :class:`Jump`, accepted or rejected.
    evaluations:
        Calls of ``evaluate`` (two per jump: before and after).
    """

    step_loss: np.ndarray
    iteration: np.ndarray
    jumps: tuple[Jump, ...]
    evaluations: int

    @property
    def accepted(self) -> int:
        """Number of accepted jumps."""
        return sum(j.accepted for j in self.jumps)


def koopman_train(params: object, step: Callable[[], float], evaluate: Callable[[], float], *,
                  steps: int, koopman: Koopman,
                  groups: Sequence[object] | None = None) -> KoopmanHistory:  # fmt: skip
    """Run ``steps`` optimizer steps, jumping ahead with Koopman operators after each window.

    Parameters
    ----------
    params:
        The parameters the optimizer updates (a ``torch.nn.Module`` or tensors).
    step:
        One optimizer step (zero the gradients, backward, ``optimizer.step()``); returns the
        loss it saw.
    evaluate:
        The loss at the current parameters, without a step (full batch): it decides whether
        a jump is kept.
    steps:
        Optimizer steps (gradient evaluations) to take.
    koopman:
        :class:`Koopman` settings.
    groups:
        Index groups, overriding ``koopman.partition``.

    Examples
    --------
    >>> import torch
    >>> from nncrn.train import Koopman, koopman_train
    >>> w = torch.zeros(3, requires_grad=True)
    >>> opt = torch.optim.SGD([w], lr=0.1)
    >>> target = torch.tensor([1.0, -2.0, 0.5])
    >>> def loss():
    ...     return ((w - target) ** 2).sum()
    >>> def step():
    ...     opt.zero_grad(); value = loss(); value.backward(); opt.step(); return float(value.detach())
    >>> hist = koopman_train(w, step, lambda: float(loss().detach()), steps=20,
    ...                      koopman=Koopman(window=5, horizon=50))
    >>> hist.accepted > 0, float(loss().detach()) < 1e-10
    (True, True)
    """
    steps = check_setting_int("koopman_train", "steps", steps)
    acc = KoopmanAccelerator(params, koopman, groups)
    losses, its = [], []
    for _ in range(steps):
        losses.append(float(step()))
        if acc.after_step():
            acc.jump(evaluate)
        its.append(acc.iteration)
    return KoopmanHistory(np.array(losses), np.array(its), tuple(acc.jumps), 2 * len(acc.jumps))
