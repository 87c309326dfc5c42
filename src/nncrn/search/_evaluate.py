"""One evaluation: train, prune, discretize, compile, simulate, score the chemistry."""

from __future__ import annotations

import time
import warnings
from dataclasses import dataclass
from typing import Any, cast

import numpy as np

from nncrn._errors import ConvergenceWarning, InputError
from nncrn.network import ReactionNetwork
from nncrn.search._space import WEIGHTS, Architecture

__all__ = ["Evaluation", "SearchData", "TrainSettings", "evaluate", "min_reactions", "network_size"]

_BATCH = 32  # train_mlp's batch size, which the search uses
_QAT_BATCH = 64  # qat_fit's, which discretize_mlp uses


@dataclass(frozen=True)
class TrainSettings:
    """How every architecture is trained (the same for all, so only the architecture varies).

    ``epochs`` of Adam at ``lr`` (batch 32) for the float network; a pruned network is
    fine-tuned for ``finetune_epochs`` more with its pruned weights held at zero;
    quantization-aware training runs ``qat_epochs`` (batch 64). Each of the three runs at
    least ``min_steps`` optimizer steps: a small table (iris's 74 training rows are 3
    batches) gets more epochs, so its networks are not left half-trained. On iris's five
    seeded splits, 150 epochs (450 steps) left the float linear model at 0.842-1.000 test
    accuracy; 3,000 steps give 0.895-1.000, where logistic regression gets 0.947-1.000.
    Digits (29 batches) trains its float networks for 150 epochs either way.
    """

    epochs: int = 150
    lr: float = 1e-2
    qat_epochs: int = 100
    finetune_epochs: int = 50
    min_steps: int = 3000

    def __post_init__(self) -> None:
        for name in ("epochs", "qat_epochs", "finetune_epochs", "min_steps"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise InputError(f"TrainSettings({name}={v!r}) must be an integer >= 1")
        if not self.lr > 0:
            raise InputError(f"TrainSettings(lr={self.lr!r}) must be > 0")

    def epochs_for(self, epochs: int, rows: int, batch: int) -> int:
        """``epochs``, raised so that ``rows`` in batches of ``batch`` make >= ``min_steps`` steps."""
        per_epoch = -(-rows // batch)
        return max(epochs, -(-self.min_steps // per_epoch))


@dataclass(frozen=True)
class SearchData:
    """Training, validation and test parts of one table, with the training part's scaling.

    The search scores architectures on the validation part only; the test part is read
    once, at the end, for the reported accuracy (:attr:`SearchResult.test_accuracy`).
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    input_range: list | None

    @classmethod
    def split(cls, X: object, y: object, *, val_size: float = 0.25, test_size: float = 0.25,
              seed: int = 0) -> SearchData:  # fmt: skip
        """Stratified ``test_size`` test and ``val_size`` validation parts of ``X (n, d)``, ``y (n,)``.

        ``val_size`` is a share of the whole table. ``seed`` picks the split. The input
        range of the chemistry (features below 0 need an offset) comes from the features
        of every row, never their labels.
        """
        from sklearn.model_selection import train_test_split

        from nncrn.data import infer_input_range

        X = np.asarray(X, dtype=np.float64)
        y = np.asarray(y)
        if X.ndim != 2 or len(X) != len(y) or not np.isfinite(X).all():
            raise InputError(
                f"SearchData.split needs finite features X (n, d) and labels y (n,); got X "
                f"{X.shape}, y {y.shape}"
            )
        if not (0 < test_size < 1 and 0 < val_size < 1 and test_size + val_size < 1):
            raise InputError(
                f"SearchData.split: val_size={val_size} and test_size={test_size} must each be in "
                "(0, 1) with a sum below 1 (the rest trains)"
            )
        classes, y = np.unique(y, return_inverse=True)
        counts = np.bincount(y)
        if len(classes) < 2 or counts.min() < 3:
            raise InputError(
                f"SearchData.split: need >= 2 classes with >= 3 rows each (train, validation, "
                f"test); class counts are {counts.tolist()}"
            )
        rest, Xte, yrest, yte = train_test_split(
            X, y, test_size=test_size, random_state=seed, stratify=y
        )
        Xtr, Xva, ytr, yva = train_test_split(rest, yrest, test_size=val_size / (1 - test_size),
                                              random_state=seed, stratify=yrest)  # fmt: skip
        return cls(Xtr, ytr, Xva, yva, Xte, yte, len(classes), infer_input_range(X))


@dataclass(frozen=True)
class Evaluation:
    """What one architecture scored, and the size of its chemistry.

    ``val_accuracy`` is the compiled CRN's accuracy on the validation part, read from its
    simulated steady state (an item that did not converge counts as wrong); ``nn_accuracy``
    the trained network's on the same rows. ``molecularity`` is reactants plus products
    summed over all reactions. ``feasible`` is False when the network breaks
    ``max_reactions``/``max_species`` (then it is not simulated) or failed (``reason``).
    """

    index: int
    genome: tuple[int, ...]
    architecture: Architecture
    sizes: tuple[int, ...]
    val_accuracy: float
    nn_accuracy: float
    converged: float
    reactions: int
    species: int
    molecularity: int
    distinct_rates: int
    feasible: bool
    reason: str | None
    seconds: float
    network: ReactionNetwork | None = None

    @property
    def fitness(self) -> float:
        """The score a strategy sees: validation accuracy, 0 when infeasible."""
        return self.val_accuracy if self.feasible else 0.0

    def describe(self) -> str:
        """The architecture with the input and output sizes, e.g. ``4-3 ternary dual-rail``."""
        text = self.architecture.describe()
        head = "-".join(map(str, self.sizes))
        return head + text[text.index(" ") :]


def network_size(net) -> dict:
    """Reactions, species, total molecularity and distinct rate constants of ``net``."""
    st = net.stoichiometry
    return {
        "reactions": int(net.n_reactions),
        "species": int(net.n_species),
        "molecularity": int(np.sum(st.reactant_coeffs) + np.sum(st.product_coeffs)),
        "distinct_rates": int(np.unique(st.rates).size),
    }


def min_reactions(arch: Architecture) -> int:
    """The fewest reactions any network of ``arch`` compiles to, whatever its weights.

    Every hidden neuron brings two reactions in both schemes: ``0 -> H`` and ``2 H -> H``
    (smoothed ReLU), or the rectifier's ``Hp -> H + Hc`` and ``Hn + Hc -> Hd`` (dual
    rail), even with all its weights pruned. An architecture whose bound exceeds the
    reaction limit is infeasible before it is trained.
    """
    return 2 * sum(arch.hidden)


def _prune(model, sparsity: float):
    """Masks zeroing the ``sparsity`` share of smallest-magnitude weights of each ``Linear``."""
    import torch

    masks = []
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            w = m.weight.detach().abs().flatten()
            k = round(sparsity * w.numel())
            mask = torch.ones_like(w)
            if k > 0:
                mask[torch.argsort(w, stable=True)[: min(k, w.numel() - 1)]] = 0.0
            masks.append(mask.reshape(m.weight.shape))
    return masks


def _apply(model, masks, hold: bool):
    """Zero the pruned weights; with ``hold`` keep them zero while training (``prune`` hooks)."""
    import torch
    from torch.nn.utils import prune

    layers = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    for m, mask in zip(layers, masks, strict=True):
        if hold:
            prune.custom_from_mask(m, "weight", mask)
            # the hook's product is no graph leaf, and train_mlp deep-copies the model first;
            # forward recomputes it anyway
            hooked = cast(Any, m)
            hooked.weight = (hooked.weight_orig * hooked.weight_mask).detach()
        elif prune.is_pruned(m):
            prune.remove(m, "weight")
        else:
            with torch.no_grad():
                m.weight.mul_(mask)
    return model


def _train(
    arch: Architecture, sizes, data: SearchData, scaling, settings: TrainSettings, seed: int
):
    """The trained (pruned, discretized) model reading scaled features."""
    from nncrn.data import Discretization, build_mlp, discretize_mlp, train_mlp

    act = "relu" if arch.scheme == "dual-rail" else "smooth_relu"
    A = scaling.transform(data.X_train)
    model = train_mlp(build_mlp(sizes, act, arch.eps, seed), A, data.y_train,
                      epochs=settings.epochs_for(settings.epochs, len(A), _BATCH), lr=settings.lr,
                      batch_size=_BATCH, seed=seed)  # fmt: skip
    masks = None
    if arch.sparsity > 0:
        masks = _prune(model, arch.sparsity)
        held = _apply(model, masks, hold=True)
        model = train_mlp(
            held,
            A,
            data.y_train,
            lr=settings.lr,
            seed=seed,
            batch_size=_BATCH,
            epochs=settings.epochs_for(settings.finetune_epochs, len(A), _BATCH),
        )
        model = _apply(model, masks, hold=False)  # make the zeros permanent
    spec = WEIGHTS[arch.weights]
    if spec is not None:
        qat_epochs = settings.epochs_for(settings.qat_epochs, len(A), _QAT_BATCH)
        how = Discretization(spec[0], spec[1], qat=arch.qat, qat_epochs=qat_epochs)
        model = discretize_mlp(model, A, data.y_train, how, seed=seed)
        if masks is not None:  # binary levels have no zero, QAT may regrow one: prune again
            model = _apply(model, masks, hold=False)
    return model


def evaluate(arch: Architecture, data: SearchData, *, settings: TrainSettings = TrainSettings(),
             seed: int = 0, index: int = 0, genome: tuple[int, ...] = (),
             max_reactions: int | None = None, max_species: int | None = None,
             keep_network: bool = True) -> Evaluation:  # fmt: skip
    """Train ``arch`` on ``data``'s training part, compile it and score the simulated chemistry.

    The network is trained on min-max scaled features (``seed`` picks the initial weights
    and batches), pruned and fine-tuned, discretized, compiled with the scaling as its
    input map (:func:`nncrn.data.fold_offset`), and its steady states on the validation
    part are computed with :func:`nncrn.simulate.steady_state`. A network over
    ``max_reactions`` or ``max_species`` is not simulated and is infeasible; one that
    cannot fit ``max_reactions`` whatever its weights (:func:`min_reactions`) is not even
    trained (its ``reactions`` is then that bound, its ``species`` 0). Runs torch on
    one thread (evaluations run side by side in worker processes).
    """
    import torch

    from nncrn.compile import DualRail, SmoothReLUScheme, compile_network
    from nncrn.data import MinMaxScaling, fold_offset
    from nncrn.simulate import steady_state

    torch.set_num_threads(1)
    t0 = time.perf_counter()
    if not arch.valid:
        raise InputError(f"{arch.describe()}: dual-rail compiles integer weight levels only")
    sizes = (data.X_train.shape[1], *arch.hidden, data.n_classes)
    least = min_reactions(arch)
    if max_reactions is not None and least > max_reactions:
        # whatever its weights, the network cannot fit: spare its training
        return Evaluation(index=index, genome=tuple(genome), architecture=arch, sizes=sizes,
                          val_accuracy=0.0, nn_accuracy=float("nan"), converged=0.0,
                          reactions=least, species=0, molecularity=0, distinct_rates=0,
                          feasible=False,
                          reason=f"reactions >= {least} > {max_reactions} (2 per hidden neuron; "
                                 "not trained)",
                          seconds=time.perf_counter() - t0, network=None)  # fmt: skip
    scaling = MinMaxScaling.fit(data.X_train)
    model = _train(arch, sizes, data, scaling, settings, seed)
    deployed = fold_offset(model, scaling.low, scaling.input_scale)
    scheme = DualRail(rescale=True) if arch.scheme == "dual-rail" else SmoothReLUScheme(arch.eps)
    net = compile_network(deployed, scheme=scheme, input_range=data.input_range,
                          input_scale=scaling.input_scale)  # fmt: skip
    size = network_size(net)
    with torch.no_grad():
        nn_pred = model(torch.as_tensor(scaling.transform(data.X_val))).argmax(1).numpy()
    nn_acc = float((nn_pred == data.y_val).mean())
    over = [f"{k} {size[k]} > {lim}" for k, lim in (("reactions", max_reactions), ("species", max_species))
            if lim is not None and size[k] > lim]  # fmt: skip
    acc, conv = 0.0, 0.0
    if not over:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            ss = steady_state(net, data.X_val, throw=False)
        pred = np.where(ss.converged, np.asarray(ss.outputs).argmax(1), -1)
        acc = float((pred == data.y_val).mean())
        conv = float(np.mean(ss.converged))
    return Evaluation(index=index, genome=tuple(genome), architecture=arch, sizes=sizes,
                      val_accuracy=acc, nn_accuracy=nn_acc, converged=conv, **size,
                      feasible=not over, reason="; ".join(over) or None,
                      seconds=time.perf_counter() - t0,
                      network=net if keep_network else None)  # fmt: skip
