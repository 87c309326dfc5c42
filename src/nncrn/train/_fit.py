"""``fit``: gradient training of a network's rate constants at the chemical level."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import torch

from nncrn._errors import InputError
from nncrn.network import (
    ReactionNetwork,
    input_concentrations,
    require_network,
    require_readout,
)
from nncrn.simulate import Solver
from nncrn.simulate._solver import check_setting_int, check_setting_real
from nncrn.train._implicit import ImplicitPlan, implicit_state
from nncrn.train._koopman import KOOPMAN_PRESET, Koopman
from nncrn.train._koopman_loop import Jump, KoopmanAccelerator
from nncrn.train._layered import Layered, NotFeedForward, build_layered
from nncrn.train._params import Constraints, cluster_levels
from nncrn.train._terms import Terms, extract_terms

__all__ = ["History", "as_rng", "check_labels", "fit"]

_LOSSES = ("cross_entropy", "mse")
_OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}
_GRADIENTS = ("auto", "layered", "implicit")


@dataclass(frozen=True)
class History:
    """What happened during :func:`fit`.

    Attributes
    ----------
    loss:
        ``(epochs,)`` mean data loss per epoch (penalty excluded), measured on the
        mini-batches as they were trained.
    step_loss:
        ``(steps,)`` data loss of every optimiser step.
    accuracy:
        ``(epochs,)`` training accuracy of the network at the end of each epoch
        (cross-entropy only; None for mse).
    gradient:
        ``"layered"`` (exact closed-form graph) or ``"implicit"`` (IFT on simulated steady states).
    n_terms, n_pruned:
        Trainable signed terms, and how many were removed by the sparsity threshold.
    final_loss:
        Data loss of the *returned* network on all of ``(X, y)``: after the best epoch's
        weights, the L1 pruning and the ``max_levels`` clustering (``loss[-1]`` is the mean
        over the last epoch's steps, before them).
    monitored:
        ``(epochs + 1,)`` the loss that picks the returned weights, at the start (index 0)
        and after each epoch: on the held-out ``validation`` rows, or on all rows without.
    best_epoch:
        The epoch whose weights were returned (0: the starting weights were best).
    initial_loss:
        Data loss of the network passed in, on all of ``(X, y)``.
    jumps:
        Every Koopman jump (``accelerate``), accepted or rejected; empty without.
    evaluations:
        Steady-state evaluations of the training loop: one per optimiser step (with its
        gradient; a closure an optimiser calls several times counts each time) plus two per
        Koopman jump (loss only, before and after).
    """

    loss: np.ndarray
    step_loss: np.ndarray
    accuracy: np.ndarray | None
    gradient: str
    n_terms: int
    n_pruned: int
    final_loss: float = math.nan
    monitored: np.ndarray | None = None
    best_epoch: int = 0
    initial_loss: float = math.nan
    jumps: tuple[Jump, ...] = ()
    evaluations: int = 0


def as_rng(rng: object) -> np.random.Generator:
    """``numpy.random.Generator`` from a Generator, an int seed or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, int | np.integer) and not isinstance(rng, bool)):
        if rng is not None and rng < 0:
            raise InputError(f"rng={rng!r}: an int seed must be >= 0, e.g. rng=0")
        return np.random.default_rng(rng)
    raise InputError(
        f"rng must be a numpy Generator, an int seed or None; got {type(rng).__name__}"
    )


def _argmax_stage(network: ReactionNetwork) -> None:
    """Refuse a network with a winner-take-all stage: its shares have no isolated steady state."""
    stage = network.metadata.get("output_stage")
    if isinstance(stage, Mapping) and stage.get("kind") == "argmax":
        raise InputError(
            "fit: the network ends in a winner-take-all (argmax) stage, whose class shares "
            "W0, W1, ... keep a constant sum, so their steady state is not isolated and has no "
            "gradient; train the network without the stage (compile without --argmax / "
            "nncrn.with_argmax) and add it to the trained network afterwards with "
            "nncrn.with_argmax(trained)"
        )


def check_labels(y: object, n: int, n_outputs: int, loss: str) -> np.ndarray:
    """Validate targets: class indices ``(n,)`` for cross entropy, ``(n, n_outputs)`` for mse."""
    arr = np.asarray(y)
    if arr.dtype.kind not in "iufb" or arr.dtype.kind == "b":
        raise InputError(
            f"labels have dtype {arr.dtype}; pass numbers (class indices 0..{n_outputs - 1} "
            "for loss='cross_entropy', targets for loss='mse'); map class names to indices first"
        )
    if loss == "cross_entropy":
        if arr.shape != (n,):
            raise InputError(
                f"labels have shape {arr.shape}; loss='cross_entropy' needs one class index per "
                f"row, shape ({n},)" + ("; use y.ravel()" if arr.size == n else "")
            )
        if arr.dtype.kind == "f" and not np.all(arr == np.round(arr)):
            raise InputError("labels are not whole numbers; cross entropy needs class indices")
        arr = arr.astype(np.int64)
        if arr.min() < 0 or arr.max() >= n_outputs:
            raise InputError(
                f"labels range over [{arr.min()}, {arr.max()}] but the network has {n_outputs} "
                f"outputs; class indices must lie in [0, {n_outputs - 1}]"
            )
        return arr
    arr = arr.astype(np.float64)
    if arr.ndim == 1 and n_outputs == 1:
        arr = arr[:, None]
    if arr.shape != (n, n_outputs):
        raise InputError(f"mse targets have shape {arr.shape}; expected ({n}, {n_outputs})")
    if not np.isfinite(arr).all():
        raise InputError("mse targets contain NaN or inf")
    return arr


class _Model:
    """Latents -> readout values, by the layered graph or the implicit steady state."""

    def __init__(self, network: ReactionNetwork, terms: Terms, gradient: str,
                 solver: Solver | None) -> None:  # fmt: skip
        self.network, self.terms, self.solver = network, terms, solver
        self.layered: Layered | None = None
        if gradient in ("auto", "layered"):
            try:
                self.layered = build_layered(network, terms)
            except NotFeedForward as exc:
                if gradient == "layered":
                    raise NotFeedForward(
                        f"gradient='layered' needs a feed-forward network whose species change "
                        f"only by C + mY -> C + m'Y (m <= 2), but {exc}; use gradient='implicit' "
                        "(or 'auto') for networks without a layer-wise closed form"
                    ) from None
        self.gradient = "layered" if self.layered is not None else "implicit"
        self.implicit = ImplicitPlan(terms) if self.layered is None else None
        self.input_cols = torch.tensor([network.index(s) for s in network.inputs], dtype=torch.long)
        readout = network.readout
        assert readout is not None, "ReactionNetwork fills in the default readout"
        self.plus = torch.tensor([network.index(r.plus) for r in readout])
        self.minus = [network.index(r.minus) if r.minus else -1 for r in readout]

    def outputs(self, w: torch.Tensor, X: np.ndarray, conc: torch.Tensor) -> torch.Tensor:
        if self.layered is not None:
            return self.layered.outputs(self.layered.state(conc, w, self.input_cols))
        assert self.implicit is not None, "built whenever there is no layered plan"
        s = implicit_state(w, self.implicit, X, self.solver)
        out = s[:, self.plus]
        sub = torch.stack([s[:, m] if m >= 0 else torch.zeros_like(s[:, 0]) for m in self.minus], 1)
        return out - sub


def fit(
    network: ReactionNetwork,
    X: object,
    y: object,
    *,
    loss: str = "cross_entropy",
    epochs: int = 100,
    optimizer: str | type[torch.optim.Optimizer] = "adam",
    lr: float = 1e-2,
    batch_size: int | None = None,
    constraints: Constraints | None = None,
    gradient: str = "auto",
    solver: Solver | None = None,
    rng: object = None,
    validation: float = 0.0,
    keep_best: bool = True,
    accelerate: str | Koopman | None = None,
) -> tuple[ReactionNetwork, History]:
    """Train the signed rate constants of ``network`` on ``(X, y)``; return a new network.

    Parameters
    ----------
    X:
        ``(n, n_inputs)`` features (in ``network.inputs`` order and each input's range).
    y:
        Class indices ``(n,)`` (``loss="cross_entropy"``, readouts are the logits) or
        targets ``(n, n_outputs)`` (``loss="mse"``).
    epochs, lr, optimizer:
        Passes over the data; step size (finite, > 0); ``"adam"``, ``"sgd"`` or a
        ``torch.optim`` class. Every step runs through a closure, so optimisers that
        re-evaluate the loss (``torch.optim.LBFGS``) work too.
    batch_size:
        None: full batch each step (deterministic, order-free). Otherwise rows are
        shuffled each epoch with ``rng``.
    constraints:
        :class:`Constraints` (default: rates in ``[1e-3, 1e3]``, no penalty, no cap).
    gradient:
        ``"layered"`` (exact torch graph of the feed-forward closed form), ``"implicit"``
        (IFT on :func:`nncrn.simulate.steady_state`) or ``"auto"`` (layered when possible).
    rng:
        ``numpy.random.Generator``, int seed or None; the shuffling and the validation
        split are random.
    validation:
        Share of the rows (in ``[0, 1)``) held out to pick the best epoch; they are not
        trained on. 0 (default): the loss on all rows picks it.
    keep_best:
        True (default): return the weights of the epoch (the start included) with the
        lowest monitored loss, so a step that made the network worse is undone and the
        result is never worse than the network passed in by that loss. False: the last
        epoch's weights.
    accelerate:
        None (default): plain optimiser steps. ``"koopman"`` or a
        :class:`~nncrn.train.Koopman`: after every ``window`` steps, fit one DMD operator per
        neuron (``partition="node"``: the latents of the terms on that neuron), per layer
        or per term to the latent snapshots and jump ``horizon`` steps ahead; a jump is kept
        only when it lowers the training objective on all training rows. ``"koopman"`` means
        :data:`~nncrn.train.KOOPMAN_PRESET`, ``Koopman(window=50, horizon=200, rank=2)``.

    Notes
    -----
    Only weights and biases are trained (see :mod:`nncrn.train._terms`); leaks, saturations
    and decays are fixed. A weight whose sign flips changes reaction kind.
    """
    network = require_network(network, "fit")
    require_readout(network, "fit")
    _argmax_stage(network)
    constraints = Constraints() if constraints is None else constraints
    if not isinstance(constraints, Constraints):
        raise InputError(
            f"constraints must be nncrn.train.Constraints, got {type(constraints).__name__}"
        )
    if loss not in _LOSSES:
        raise InputError(f"loss={loss!r}; choose one of {_LOSSES}")
    if gradient not in _GRADIENTS:
        raise InputError(f"gradient={gradient!r}; choose one of {_GRADIENTS}")
    epochs = check_setting_int("fit", "epochs", epochs)
    if batch_size is not None:
        batch_size = check_setting_int(
            "fit", "batch_size", batch_size, hint=", or None for the full batch"
        )
    lr = check_setting_real("fit", "lr", lr, hint=" (the learning rate), e.g. 1e-2")
    koopman = _koopman_setting(accelerate)
    opt_cls = _OPTIMIZERS.get(optimizer) if isinstance(optimizer, str) else optimizer
    if opt_cls is None or not (
        isinstance(opt_cls, type) and issubclass(opt_cls, torch.optim.Optimizer)
    ):
        raise InputError(f"optimizer={optimizer!r}; pass 'adam', 'sgd' or a torch.optim class")
    try:
        Xa = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(
            f"X must be a numeric (n, {len(network.inputs)}) array; could not convert "
            f"{type(X).__name__} to numbers (encode categorical features first)"
        ) from None
    if Xa.ndim != 2 or Xa.shape[0] == 0:
        raise InputError(
            f"X has shape {Xa.shape}; fit needs a non-empty (n, {len(network.inputs)}) array"
        )
    conc_np = input_concentrations(network, Xa)
    labels = check_labels(y, Xa.shape[0], len(network.outputs), loss)
    gen = as_rng(rng)
    validation = check_setting_real("fit", "validation", validation, inclusive=True)
    if not 0 <= validation < 1:
        raise InputError(f"fit(validation={validation!r}) must be a share in [0, 1), e.g. 0.2")
    all_X, all_conc, all_labels = Xa, conc_np, labels
    held = np.zeros(Xa.shape[0], dtype=bool)
    if validation > 0:
        n_val = round(validation * Xa.shape[0])
        if n_val < 1 or n_val >= Xa.shape[0]:
            raise InputError(
                f"fit(validation={validation!r}) holds out {n_val} of {Xa.shape[0]} rows; "
                "it must leave at least one row on each side"
            )
        held[gen.permutation(Xa.shape[0])[:n_val]] = True
        Xa, conc_np, labels = Xa[~held], conc_np[~held], labels[~held]
    n = Xa.shape[0]
    terms = extract_terms(network)
    if terms.n_terms == 0:
        raise InputError(
            "fit: the network has no trainable weight or bias reactions (C + Y -> C + 2 Y, "
            "C + Y -> C, Y -> 2 Y, Y -> 0 on a neuron Y, or C -> C + Yp / Yn on a linear "
            "dual-rail pair); fit trains rate constants, and e.g. a DualRail network holds its "
            "weights in stoichiometric coefficients. Train the model before compiling instead"
        )
    model = _Model(network, terms, gradient, solver)
    u = torch.tensor(constraints.latents(terms.weights), dtype=torch.float64, requires_grad=True)
    # torch types the base class as Optimizer(params, defaults); every optimiser takes lr
    opt = opt_cls([u], lr=lr)  # type: ignore[call-arg]
    conc = torch.from_numpy(conc_np)
    target = torch.from_numpy(labels)
    loss_fn = (torch.nn.functional.cross_entropy if loss == "cross_entropy"
               else torch.nn.functional.mse_loss)  # fmt: skip
    bs = n if batch_size is None else batch_size
    mon_X = all_X[held] if held.any() else all_X
    mon_conc = torch.from_numpy(all_conc[held] if held.any() else all_conc)
    mon_target = torch.from_numpy(all_labels[held] if held.any() else all_labels)

    def monitored_loss() -> float:
        with torch.no_grad():
            value = loss_fn(model.outputs(constraints.weights(u), mon_X, mon_conc), mon_target)
        return float(value) if torch.isfinite(value) else math.inf

    with torch.no_grad():
        initial = float(loss_fn(model.outputs(torch.from_numpy(terms.weights), all_X,
                                              torch.from_numpy(all_conc)),
                                torch.from_numpy(all_labels)))  # fmt: skip

    def objective() -> float:  # what a Koopman jump must lower: the trained objective
        with torch.no_grad():
            data = loss_fn(model.outputs(constraints.weights(u), Xa, conc), target)
            total = data + constraints.l1 * u.abs().sum() if constraints.l1 else data
        return float(total) if torch.isfinite(total) else math.inf

    accel = None if koopman is None else KoopmanAccelerator(u, koopman, _groups(terms, koopman))
    evaluations = 0
    monitored = [monitored_loss()]
    best_u, best_epoch = u.detach().clone(), 0
    epoch_loss, step_loss, acc = [], [], []
    # Full batch without held-out rows: the first evaluation of an epoch is the previous
    # epoch's end-of-epoch evaluation (same weights, same rows), so the monitored loss and
    # the accuracy of epoch k are read off epoch k + 1's first step instead of a pass of
    # their own; only the last epoch needs one.
    share = batch_size is None and not held.any()
    pending: list[torch.Tensor] = []  # the weights of the epoch awaiting its evaluation

    def record(out: torch.Tensor, value: float, weights: torch.Tensor) -> None:
        nonlocal best_u, best_epoch
        if loss == "cross_entropy":
            acc.append(float((out.argmax(1).numpy() == labels).mean()))
        monitored.append(value if math.isfinite(value) else math.inf)
        if monitored[-1] < monitored[best_epoch] or not keep_best:
            best_u, best_epoch = weights, len(monitored) - 1

    for _ in range(epochs):
        order = np.arange(n) if batch_size is None else gen.permutation(n)
        losses = []
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            first: list[float] = []

            def closure(idx=idx, first=first) -> torch.Tensor:
                # A closure serves every optimiser (LBFGS evaluates it several times per
                # step); the step's data loss is the one at the weights it started from.
                nonlocal evaluations
                evaluations += 1
                opt.zero_grad()
                out = model.outputs(constraints.weights(u), Xa[idx], conc[idx])
                data = loss_fn(out, target[idx])
                total = data + constraints.l1 * u.abs().sum() if constraints.l1 else data
                total.backward()
                if not first:
                    first.append(float(data.detach()))
                    if pending:
                        record(out.detach(), first[0], pending.pop())
                return total

            # torch's stub wants a closure returning float; its optimisers take the loss tensor
            opt.step(closure)  # type: ignore[arg-type]
            losses.append(first[0])
            if accel is not None and accel.after_step():
                accel.jump(objective)
                evaluations += 2
        step_loss += losses
        epoch_loss.append(float(np.mean(losses)))
        if not np.isfinite(epoch_loss[-1]) or not torch.isfinite(u).all():
            raise InputError(
                f"fit: the loss became {epoch_loss[-1]} in epoch {len(epoch_loss)} (lr={lr!r}); "
                "the steps diverged: lower lr"
            )
        if share and len(epoch_loss) < epochs:
            pending.append(u.detach().clone())
            continue
        train_out = None
        if loss == "cross_entropy" or not held.any():
            with torch.no_grad():
                train_out = model.outputs(constraints.weights(u), Xa, conc)
        if train_out is not None and loss == "cross_entropy":
            acc.append(float((train_out.argmax(1).numpy() == labels).mean()))
        if held.any():
            monitored.append(monitored_loss())
        elif train_out is not None:  # the monitored rows are the training rows: one pass
            value = loss_fn(train_out, target)
            monitored.append(float(value) if torch.isfinite(value) else math.inf)
        if monitored[-1] < monitored[best_epoch] or not keep_best:
            best_u, best_epoch = u.detach().clone(), len(epoch_loss)
    Xa, conc, target = all_X, torch.from_numpy(all_conc), torch.from_numpy(all_labels)
    with torch.no_grad():
        u.copy_(best_u)
        w = constraints.weights(u).numpy().copy()
        latent = u.detach().numpy()
    pruned = (
        np.abs(latent) < constraints.prune_threshold if constraints.l1 else np.zeros_like(w, bool)
    )
    w[pruned] = 0.0
    if constraints.max_levels is not None:
        w = cluster_levels(w, constraints.max_levels)
        if constraints.bounded:  # a level (exp of a mean log) may round an ulp outside
            nz = w != 0
            w[nz] = np.sign(w[nz]) * np.clip(np.abs(w[nz]), constraints.k_min, constraints.k_max)
    with torch.no_grad():
        final = float(loss_fn(model.outputs(torch.from_numpy(w), Xa, conc), target))
    new = terms.rebuild(w, {"trained": {
        "loss": loss, "epochs": epochs, "lr": lr, "gradient": model.gradient,
        "k_min": constraints.k_min, "k_max": constraints.k_max if np.isfinite(constraints.k_max) else None,
        "l1": constraints.l1, "max_levels": constraints.max_levels,
        "last_epoch_loss": epoch_loss[-1], "final_loss": final if math.isfinite(final) else None,
        "best_epoch": best_epoch, "validation": validation,
        **({} if accel is None else {"koopman_jumps_accepted": sum(j.accepted for j in accel.jumps)}),
    }})  # fmt: skip
    hist = History(np.array(epoch_loss), np.array(step_loss), np.array(acc) if acc else None,
                   model.gradient, terms.n_terms, int(pruned.sum()), final, np.array(monitored),
                   best_epoch, initial, tuple(accel.jumps) if accel else (), evaluations)  # fmt: skip
    return new, hist


def _koopman_setting(accelerate: object) -> Koopman | None:
    if accelerate is None or isinstance(accelerate, Koopman):
        return accelerate
    if accelerate == "koopman":
        return KOOPMAN_PRESET
    raise InputError(
        f"fit(accelerate={accelerate!r}); pass None, 'koopman' or nncrn.train.Koopman(...) "
        "for other settings"
    )


def _groups(terms: Terms, koopman: Koopman) -> list[np.ndarray]:
    """Term indices per neuron (``node``), per layer, or one per term."""
    if koopman.partition == "weight":
        return [np.array([i]) for i in range(terms.n_terms)]
    key = terms.target if koopman.partition == "node" else terms.layer
    return [np.flatnonzero(key == v) for v in np.unique(key)]
