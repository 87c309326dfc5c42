"""Differentiable torch evaluation of a feed-forward network's steady state, layer by layer.

Each dynamic species ``Y`` of a feed-forward network obeys ``dy/dt = a + b y - c y^2``
(dual-rail parts: ``a - d y``) where ``a, b, c`` are sums of rate constants times upstream
catalyst concentrations (the analysis of :func:`nncrn.simulate.fixed_point`). Solving the
levels in catalyst order with the cancellation-free root (the quadratic case of
:func:`nncrn._activations.positive_root`, a differentiable closed form) gives the exact steady state as a
torch graph, so autograd yields exact gradients with respect to every signed weight and,
through a leading ``draws`` axis, evaluates many perturbed rate sets in one pass.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nncrn._activations import positive_root
from nncrn._errors import NetworkError
from nncrn.network import ReactionNetwork
from nncrn.train._terms import Terms

__all__ = ["Layered", "NotFeedForward", "build_layered"]


class NotFeedForward(NetworkError):
    """The network has no layer-wise closed form; use the implicit (IFT) gradient."""


@dataclass(frozen=True, eq=False)
class _Level:
    targets: torch.Tensor  # (n_t,) species columns
    slot: torch.Tensor  # (n_e,) 3 * local target + power
    entry: torch.Tensor  # (n_e,) index into the global entry list


@dataclass(frozen=True, eq=False)
class Layered:
    """Plan for evaluating a feed-forward network; see :func:`build_layered`.

    Entries are the terms of every ``dy/dt``: ``coef * prod(catalysts) * y^power``. An
    entry's coefficient is a signed weight (``mode`` 0), ``relu(w)`` (1), ``relu(-w)`` (-1)
    of term ``param``, or the fixed value ``rate * net change`` of reaction ``reaction``.
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
        multipliers of the fixed reactions' rates (rate noise).
        """
        coef = self.coefficients(w, fixed_scale)  # (..., n_e)
        lead = coef.shape[:-1]
        batch = x.shape[0]
        s = self.base_state.to(x.dtype).expand(*lead, batch, self.n_species + 1).clone()
        s[..., input_cols] = x.expand(*lead, *x.shape)
        coef = coef.unsqueeze(-2)  # (..., 1, n_e)
        for lv in self.levels:
            cols, pows = self.cat_cols[lv.entry], self.cat_pows[lv.entry]
            mono = torch.prod(s[..., cols] ** pows, dim=-1)  # (..., batch, n_e_l)
            vals = coef[..., lv.entry] * mono
            poly = vals.new_zeros(*vals.shape[:-1], 3 * lv.targets.numel())
            poly = poly.index_add(-1, lv.slot, vals)
            a = poly[..., 0::3].clamp(min=0.0)
            b = poly[..., 1::3]
            c = (-poly[..., 2::3]).clamp(min=0.0)
            root, _ = positive_root(torch.stack([a, b, -c]), unique=True)
            s = s.index_copy(-1, lv.targets, root)
        return s

    def outputs(self, s: torch.Tensor) -> torch.Tensor:
        """Readout values ``(..., batch, n_outputs)`` from a state of :meth:`state`."""
        return s[..., self.plus] - s[..., self.minus] * self.has_minus.to(s.dtype)


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
    while len(done) < len(targets):
        ready = [t for t in targets if t not in done and deps[t] <= done]
        if not ready:
            raise NotFeedForward("the catalysts form a cycle (feedback)")
        local = {t: k for k, t in enumerate(ready)}
        entries = [e for e, t in enumerate(tgt) if t in local]
        slot = [3 * local[tgt[e]] + pw[e] for e in entries]
        levels.append(_Level(torch.tensor(ready), torch.tensor(slot), torch.tensor(entries)))
        done.update(ready)
    readout = network.readout
    assert readout is not None, "ReactionNetwork fills in the default readout"
    plus = [network.index(ro.plus) for ro in readout]
    minus = [network.index(ro.minus) if ro.minus else n for ro in readout]
    base = np.array([s.initial for s in network.species] + [1.0])
    return Layered(
        n_species=n, levels=tuple(levels), cat_cols=torch.from_numpy(cols_a),
        cat_pows=torch.from_numpy(pows_a), param=torch.tensor(par, dtype=torch.int64),
        mode=torch.tensor(mode, dtype=torch.int64),
        fixed_value=torch.tensor(fval, dtype=torch.float64),
        fixed_reaction=torch.tensor(frx, dtype=torch.int64),
        plus=torch.tensor(plus), minus=torch.tensor(minus),
        has_minus=torch.tensor([ro.minus is not None for ro in readout]),
        base_state=torch.from_numpy(base),
    )  # fmt: skip
