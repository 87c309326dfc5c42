"""Steady-state gradients by the implicit function theorem, for any network.

At a steady state ``f(y, w) = 0`` with non-singular Jacobian ``J = df/dy`` (dynamic
species), ``dy/dw = -J^{-1} df/dw``, so for a loss ``L(y)``

    dL/dw = -lambda^T df/dw,      J^T lambda = dL/dy,

one sparse solve per batch item. ``df/dw`` of a signed term is the term's monomial at
its neuron (``[C] y`` for ``C + Y -> C + 2 Y`` / ``C + Y -> C``; ``+-[C]`` on the plus or
minus part of a dual-rail pair), so the gradient is the same whichever reaction currently
realises the sign. The steady state itself comes from :func:`nncrn.simulate.steady_state`;
the Jacobian is assembled here from the public stoichiometry view (sparse, one entry per
(net change, reactant) pair of a reaction).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse.linalg as spla
import torch

from nncrn._errors import NetworkError
from nncrn.simulate import Solver, steady_state
from nncrn.simulate._structure import MassActionStructure
from nncrn.train._terms import Terms

__all__ = ["implicit_state"]


def _jacobians(network, y: np.ndarray):
    """Yield the sparse Jacobian ``J (n_dyn, n_dyn)`` of the dynamic species for each row of ``y``.

    The simulators' vectorized mass-action structure (:class:`MassActionStructure`, whose
    right-hand side is cross-checked against the reference one in the simulate tests)
    assembles it; the species order is ``network.stoichiometry.dynamic``'s.
    """
    s = MassActionStructure.build(network)
    dyn = np.flatnonzero(network.stoichiometry.dynamic)
    for yb in y:
        yield s.jacobian(s.coefficients(yb), yb[dyn])


def _monomials(terms: Terms, y_ext: np.ndarray) -> np.ndarray:
    """``(batch, n_terms)`` products of each term's catalysts."""
    return np.prod(y_ext[:, terms.cat_cols] ** terms.cat_pows, axis=-1)


class _ImplicitSteadyState(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w: torch.Tensor, terms: Terms, inputs: np.ndarray,  # type: ignore[override]
                solver: Solver | None) -> torch.Tensor:  # fmt: skip
        wn = w.detach().cpu().numpy().astype(np.float64)
        net = terms.rebuild(wn)
        ss = steady_state(net, inputs, solver=solver)
        y = ss.concentrations
        ctx.saved = (terms, net, wn, y)
        return torch.as_tensor(y, dtype=w.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        terms, net, wn, y = ctx.saved
        g = grad.detach().cpu().numpy().astype(np.float64)
        dyn = np.flatnonzero(net.stoichiometry.dynamic)
        dpos = np.full(net.n_species + 1, -1, dtype=np.int64)
        dpos[dyn] = np.arange(dyn.size)
        y_ext = np.concatenate([y, np.ones((y.shape[0], 1))], axis=1)
        lam = np.zeros((y.shape[0], dyn.size))
        for b, jac in enumerate(_jacobians(net, y)):
            try:
                lam[b] = spla.splu(jac.T.tocsc()).solve(g[b, dyn])
            except RuntimeError as exc:
                raise NetworkError(
                    f"the steady-state Jacobian is singular for batch item {b} ({exc}); the "
                    "implicit gradient needs an isolated steady state. A network with a "
                    "conservation law (e.g. A + B -> 2 B keeps A + B constant) has a family of "
                    "steady states (so has a winner-take-all stage from nncrn.with_argmax: "
                    "train the network without it and add it afterwards); train such networks "
                    "with a closed-form scheme instead"
                ) from None
        mono = _monomials(terms, y_ext)  # (batch, n_terms)
        single = terms.minus < 0
        tgt = np.where(single, dpos[terms.target], -1)
        # single: df_target/dw = mono * y_target; dual rail: +mono on plus (w >= 0) or
        # -mono on minus (w < 0) (production |w| [C] = -w [C] there).
        out = np.where(wn >= 0, dpos[terms.target], dpos[terms.minus])
        col = np.where(single, tgt, out)
        factor = np.where(single, y[:, terms.target], np.where(wn >= 0, 1.0, -1.0)[None, :])
        lam_ext = np.concatenate([lam, np.zeros((lam.shape[0], 1))], axis=1)
        dfdw = mono * factor  # (batch, n_terms)
        grad_w = -(lam_ext[:, col] * dfdw).sum(axis=0)
        return torch.as_tensor(grad_w, dtype=grad.dtype), None, None, None


def implicit_state(w: torch.Tensor, terms: Terms, inputs: np.ndarray,
                   solver: Solver | None = None) -> torch.Tensor:  # fmt: skip
    """Steady concentrations ``(batch, n_species)`` of the network with signed weights ``w``.

    ``inputs`` are features ``(batch, n_inputs)``; differentiable in ``w`` by the IFT.
    """
    return _ImplicitSteadyState.apply(w, terms, inputs, solver)
