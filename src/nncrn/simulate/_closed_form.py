"""Closed-form steady state of a feed-forward network, derived from its reactions.

The oracle every solver is checked against. It reads the chemistry, not stored weights,
so a network whose rate constants were edited (``with_rates``, training) is solved as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import sparse

from nncrn._activations import positive_root
from nncrn._errors import NetworkError
from nncrn.network import ReactionNetwork, initial_state, require_network
from nncrn.simulate._massaction import rhs
from nncrn.simulate._results import SteadyState, report_convergence

__all__ = ["fixed_point"]

_USE_ODE = "use nncrn.simulate.steady_state (which integrates the ODE) for this network instead"


@dataclass(frozen=True)
class _Level:
    """Species solved together: their polynomials depend only on species solved earlier.

    The coefficients of ``y^0, y^1, y^2`` of the ``k``-th target sit in rows ``3k .. 3k+2``
    of ``const + linear @ state + (general terms)``. Terms with one catalyst to the first
    power (every weight of a compiled network) form the sparse ``linear`` map, so a layer
    costs one sparse product; other catalyst products are gathered term by term.
    """

    targets: np.ndarray  # (n_targets,) species columns
    const: np.ndarray  # (3 n_targets,) terms without catalyst
    linear: sparse.csr_array  # (3 n_targets, n_species) terms rate * [C]
    coeff: np.ndarray  # general terms: rate * net change of the target,
    slot: np.ndarray  # their row (3 * local target + power of the target),
    cat_term: np.ndarray  # and their catalyst factors: term index,
    cat_col: np.ndarray  # species column,
    cat_pow: np.ndarray  # and exponent


def _not_feed_forward(what: str) -> NetworkError:
    return NetworkError(
        "fixed_point solves feed-forward networks in which every reaction changes one species "
        "Y as C + m Y -> C + m' Y (m <= 2, catalysts C unchanged) and the catalysts form no "
        f"cycle; {what}. This network is not of that form: {_USE_ODE}"
    )


def _plan(network: ReactionNetwork) -> list[_Level]:
    """Group terms ``rate * (m' - m) * prod_C c^a * y^m`` by target, in topological order."""
    names = network.species_names
    terms: dict[int, list[tuple[float, int, dict[int, int]]]] = {}
    for i, r in enumerate(network.reactions):
        net = r.net()
        if not net:
            continue  # a reaction that changes nothing contributes nothing
        if len(net) > 1:
            raise _not_feed_forward(f"reaction {i} ({r.equation()}) changes {sorted(net)}")
        (y,) = net
        m, m_new = r.reactants.get(y, 0), r.products.get(y, 0)
        if m > 2 or (m == 2 and m_new > m):
            raise _not_feed_forward(
                f"reaction {i} ({r.equation()}) makes d[{y}]/dt grow like [{y}]^{m}"
            )
        cats = {network.index(s): a for s, a in r.reactants.items() if s != y}
        terms.setdefault(network.index(y), []).append((r.rate * (m_new - m), m, cats))
    for t, ts in terms.items():
        if not any(coef < 0 and m >= 1 for coef, m, _ in ts):
            raise _not_feed_forward(
                f"species {names[t]!r} is never degraded (no reaction consumes it), so it "
                "grows without bound or keeps its initial value"
            )
    deps = {
        t: {c for _, _, cats in ts for c in cats if c in terms and c != t}
        for t, ts in terms.items()
    }
    levels: list[_Level] = []
    done: set[int] = set()
    while len(done) < len(terms):
        ready = sorted(t for t in terms if t not in done and deps[t] <= done)
        if not ready:
            cycle = sorted(names[t] for t in terms if t not in done)[:8]
            raise _not_feed_forward(f"species {cycle} catalyse each other's production (a cycle)")
        const = np.zeros(3 * len(ready))
        lin_row, lin_col, lin_val = [], [], []
        coeff: list[float] = []
        slot, ct, cc, cp = [], [], [], []
        for local, t in enumerate(ready):
            for coef, m, cats in terms[t]:
                row = 3 * local + m
                if not cats:
                    const[row] += coef
                elif len(cats) == 1 and next(iter(cats.values())) == 1:
                    lin_row.append(row)
                    lin_col.append(next(iter(cats)))
                    lin_val.append(coef)
                else:
                    for col, a in cats.items():
                        ct.append(len(coeff))
                        cc.append(col)
                        cp.append(a)
                    coeff.append(coef)
                    slot.append(row)
        shape = (3 * len(ready), len(names))
        linear = sparse.csr_array((lin_val, (lin_row, lin_col)), shape=shape, dtype=np.float64)
        ints = [np.array(v, dtype=np.int64) for v in (slot, ct, cc, cp)]
        levels.append(
            _Level(np.array(ready), const, linear, np.array(coeff, dtype=np.float64), *ints)
        )
        done.update(ready)
    return levels


def _solve(a: np.ndarray, b: np.ndarray, c: np.ndarray, y_init: np.ndarray) -> np.ndarray:
    """Non-negative stable root of ``a + b y - c y^2`` (``a, c >= 0``), elementwise.

    The library's root finder (:func:`nncrn._activations.positive_root`, the quadratic's
    closed form without cancellation) on float64 arrays: ``c > 0``: the positive root;
    ``c = 0, b < 0``: ``a / -b``; ``a = 0``: 0 or ``b / c`` (the root mass action approaches
    from a positive start). ``a = b = c = 0``: every value is a steady state and the initial
    one is kept. Otherwise (production without degradation) ``inf``.
    """
    import torch  # here, not at the top: fixed_point must not make ``import nncrn`` load torch

    coefs = torch.from_numpy(np.stack([a, b, -c]))
    root = positive_root(coefs, unique=True)[0].numpy()
    return np.where((c == 0) & (a == 0) & (b == 0), y_init, root)


_CHUNK_ELEMENTS = 2**24


def _fixed_point_rows(levels: list, state: np.ndarray) -> np.ndarray:
    """Solve the levels in order for the rows of ``state (rows, n_species)`` (a copy)."""
    state = state.copy()
    batch = state.shape[0]
    for lv in levels:
        poly = lv.linear @ state.T  # (3 n_targets, batch)
        poly += lv.const[:, None]
        if lv.coeff.size:
            factors = np.broadcast_to(lv.coeff, (batch, lv.coeff.size)).copy()
            # numpy's stub types ufunc.at's indices as integer arrays only; a tuple with a
            # slice is a valid index at run time
            np.multiply.at(factors, (slice(None), lv.cat_term), state[:, lv.cat_col] ** lv.cat_pow)  # type: ignore[arg-type]
            np.add.at(poly, lv.slot, factors.T)
        a, b, c = poly[0::3].T, poly[1::3].T, -poly[2::3].T
        state[:, lv.targets] = _solve(
            np.maximum(a, 0.0), b, np.maximum(c, 0.0), state[:, lv.targets]
        )
    return state


def fixed_point(
    network: ReactionNetwork, inputs: object = None, *, y0: object = None, throw: bool = True
) -> SteadyState:
    """Closed-form steady state of a feed-forward network, for a batch of inputs.

    Every dynamic species ``Y`` must change only through reactions ``C + m Y -> C + m' Y``
    (``m <= 2``) whose catalysts ``C`` are unchanged by them and come earlier in a
    catalyst order without cycles. Then ``d[Y]/dt = a + b y - c y^2`` with ``a, b, c``
    fixed by the upstream concentrations, and ``Y`` is set to the root that mass action
    approaches from every positive start (``sigma_eps`` for a compiled neuron, ``p - n = z``
    for a dual-rail pair). Anything else raises :class:`~nncrn.NetworkError`.

    Parameters
    ----------
    inputs:
        ``(batch, n_inputs)`` features or a mapping by input name (see
        :func:`nncrn.network.input_concentrations`).
    y0:
        Initial concentrations; only used for species (not inputs) that no reaction changes,
        which keep them, and for the degenerate ``d[Y]/dt = 0``.
    throw:
        Raise :class:`~nncrn.ConvergenceError` if some item has no finite steady state
        (a species grows without bound); with ``False`` warn and flag it ``converged=False``.

    Returns
    -------
    SteadyState
        With ``time = inf`` (the limit the ODE approaches, not a time reached),
        ``n_steps = 0``, ``n_rhs = 1`` (the residual ``||f(y)||_inf`` check) and
        ``solver = "fixed_point"``. With ``eps = 0`` the result is the positive root,
        although a neuron started at exactly 0 stays there.
    """
    network = require_network(network, "fixed_point")
    levels = _plan(network)
    state = initial_state(network, inputs, y0)
    batch = state.shape[0]
    residual = np.empty(batch)
    # Rows per chunk: the residual check holds (rows, n_reactions) rates, so bound it to
    # ~2^24 numbers (128 MB) — 10,000 inputs of an 80k-reaction network would need 6 GB.
    size = max(1, _CHUNK_ELEMENTS // max(network.n_reactions, 1))
    for start in range(0, batch, size):
        rows = slice(start, min(start + size, batch))
        state[rows] = _fixed_point_rows(levels, state[rows])
        with np.errstate(invalid="ignore", over="ignore"):
            residual[rows] = np.max(
                np.abs(rhs(network.stoichiometry, state[rows])), axis=1, initial=0.0
            )
    converged = np.isfinite(state).all(axis=1)
    report_convergence(
        converged,
        throw=throw,
        what="have a finite steady state",
        fix="a species' production outgrows its degradation there; check the rate constants",
    )
    return SteadyState(
        species=network.species_names,
        output_names=network.outputs,
        concentrations=state,
        outputs=network.read_outputs(state),
        converged=converged,
        residual=residual,
        time=np.full(batch, np.inf),
        n_steps=np.zeros(batch, dtype=np.int64),
        n_rhs=1,
        solver="fixed_point",
    )
