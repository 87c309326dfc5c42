"""Stochastic solvers: settings live in fields and show in the ``repr``.

All three simulate the chemical master equation of :mod:`nncrn.simulate._ssa._model`;
:class:`DirectMethod` and :class:`NextReactionMethod` exactly, :class:`TauLeaping`
approximately with a controlled error.  Pick by network size and molecule counts:

* small networks (tens of reactions), any volume: :class:`DirectMethod`;
* large networks (hundreds of reactions or more): :class:`NextReactionMethod`, whose
  cost per event grows with the number of dependent reactions, not the network size;
* large volumes (thousands of molecules per species): :class:`TauLeaping`, whose cost
  per unit time is nearly independent of the volume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nncrn._errors import InputError
from nncrn.network._numbers import fmt_number
from nncrn.simulate._solver import check_setting_int, check_setting_real
from nncrn.simulate._ssa._model import SSAModel

__all__ = ["DirectMethod", "NextReactionMethod", "SSASolver", "TauLeaping", "default_solver"]


class SSASolver:
    """Base class of the stochastic solvers (use one of the subclasses)."""

    exact: bool = True

    def _extra(self, model: SSAModel) -> tuple:
        return ()

    def _kernel(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def _rng(self, seq: np.random.SeedSequence) -> object:
        """The kernel's random source: the exact kernels' own inline generator state."""
        from nncrn.simulate._ssa._random import seed_state

        return seed_state(seq)

    def simulate(self, model: SSAModel, seq: np.random.SeedSequence, x: np.ndarray,
                 plan) -> tuple:  # fmt: skip
        """Run one trajectory from counts ``x`` (updated in place) with the random stream of
        ``seq``; see ``_kernels``.

        Rows of ``out`` for sample times the run never reached (it stopped early) hold -1.
        """
        out = np.full((plan.sample_t.size, model.n_species), -1, dtype=np.int64)
        acc = np.zeros((plan.bounds.size - 1, model.n_species))
        status, n_events, n_steps = self._kernel()(
            self._rng(seq), x, plan.t_end, plan.sample_t, plan.bounds, model.scaled,
            model.react_ptr, model.react_sp, model.react_nu,
            model.net_ptr, model.net_sp, model.net_nu,
            model.dep_ptr, model.dep_idx, plan.max_steps, plan.max_count, out, acc,
            *self._extra(model),
        )  # fmt: skip
        return out, acc, int(status), int(n_events), int(n_steps)


@dataclass(frozen=True)
class DirectMethod(SSASolver):
    """Gillespie's (1977) direct method: exact; O(n_reactions) per event.

    The fastest exact choice for small networks such as compiled classifiers with a few
    dozen reactions, where a linear search beats a priority queue.
    """

    def _kernel(self):
        return _kernels().direct_kernel


@dataclass(frozen=True)
class NextReactionMethod(SSASolver):
    """Gibson & Bruck's (2000) next reaction method: exact; O(deps * log n_reactions) per event.

    Uses the reaction dependency graph and an indexed priority queue of firing times,
    so an event only touches the reactions whose propensity it changes: the fast exact
    method for large, sparsely coupled networks.
    """

    def _kernel(self):
        return _kernels().next_reaction_kernel


@dataclass(frozen=True)
class TauLeaping(SSASolver):
    """Cao, Gillespie & Petzold (2006) tau-leaping: approximate, cost nearly independent of volume.

    Error control: the leap ``tau`` is the largest for which, for every reactant species
    ``i``, the expected change ``|mu_i| tau`` and the standard deviation
    ``sqrt(sigma2_i tau)`` stay below ``max(epsilon * n_i / g_i, 1)`` molecules, where
    ``g_i`` bounds the relative change of a propensity per relative change of ``n_i``
    (``g = order / nu * sum_{k < nu} n / (n - k)``, CGP eq. 27 generalised to any order).
    So every propensity changes by about a fraction ``epsilon`` or less during a leap.

    Parameters
    ----------
    epsilon:
        Relative propensity change allowed per leap. 0.03 is CGP's recommendation: bias
        in means and variances of a few percent of the fluctuation size, at ~1/epsilon
        leaps per relaxation time.
    n_critical:
        A reaction that could exhaust a reactant within this many firings is *critical*
        and fires at most once per leap, by an exact clock (CGP's default 10).
    ssa_factor, n_ssa:
        When the leap would be shorter than ``ssa_factor / a0`` (``a0`` the total
        propensity: leaping would save less than that many events), take ``n_ssa`` exact
        direct-method steps instead (CGP's defaults 10 and 100).
    """

    epsilon: float = 0.03
    n_critical: int = 10
    ssa_factor: float = 10.0
    n_ssa: int = 100

    exact = False

    def __post_init__(self) -> None:
        hint = " and < 1; 0.03 is the usual choice, smaller is more accurate and slower"
        eps = check_setting_real("TauLeaping", "epsilon", self.epsilon, hint=hint)
        if not eps < 1:
            raise InputError(
                f"TauLeaping(epsilon={fmt_number(self.epsilon)}): epsilon must be > 0{hint}"
            )
        object.__setattr__(self, "epsilon", eps)
        for name in ("n_critical", "n_ssa"):
            object.__setattr__(self, name, check_setting_int("TauLeaping", name, getattr(self, name)))
        object.__setattr__(
            self,
            "ssa_factor",
            check_setting_real("TauLeaping", "ssa_factor", self.ssa_factor, inclusive=True),
        )

    def _kernel(self):
        return _kernels().tau_leap_kernel

    def _rng(self, seq: np.random.SeedSequence) -> object:
        return np.random.Generator(np.random.PCG64(seq))  # it draws Poisson variates

    def _extra(self, model: SSAModel) -> tuple:
        return (
            model.order.astype(np.float64), float(self.epsilon), float(self.n_critical),
            float(self.ssa_factor), int(self.n_ssa),
        )  # fmt: skip


# The default solver leaps when a leap would cover at least this many events, and more
# than a leap costs in exact events (a leap touches every reaction, an exact event its
# dependents): CGP's own threshold for leaping instead of exact steps is 10 events.
MIN_EVENTS_PER_LEAP = 10.0
def _events_per_leap(model: SSAModel, counts: np.ndarray, eps: float) -> np.ndarray:
    """``(batch,)`` events a tau-leap of Cao, Gillespie & Petzold's size would cover at
    ``counts`` (every reaction taken as non-critical): ``a0 * tau``."""
    a = model.propensities(counts)
    n = counts.astype(np.float64)
    rows = np.repeat(np.arange(model.scaled.size), np.diff(model.react_ptr))
    g = np.zeros_like(n)
    for p in range(rows.size):
        i, nu = model.react_sp[p], int(model.react_nu[p])
        s = sum(np.where(n[:, i] > k, n[:, i] / np.maximum(n[:, i] - k, 1), 1.0)
                for k in range(nu))  # fmt: skip
        g[:, i] = np.maximum(g[:, i], model.order[rows[p]] / nu * s)
    net_rows = np.repeat(np.arange(model.scaled.size), np.diff(model.net_ptr))
    change = np.zeros((model.scaled.size, n.shape[1]))
    np.add.at(change, (net_rows, model.net_sp), model.net_nu)
    mu, sig = a @ change, a @ change**2
    bound = np.maximum(eps * n / np.where(g > 0, g, 1), 1.0)
    with np.errstate(divide="ignore"):
        tau = np.minimum(bound / np.abs(mu), bound**2 / sig)
    tau = np.where(g > 0, tau, np.inf).min(axis=1)
    return a.sum(axis=1) * tau


def default_solver(model: SSAModel, counts: np.ndarray) -> SSASolver:
    """:class:`TauLeaping` when a leap at the steady-state counts would cover more events
    than it costs (the typical input), :class:`NextReactionMethod` otherwise."""
    leap = TauLeaping()
    n_r = model.scaled.size
    deps = max(1.0, float(np.diff(model.dep_ptr).mean())) if n_r else 1.0
    events = float(np.median(_events_per_leap(model, counts, leap.epsilon)))
    return leap if events >= max(MIN_EVENTS_PER_LEAP, n_r / deps) else NextReactionMethod()


def _kernels():
    """The numba kernels, imported on first use: importing numba and llvmlite costs
    ~0.2 s, which ``import nncrn`` should not pay for users who never run an SSA."""
    from nncrn.simulate._ssa import _kernels as kernels

    return kernels
