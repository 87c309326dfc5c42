"""Steady-state gradients by the implicit function theorem, for any network.

At a steady state ``f(y, w) = 0`` with non-singular Jacobian ``J = df/dy`` (dynamic
species), ``dy/dw = -J^{-1} df/dw``, so for a loss ``L(y)``

    dL/dw = -lambda^T df/dw,      J^T lambda = dL/dy,

one small linear solve per batch item, all items at once. ``df/dw`` of a signed term is the
term's monomial at its neuron (``[C] y`` for ``C + Y -> C + 2 Y`` / ``C + Y -> C``;
``+-[C]`` on the plus or minus part of a dual-rail pair), so the gradient is the same
whichever reaction currently realises the sign.

One network serves every step. The rate of a term is a *rate species* ``K`` (a catalyst
that no reaction changes) in a template network built once: each term's production and
degradation reactions both appear with rate 1, one catalysed by ``K+`` at concentration
``relu(w)``, the other by ``K-`` at ``relu(-w)``. Its mass-action ODE is, species for
species, that of the network :meth:`Terms.rebuild` writes for ``w`` (a reaction at rate 0
contributes nothing), so :func:`nncrn.simulate.steady_state` solves the same problem; but
the network, the simulator's prepared structures and the Jacobian's structure are built
once instead of every step. Weights are per-item initial concentrations.
"""

from __future__ import annotations

import numpy as np
import torch

from nncrn._errors import NetworkError
from nncrn.network import Reaction, ReactionNetwork, Role, Species, input_concentrations
from nncrn.simulate import Solver, steady_state
from nncrn.simulate._structure import MassActionStructure
from nncrn.train._terms import Terms

__all__ = ["ImplicitPlan", "implicit_state"]

_CHUNK = 2**22  # numbers per batch of dense Jacobians (32 MB)


def _rate_names(network: ReactionNetwork, n: int) -> tuple[list[str], list[str]]:
    """Names for the rate species, distinct from every species of ``network``."""
    taken = set(network.species_names)
    prefix = "K"
    while any(f"{prefix}p{i}" in taken or f"{prefix}m{i}" in taken for i in range(n)):
        prefix += "_"
    return [f"{prefix}p{i}" for i in range(n)], [f"{prefix}m{i}" for i in range(n)]


def _template(terms: Terms) -> tuple[ReactionNetwork, np.ndarray, np.ndarray]:
    """The network with rate species; columns of ``K+`` and ``K-`` of each term."""
    net = terms.network
    names = net.species_names
    kp, km = _rate_names(net, terms.n_terms)
    reactions = [net.reactions[j] for j in terms.fixed]
    for i in range(terms.n_terms):
        cats = dict(terms.cat_names[i])
        up, down = {**cats, kp[i]: 1}, {**cats, km[i]: 1}
        label = terms.labels[i]
        if terms.minus[i] >= 0:  # dual rail: C -> C + Yp at relu(w), C -> C + Yn at relu(-w)
            p, m = names[terms.target[i]], names[terms.minus[i]]
            reactions.append(Reaction(up, {**up, p: up.get(p, 0) + 1}, 1.0, label))
            reactions.append(Reaction(down, {**down, m: down.get(m, 0) + 1}, 1.0, label))
        else:  # C + Y -> C + 2 Y at relu(w), C + Y -> C at relu(-w)
            y = names[terms.target[i]]
            reactions.append(Reaction({**up, y: 1}, {**up, y: 2}, 1.0, label))
            reactions.append(Reaction({**down, y: 1}, down, 1.0, label))
    species = (*net.species, *(Species(s, Role.AUXILIARY) for s in kp + km))
    template = ReactionNetwork(species, tuple(reactions), net.readout, dict(net.metadata))
    n = net.n_species
    cols = np.arange(n, n + 2 * terms.n_terms)
    return template, cols[: terms.n_terms], cols[terms.n_terms :]


class ImplicitPlan:
    """Everything :func:`implicit_state` needs that does not change between steps."""

    def __init__(self, terms: Terms) -> None:
        self.terms = terms
        self.network, self.kp, self.km = _template(terms)
        self.structure = MassActionStructure.build(self.network)
        self.n_species = terms.network.n_species
        dyn = self.structure.dynamic
        self.dpos = np.full(self.network.n_species + 1, -1, dtype=np.int64)
        self.dpos[dyn] = np.arange(dyn.size)
        self.base = np.array([s.initial for s in self.network.species])
        self.input_cols = [self.network.index(s) for s in self.network.inputs]

    def initial(self, inputs: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``(batch, n_template_species)`` start: inputs, initial values, rates ``relu(+-w)``."""
        x = input_concentrations(self.terms.network, inputs)
        y0 = np.repeat(self.base[None, :], x.shape[0], axis=0)
        y0[:, self.input_cols] = x
        y0[:, self.kp] = np.maximum(w, 0.0)
        y0[:, self.km] = np.maximum(-w, 0.0)
        return y0

    def adjoint(self, y: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``lambda (batch, n_dynamic)`` with ``J(y_b)^T lambda_b = g_b`` for every row, batched."""
        nd = self.structure.n_dynamic
        lam = np.zeros((y.shape[0], nd))
        step = max(1, _CHUNK // max(nd * nd, 1))
        for start in range(0, y.shape[0], step):
            rows = slice(start, start + step)
            jac = torch.from_numpy(self.structure.batch_jacobians(y[rows]))
            rhs = torch.from_numpy(g[rows, self.structure.dynamic])[..., None]
            sol, info = torch.linalg.solve_ex(jac.transpose(-1, -2), rhs)
            bad = torch.nonzero(info != 0)
            if bad.numel() or not bool(torch.isfinite(sol).all()):
                b = start + (int(bad[0, 0]) if bad.numel() else 0)
                raise NetworkError(
                    f"the steady-state Jacobian is singular for batch item {b}; the "
                    "implicit gradient needs an isolated steady state. A network with a "
                    "conservation law (e.g. A + B -> 2 B keeps A + B constant) has a family of "
                    "steady states (so has a winner-take-all stage from nncrn.with_argmax: "
                    "train the network without it and add it afterwards); train such networks "
                    "with a closed-form scheme instead"
                )
            lam[rows] = sol[..., 0].numpy()
        return lam

    def weight_gradient(self, y: np.ndarray, lam: np.ndarray, w: np.ndarray) -> np.ndarray:
        """``-lambda^T df/dw`` summed over the batch (see the module docstring)."""
        terms = self.terms
        n = self.n_species
        y_ext = np.concatenate([y[:, :n], np.ones((y.shape[0], 1))], axis=1)
        mono = np.prod(y_ext[:, terms.cat_cols] ** terms.cat_pows, axis=-1)  # (batch, n_terms)
        single = terms.minus < 0
        dpos = self.dpos
        # single: df_target/dw = mono * y_target; dual rail: +mono on plus (w >= 0) or
        # -mono on minus (w < 0) (production |w| [C] = -w [C] there).
        out = np.where(w >= 0, dpos[terms.target], dpos[np.maximum(terms.minus, 0)])
        col = np.where(single, dpos[terms.target], out)
        factor = np.where(single, y[:, terms.target], np.where(w >= 0, 1.0, -1.0)[None, :])
        lam_ext = np.concatenate([lam, np.zeros((lam.shape[0], 1))], axis=1)
        return -(lam_ext[:, col] * mono * factor).sum(axis=0)


class _ImplicitSteadyState(torch.autograd.Function):
    @staticmethod
    def forward(ctx, w: torch.Tensor, plan: ImplicitPlan, inputs: np.ndarray,  # type: ignore[override]
                solver: Solver | None) -> torch.Tensor:  # fmt: skip
        wn = w.detach().cpu().numpy().astype(np.float64)
        ss = steady_state(plan.network, inputs, y0=plan.initial(inputs, wn), solver=solver)
        y = ss.concentrations
        ctx.saved = (plan, wn, y)
        return torch.as_tensor(y[:, : plan.n_species], dtype=w.dtype)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):  # type: ignore[override]
        plan, wn, y = ctx.saved
        g = np.zeros((y.shape[0], plan.network.n_species))
        g[:, : plan.n_species] = grad.detach().cpu().numpy()
        lam = plan.adjoint(y, g)
        grad_w = plan.weight_gradient(y, lam, wn)
        return torch.as_tensor(grad_w, dtype=grad.dtype), None, None, None


def implicit_state(w: torch.Tensor, plan: ImplicitPlan | Terms, inputs: np.ndarray,
                   solver: Solver | None = None) -> torch.Tensor:  # fmt: skip
    """Steady concentrations ``(batch, n_species)`` of the network with signed weights ``w``.

    ``inputs`` are features ``(batch, n_inputs)``; differentiable in ``w`` by the IFT.
    ``plan`` is an :class:`ImplicitPlan` (built once, reused every step) or the
    :class:`Terms` to build one from.
    """
    if isinstance(plan, Terms):
        plan = ImplicitPlan(plan)
    return _ImplicitSteadyState.apply(w, plan, inputs, solver)
