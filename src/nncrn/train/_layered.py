"""Differentiable torch evaluation of a feed-forward network's steady state, layer by layer.

Each dynamic species ``Y`` of a feed-forward network obeys ``dy/dt = a + b y - c y^2``
(dual-rail parts: ``a - d y``) where ``a, b, c`` are sums of rate constants times upstream
catalyst concentrations (the analysis of :func:`nncrn.simulate.fixed_point`). Solving the
levels in catalyst order with the cancellation-free root (:func:`~nncrn._activations.quadratic_root`,
the degree-2 case of the library's root finder, a differentiable closed form) gives the exact steady state as a
torch graph, so autograd yields exact gradients with respect to every signed weight and,
through a leading ``draws`` axis, evaluates many perturbed rate sets in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import torch

from nncrn._activations import quadratic_root
from nncrn._errors import InputError, NetworkError
from nncrn.network import ReactionNetwork
from nncrn.train._terms import Terms

__all__ = ["Layered", "NotFeedForward", "build_layered"]


class NotFeedForward(NetworkError):
    """The network has no layer-wise closed form; use the implicit (IFT) gradient."""


@dataclass(frozen=True, eq=False)
class _Level:
    """Species solved together, and the plan of their coefficient matrix.

    The polynomial coefficients of the level are one product ``features @ C.T``:
    ``features (..., batch, n_f)`` are the catalyst monomials the level's entries use (a
    species column, the constant-1 column, or a product of columns), and ``C (3 n_t, n_f)``
    holds the entry coefficients at row ``power * n_t + local target``, column feature;
    it is the slice ``start : start + 3 n_t n_f`` of the plan's flat coefficient buffer.
    Feature 0 is always the constant 1: a power whose entries all use it (a leak, a
    saturation, a decay) is a column, not a product (``gemm`` False).
    """

    targets: torch.Tensor  # (n_t,) species columns
    slot: torch.Tensor  # (n_e,) 3 * local target + power
    entry: torch.Tensor  # (n_e,) index into the global entry list
    cols: torch.Tensor  # (n_simple,) feature columns of s (species or the constant 1)
    products: torch.Tensor | None  # (n_prod, k) columns whose product is a feature (1-padded)
    flat: torch.Tensor  # (n_e,) (power * n_t + local) * n_f + feature of each entry
    n_features: int
    start: int
    gemm: tuple[bool, bool, bool]  # per power: uses a feature other than the constant (index 0)


@dataclass(frozen=True, eq=False)
class Layered:
    """Plan for evaluating a feed-forward network; see :func:`build_layered`.

    Entries are the terms of every ``dy/dt``: ``coef * prod(catalysts) * y^power``. An
    entry's coefficient is a signed weight (``mode`` 0), ``relu(w)`` (1), ``relu(-w)`` (-1)
    of term ``param``, or the fixed value ``rate * net change`` of reaction ``reaction``.
    Each entry has a position in one flat buffer holding every level's coefficient matrix
    (``position``); a step writes the weights into it by one scatter.
    """

    n_species: int
    levels: tuple[_Level, ...]
    cat_cols: torch.Tensor  # (n_e, n_slots)
    cat_pows: torch.Tensor
    param: torch.Tensor  # (n_e,) term index or -1
    mode: torch.Tensor  # (n_e,)
    fixed_value: torch.Tensor  # (n_e,) for param == -1
    fixed_reaction: torch.Tensor  # (n_e,) reaction index or -1
    plus: torch.Tensor  # (n_outputs,)
    minus: torch.Tensor  # (n_outputs,) column or n_species (the constant 1 -> times 0)
    has_minus: torch.Tensor
    base_state: torch.Tensor  # (n_species + 1,) initial values, trailing 1
    position: torch.Tensor  # (n_e,) place of each entry in the flat coefficient buffer
    size: int  # length of the buffer
    fixed_buffer: torch.Tensor  # (size,) the fixed entries alone
    readout: torch.Tensor  # (n_species + 1, n_outputs): +1 at plus, -1 at minus

    def coefficients(
        self, w: torch.Tensor, fixed_scale: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``(..., n_e)`` entry coefficients from signed weights ``w (..., n_terms)``."""
        idx = self.param.clamp(min=0)
        wv = w[..., idx]
        sel = torch.where(self.mode == 0, wv, torch.relu(self.mode.to(w.dtype) * wv))
        fixed = self.fixed_value.to(w.dtype)
        if fixed_scale is not None:
            fixed = fixed * fixed_scale[..., self.fixed_reaction.clamp(min=0)]
        return torch.where(self.param >= 0, sel, fixed)

    def state(
        self,
        x: torch.Tensor,
        w: torch.Tensor,
        input_cols: torch.Tensor,
        fixed_scale: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Steady state ``(..., batch, n_species + 1)`` (trailing constant 1).

        ``x`` is ``(batch, n_inputs)`` input concentrations; ``w`` is ``(n_terms,)`` or
        ``(draws, n_terms)``, ``fixed_scale`` ``(n_reactions,)`` or ``(draws, n_reactions)``
        multipliers of the fixed reactions' rates (rate noise). Differentiable in ``w`` and
        ``x`` (not in ``fixed_scale``).
        """
        if fixed_scale is not None and fixed_scale.requires_grad:
            raise InputError(
                "Layered.state does not differentiate the fixed reactions' rate multipliers; "
                "pass fixed_scale.detach() (it models rate noise, not a trained parameter)"
            )
        return _SteadyState.apply(w, fixed_scale, x.to(w.dtype), input_cols, self)

    def outputs(self, s: torch.Tensor) -> torch.Tensor:
        """Readout values ``(..., batch, n_outputs)`` from a state of :meth:`state`."""
        return s @ self.readout.to(s.dtype)

    @cached_property
    def _writes(self) -> tuple[torch.Tensor, ...]:
        """Buffer positions and term indices of the signed (mode 0) and rectified entries."""
        direct = (self.param >= 0) & (self.mode == 0)
        rect = (self.param >= 0) & (self.mode != 0)
        return (self.position[direct], self.param[direct], self.position[rect],
                self.param[rect], self.mode[rect])  # fmt: skip

    def _buffer(self, w: torch.Tensor, fixed_scale: torch.Tensor | None) -> torch.Tensor:
        """``(..., size)`` every level's coefficient matrix, flat."""
        if fixed_scale is not None:
            coef = self.coefficients(w, fixed_scale)
            return coef.new_zeros(*coef.shape[:-1], self.size).index_add_(-1, self.position, coef)
        d_pos, d_par, r_pos, r_par, r_mode = self._writes
        buf = self.fixed_buffer.to(w.dtype).expand(*w.shape[:-1], self.size).clone()
        buf.index_add_(-1, d_pos, w.index_select(-1, d_par))
        if r_pos.numel():  # dual-rail parts: relu(w) on the plus part, relu(-w) on the minus
            buf.index_add_(-1, r_pos, torch.relu(w.index_select(-1, r_par) * r_mode))
        return buf


class _SteadyState(torch.autograd.Function):
    """The level sweep of :meth:`Layered.state` with its backward pass written out.

    Forward, per level: ``features @ C.T`` gives the coefficients ``a + b y + c2 y^2``
    (``a`` clamped to >= 0, ``c2`` to <= 0, so rounding cannot flip their signs), and
    :func:`~nncrn._activations.quadratic_root` the root. Backward, per level in reverse:
    the implicit derivative of the root, ``dy/dc_p = -y^p / F_y`` with
    ``F_y = b + 2 c2 y`` (``= -sqrt(b^2 - 4 a c2)``, no cancellation), then the product's
    two transposes (coefficient matrix: one GEMM; features: one GEMM, scattered to their
    columns), and the scatter of the weights undone by a gather. Autograd through the same
    operations gives the same numbers (the tests check it to 1e-12) but records ~30 nodes
    per level, which at mini-batch sizes cost more than the arithmetic.
    """

    @staticmethod
    def forward(ctx, w, fixed_scale, x, input_cols, plan):  # type: ignore[override]
        buf = plan._buffer(w, fixed_scale)
        lead = buf.shape[:-1]
        # species-major (..., n_species + 1, batch): gathers and writes move whole rows
        s = plan.base_state.to(w.dtype)[:, None].expand(*lead, -1, x.shape[0]).clone()
        s[..., input_cols, :] = x.T
        saved = []
        for lv in plan.levels:
            n_t, n_f = lv.targets.numel(), lv.n_features
            feats = s.index_select(-2, lv.cols)  # (..., n_simple, batch)
            vals = None
            if lv.products is not None:  # products of catalysts, by repeated columns (no pow)
                vals = s[..., lv.products, :]  # (..., n_prod, k, batch)
                feats = torch.cat([feats, vals.prod(-2)], -2)
            cmat = buf[..., lv.start : lv.start + 3 * n_t * n_f].view(*lead, 3 * n_t, n_f)
            # coefficients of y^0, y^1, y^2: a product with the features, or (a power whose
            # entries are all constants) the column of feature 0, broadcast over the batch
            a, b, c2 = (
                cmat[..., p * n_t : (p + 1) * n_t, :] @ feats
                if lv.gemm[p]
                else cmat[..., p * n_t : (p + 1) * n_t, :1]
                for p in range(3)
            )
            root = quadratic_root(a.clamp(min=0.0), b, c2.clamp(max=0.0))
            root = root.expand(*root.shape[:-1], x.shape[0])
            s.index_copy_(-2, lv.targets, root)
            saved.append((feats, vals, cmat, root, (a, b, c2)))
        ctx.plan, ctx.saved, ctx.w = plan, saved, w.detach()
        ctx.input_cols, ctx.x_shape = input_cols, x.shape
        return s.transpose(-1, -2)

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):  # type: ignore[override]
        plan = ctx.plan
        g = grad.transpose(-1, -2).contiguous()  # d loss / d s, species-major, accumulated
        gbuf = grad.new_empty(*grad.shape[:-2], plan.size)
        for lv, (feats, vals, cmat, y, (a, b, c2)) in zip(
            reversed(plan.levels), reversed(ctx.saved), strict=True
        ):
            n_t, n_f = lv.targets.numel(), lv.n_features
            gy = g.index_select(-2, lv.targets)
            g.index_fill_(-2, lv.targets, 0.0)  # the level overwrote these rows
            t = gy / -(b + 2.0 * c2.clamp(max=0.0) * y)  # dy/dc_p = y^p t
            ty = t * y
            # (the clamps pass the gradient where their input is inside)
            parts = (t * (a >= 0), ty, ty * y * (c2 <= 0))
            gblock = gbuf[..., lv.start : lv.start + 3 * n_t * n_f].view(
                *gbuf.shape[:-1], 3 * n_t, n_f
            )
            gfeat = None
            for p, gp in enumerate(parts):
                rows = slice(p * n_t, (p + 1) * n_t)
                if lv.gemm[p]:
                    gblock[..., rows, :] = gp @ feats.transpose(-1, -2)
                    part = cmat[..., rows, :].transpose(-1, -2) @ gp  # (..., n_f, batch)
                    gfeat = part if gfeat is None else gfeat + part
                else:  # only feature 0 has entries in these rows
                    gblock[..., rows, 0] = gp.sum(-1)
            if gfeat is None:
                continue
            n_simple = lv.cols.numel()
            g.index_add_(-2, lv.cols, gfeat[..., :n_simple, :])
            if vals is not None and lv.products is not None:
                gprod = gfeat[..., n_simple:, :]
                for j in range(vals.shape[-2]):  # d prod / d factor j: the other factors
                    others = torch.cat([vals[..., :j, :], vals[..., j + 1 :, :]], -2).prod(-2)
                    g.index_add_(-2, lv.products[:, j], gprod * others)
        # the buffer held w at the signed entries, relu(+-w) at the dual-rail ones
        d_pos, d_par, r_pos, r_par, r_mode = plan._writes
        w = ctx.w
        gw = gbuf.new_zeros(*gbuf.shape[:-1], w.shape[-1])
        gw.index_add_(-1, d_par, gbuf.index_select(-1, d_pos))
        if r_pos.numel():
            live = (w.index_select(-1, r_par) * r_mode > 0) * r_mode
            gw.index_add_(-1, r_par, gbuf.index_select(-1, r_pos) * live)
        gx = None
        if ctx.needs_input_grad[2]:
            gx = g[..., ctx.input_cols, :].transpose(-1, -2).sum_to_size(ctx.x_shape)
        return gw.sum_to_size(w.shape), None, gx, None, None


def build_layered(network: ReactionNetwork, terms: Terms) -> Layered:
    """Plan the layer-wise evaluation; raises :class:`NotFeedForward` when there is none."""
    n = network.n_species
    n_slots = terms.cat_cols.shape[1]
    # one entry per (target, term or fixed reaction): the columns of the plan
    tgt: list[int] = []
    pw: list[int] = []
    par: list[int] = []
    mode: list[int] = []
    fval: list[float] = []
    frx: list[int] = []
    cols: list[np.ndarray] = []
    pows: list[np.ndarray] = []

    def entry(t, power, param, md, value, reaction, cc, cp) -> None:
        columns: tuple[list[Any], ...] = (tgt, pw, par, mode, fval, frx, cols, pows)
        for lst, v in zip(
            columns, (int(t), power, param, md, value, reaction, cc, cp), strict=True
        ):
            lst.append(v)

    for i in range(terms.n_terms):
        cc, cp = terms.cat_cols[i], terms.cat_pows[i]
        if terms.minus[i] >= 0:  # dual rail: relu(w) [C] on the plus part, relu(-w) [C] on minus
            entry(terms.target[i], 0, i, 1, 0.0, -1, cc, cp)
            entry(terms.minus[i], 0, i, -1, 0.0, -1, cc, cp)
        else:
            entry(terms.target[i], 1, i, 0, 0.0, -1, cc, cp)
    for j in terms.fixed:
        r = network.reactions[j]
        net = r.net()
        if not net:
            continue
        if len(net) != 1:
            raise NotFeedForward(f"reaction {j} ({r.equation()}) changes {sorted(net)}")
        ((y, d),) = net.items()
        m = r.reactants.get(y, 0)
        if m > 2 or (m == 2 and d > 0):
            raise NotFeedForward(
                f"reaction {j} ({r.equation()}) is not of the form C + mY -> C + m'Y"
            )
        cats = sorted((network.index(s), c) for s, c in r.reactants.items() if s != y)
        if len(cats) > n_slots:
            raise NotFeedForward(f"reaction {j} has more catalysts than any weight")
        cc = np.full(n_slots, n, dtype=np.int64)
        cp = np.zeros(n_slots, dtype=np.int64)
        for k, (col, pw_) in enumerate(cats):
            cc[k], cp[k] = col, pw_
        entry(network.index(y), m, -1, 0, r.rate * d, int(j), cc, cp)
    cols_a = np.asarray(cols, dtype=np.int64).reshape(-1, n_slots)
    pows_a = np.asarray(pows, dtype=np.int64).reshape(-1, n_slots)
    targets = sorted(set(tgt))
    deps: dict[int, set[int]] = {t: set() for t in targets}
    for e, t in enumerate(tgt):
        deps[t] |= {int(c) for c in cols_a[e] if c != n and c != t and c in deps}
    levels: list[_Level] = []
    done: set[int] = set()
    position = np.zeros(len(tgt), dtype=np.int64)
    size = 0
    while len(done) < len(targets):
        ready = [t for t in targets if t not in done and deps[t] <= done]
        if not ready:
            raise NotFeedForward("the catalysts form a cycle (feedback)")
        local = {t: k for k, t in enumerate(ready)}
        entries = [e for e, t in enumerate(tgt) if t in local]
        slot = [3 * local[tgt[e]] + pw[e] for e in entries]
        lv = _plan_level(ready, entries, slot, cols_a, pows_a, n, size)
        position[entries] = lv.flat.numpy() + size
        size += 3 * len(ready) * lv.n_features
        levels.append(lv)
        done.update(ready)
    fixed_buffer = np.zeros(size)
    np.add.at(fixed_buffer, position[np.asarray(par) < 0], np.asarray(fval)[np.asarray(par) < 0])
    readout = network.readout
    assert readout is not None, "ReactionNetwork fills in the default readout"
    plus = [network.index(ro.plus) for ro in readout]
    minus = [network.index(ro.minus) if ro.minus else n for ro in readout]
    base = np.array([s.initial for s in network.species] + [1.0])
    ro_matrix = np.zeros((n + 1, len(readout)))
    for k, (p_, m_) in enumerate(zip(plus, minus, strict=True)):
        ro_matrix[p_, k] += 1.0
        if readout[k].minus is not None:
            ro_matrix[m_, k] -= 1.0
    return Layered(
        n_species=n, levels=tuple(levels), cat_cols=torch.from_numpy(cols_a),
        cat_pows=torch.from_numpy(pows_a), param=torch.tensor(par, dtype=torch.int64),
        mode=torch.tensor(mode, dtype=torch.int64),
        fixed_value=torch.tensor(fval, dtype=torch.float64),
        fixed_reaction=torch.tensor(frx, dtype=torch.int64),
        plus=torch.tensor(plus), minus=torch.tensor(minus),
        has_minus=torch.tensor([ro.minus is not None for ro in readout]),
        base_state=torch.from_numpy(base), position=torch.from_numpy(position), size=size,
        fixed_buffer=torch.from_numpy(fixed_buffer), readout=torch.from_numpy(ro_matrix),
    )  # fmt: skip


def _plan_level(
    ready: list[int],
    entries: list[int],
    slot: list[int],
    cols: np.ndarray,
    pows: np.ndarray,
    n: int,
    start: int,
) -> _Level:
    """The feature columns and coefficient-matrix positions of one level's entries."""
    simple: dict[int, int] = {n: 0}  # the constant 1 is feature 0
    products: dict[tuple[int, ...], int] = {}
    feature: list[tuple[bool, int]] = []
    for e in entries:
        factors = tuple(sorted(int(c) for c, p in zip(cols[e], pows[e], strict=True)
                               for _ in range(int(p)) if c != n))  # fmt: skip
        if len(factors) <= 1:  # a species or the constant 1 (column n)
            col = factors[0] if factors else n
            feature.append((False, simple.setdefault(col, len(simple))))
        else:
            feature.append((True, products.setdefault(factors, len(products))))
    n_f = len(simple) + len(products)
    n_t = len(ready)
    flat = [((sl % 3) * n_t + sl // 3) * n_f + (len(simple) + k if prod else k)
            for sl, (prod, k) in zip(slot, feature, strict=True)]  # fmt: skip
    gemm = tuple(
        any(sl % 3 == p and (prod or k != 0) for sl, (prod, k) in zip(slot, feature, strict=True))
        for p in range(3)
    )
    rep = None
    if products:
        width = max(len(f) for f in products)
        rep = torch.tensor([list(f) + [n] * (width - len(f)) for f in products])
    return _Level(
        targets=torch.tensor(ready), slot=torch.tensor(slot), entry=torch.tensor(entries),
        cols=torch.tensor(list(simple), dtype=torch.int64), products=rep,
        flat=torch.tensor(flat, dtype=torch.int64), n_features=n_f, start=start,
        gemm=(bool(gemm[0]), bool(gemm[1]), bool(gemm[2])),
    )  # fmt: skip
