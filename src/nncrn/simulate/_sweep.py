"""Steady states of triangular networks by one sweep over the topological levels.

When the Jacobian graph is a DAG (see :class:`~nncrn.simulate._structure.MassActionStructure`),
a species ``y_i`` of level ``L`` appears in its own rate law together with species of earlier
levels only, so once those are at their steady state, ``dy_i/dt`` is a polynomial in ``y_i``
alone:

    g_i(y_i) = sum_p c_{i,p} y_i^p,   c_{i,p} = sum over terms of i with y_i^p of G_t * rest_t(y_<L).

The coefficients of a whole level are one product of a fixed matrix with the upstream
concentrations (a later layer's weights), plus gathered per-item terms (the first layer's
``W x + b``): the cost of a forward pass.

Which root? The sweep answers only when the root is unambiguous, per species and item:
``c_0 > 0`` and exactly one sign change in ``(c_0, c_1, ..., c_d)``. By Descartes' rule of
signs ``g_i`` then has exactly one positive root, ``g_i > 0`` below it and ``< 0`` above, so
the frozen scalar ODE ``y' = g_i(y)`` reaches it from every ``y >= 0``; as the upstream
species converge, ``y_i`` follows (a scalar asymptotically autonomous ODE with a globally
attracting equilibrium). The smoothed-ReLU neuron ``eps + z y - y^2`` always qualifies.
Anything else (``c_0 = 0``: the limit depends on the transient, e.g. ``A -> B``; two sign
changes: several attractors, e.g. bistable switches) is reported per item, and the caller
solves those items by pseudo-transient Newton from their initial state instead.

Roots: :func:`nncrn._activations.positive_root` (the library's one root finder: closed form
for degree <= 2, bracketed Newton above, the Descartes certificate). The caller verifies
every answer by the full right-hand side. (:func:`nncrn.simulate.fixed_point`
is a separate numpy level plan for compiled-network shapes only, the tests' oracle; it
shares only the quadratic's closed form.)
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import numpy as np
import scipy.sparse as sp
import torch

from nncrn._activations import positive_root
from nncrn.simulate._ptc import SteadyOutcome
from nncrn.simulate._structure import MassActionStructure
from nncrn.simulate._torch_kernels import TorchKernels, _Matrix, _prod_rows, _repeated

__all__ = ["LevelSweep", "sweep_steady_state"]


class _Plan:
    """Coefficient rows ``p * n + local`` of one level ``start:stop`` (``n`` species).

    ``const`` (terms without upstream factors), ``linear @ y[:start]`` (shared terms with
    one upstream factor), and gathered ``coef * rest(y) [* g]`` terms into ``var_row``.
    """

    def __init__(self, start, stop, degree, const, linear, var, device, dtype) -> None:
        self.start, self.stop, self.degree = start, stop, degree
        self.const = torch.tensor(const, dtype=dtype, device=device)[:, None]
        self.linear = _Matrix(linear, device, dtype)
        row, coef, rest, item, any_item, has_rest = var
        self.var_row = torch.tensor(row, dtype=torch.long, device=device)
        self.var_coef = torch.tensor(coef, dtype=dtype, device=device)[:, None]
        self.var_rest = torch.tensor(rest, dtype=torch.long, device=device)
        self.var_item = torch.tensor(item, dtype=torch.long, device=device)
        self.var_any_item, self.var_has_rest = any_item, has_rest


class LevelSweep:
    """Per-level coefficient plans for a triangular network (see the module docstring).

    Uses the level-by-level numbering of the dynamic species of ``k`` and its per-item
    coefficient array ``g``; ``s.levels`` must not be None.
    """

    def __init__(self, s: MassActionStructure, k: TorchKernels):
        device, dtype, new, n_item = k.device, k.dtype, k.renumber, k.n_item
        local = k.item_local
        nd = s.n_dynamic
        out = new[s.term_out]
        sp_t, pw_t = new[s.mono_species[s.term_mono]], s.mono_power[s.term_mono]
        own = (sp_t == out[:, None]) & (pw_t > 0)
        power = (pw_t * own).sum(1)
        rest_pw = np.where(own, 0, pw_t)
        rest_deg = rest_pw.sum(1)
        rest = _repeated(np.where(rest_pw > 0, sp_t, nd), rest_pw, nd)
        shared = s.shared_term
        value = np.where(shared, s.shared_value, 1.0)
        item = np.where(shared, n_item, local)
        assert s.levels is not None, "LevelSweep is built for triangular networks only"
        bounds = np.cumsum([0] + [lv.size for lv in s.levels])
        self.plans = []
        for a, b in itertools.pairwise(bounds.tolist()):
            n = b - a
            mine = (out >= a) & (out < b)
            deg = int(power[mine].max(initial=0))
            row = power * n + (out - a)
            kind_const = mine & shared & (rest_deg == 0)
            kind_lin = mine & shared & (rest_deg == 1) & (rest_pw.max(1) == 1)
            kind_var = mine & ~kind_const & ~kind_lin
            const = np.bincount(row[kind_const], value[kind_const], minlength=(deg + 1) * n)
            linear = sp.coo_matrix(
                (value[kind_lin], (row[kind_lin], rest[kind_lin, 0])), shape=((deg + 1) * n, a)
            )
            v = np.flatnonzero(kind_var)
            var = (row[v], value[v], rest[v], item[v], bool((~shared[v]).any()),
                   bool((rest_deg[v] > 0).any()))  # fmt: skip
            self.plans.append(_Plan(a, b, deg, const, linear, var, device, dtype))

    def solve(self, base: torch.Tensor, g_ext: torch.Tensor) -> torch.Tensor:
        """Fill ``base (n_dynamic + 1, batch)`` (species-major, last row ones) level by level.

        Rows of earlier levels must already hold steady-state values when a level is solved;
        returns the ``(batch,)`` bool per item: every species had a certified unique root.
        """
        b = base.shape[1]
        ok = torch.ones(b, dtype=torch.bool, device=base.device)
        for lv in self.plans:
            c = lv.const.expand(-1, b).clone()
            lv.linear.add_to(c, base[: lv.start])
            if lv.var_row.numel():
                vals = lv.var_coef.expand(-1, b)
                if lv.var_has_rest:  # padding points at the row of ones
                    vals = vals * _prod_rows(base, lv.var_rest)
                if lv.var_any_item:
                    vals = vals * g_ext.index_select(0, lv.var_item)
                c.index_add_(0, lv.var_row, vals)
            root, good = positive_root(c.view(lv.degree + 1, lv.stop - lv.start, b))
            base[lv.start : lv.stop] = root
            ok &= good.all(0)
        return ok


def sweep_steady_state(
    k: TorchKernels,
    y_full: torch.Tensor,
    *,
    atol: float,
    rtol: float,
    fallback: Callable[[torch.Tensor], SteadyOutcome],
) -> SteadyOutcome:
    """Steady states of ``y_full (batch, n_species)`` by the level sweep of ``k``.

    An item is accepted when every species had a certified root and the full right-hand
    side meets ``||f||_inf <= atol + rtol ||y||_inf`` with ``y >= 0``; ``fallback`` (the
    Newton solver) gets the other items, from their initial state.
    """
    b = y_full.shape[0]
    if k.n_dynamic == 0:  # nothing changes: every item is its own steady state
        return fallback(y_full)
    g = k.coefficients(y_full)
    base = k.base(y_full[:, k.dynamic])
    assert k.sweep is not None, "the caller solves networks without a level sweep by Newton"
    certified = k.sweep.solve(base, k.g_ext(g))
    y = base[:-1].T.contiguous()
    f = k.rhs(g, y)
    res = f.abs().amax(1)
    tol = atol + rtol * y.abs().amax(1)
    ok = certified & torch.isfinite(res) & (res <= tol) & (y >= 0).all(1)
    time = torch.full((b,), float("inf"), dtype=y.dtype, device=y.device)
    steps = torch.zeros(b, dtype=torch.long, device=y.device)
    out = SteadyOutcome(y, ok, res, time, steps, n_rhs=1)
    if bool(ok.all()):
        return out
    rest = torch.nonzero(~ok)[:, 0]
    o = fallback(y_full[rest])
    out.y[rest], out.converged[rest], out.residual[rest] = o.y, o.converged, o.residual
    out.time[rest], out.n_steps[rest] = o.time, o.n_steps
    out.n_rhs += o.n_rhs
    return out
