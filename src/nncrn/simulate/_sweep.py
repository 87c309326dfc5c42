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
from nncrn.simulate._torch_kernels import TorchKernels, _Matrix, _prod_rows, _repeated, _span

__all__ = ["LevelSweep", "sweep_steady_state"]


class _Plan:
    """Coefficient rows ``p * n + local`` of one level ``start:stop`` (``n`` species).

    ``const`` (terms without upstream factors), ``linear @ y[:start]`` (shared terms with
    one upstream factor), and gathered ``coef * rest(y) [* g]`` terms into ``var_row``.

    Fast forms (``form``): ``"quadratic"`` when only the ``y^1`` coefficients vary and
    the constant ones are ``> 0`` and the ``y^2`` ones ``< 0`` in every row (a smoothed-ReLU
    layer, ``eps + z y - y^2``): Descartes' certificate then holds for every item whatever
    ``z``, and only the ``(n, batch)`` block of ``z`` is formed. ``"linear"`` when only the
    ``y^0`` ones vary and the ``y^1`` ones are ``< 0`` (a linear readout layer; the
    certificate is ``c_0 > 0`` per item). Otherwise ``"general"``: the whole coefficient
    array and :func:`~nncrn._activations.positive_root`.
    """

    def __init__(self, start, stop, degree, const, linear, var, device, dtype) -> None:
        self.start, self.stop, self.degree = start, stop, degree
        n = stop - start
        self.const = torch.tensor(const, dtype=dtype, device=device)[:, None]
        self.linear = _Matrix(linear, device, dtype)
        row, coef, rest, item, any_item, has_rest = var
        self.var_row = torch.tensor(row, dtype=torch.long, device=device)
        self.var_coef = torch.tensor(coef, dtype=dtype, device=device)[:, None]
        self.var_rest = torch.tensor(rest, dtype=torch.long, device=device)
        self.var_item = torch.tensor(item, dtype=torch.long, device=device)
        self.var_any_item, self.var_has_rest = any_item, has_rest
        lin = sp.coo_matrix(linear)
        varying = set((lin.row[lin.data != 0] // n).tolist()) | set((np.asarray(row) // n).tolist())
        blocks = [np.asarray(const[p * n : (p + 1) * n]) for p in range(degree + 1)]
        self.form, vary = "general", -1
        if degree == 2 and varying <= {1} and (blocks[0] > 0).all() and (blocks[2] < 0).all():
            self.form, vary = "quadratic", 1
        elif degree == 1 and varying <= {0} and (blocks[1] < 0).all():
            self.form, vary = "linear", 0
        if vary < 0:
            return
        # the varying block alone: its constant part, its linear part, its gathered terms
        self.blocks = [torch.tensor(b, dtype=dtype, device=device)[:, None] for b in blocks]
        self.vary = vary
        keep = lin.row // n == vary
        self.vary_linear = _Matrix(
            sp.coo_matrix((lin.data[keep], (lin.row[keep] - vary * n, lin.col[keep])),
                          shape=(n, start)), device, dtype,
        )  # fmt: skip
        local = np.asarray(row, dtype=np.int64) - vary * n
        self.vary_row = torch.tensor(local, dtype=torch.long, device=device)
        # one gathered term per row, in row order, coefficient 1, per item, no upstream
        # factor (a compiled first layer: its z is the row block of g itself): a slice add
        self.vary_span = None
        span = _span(np.asarray(item))
        if (local.size == n and (local == np.arange(n)).all() and span is not None
                and (np.asarray(coef) == 1).all() and not has_rest):  # fmt: skip
            self.vary_span = span


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

    def solve(self, base: torch.Tensor, g_ext: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Fill ``base (n_dynamic + 1, batch)`` (species-major, last row ones) level by level.

        Returns ``(certified, residual)``, both ``(batch,)``: every species had a certified
        unique root, and ``||f(y)||_inf`` over the dynamic species at the state found.

        The residual is the full right-hand side, evaluated where it is cheapest: a species'
        rate law *is* its polynomial ``g_i(y_i) = sum_p c_{i,p} y_i^p`` with every term of
        the species in the coefficients and the upstream species at their final values
        (levels are solved in order and never revisited), so ``g_i`` at the root is
        ``f_i(y)`` up to the order of the floating-point sums.
        """
        b = base.shape[1]
        ok = torch.ones(b, dtype=torch.bool, device=base.device)
        res = torch.zeros(b, dtype=base.dtype, device=base.device)
        for lv in self.plans:
            y = base[lv.start : lv.stop]
            if lv.form == "general":
                c = self._general(lv, base, g_ext).view(lv.degree + 1, lv.stop - lv.start, b)
                root, good = positive_root(c)
                y.copy_(root)
                ok &= good.all(0)
                coefs = list(c)
            else:
                z = _varying(lv, base, g_ext)
                coefs = list(lv.blocks)
                coefs[lv.vary] = z
                if lv.form == "quadratic":
                    _quadratic_root_into(coefs[0], z, coefs[2], y)
                else:  # linear: c_0 / -c_1, certified where c_0 > 0 (c_1 < 0 everywhere)
                    torch.div(z, coefs[1].neg(), out=y)
                    ok &= (z > 0).all(0)
            res = torch.maximum(res, _poly(coefs, y).abs_().amax(0))
        return ok, res

    @staticmethod
    def _general(lv: _Plan, base: torch.Tensor, g_ext: torch.Tensor) -> torch.Tensor:
        """The whole ``((degree + 1) * n, batch)`` coefficient array of level ``lv``."""
        b = base.shape[1]
        c = lv.const.expand(-1, b).clone()
        lv.linear.add_to(c, base[: lv.start])
        if lv.var_row.numel():
            vals = lv.var_coef.expand(-1, b)
            if lv.var_has_rest:  # padding points at the row of ones
                vals = vals * _prod_rows(base, lv.var_rest)
            if lv.var_any_item:
                vals = vals * g_ext.index_select(0, lv.var_item)
            c.index_add_(0, lv.var_row, vals)
        return c


def _varying(lv: _Plan, base: torch.Tensor, g_ext: torch.Tensor) -> torch.Tensor:
    """``(n, batch)``: the one coefficient block of a fast-form level that varies per item."""
    b, n = base.shape[1], lv.stop - lv.start
    if lv.vary_span is not None:
        z = torch.add(g_ext[lv.vary_span[0] : lv.vary_span[1]], lv.blocks[lv.vary])
    else:
        z = lv.blocks[lv.vary].expand(n, b).clone()
        if lv.var_row.numel():
            vals = lv.var_coef.expand(-1, b)
            if lv.var_has_rest:
                vals = vals * _prod_rows(base, lv.var_rest)
            if lv.var_any_item:
                vals = vals * g_ext.index_select(0, lv.var_item)
            z.index_add_(0, lv.vary_row, vals)
    return lv.vary_linear.add_to(z, base[: lv.start])


def _quadratic_root_into(c0: torch.Tensor, c1: torch.Tensor, c2: torch.Tensor,
                         out: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """Positive root of ``c0 + c1 y + c2 y^2`` for ``c0 > 0 > c2`` (``(n, 1)``), ``c1 (n, batch)``.

    :func:`~nncrn._activations.quadratic_root`'s closed form without cancellation, for the
    sign pattern that needs no certificate per item: with ``s = h + |c1|``
    (``h = sqrt(c1^2 - 4 c0 c2) > |c1|``) the root is ``s / (-2 c2)`` for ``c1 >= 0`` and
    ``2 c0 / s`` otherwise (the same floating-point values). Fewer passes over the batch
    than the general form; where ``c1^2`` overflows the root is ``inf`` or 0 and the
    residual check sends the item to Newton.
    """
    s = torch.addcmul(-4.0 * c0 * c2, c1, c1).sqrt_().add_(c1.abs())
    return torch.where(c1 >= 0, s / (-2.0 * c2), (2.0 * c0) / s, out=out)


def _poly(coefs: list[torch.Tensor], y: torch.Tensor) -> torch.Tensor:
    """``sum_p coefs[p] * y**p`` (Horner) for blocks ``(n, 1)`` or ``(n, batch)``; a new array."""
    d = len(coefs) - 1
    if d == 0:
        return coefs[0].expand_as(y).clone()
    f = torch.addcmul(coefs[d - 1], coefs[d], y)
    for p in range(d - 2, -1, -1):
        torch.addcmul(coefs[p], f, y, out=f)
    return f


def sweep_steady_state(
    k: TorchKernels,
    g_ext: torch.Tensor,
    *,
    atol: float,
    rtol: float,
    start: Callable[[torch.Tensor], torch.Tensor],
    fallback: Callable[[torch.Tensor], SteadyOutcome],
) -> SteadyOutcome:
    """Steady states of a batch by the level sweep of ``k``, from its per-item coefficients.

    ``g_ext (n_item + 1, batch)``: :meth:`TorchKernels.coefficients_ext` of the items.
    ``start(rows)`` gives the initial states ``(len(rows), n_species)`` of the items
    ``rows``; only the items the sweep does not answer need them. An item is accepted when
    every species had a certified root and the full right-hand side meets
    ``||f||_inf <= atol + rtol ||y||_inf`` with ``y >= 0``; ``fallback`` (the Newton solver)
    gets the other items. It starts from the sweep's state where every species' root was
    certified and that state is finite and ``>= 0`` (the residual failed, e.g. by
    roundoff): the certificate makes the steady state unique and reached from every
    non-negative state, so this start leads where the item's own would. Elsewhere (a
    species without a certified root: its limit may depend on the transient, or there are
    several attractors) it starts from the item's initial state.
    """
    b, nd = g_ext.shape[1], k.n_dynamic
    if nd == 0:  # nothing changes: every item is its own steady state
        return fallback(start(torch.arange(b, device=g_ext.device)))
    base = torch.empty(nd + 1, b, dtype=g_ext.dtype, device=g_ext.device)
    base[-1] = 1.0
    assert k.sweep is not None, "the caller solves networks without a level sweep by Newton"
    certified, res = k.sweep.solve(base, g_ext)
    yd = base[:-1]
    lo, hi = yd.amin(0), yd.amax(0)
    tol = atol + rtol * torch.maximum(hi, -lo)
    ok = certified & torch.isfinite(res) & (res <= tol) & (lo >= 0)
    y = yd.T
    out = SteadyOutcome.direct(y, ok, res)
    if bool(ok.all()):
        return out
    rest = torch.nonzero(~ok)[:, 0]
    y_full = start(rest).clone()
    mine = y[rest]
    warm = certified[rest] & torch.isfinite(mine).all(1) & (lo[rest] >= 0)
    if bool(warm.any()):
        w = torch.nonzero(warm)[:, 0]
        y_full[w[:, None], k.dynamic[None, :]] = mine[w]
    return out.take(rest, fallback(y_full))
