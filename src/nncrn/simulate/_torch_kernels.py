"""Batched torch kernels: the reduced mass-action RHS and its analytic Jacobian.

Same arithmetic as :class:`~nncrn.simulate._structure.MassActionStructure`, for a batch on
any device, written as matrix products so that the work per evaluation is a few BLAS or
sparse-matrix calls rather than one gather/scatter per term:

* per-item term coefficients ``G = P @ cmono(x)``: a sparse-dense product over the
  constant monomials (for a compiled network this *is* the first layer's ``W x + b``);
* ``f = S @ mono(y) + scatter(G * mono_item(y))``: ``S`` holds the coefficients shared by
  every item;
* Jacobian contributions ``G_t d mono_t / d y_s`` split into constant ones (a fixed sparse
  matrix, e.g. a later layer's weights) and variable ones (values per item).

Arrays are *species-major* ``(entries, batch)`` internally, so matrix products act on
contiguous rows; public methods take and return batch-first arrays. This module imports
torch; only the torch solver imports it, lazily.
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import scipy.sparse as sp
import torch

from nncrn.simulate._structure import MassActionStructure

__all__ = ["TorchKernels"]

# A matrix is stored dense when it is small or has more than this fraction of non-zeros:
# dense BLAS does ~10x the multiply-adds per second of torch's sparse CSR product on CPU.
_DENSE_ABOVE = 0.01
_DENSE_SIZE = 2**16


class _Sweep(Protocol):
    """What the solver uses of :class:`~nncrn.simulate._sweep.LevelSweep` (which imports
    this module, so it is named here by its method alone)."""

    def solve(
        self, base: torch.Tensor, g_ext: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]: ...


def _repeated(species: np.ndarray, power: np.ndarray, pad: int) -> np.ndarray:
    """``(rows, degree)`` species indices, each repeated ``power`` times, padded with ``pad``.

    Monomials are products of small integer powers; multiplying repeated factors avoids
    ``pow`` with a tensor exponent, which is an order of magnitude slower than ``mul``.
    """
    species, power = np.asarray(species), np.array(power, dtype=np.int64)
    degree = max(1, int(power.sum(1).max(initial=0)))
    out = np.full((species.shape[0], degree), pad, dtype=np.int64)
    filled = np.zeros(species.shape[0], dtype=np.int64)
    for j in range(species.shape[1]):
        for _ in range(int(power[:, j].max(initial=0))):
            rows = np.flatnonzero(power[:, j] > 0)
            out[rows, filled[rows]] = species[rows, j]
            filled[rows] += 1
            power[rows, j] -= 1
    return out


def _prod_rows(base: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """``prod_j base[idx[:, j]]`` for species-major ``base (n, batch)``."""
    out = base.index_select(0, idx[:, 0])
    for j in range(1, idx.shape[1]):
        out = out * base.index_select(0, idx[:, j])
    return out


def _span(idx: np.ndarray) -> tuple[int, int] | None:
    """``(start, stop)`` when ``idx`` is the range ``start, start + 1, ..., stop - 1``, else None."""
    idx = np.asarray(idx).reshape(-1)
    if idx.size and (np.diff(idx) == 1).all():
        return int(idx[0]), int(idx[-1]) + 1
    return None


def _rows(a: torch.Tensor, idx: torch.Tensor, span: tuple[int, int] | None,
          out: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """``a[idx]``: a view when ``idx`` is a contiguous range (``span``), else gathered into ``out``."""
    if span is not None:
        return a[span[0] : span[1]]
    return torch.index_select(a, 0, idx, out=out)


class _Monomials:
    """``prod_j base[idx[:, j]]`` with the factors that are the padding row (1) left out.

    A column of ``idx`` that pads every row is dropped; a column that is a contiguous range
    of rows is read as a view. Linear monomials of consecutive species (a compiled layer's
    neurons) then cost no arithmetic at all.
    """

    def __init__(self, idx: np.ndarray, pad: int, device: torch.device) -> None:
        idx = np.asarray(idx)
        keep = [j for j in range(idx.shape[1]) if (idx[:, j] != pad).any()] or [0]
        self.n = idx.shape[0]
        self.cols = [torch.tensor(idx[:, j], dtype=torch.long, device=device) for j in keep]
        self.spans = [_span(idx[:, j]) for j in keep]

    def into(self, base: torch.Tensor, ws: Workspace, name: str) -> torch.Tensor:
        b = base.shape[1]
        first = _rows(base, self.cols[0], self.spans[0], ws.get(name, self.n, b))
        if len(self.cols) == 1:
            return first
        out = ws.get(name, self.n, b)
        if first.data_ptr() != out.data_ptr():
            out.copy_(first)
        tmp = ws.get(name + "_tmp", self.n, b)
        for col, span in zip(self.cols[1:], self.spans[1:], strict=True):
            out.mul_(_rows(base, col, span, tmp))
        return out


def _horner_into(coef: torch.Tensor, y: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
    """:func:`_horner` written into ``out`` (same shape as ``y``): one pass per degree."""
    if not coef.shape[0]:
        return out.zero_()
    if coef.shape[0] == 1:
        return out.copy_(coef[0].expand_as(y))
    top = coef.shape[0] - 1
    torch.addcmul(coef[top - 1].expand_as(y), y, coef[top], out=out)
    for p in range(top - 2, -1, -1):
        torch.addcmul(coef[p].expand_as(y), out, y, out=out)
    return out


class Workspace:
    """Named scratch tensors of one device and dtype, reused while their shape stays.

    The hot loops of the integrator write into these instead of allocating: arrays of a
    batch are megabytes, and on CPU a fresh allocation of that size is often returned to
    and re-requested from the operating system (page faults) at every operation.
    """

    def __init__(self, device: torch.device, dtype: torch.dtype) -> None:
        self.device, self.dtype = device, dtype
        self._bufs: dict[str, torch.Tensor] = {}

    def get(self, name: str, *shape: int) -> torch.Tensor:
        buf = self._bufs.get(name)
        if buf is None or tuple(buf.shape) != shape:
            buf = torch.empty(shape, dtype=self.dtype, device=self.device)
            self._bufs[name] = buf
        return buf


def _horner(coef: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``sum_p coef[p] * y**p`` for ``coef (degree + 1, n, 1)`` and species-major ``y (n, batch)``."""
    if coef.shape[0] < 2:
        return coef[-1].expand_as(y).clone() if coef.shape[0] else torch.zeros_like(y)
    # c + out * y: one pass and one array per degree (the same roundings as out * y + c)
    out = torch.addcmul(coef[-2], coef[-1], y)
    for p in range(coef.shape[0] - 3, -1, -1):
        torch.addcmul(coef[p], out, y, out=out)
    return out


class _Matrix:
    """A fixed ``(m, n)`` matrix applied to species-major ``(n, batch)`` arrays.

    Only the bounding box of its non-zeros is stored (a later layer's weights occupy one
    block of the species-by-species matrix), dense when small or not very sparse.
    """

    def __init__(self, a: sp.spmatrix, device: torch.device, dtype: torch.dtype) -> None:
        a = sp.csr_matrix(a)
        a.sum_duplicates()
        a.eliminate_zeros()
        self.shape, self.nnz = a.shape, a.nnz
        self.mat = None
        if a.nnz == 0:
            return
        coo = a.tocoo()
        self.r0, self.r1 = int(coo.row.min()), int(coo.row.max()) + 1
        self.c0, self.c1 = int(coo.col.min()), int(coo.col.max()) + 1
        box = a[self.r0 : self.r1, self.c0 : self.c1]
        if box.shape[0] * box.shape[1] <= max(_DENSE_SIZE, box.nnz / _DENSE_ABOVE):
            self.mat = torch.tensor(box.toarray(), dtype=dtype, device=device)
        else:
            box = sp.csr_matrix(box)
            with warnings.catch_warnings():  # torch's notices that sparse CSR is in beta
                warnings.filterwarnings("ignore", message="Sparse CSR tensor support")
                warnings.filterwarnings("ignore", message="Sparse invariant checks")
                self.mat = torch.sparse_csr_tensor(
                    torch.tensor(box.indptr, dtype=torch.long, device=device),
                    torch.tensor(box.indices, dtype=torch.long, device=device),
                    torch.tensor(box.data, dtype=dtype, device=device),
                    size=box.shape,
                )

    def add_to(self, out: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """``out + self @ x``, updating ``out (m, batch)`` in place."""
        if self.mat is None:
            return out
        rows = out[self.r0 : self.r1]
        if self.mat.layout == torch.strided and rows.is_contiguous():
            rows.addmm_(self.mat, x[self.c0 : self.c1])  # no temporary
        else:
            rows += self.mat @ x[self.c0 : self.c1]
        return out

    def __matmul__(self, x: torch.Tensor) -> torch.Tensor:
        return self.add_to(x.new_zeros(self.shape[0], x.shape[1]), x)


class TorchKernels:
    """Index tensors and matrices of a :class:`MassActionStructure` on one device.

    When the structure has topological ``levels``, the dynamic species are renumbered level
    by level (``dynamic`` is permuted accordingly), so that every level is a contiguous
    slice ``level_bounds[i]:level_bounds[i + 1]`` and a forward substitution works on views.
    """

    def __init__(self, s: MassActionStructure, device: torch.device, dtype: torch.dtype) -> None:
        def ints(a: np.ndarray) -> torch.Tensor:
            return torch.tensor(np.asarray(a), dtype=torch.long, device=device)

        def floats(a: np.ndarray) -> torch.Tensor:
            return torch.tensor(np.asarray(a), dtype=dtype, device=device)

        def matrix(vals, rows, cols, shape) -> _Matrix:
            return _Matrix(sp.coo_matrix((vals, (rows, cols)), shape=shape), device, dtype)

        self.device, self.dtype = device, dtype
        self.sweep: _Sweep | None = (
            None  # a LevelSweep, attached by the solver for triangular networks
        )
        # (n_laws, n_dynamic) orthonormal conservation laws in this numbering, or None;
        # attached by the solver (see nncrn.simulate._conservation)
        self.conservation: torch.Tensor | None = None
        # (n_reactions, width) reactant species (all species, -1 pads) when every reaction
        # runs to completion, else None; attached by the solver (see ._completion)
        self.completion: torch.Tensor | None = None
        # its firing order (._completion_state.CompletionPlan), attached by the solver
        self.completion_plan: Any = None  # a CompletionPlan or None (no import: no cycle)
        nd, n_mono = s.n_dynamic, s.mono_species.shape[0]
        self.n_species, self.n_dynamic = s.n_species, nd
        self.n_reactions, self.n_terms, self.n_monomials = s.n_reactions, s.n_terms, n_mono
        # Renumber dynamic positions level by level (identity without levels); pad nd -> nd.
        perm = np.concatenate(s.levels) if s.levels else np.arange(nd)
        new = np.empty(nd + 1, dtype=np.int64)
        new[perm], new[nd] = np.arange(nd), nd
        self.renumber = new  # structure's dynamic position -> position here
        self.dynamic = ints(s.dynamic[perm])
        mono_species = new[s.mono_species]
        term_out = new[s.term_out]

        # Per-item coefficients: G_item = P @ cmono.
        item = np.flatnonzero(~s.shared_term)
        self.n_item = item.size
        local = np.full(s.n_terms, -1, dtype=np.int64)
        local[item] = np.arange(item.size)
        self.item_local = local  # term -> row of the per-item coefficients (-1: shared)
        sel = local[s.net_term] >= 0
        r = s.net_reaction[sel]
        p_vals = s.rates[r] * s.net_coeff[sel]
        p_shape = (item.size, s.cmono_species.shape[0])
        self.P = matrix(p_vals, local[s.net_term[sel]], s.reaction_cmono[r], p_shape)
        self._P_sp = sp.coo_matrix((p_vals, (local[s.net_term[sel]], s.reaction_cmono[r])), p_shape)
        self.cmono_np = _repeated(s.cmono_species, s.cmono_power, s.n_species)
        self.cmono = ints(self.cmono_np)
        # Direct path (see attach_inputs): G = Px @ x + pb from the input concentrations x.
        self.input_P: _Matrix | None = None
        self.input_bias: torch.Tensor | None = None
        # Shared terms that are powers of their own species (decay, dimerisation, inflow)
        # form a polynomial per species, evaluated elementwise; the rest is the matrix S.
        tm_real = s.mono_power[s.term_mono] > 0
        own = (~tm_real | (mono_species[s.term_mono] == term_out[:, None])).all(1)
        is_self = s.shared_term & own
        deg = s.mono_power[s.term_mono].sum(1)
        selfc = np.zeros((nd, int(deg[is_self].max(initial=0)) + 1))
        np.add.at(selfc, (term_out[is_self], deg[is_self]), s.shared_value[is_self])
        self.self_coef = floats(selfc.T)[:, :, None]  # (degree + 1, n_dynamic, 1)
        self.self_dcoef = floats((selfc[:, 1:] * np.arange(1, selfc.shape[1])).T)[:, :, None]
        shared = np.flatnonzero(s.shared_term & ~is_self)
        # The right-hand side evaluates only the monomials S and the per-item terms use (the
        # polynomials above cover the others): those of S first, so S's block is narrow.
        s_cols = np.unique(s.term_mono[shared])
        used = np.concatenate([s_cols, np.setdiff1d(np.unique(s.term_mono[item]), s_cols)])
        remap = np.full(n_mono, -1, dtype=np.int64)
        remap[used] = np.arange(used.size)
        self.mono = ints(_repeated(mono_species[used], s.mono_power[used], nd))
        self.item_mono, self.item_out = ints(remap[s.term_mono[item]]), ints(term_out[item])
        self.mono_rows = _Monomials(
            _repeated(mono_species[used], s.mono_power[used], nd), nd, device
        )
        self.item_mono_span = _span(remap[s.term_mono[item]])
        self.item_out_span = _span(term_out[item])
        self.S = matrix(
            s.shared_value[shared], term_out[shared], remap[s.term_mono[shared]], (nd, used.size)
        )

        # Jacobian contributions G_t * d mono_t / d y_slot.
        t, slot = s.jac_term, s.jac_slot
        m, out = s.term_mono[t], term_out[t]
        inn = mono_species[m, slot]
        rem_power = s.mono_power[m].copy()
        rem_power[np.arange(t.size), slot] -= 1
        rem = _repeated(np.where(rem_power > 0, mono_species[m], nd), rem_power, nd)
        is_shared = s.shared_term[t]
        coef = s.mono_power[m, slot] * np.where(is_shared, s.shared_value[t], 1.0)
        item_row = np.where(is_shared, self.n_item, local[t])  # row n_item of g_ext is ones
        degree = (rem < nd).sum(1)
        diag = out == inn
        const = is_shared & (degree == 0)
        # "Row-scaled": shared, off-diagonal, d mono / d y_in = y_out (e.g. Y_out * H_in).
        scaled = is_shared & ~diag & (degree == 1) & (rem[:, 0] == out)
        var = ~const & ~scaled
        # Dense path: every contribution's value, summed into the distinct entries.
        flat = out * nd + inn
        self.jac_flat_np, entry = np.unique(flat, return_inverse=True)
        self.jac_flat = ints(self.jac_flat_np)
        self.all_entry, self.all_coef = ints(entry.reshape(-1)), floats(coef)[:, None]
        self.all_rem, self.all_item = ints(rem), ints(item_row)
        self.all_any_item = bool((~is_shared).any())
        # Triangular path: constant diagonal, variable diagonal, and per-level blocks.
        from_self = is_self[t]
        cd = const & diag & ~from_self
        self.const_diag = floats(np.bincount(out[cd], coef[cd], minlength=nd))
        vd = var & diag & ~from_self
        self.vdiag_out, self.vdiag_coef = ints(out[vd]), floats(coef[vd])[:, None]
        self.vdiag_rem, self.vdiag_item = ints(rem[vd]), ints(item_row[vd])
        self.vdiag_any_item = bool((vd & ~is_shared).any())
        self.levels = None
        if s.levels is not None:
            bounds = np.cumsum([0] + [lv.size for lv in s.levels])
            self.levels = []
            for a, b in itertools.pairwise(bounds.tolist()):
                c = ~diag & (out >= a) & (out < b)
                v = np.flatnonzero(c & var)
                self.levels.append(_Level(
                    a, b,
                    matrix(coef[c & const], out[c & const] - a, inn[c & const], (b - a, a)),
                    matrix(coef[c & scaled], out[c & scaled] - a, inn[c & scaled], (b - a, a)),
                    ints(out[v] - a), ints(inn[v]), floats(coef[v])[:, None], ints(rem[v]),
                    ints(item_row[v]), bool((~is_shared[v]).any()),
                ))  # fmt: skip

    @property
    def triangular(self) -> bool:
        """Whether ``I/h - J`` is triangular (see :attr:`MassActionStructure.levels`)."""
        return self.levels is not None

    def attach_inputs(self, input_species: np.ndarray) -> None:
        """Prepare :meth:`input_coefficients_ext` for the species ``input_species`` (in the
        order of the inputs), when every constant monomial is one input or the constant 1
        (a compiled network: ``G = W x + b``); otherwise it stays unavailable (None)."""
        cm, pad = self.cmono_np, self.n_species
        degree = (cm != pad).sum(1)
        pos = np.full(self.n_species + 1, -1, dtype=np.int64)
        pos[np.asarray(input_species, dtype=np.int64)] = np.arange(len(input_species))
        first = cm[:, 0] if cm.shape[1] else np.full(cm.shape[0], pad)
        ok = (degree == 0) | ((degree == 1) & (pos[first] >= 0))
        if self.n_item == 0 or not ok.all():
            return
        P = sp.csc_matrix(self._P_sp)
        one = np.flatnonzero(degree == 0)
        cols = np.flatnonzero(degree == 1)
        to_input = sp.coo_matrix(
            (np.ones(cols.size), (cols, pos[first[cols]])), shape=(cm.shape[0], len(input_species))
        )
        self.input_P = _Matrix(P @ to_input, self.device, self.dtype)
        bias = np.asarray(P[:, one].sum(1)).reshape(-1)
        self.input_bias = torch.tensor(bias, dtype=self.dtype, device=self.device)[:, None]

    # ------------------------------------------------------------------ per solve
    def coefficients(self, y_full: torch.Tensor) -> torch.Tensor:
        """Species-major per-item coefficients ``(n_item, batch)`` from ``y_full (batch, n_species)``."""
        return self.coefficients_ext(y_full)[:-1]

    def coefficients_ext(self, y_full: torch.Tensor) -> torch.Tensor:
        """:meth:`coefficients` with a row of ones appended (see :meth:`g_ext`), in one array."""
        b = y_full.shape[0]
        ext = torch.cat([y_full.T, torch.ones(1, b, dtype=self.dtype, device=self.device)])
        out = torch.empty(self.n_item + 1, b, dtype=self.dtype, device=self.device)
        out[:-1] = 0.0
        out[-1] = 1.0
        self.P.add_to(out[:-1], _prod_rows(ext, self.cmono))
        return out

    def input_coefficients_ext(self, x: torch.Tensor) -> torch.Tensor:
        """:meth:`coefficients_ext` from the input concentrations ``x (batch, n_inputs)`` alone.

        Only after :meth:`attach_inputs` found the direct form (``input_P`` set). ``x.T`` is
        read in place (a transposed operand of the product), so no copy of the batch is made.
        """
        assert self.input_P is not None and self.input_bias is not None
        b = x.shape[0]
        out = torch.empty(self.n_item + 1, b, dtype=self.dtype, device=self.device)
        out[:-1] = self.input_bias
        out[-1] = 1.0
        self.input_P.add_to(out[:-1], x.T)
        return out

    # ------------------------------------------------------------------ hot loop
    def base(self, y: torch.Tensor) -> torch.Tensor:
        """Species-major ``(n_dynamic + 1, batch)``: ``y`` and a row of ones (the padding)."""
        ones = torch.ones(1, y.shape[0], dtype=y.dtype, device=y.device)
        return torch.cat([y.T, ones])

    def g_ext(self, g: torch.Tensor) -> torch.Tensor:
        """``g`` with a row of ones appended (the coefficient row of shared contributions)."""
        return torch.cat([g, torch.ones(1, g.shape[1], dtype=g.dtype, device=g.device)])

    def rhs(self, g: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``(batch, n_dynamic)`` time derivative at dynamic concentrations ``y (batch, n_dynamic)``."""
        base = self.base(y)  # species-major: the elementwise passes below run contiguous
        mono = _prod_rows(base, self.mono)
        f = self.S.add_to(_horner(self.self_coef, base[:-1]), mono)
        if self.n_item:
            f.index_add_(0, self.item_out, g * mono.index_select(0, self.item_mono))
        return f.T

    def rhs_into(self, g: torch.Tensor, base: torch.Tensor, out: torch.Tensor,
                 ws: Workspace) -> torch.Tensor:  # fmt: skip
        """Species-major :meth:`rhs`: ``out (n_dynamic, batch)`` from ``base`` (see :meth:`base`).

        Writes into ``out`` and the scratch of ``ws`` only (no allocation of batch size).
        """
        b = base.shape[1]
        mono = self.mono_rows.into(base, ws, "mono")
        _horner_into(self.self_coef, base[:-1], out)
        self.S.add_to(out, mono)
        if self.n_item:
            part = _rows(mono, self.item_mono, self.item_mono_span, ws.get("item", self.n_item, b))
            if self.item_out_span is not None:  # one term per row of a block: no scatter
                out[self.item_out_span[0] : self.item_out_span[1]].addcmul_(part, g)
            else:
                out.index_add_(
                    0, self.item_out, torch.mul(part, g, out=ws.get("item_g", self.n_item, b))
                )
        return out

    def triangular_factor(self, base: torch.Tensor, g_ext: torch.Tensor,
                          sigma: torch.Tensor) -> tuple[torch.Tensor, list]:  # fmt: skip
        """Pivots ``sigma - diag(J) (n_dynamic, batch)`` and per-level off-diagonal values.

        Species-major counterpart of ``_linsolve.TriangularSystem`` (``sigma (batch,)``),
        for :meth:`triangular_solve_`. ``base`` must stay unchanged while they are used.
        """
        pivot = self.diagonal(base, g_ext).neg_().add_(sigma[None, :])
        vals = [
            self.contributions(base, g_ext, lv.var_coef, lv.var_rem, lv.var_item,
                               lv.var_any_item) if lv.var_out.numel() else None
            for lv in self.levels or ()
        ]  # fmt: skip
        return pivot, vals

    def triangular_solve_(self, r: torch.Tensor, pivot: torch.Tensor, vals: list,
                          base: torch.Tensor) -> torch.Tensor:  # fmt: skip
        """Solve ``(sigma I - J) x = r`` in place for species-major ``r (n_dynamic, batch)``.

        Forward substitution level by level: rows of a level read only solved rows above.
        """
        for lv, v in zip(self.levels or (), vals, strict=True):
            a, b = lv.start, lv.stop
            seg = r[a:b]
            lv.const.add_to(seg, r[:a])
            if lv.scaled.nnz:
                seg.addcmul_(base[a:b], lv.scaled @ r[:a])
            if v is not None:
                seg.index_add_(0, lv.var_out, v * r.index_select(0, lv.var_in))
            seg.div_(pivot[a:b])
        return r

    def contributions(self, base, g_ext, coef, rem, item, any_item) -> torch.Tensor:
        """Values ``coef * rem_monomial(y) [* g_item]`` of Jacobian contributions, species-major."""
        vals = coef * _prod_rows(base, rem)
        return vals * g_ext.index_select(0, item) if any_item else vals

    def diagonal(self, base: torch.Tensor, g_ext: torch.Tensor) -> torch.Tensor:
        """Species-major ``(n_dynamic, batch)`` Jacobian diagonal."""
        d = _horner(self.self_dcoef, base[:-1]) + self.const_diag[:, None]
        if self.vdiag_out.numel():
            vals = self.contributions(
                base, g_ext, self.vdiag_coef, self.vdiag_rem, self.vdiag_item, self.vdiag_any_item
            )
            d.index_add_(0, self.vdiag_out, vals)
        return d

    def jacobian(self, g: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``(batch, n_dynamic, n_dynamic)`` dense analytic Jacobian of :meth:`rhs`."""
        b, nd = y.shape[0], self.n_dynamic
        vals = self.contributions(
            self.base(y), self.g_ext(g), self.all_coef, self.all_rem, self.all_item,
            self.all_any_item,
        )  # fmt: skip
        entries = torch.zeros(self.jac_flat.shape[0], b, dtype=y.dtype, device=y.device)
        entries.index_add_(0, self.all_entry, vals)
        jac = torch.zeros(b, nd * nd, dtype=y.dtype, device=y.device)
        jac[:, self.jac_flat] = entries.T
        return jac.view(b, nd, nd)


@dataclass(frozen=True, eq=False)
class _Level:
    """Rows ``start:stop`` (one topological level) of the off-diagonal Jacobian, by kind.

    ``const @ x[:start]`` (fixed values), ``y[start:stop] * (scaled @ x[:start])`` (values
    proportional to the row's own species), and variable contributions ``coef * rem(y)
    [* g]`` from column ``var_in`` to local row ``var_out``.
    """

    start: int
    stop: int
    const: _Matrix
    scaled: _Matrix
    var_out: torch.Tensor
    var_in: torch.Tensor
    var_coef: torch.Tensor
    var_rem: torch.Tensor
    var_item: torch.Tensor
    var_any_item: bool
