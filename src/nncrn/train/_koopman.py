"""Koopman (DMD) operators fitted to optimizer trajectories, and the jump they predict.

Training is a dynamical system on the weights. Over a window of snapshots ``w(t1) ...
w(t2)`` of one *group* of weights (a node: the incoming weights and bias of one neuron; a
layer; or a single weight), dynamic mode decomposition fits the linear operator
``U = F' F^+`` with ``F = [w(t1) ... w(t2 - 1)]`` and ``F' = [w(t1 + 1) ... w(t2)]``, and
``U^T w(t2)`` predicts the weights ``T`` steps later (Dogra & Redman, "Optimizing neural
networks via Koopman operator theory", NeurIPS 2020).

Rank-truncated DMD works in the span of the ``r`` leading left singular vectors ``Q`` of
``F``: ``A = Q^T F' V S^-1`` is the ``r x r`` operator there, and the prediction is
``w + Q (A^T - I) Q^T w``. The component of ``w`` outside that span is kept as it is: the
window hardly moved in those directions, so the data say nothing about them, and zeroing
them (what ``Q A^T Q^T w`` would do) would move the weights by their whole size. Eigenvalues
of ``A`` with ``|lambda| > clip`` are scaled back onto the circle of radius ``clip``: a
spurious ``|lambda| = 1.01`` grows 25 orders of magnitude over 5000 steps.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from nncrn._errors import InputError
from nncrn.simulate._solver import check_setting_int, check_setting_real

__all__ = ["KOOPMAN_PRESET", "PARTITIONS", "Koopman", "KoopmanOperators", "fit_koopman"]

PARTITIONS = ("node", "layer", "weight")
_TALL = 32  # snapshots per dimension above which a QR of F^T comes before the SVD


@dataclass(frozen=True)
class Koopman:
    """Settings of Koopman-operator acceleration (see :func:`koopman_train`).

    Parameters
    ----------
    window:
        ``t2 - t1``: optimizer steps per fitting window (default 100). The window holds
        ``window / stride + 1`` snapshots.
    horizon:
        ``T``: steps the operator jumps ahead, as ``U^T w(t2)`` (default 100).
    partition:
        ``"node"`` (default; one operator per neuron: its incoming weights and bias, the
        paper's node operators), ``"layer"`` (one per layer) or ``"weight"`` (one per scalar).
    rank:
        Keep at most this many singular directions of each group's snapshot matrix (rank-
        truncated DMD); None keeps every direction above ``rcond``. A node wider than the
        window needs a rank, or the operator overfits the window.
    clip:
        Largest eigenvalue magnitude kept; larger ones are scaled back to it (default 1,
        since gradient descent towards a minimum does not grow). None: no clipping. A
        drift at constant speed is a Jordan block at 1, which a fit splits into ``1 - d``
        and ``1 + d``; clipping stops that drift (``benchmarks/koopman``: Adagrad on the
        HNN oscillator), so a clip a little above 1 can predict further.
    affine:
        Add the constant 1 as an observable (an eigenfunction with eigenvalue 1), so the
        operator can be affine, ``w' = M w + c``: gradient descent on a quadratic loss with a
        minimum away from 0 is exactly affine, not linear. Default True.
    stride:
        Keep every ``stride``-th snapshot; the operator then maps ``stride`` steps and is
        applied ``horizon / stride`` times (``horizon`` must be a multiple). Default 1.
    start:
        Optimizer steps before the first window (default 0); early windows, where the
        optimizer moves fastest and least linearly, are the least reliable.
    rcond:
        Singular values below ``rcond`` times the largest of a group are treated as zero
        (default 1e-10).
    """

    window: int = 100
    horizon: int = 100
    partition: str = "node"
    rank: int | None = None
    clip: float | None = 1.0
    affine: bool = True
    stride: int = 1
    start: int = 0
    rcond: float = 1e-10

    def __post_init__(self) -> None:
        fix = object.__setattr__
        for name in ("window", "horizon", "stride"):
            fix(self, name, check_setting_int("Koopman", name, getattr(self, name)))
        fix(self, "start", check_setting_int("Koopman", "start", self.start, low=0))
        if self.rank is not None:
            fix(self, "rank", check_setting_int("Koopman", "rank", self.rank, hint=", or None"))
        if self.clip is not None:
            fix(self, "clip", check_setting_real("Koopman", "clip", self.clip,
                                                 hint=", or None (no clipping)"))  # fmt: skip
        fix(self, "rcond", check_setting_real("Koopman", "rcond", self.rcond, inclusive=True))
        if self.partition not in PARTITIONS:
            raise InputError(f"Koopman(partition={self.partition!r}); choose one of {PARTITIONS}")
        if not isinstance(self.affine, bool):
            raise InputError(f"Koopman(affine={self.affine!r}) must be True or False")
        if self.horizon % self.stride or self.window % self.stride:
            raise InputError(
                f"Koopman(window={self.window}, horizon={self.horizon}, stride={self.stride}): "
                "window and horizon must be multiples of stride, the steps one operator "
                "application maps; e.g. stride=1"
            )

    @property
    def snapshots(self) -> int:
        """Snapshots per window, ``window / stride + 1``."""
        return self.window // self.stride + 1


# What ``accelerate="koopman"`` means. Rank 2 (with the constant observable: one direction
# of motion per node plus the fixed point): full-rank operators on short windows of Adam's
# trajectory fit spurious |lambda| > 1 (up to 3 on 20-step windows of the iris chemical fit)
# and most of their jumps were rejected; rank 2 kept most (benchmarks/koopman: 27-30 of 40
# jumps on a digits MLP against 5-6 of 18 for full rank).
KOOPMAN_PRESET = Koopman(window=50, horizon=200, rank=2)


@dataclass(frozen=True)
class KoopmanOperators:
    """Fitted operators of every group, ready to predict.

    Attributes
    ----------
    groups:
        Index arrays into the flat parameter vector, one per operator.
    settings:
        The :class:`Koopman` settings they were fitted with.
    max_abs_eig:
        ``(n_groups,)`` largest ``|lambda|`` of each group's operator, before clipping.
    n_clipped:
        Eigenvalues scaled back to ``clip``, over all groups.
    rank:
        ``(n_groups,)`` singular directions kept per group.
    residual:
        ``(n_groups,)`` how far the window is from linear: the one-step prediction error of
        the (unclipped) operator over the window, ``||F' - U F|| / ||F' - F||`` (Frobenius).
        0: the snapshots follow the operator exactly; 1: it predicts the next step no
        better than standing still.
    seconds:
        Wall-clock of fitting (SVD, eigendecomposition).
    """

    groups: tuple[np.ndarray, ...]
    settings: Koopman
    max_abs_eig: np.ndarray
    n_clipped: int
    rank: np.ndarray
    seconds: float
    residual: np.ndarray = field(default_factory=lambda: np.zeros(0))
    _blocks: tuple[tuple, ...] = field(repr=False, default=())

    def predict(self, w: object, steps: int | None = None) -> torch.Tensor:
        """The flat parameter vector ``steps`` optimizer steps after ``w`` (default: the horizon).

        ``w``: ``(n_params,)``, normally the last snapshot ``w(t2)``. Parameters outside
        every group are returned unchanged. ``steps`` must be a multiple of ``stride``.
        """
        k = self.settings
        steps = k.horizon if steps is None else check_setting_int("predict", "steps", steps, low=0)
        if steps % k.stride:
            raise InputError(f"predict(steps={steps}): must be a multiple of stride={k.stride}")
        n = steps // k.stride
        wt = torch.as_tensor(w, dtype=torch.float64).detach().clone()
        for members, ref, Q, A, clipped, W, W_inv, lam in self._blocks:
            P = torch.linalg.matrix_power(A, n)
            if clipped.any():
                P[clipped] = torch.real(W @ torch.diag_embed(lam**n) @ W_inv)
            x = wt[torch.from_numpy(members)] - ref  # (G, d)
            if k.affine:
                x = torch.cat([x, torch.ones_like(x[:, :1])], 1)
            z = torch.einsum("gdr,gd->gr", Q, x)
            dz = torch.einsum("grs,gs->gr", P, z) - z
            new = x + torch.einsum("gdr,gr->gd", Q, dz)
            wt[torch.from_numpy(members)] = new[:, : members.shape[1]] + ref
        return wt


def fit_koopman(snapshots: object, groups: Sequence[object], koopman: Koopman) -> KoopmanOperators:
    """Fit one DMD operator per group to ``snapshots``.

    Parameters
    ----------
    snapshots:
        ``(m + 1, n_params)`` flat parameter vectors at consecutive (strided) steps,
        ``w(t1) ... w(t2)``; ``m >= 1``.
    groups:
        Index arrays into the parameter axis (e.g. from :func:`partition`); groups of equal
        size are fitted together in one batched SVD.
    koopman:
        :class:`Koopman` settings (``rank``, ``clip``, ``affine``, ``rcond``, ``stride``).
    """
    tic = time.perf_counter()
    S = torch.as_tensor(snapshots, dtype=torch.float64)
    if S.ndim != 2 or S.shape[0] < 2:
        raise InputError(
            f"fit_koopman: snapshots have shape {tuple(S.shape)}; need (m + 1, n_params) "
            "with at least 2 snapshots (one step)"
        )
    if not torch.isfinite(S.sum()) and not torch.isfinite(S).all():
        raise InputError("fit_koopman: the snapshots contain NaN or inf; the training diverged")
    # the groups as flat int64 index arrays (the parameter takes any index sequences)
    arrays = tuple(np.asarray(g, dtype=np.int64).ravel() for g in groups)
    if any(g.size == 0 for g in arrays):
        raise InputError("fit_koopman: a group is empty; every group needs at least one index")
    flat = np.concatenate(arrays) if arrays else np.zeros(0, np.int64)
    if flat.size and (flat.min() < 0 or flat.max() >= S.shape[1]):
        raise InputError(
            f"fit_koopman: group indices range over [{flat.min()}, {flat.max()}] but the "
            f"snapshots have {S.shape[1]} parameters"
        )
    by_size: dict[int, list[int]] = {}
    for i, g in enumerate(arrays):
        by_size.setdefault(g.size, []).append(i)
    max_eig = np.zeros(len(arrays))
    ranks = np.zeros(len(arrays), dtype=np.int64)
    residual = np.zeros(len(arrays))
    n_clipped = 0
    blocks = []
    for _size, idx in by_size.items():
        members = np.stack([arrays[i] for i in idx])  # (G, d)
        block, eig, rank, clipped, res = _fit_block(S, members, koopman)
        blocks.append((members, *block))
        max_eig[idx], ranks[idx], residual[idx] = eig, rank, res
        n_clipped += clipped
    return KoopmanOperators(arrays, koopman, max_eig, n_clipped, ranks,
                            time.perf_counter() - tic, residual, tuple(blocks))  # fmt: skip


def _fit_block(S: torch.Tensor, members: np.ndarray, k: Koopman):
    """DMD of ``G`` groups of equal size ``d``: basis, operator, eigen-decomposition."""
    X = S[:, torch.from_numpy(members)].permute(1, 2, 0)  # (G, d, m + 1)
    ref = torch.zeros_like(X[..., -1])
    if k.affine:
        # affine dynamics stay affine in coordinates relative to w(t2); the SVD then sees
        # the window's motion rather than the (much larger) weights themselves
        ref = X[..., -1].clone()
        X = torch.cat([X - ref[..., None], torch.ones_like(X[:, :1])], 1)
    else:
        X = X.contiguous()
    F, Fp = X[..., :-1], X[..., 1:]  # (G, d', m)
    m, dim = F.shape[2], F.shape[1]
    if m > _TALL * dim:
        # many more snapshots than dimensions: F^T = Qr R, and the SVD of the small R^T
        # gives F = U S (Qr W)^T; several times faster than the SVD of the wide F, as stable
        Qr, R = torch.linalg.qr(F.transpose(1, 2))  # (G, m, d'), (G, d', d')
        Q, s, Wh = torch.linalg.svd(R.transpose(1, 2))
        FpQr = Fp @ Qr
        P = FpQr @ Wh.transpose(1, 2)  # F' V
    else:
        Q, s, Vh = torch.linalg.svd(F, full_matrices=False)  # Q (G, d', r0)
        P = Fp @ Vh.transpose(1, 2)  # F' V
    keep = s > k.rcond * s[:, :1]
    if k.rank is not None:
        keep[:, k.rank :] = False
    rank = keep.sum(1).numpy()
    inv_s = torch.where(keep, 1.0 / torch.where(keep, s, torch.ones_like(s)), 0.0)
    A = Q.transpose(1, 2) @ P * inv_s[:, None, :]  # Q^T F' V S^-1
    both = keep[:, :, None] & keep[:, None, :]
    # a dropped direction carries no information: it stays where it is (eigenvalue 1)
    A = torch.where(both, A, torch.zeros_like(A)) + torch.diag_embed((~keep).double())
    # one-step residual over the window: ||F' - M F|| / ||F' - F||, M = I + Q (A - I) Q^T
    M = torch.eye(dim, dtype=A.dtype) + Q @ (A - torch.eye(A.shape[1], dtype=A.dtype)) @ Q.transpose(1, 2)
    norm2 = lambda Y: (Y**2).sum((1, 2))  # noqa: E731
    if m > _TALL * dim:
        # F = R^T Qr^T, and F' splits into F' Qr Qr^T plus a part outside the row space of F
        outside = norm2(Fp - FpQr @ Qr.transpose(1, 2))
        miss2 = norm2(FpQr - M @ R.transpose(1, 2)) + outside
        moved2 = norm2(FpQr - R.transpose(1, 2)) + outside
    else:
        miss2, moved2 = norm2(Fp - M @ F), norm2(Fp - F)
    res = (miss2 / torch.where(moved2 > 0, moved2, 1.0)).sqrt().numpy()
    lam, W = torch.linalg.eig(A)
    mag = lam.abs()
    # eigenvectors of A that live in the kept directions (dropped ones have eigenvalue 1)
    own = (W.abs() ** 2 * keep[:, :, None]).sum(1) > 0.5
    eig = torch.where(own, mag, torch.zeros_like(mag)).max(1).values.numpy()
    clip = math.inf if k.clip is None else k.clip
    over = own & (mag > clip * (1 + 1e-9))  # roundoff of an eigenvalue 1 is not growth
    clipped = over.any(1)
    # only clipped groups go through the eigenvectors; the others use powers of A itself,
    # exact even when A is defective (a ramp w(t) = w0 + t c has a Jordan block at 1)
    lam = torch.where(over, lam / mag * clip, lam)[clipped]
    W = W[clipped]
    return (ref, Q, A, clipped, W, torch.linalg.inv(W), lam), eig, rank, int(over.sum()), res
