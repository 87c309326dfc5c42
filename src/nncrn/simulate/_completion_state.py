"""Steady states of networks whose every reaction runs to completion, by firing them in order.

In a non-competitive, acyclic network (see :mod:`._completion`; every dual-rail ReLU
network is one) the steady state is the one state on the stoichiometric class of ``y0``
with every reaction exhausted. It is reached by firing the reactions group by group
(:func:`~._completion.completion_levels`): when a group's turn comes, its reactants hold
their final amounts, so each reaction's extent is fixed by which reactant runs out,

    xi_r = min( y_s / |net_rs|  over consumed reactants s,
                0 if a reactant it does not consume is absent, else infinity ),

and ``y += N^T xi``. The reactant that runs out is set to exactly 0 (``y - (y / c) c`` can
leave one unit of roundoff). The cost is one gather, one min and one scatter per group:
a few per layer, less than a forward pass, where an integrator or Newton has to follow
the ``1 / t`` tail of an exact dual-rail tie.

The caller accepts an item only if the full right-hand side meets the steady-state
criterion and every reaction is exhausted (the same certificate as for the Newton path);
other items go to Newton from their initial state.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from nncrn.network import StoichiometryView
from nncrn.simulate._completion import completion_levels
from nncrn.simulate._ptc import SteadyOutcome, _exhausted
from nncrn.simulate._structure import _padded
from nncrn.simulate._torch_kernels import TorchKernels

__all__ = ["CompletionPlan", "completion_steady_state"]


class _Group:
    """One group of reactions: reactant gather table, divisors and the net-change scatter."""

    def __init__(self, reactions: np.ndarray, view: StoichiometryView, net: sp.csr_array,
                 device, dtype) -> None:  # fmt: skip
        rr = np.asarray(view.reactant_rows, dtype=np.int64)
        rc = np.asarray(view.reactant_cols, dtype=np.int64)
        local = np.full(view.n_reactions, -1, dtype=np.int64)
        local[reactions] = np.arange(reactions.size)
        mine = local[rr] >= 0
        rows, cols = local[rr[mine]], rc[mine]
        change = np.asarray(net[rr[mine], cols]).ravel()
        # code > 0: consumed, the divisor of its extent y / code; -1: a reactant the reaction
        # does not consume (extent 0 if absent, else no limit); 0: padding (no limit)
        code = np.where(change < 0, -change, -1).astype(np.int64)
        table, code = _padded(rows, cols, code, reactions.size, 0)
        divisor = code.astype(np.float64)
        self.table = torch.tensor(table, dtype=torch.long, device=device)
        self.divisor = torch.tensor(divisor, dtype=dtype, device=device)
        self.consumed = self.divisor > 0
        self.catalyst = self.divisor < 0
        # the species each reaction consumes (each belongs to one reaction only)
        self.used_reaction = torch.tensor(rows[change < 0], dtype=torch.long, device=device)
        self.used_species = torch.tensor(cols[change < 0], dtype=torch.long, device=device)
        self.used_divisor = torch.tensor(-change[change < 0], dtype=dtype, device=device)
        # every nonzero net change of the group's reactions: y[:, col] += coeff * xi[:, row]
        sub = net[reactions].tocoo()
        self.net_row = torch.tensor(sub.row, dtype=torch.long, device=device)
        self.net_col = torch.tensor(sub.col, dtype=torch.long, device=device)
        self.net_coeff = torch.tensor(sub.data, dtype=dtype, device=device)

    def fire(self, y: torch.Tensor) -> None:
        """Run the group's reactions to exhaustion on ``y (batch, n_species)``, in place."""
        vals = y[:, self.table]  # (batch, reactions, width)
        inf = torch.full_like(vals, float("inf"))
        extent = torch.where(self.consumed, vals / self.divisor.clamp(min=1.0), inf)
        extent = torch.where(self.catalyst & (vals <= 0), torch.zeros_like(vals), extent)
        xi = extent.amin(2)  # (batch, reactions)
        before = y[:, self.used_species]
        limit = before / self.used_divisor
        y.index_add_(1, self.net_col, xi[:, self.net_row] * self.net_coeff)
        # the reactant that ran out is exactly 0, the others not below 0
        ran_out = limit <= xi[:, self.used_reaction]
        left = torch.where(ran_out, torch.zeros_like(before), y[:, self.used_species].clamp(min=0))
        y[:, self.used_species] = left


class CompletionPlan:
    """The groups of a completion network (None from :meth:`build` for any other network)."""

    def __init__(self, groups: list[_Group]) -> None:
        self.groups = groups

    @classmethod
    def build(cls, view: StoichiometryView, device, dtype) -> CompletionPlan | None:
        levels = completion_levels(view)
        if levels is None:
            return None
        net = sp.csr_array(
            (np.asarray(view.net_coeffs, dtype=np.float64),
             (np.asarray(view.net_rows, dtype=np.int64), np.asarray(view.net_cols, dtype=np.int64))),
            shape=(view.n_reactions, view.n_species),
        )  # fmt: skip
        return cls([_Group(r, view, net, device, dtype) for r in levels])

    def solve(self, y_full: torch.Tensor) -> torch.Tensor:
        """``(batch, n_species)``: the state with every reaction exhausted, from ``y_full``."""
        y = y_full.clone()
        for group in self.groups:
            group.fire(y)
        return y


def completion_steady_state(
    k: TorchKernels,
    plan: CompletionPlan,
    y_full: torch.Tensor,
    *,
    atol: float,
    rtol: float,
    fallback: Callable[[torch.Tensor], SteadyOutcome],
) -> SteadyOutcome:
    """Steady states of ``y_full (batch, n_species)`` by firing ``plan``'s groups in order.

    An item is accepted when the full right-hand side meets ``||f||_inf <= atol + rtol
    ||y||_inf``, ``y >= 0`` and every reaction is exhausted (``_exhausted`` of the Newton
    path); ``fallback`` (the Newton solver) gets the other items, from their initial state.
    """
    if k.n_dynamic == 0:
        return fallback(y_full)
    y = plan.solve(y_full)[:, k.dynamic]
    f = k.rhs(k.coefficients(y_full), y)
    res = f.abs().amax(1)
    tol = atol + rtol * y.abs().amax(1)
    ok = torch.isfinite(res) & (res <= tol) & (y >= 0).all(1) & _exhausted(k, y_full, y, atol, rtol)
    out = SteadyOutcome.direct(y, ok, res)
    if bool(ok.all()):
        return out
    rest = torch.nonzero(~ok)[:, 0]
    return out.take(rest, fallback(y_full[rest]))
