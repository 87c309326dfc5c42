"""Batched solves of ``(sigma I - J) x = r``: the linear algebra of Newton and Rosenbrock steps.

Two factorisations of the same matrix, one per item with its own ``sigma``:

* :class:`TriangularSystem` when the Jacobian graph is a DAG (every compiled feed-forward
  network): level by level, ``x_L = (r_L + J_{L,<L} x_{<L}) / (sigma - diag(J)_L)``, a
  forward substitution costing a few sparse products per level: ``O(batch * nnz(J))``.
* :class:`DenseSystem` otherwise: the dense ``(batch, n, n)`` Jacobian and a batched LU,
  ``O(batch * n^3)`` time and ``O(batch * n^2)`` memory. Networks with feedback or
  conservation laws (``A <-> B``) take this path; it is exact but scales cubically in the
  number of dynamic species.

Both expose :meth:`solve` (batch-first ``(batch, n)`` in and out) and :meth:`det_positive`
(whether ``det(sigma I - J) > 0``, which the pseudo-transient Newton uses to detect that
``sigma`` crossed a positive eigenvalue of ``J``).
"""

from __future__ import annotations

import torch

from nncrn.simulate._torch_kernels import TorchKernels

__all__ = ["DenseSystem", "TriangularSystem", "factor"]


class TriangularSystem:
    """``sigma I - J`` for a DAG-structured Jacobian, solved by forward substitution."""

    def __init__(self, k: TorchKernels, g: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor):
        self.k = k
        self.base, self.g_ext = k.base(y), k.g_ext(g)
        self.pivot = sigma[None, :] - k.diagonal(self.base, self.g_ext)  # (n, batch)
        # Variable off-diagonal values, once per factorisation (reused by every solve).
        self.vals = [
            k.contributions(self.base, self.g_ext, lv.var_coef, lv.var_rem, lv.var_item,
                            lv.var_any_item) if lv.var_out.numel() else None
            for lv in k.levels
        ]  # fmt: skip

    def det_positive(self) -> torch.Tensor:
        """``(batch,)`` bool: every pivot (eigenvalue of ``sigma I - J``) is positive.

        Stronger than a positive determinant: two positive eigenvalues of ``J`` crossed at
        once (two bistable species) leave the determinant's sign unchanged.
        """
        return (self.pivot > 0).all(0)

    def solve(self, r: torch.Tensor) -> torch.Tensor:
        x = torch.empty_like(r.T)
        rt = r.T
        for lv, vals in zip(self.k.levels, self.vals, strict=True):
            a, b = lv.start, lv.stop
            acc = rt[a:b].clone()
            lv.const.add_to(acc, x[:a])
            if lv.scaled.nnz:
                acc = acc + self.base[a:b] * (lv.scaled @ x[:a])
            if vals is not None:
                acc = acc.index_add(0, lv.var_out, vals * x.index_select(0, lv.var_in))
            x[a:b] = acc / self.pivot[a:b]
        return x.T


class DenseSystem:
    """``sigma I - J`` by batched dense LU (any network).

    With ``laws`` (orthonormal conservation laws ``C``, ``C J = 0``) it factorises
    ``sigma I - J + C^T C`` instead. For a right-hand side with ``C r = 0`` (every residual
    and Newton right-hand side of a mass-action network) both give the same ``x``, with
    ``C x = 0``; but as ``sigma -> 0`` the plain matrix becomes singular along ``C`` and
    its solve amplifies roundoff into ``x``, while the augmented one keeps eigenvalue
    ``sigma + 1`` there. The sign of the determinant is unchanged for ``sigma > 0``.
    """

    def __init__(
        self, k: TorchKernels, g: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor,
        laws: torch.Tensor | None = None,
    ):  # fmt: skip
        n = k.n_dynamic
        eye = torch.eye(n, dtype=y.dtype, device=y.device)
        a = sigma[:, None, None] * eye - k.jacobian(g, y)
        if laws is not None:
            a = a + laws.T @ laws
        self.lu, self.piv, _ = torch.linalg.lu_factor_ex(a)

    def det_positive(self) -> torch.Tensor:
        n = self.lu.shape[-1]
        diag_sign = torch.sign(torch.diagonal(self.lu, dim1=-2, dim2=-1)).prod(-1)
        ar = torch.arange(1, n + 1, device=self.piv.device, dtype=self.piv.dtype)
        swaps = (self.piv != ar).sum(-1)  # pivots are 1-based row swaps
        return diag_sign * (1 - 2 * (swaps % 2)).to(self.lu.dtype) > 0

    def solve(self, r: torch.Tensor) -> torch.Tensor:
        return torch.linalg.lu_solve(self.lu, self.piv, r[..., None])[..., 0]


def factor(
    k: TorchKernels, g: torch.Tensor, y: torch.Tensor, sigma: torch.Tensor, *, dense: bool,
    laws: torch.Tensor | None = None,
) -> TriangularSystem | DenseSystem:
    """``sigma (batch,) * I - J(y)`` for items ``y (batch, n)`` with coefficients ``g``.

    ``laws``: conservation laws to stabilise the dense solve with (see :class:`DenseSystem`);
    the triangular solve does not use them.
    """
    if dense or not k.triangular:
        return DenseSystem(k, g, y, sigma, laws)
    return TriangularSystem(k, g, y, sigma)
