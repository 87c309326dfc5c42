"""Batched, stiffness-aware deterministic solver on torch (CPU or CUDA)."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np

from nncrn._errors import InputError
from nncrn.network import ReactionNetwork, require_network
from nncrn.simulate._completion import completion_reactants
from nncrn.simulate._results import SteadyState, Trajectory
from nncrn.simulate._solver import (
    Solver,
    check_setting_int,
    check_setting_real,
    make_steady_state,
    make_trajectory,
)
from nncrn.simulate._structure import MassActionStructure

__all__ = ["TorchODE"]

# Working-set budget per chunk, in float elements (~512 MB in float64): a chunk holds the
# constant monomials, monomials, Jacobian contributions and Rosenbrock stages (batch x each),
# and on the dense path the Jacobians and their LU factors (batch x n_dynamic^2).
_CHUNK_BUDGET = 2**26
_LINEAR_SOLVERS = ("auto", "dense")
_STEADY_METHODS = ("auto", "newton")
_METHODS = ("rodas4", "rodas3")
_F32_RTOL = 1e-6  # ~8 float32 epsilons: the tightest relative tolerance float32 can meet
# Structures derived from recently used networks (the reduced structure, and kernels per
# device and dtype), keyed by id(network) and checked against a weak reference: a network is
# immutable, so they stay valid while it lives.
_PREPARED: OrderedDict[int, tuple[weakref.ref, dict]] = OrderedDict()
_PREPARED_MAX = 8
_PREPARED_LOCK = threading.Lock()


@dataclass(frozen=True)
class TorchODE(Solver):
    """Batched solver: Rodas4 for trajectories; level sweep or pseudo-transient Newton for steady states.

    Every batch item keeps its own step size, so one stiff input does not slow the others,
    and only the dynamic species are integrated (inputs and other pure catalysts are
    constant). Trajectories come from the L-stable Rosenbrock method Rodas4 (or Rodas3, see
    ``method``) with dense output (see :mod:`nncrn.simulate._rosenbrock`), using the
    analytic Jacobian assembled from the sparse stoichiometry.

    Steady states: when every reaction runs to completion (non-competitive and acyclic,
    e.g. dual-rail ReLU networks; see :mod:`nncrn.simulate._completion`), the one state
    with every reaction exhausted is the answer, and the reactions are fired to exhaustion
    group by group (see :mod:`nncrn.simulate._completion_state`), exact where an integrator
    or Newton follows the ``1 / t`` tail of an exact tie; an item is accepted only if the
    full right-hand side then meets the criterion and every reaction is exhausted. Else,
    when the Jacobian graph has no cycle (see below), each species' rate
    law, with upstream species at their steady state, is a polynomial in that species
    alone, and one sweep over the levels solves them (see :mod:`nncrn.simulate._sweep`): on
    a compiled network this costs about a forward pass. The sweep answers an item only
    where every species' polynomial has a positive constant term and exactly one sign
    change (Descartes: a unique positive root, reached from every non-negative start), and
    only if the full right-hand side then meets the steady-state criterion. Other items
    (and every item of a network with cycles, or with ``steady_method="newton"``) get
    Newton's method with pseudo-transient continuation from their initial state (see
    :mod:`nncrn.simulate._ptc`), which follows the trajectory while its pseudo-time step
    is small and then takes Newton steps. Where the network may have several stable
    states (a Jacobian graph with cycles, or conservation laws), the large pseudo-time
    steps are error-controlled along the trajectory, so the iteration stays in the basin
    the chemistry follows from ``y0`` (this costs steps: about 1.7x the time on a random
    184-species network, about 4x with a chemical argmax stage and 2.5x with chemical
    sigmoids, measured on a shared 2-core machine). No
    finite tolerance decides a trajectory that grazes the boundary between two basins;
    where it matters which attractor such an input reaches, check with
    :func:`~nncrn.simulate.integrate` (or :class:`ScipyODE`).
    Swept items report ``n_steps = 0`` and ``time = inf``; :meth:`steady_path` tells which
    path a network takes. Called with ``y0=None`` on a network whose coefficients come
    from the inputs alone (a compiled one: ``W x + b``), the sweep reads the inputs
    directly and never forms the initial state (:meth:`steady_state_from_inputs`).

    The structures derived from a network are kept for the 8 most recently used networks,
    so repeated calls on one network pay for them once (:meth:`prepare` builds them ahead).

    Linear algebra: when the Jacobian's off-diagonal sparsity graph has no cycle (every
    compiled feed-forward network: a neuron depends only on itself and upstream layers),
    ``I/h - J`` is triangular and each solve is a level-by-level forward substitution whose
    cost is a few sparse products, about that of one right-hand side. Otherwise (feedback,
    conservation laws such as ``A <-> B``, most random networks) the solver falls back to
    dense batched LU: exact, but ``O(n^3)`` time and ``O(n^2)`` memory per item in the
    number ``n`` of dynamic species, so large such networks are much slower;
    :meth:`linear_algebra` tells which path a network takes.

    Parameters
    ----------
    device:
        torch device (``"cpu"``, ``"cuda"``, ``"cuda:1"``, a ``torch.device``) or None for
        CUDA when available, else CPU.
    dtype:
        ``"float64"`` (default; steady states are verified to residuals of ~1e-12, which
        float32 cannot represent) or ``"float32"``, or the corresponding ``torch.dtype``.
        float32 resolves ~1e-7 relative, so it needs relative tolerances of at least
        ``1e-6``, both here and in ``steady_state(rtol=...)``; it raises otherwise.
    rtol, atol:
        Local error tolerances of :meth:`integrate` (relative; absolute in concentration
        units). None (default) means ``1e-8`` / ``1e-12`` in float64, so that trajectories
        are accurate to ~1e-6 relative after error accumulation, and ``1e-6`` / ``1e-9`` in
        float32.
    method:
        Time integrator of :meth:`integrate`: ``"rodas4"`` (default; order 4, five new
        right-hand sides per step) or ``"rodas3"`` (order 3, two per step). On the compiled
        64-100-10 digits network at rtol 1e-6, Rodas3 needed 3.3x the steps and 1.3-1.6x
        the time of Rodas4 (``benchmarks/ode``): the steps are set by the transient's
        curvature, which favours the higher order.
    max_steps:
        Attempted steps per item and call (time steps for :meth:`integrate`, Newton steps
        for :meth:`steady_state`).
    chunk_size:
        Batch items processed together; None picks the largest chunk whose working set fits
        in ~512 MB (float64).
    linear_solver:
        ``"auto"`` (default: forward substitution when the Jacobian is triangular, else dense
        LU) or ``"dense"`` (always dense LU; for cross-checks).
    steady_method:
        ``"auto"`` (default: firing to completion or the level sweep where either is
        certified, else Newton) or
        ``"newton"`` (always pseudo-transient Newton; for cross-checks).
    num_threads:
        CPU threads torch may use during a call (restored afterwards), or None (default) to
        keep torch's setting. The kernels are many small operations, each ending in a thread
        barrier; on a CPU shared with other busy processes, ``num_threads=1`` can be an
        order of magnitude faster than torch's default of one thread per core.
    check_stability:
        True (default): an item Newton moved counts as converged only if the Jacobian at
        its final state has every eigenvalue in the left half-plane (conservation laws
        aside), so saddles, centres and continua of steady states are reported, not
        returned as answers. Free on triangular networks (the eigenvalues are the
        diagonal); on the dense path it is one batched eigenvalue computation, about a
        third more time on a 184-species random network. False skips it there.
    """

    device: Any = None
    dtype: Any = "float64"
    rtol: float | None = None
    atol: float | None = None
    method: str = "rodas4"
    max_steps: int = 10_000
    chunk_size: int | None = None
    linear_solver: str = "auto"
    steady_method: str = "auto"
    num_threads: int | None = None
    check_stability: bool = True

    def __post_init__(self) -> None:
        for name in ("rtol", "atol"):
            if getattr(self, name) is not None:
                value = check_setting_real(
                    "TorchODE", name, getattr(self, name),
                    hint=", or None for the default of the dtype",
                )  # fmt: skip
                object.__setattr__(self, name, value)
        steps = check_setting_int("TorchODE", "max_steps", self.max_steps)
        object.__setattr__(self, "max_steps", steps)
        for name, hint in (
            ("chunk_size", ", or None to choose automatically"),
            ("num_threads", ", or None to keep torch's setting"),
        ):
            if getattr(self, name) is not None:
                value = check_setting_int("TorchODE", name, getattr(self, name), hint=hint)
                object.__setattr__(self, name, value)
        if self.linear_solver not in _LINEAR_SOLVERS:
            raise InputError(
                f"TorchODE(linear_solver={self.linear_solver!r}) is not supported; choose one "
                f"of {list(_LINEAR_SOLVERS)}"
            )
        if self.method not in _METHODS:
            raise InputError(
                f"TorchODE(method={self.method!r}) is not supported; choose one of "
                f"{list(_METHODS)} (Rosenbrock methods for stiff networks)"
            )
        if self.rtol is not None:
            self._check_precision(self.rtol, "TorchODE(")
        if not isinstance(self.check_stability, bool | np.bool_):
            raise InputError(
                f"TorchODE(check_stability={self.check_stability!r}) must be True or False"
            )
        object.__setattr__(self, "check_stability", bool(self.check_stability))
        if self.steady_method not in _STEADY_METHODS:
            raise InputError(
                f"TorchODE(steady_method={self.steady_method!r}) is not supported; choose one "
                f"of {list(_STEADY_METHODS)}"
            )
        if str(self.dtype).removeprefix("torch.") not in ("float64", "float32"):
            raise InputError(
                f"TorchODE(dtype={self.dtype!r}) is not supported; use 'float64' (default) or "
                "'float32'"
            )

    @property
    def _single(self) -> bool:
        return str(self.dtype).removeprefix("torch.") == "float32"

    @property
    def _tolerances(self) -> tuple[float, float]:
        """``(rtol, atol)`` of :meth:`integrate`: the fields, or the defaults of the dtype."""
        rtol = self.rtol if self.rtol is not None else (_F32_RTOL if self._single else 1e-8)
        atol = self.atol if self.atol is not None else (1e-9 if self._single else 1e-12)
        return rtol, atol

    def _check_precision(self, rtol: float, where: str) -> None:
        if self._single and rtol < _F32_RTOL:
            raise InputError(
                f"{where}rtol={rtol!r}) is below what TorchODE(dtype='float32') resolves "
                f"(~1e-7 relative); pass rtol >= {_F32_RTOL:g} (e.g. rtol=1e-6, atol=1e-9) or "
                "use dtype='float64'"
            )

    @property
    def fix_hint(self) -> str:
        return (
            "increase TorchODE(max_steps=...), or loosen rtol where rate constants span many "
            "orders of magnitude (float64 roundoff of the fast modes limits it). A steady "
            "state is also refused when the state reached is not a stable steady state: "
            "unbounded growth, a saddle or centre (oscillation), or one of a continuum of "
            "steady states whose position depends on the transient; integrate() such items"
        )

    # ------------------------------------------------------------------ setup
    def prepare(self, network: ReactionNetwork) -> None:
        """Build (and keep) the structures this solver derives from ``network``.

        Optional: the first solve does it otherwise. Useful to time the solve alone.
        """
        self._setup(require_network(network, "TorchODE.prepare"))

    def _device(self, torch):
        """The torch device to use, or an InputError naming the ones that exist here."""
        if self.device is None:
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        try:
            device = torch.device(self.device)
        except (RuntimeError, TypeError) as exc:
            raise InputError(
                f"TorchODE(device={self.device!r}) is not a torch device; use 'cpu', 'cuda', "
                "'cuda:N' or None (CUDA when available, else CPU)"
            ) from exc
        if device.type == "cuda" and not torch.cuda.is_available():
            raise InputError(
                f"TorchODE(device={self.device!r}): no CUDA device is available here "
                "(torch.cuda.is_available() is False); use device='cpu', or None to pick CUDA "
                "only when present"
            )
        if device.type == "cuda" and (device.index or 0) >= torch.cuda.device_count():
            raise InputError(
                f"TorchODE(device={self.device!r}): this machine has "
                f"{torch.cuda.device_count()} CUDA device(s); use 'cuda:0' .. "
                f"'cuda:{torch.cuda.device_count() - 1}'"
            )
        return device

    def _setup(self, network: ReactionNetwork):
        import torch

        from nncrn.simulate._completion_state import CompletionPlan
        from nncrn.simulate._conservation import conservation_basis
        from nncrn.simulate._sweep import LevelSweep
        from nncrn.simulate._torch_kernels import TorchKernels

        device = self._device(torch)
        dtype = getattr(torch, str(self.dtype).removeprefix("torch."))
        entry = _prepared(network)
        key = (str(device), str(dtype))
        if key not in entry:
            s = _structure(network)
            kernels = TorchKernels(s, device, dtype)
            kernels.sweep = LevelSweep(s, kernels) if s.levels is not None else None
            if "laws" not in entry:  # same species order on every device and dtype
                entry["laws"] = conservation_basis(
                    network.stoichiometry, kernels.dynamic.cpu().numpy()
                )
            if "completion" not in entry:
                entry["completion"] = completion_reactants(network.stoichiometry)
            done = entry["completion"]
            kernels.completion = (
                None if done is None else torch.tensor(done, dtype=torch.long, device=device)
            )
            kernels.completion_plan = (
                None if done is None
                else CompletionPlan.build(network.stoichiometry, device, dtype)
            )  # fmt: skip
            kernels.attach_inputs(
                np.array([network.index(n) for n in network.inputs], dtype=np.int64)
            )
            laws = entry["laws"]
            kernels.conservation = (
                None if laws is None else torch.tensor(laws, dtype=dtype, device=device)
            )
            entry[key] = kernels
        return torch, entry[key]

    def steady_path(self, network: ReactionNetwork) -> str:
        """``"completion"``, ``"sweep"`` or ``"newton"``: how this solver computes steady states.

        ``"completion"``: every reaction runs to completion (e.g. a dual-rail ReLU network),
        so the reactions are fired group by group to exhaustion (see
        :mod:`nncrn.simulate._completion_state`; items that fail the check go to Newton).

        ``"sweep"``: the Jacobian graph has no cycle, so items are solved level by level
        (each item whose polynomials are not certified still goes to Newton, and shows
        ``n_steps > 0``). ``"newton"``: every item gets pseudo-transient Newton.
        """
        network = require_network(network, "TorchODE.steady_path")
        if self.steady_method == "newton":
            return "newton"
        entry = _prepared(network)
        if "completion" not in entry:
            entry["completion"] = completion_reactants(network.stoichiometry)
        if entry["completion"] is not None:
            return "completion"
        return "sweep" if _structure(network).levels is not None else "newton"

    def linear_algebra(self, network: ReactionNetwork) -> str:
        """``"triangular"`` or ``"dense"``: how this solver factorises ``I/h - J`` on ``network``."""
        network = require_network(network, "TorchODE.linear_algebra")
        if self.linear_solver == "dense":
            return "dense"
        return "triangular" if _structure(network).levels is not None else "dense"

    @contextlib.contextmanager
    def _threads(self, torch):
        if self.num_threads is None:
            yield
            return
        before = torch.get_num_threads()
        torch.set_num_threads(int(self.num_threads))
        try:
            yield
        finally:
            torch.set_num_threads(before)

    @property
    def _dense(self) -> bool:
        return self.linear_solver == "dense"

    def _chunks(self, k: Any, batch: int) -> list[slice]:
        if self.chunk_size is not None:
            size = int(self.chunk_size)
        else:
            per_item = (
                2 * k.cmono.shape[0]
                + 2 * k.n_item
                + 3 * k.n_monomials
                + 2 * k.all_entry.shape[0]
                + 16 * (k.n_species + 1)
            )
            if self._dense or not k.triangular:
                per_item += 3 * k.n_dynamic**2
            size = max(1, _CHUNK_BUDGET // max(per_item, 1))
        return [slice(i, min(i + size, batch)) for i in range(0, batch, size)]

    # ------------------------------------------------------------------ solver API
    def steady_state(
        self, network: ReactionNetwork, y0: np.ndarray, atol: float, rtol: float
    ) -> SteadyState:
        self._check_precision(rtol, "steady_state(")
        torch, k = self._setup(network)
        y0 = np.asarray(y0, dtype=np.float64)
        y = y0.copy()
        conv = np.zeros(len(y0), dtype=bool)
        res, time = np.zeros(len(y0)), np.zeros(len(y0))
        steps = np.zeros(len(y0), dtype=np.int64)
        n_rhs = 0
        dyn = k.dynamic.cpu().numpy()
        with self._threads(torch):
            for sl in self._chunks(k, len(y0)):
                yf = torch.as_tensor(y0[sl], dtype=k.dtype, device=k.device)
                o = self._steady_chunk(k, yf, atol, rtol)
                y[sl, dyn] = o.y.cpu().double().numpy()
                conv[sl] = o.converged.cpu().numpy()
                res[sl] = o.residual.cpu().double().numpy()
                time[sl] = o.time.cpu().double().numpy()
                steps[sl] = o.n_steps.cpu().numpy()
                n_rhs += o.n_rhs
        conv &= _keeps_absent_at_zero(network, y0, y[:, None, :], atol, rtol)
        return make_steady_state(
            network, y, converged=conv, residual=res, time=time, n_steps=steps,
            n_rhs=n_rhs, solver=self, atol=atol, rtol=rtol,
        )  # fmt: skip

    def _newton(self, k: Any, atol: float, rtol: float):
        from nncrn.simulate._ptc import ptc_steady_state

        def newton(y_full):
            return ptc_steady_state(
                k, y_full, atol=atol, rtol=rtol, max_steps=int(self.max_steps),
                dense=self._dense, check_stability=bool(self.check_stability),
            )  # fmt: skip

        return newton

    def _steady_chunk(self, k: Any, yf: Any, atol: float, rtol: float):
        """Sweep the certified items of ``yf (batch, n_species)``, Newton for the rest."""
        from nncrn.simulate._completion_state import completion_steady_state
        from nncrn.simulate._sweep import sweep_steady_state

        newton = self._newton(k, atol, rtol)
        if self.steady_method == "newton":
            return newton(yf)
        if k.completion_plan is not None:
            return completion_steady_state(
                k, k.completion_plan, yf, atol=atol, rtol=rtol, fallback=newton
            )
        if k.sweep is None:
            return newton(yf)
        return sweep_steady_state(
            k, k.coefficients_ext(yf), atol=atol, rtol=rtol, start=lambda rows: yf[rows],
            fallback=newton,
        )  # fmt: skip

    def _direct(self, network: ReactionNetwork) -> bool:
        """Whether :meth:`steady_state_from_inputs` takes its direct path on ``network``."""
        _, k = self._setup(network)
        return (self.steady_method == "auto" and k.completion_plan is None
                and k.sweep is not None and k.input_P is not None)  # fmt: skip

    def steady_state_from_inputs(
        self, network: ReactionNetwork, x: np.ndarray, atol: float, rtol: float
    ) -> SteadyState:
        """:meth:`steady_state` from every species' ``initial``, inputs at ``x (batch, n_inputs)``.

        ``x``: validated input concentrations (:func:`nncrn.network.input_concentrations`),
        only read. Equal to ``steady_state(network, initial_state(network, x), ...)``; on a
        network the level sweep solves from its input-dependent coefficients alone (e.g. a
        compiled one: ``G = W x + b``) the initial state is never formed: the coefficients
        are one product with ``x``, the answer is written once into the result, and only the
        items the sweep does not answer get their initial state (for Newton).
        """
        if not self._direct(network):
            return self.steady_state(network, _full_states(network, x), atol, rtol)
        self._check_precision(rtol, "steady_state(")
        torch, k = self._setup(network)
        from nncrn.simulate._sweep import sweep_steady_state

        b = x.shape[0]
        default = np.array([s.initial for s in network.species])
        inputs = np.array([network.index(n) for n in network.inputs], dtype=np.int64)
        dyn = k.dynamic.cpu().numpy()
        y = np.empty((b, network.n_species))  # every column is written once
        others = np.setdiff1d(np.arange(network.n_species), np.concatenate([inputs, dyn]))
        _set_columns(y, others, default[others])
        _set_columns(y, inputs, x)
        conv = np.zeros(b, dtype=bool)
        res, time = np.zeros(b), np.zeros(b)
        steps = np.zeros(b, dtype=np.int64)
        n_rhs = 0
        default_t = torch.as_tensor(default, dtype=k.dtype, device=k.device)
        inputs_t = torch.as_tensor(inputs, device=k.device)
        newton = self._newton(k, atol, rtol)
        with self._threads(torch):
            for sl in self._chunks(k, b):
                # read in place where torch can (a read-only array is copied: torch warns)
                part = x[sl] if x.flags.writeable else x[sl].copy()
                xt = torch.as_tensor(part, dtype=k.dtype, device=k.device)

                def start(rows, xt=xt):
                    full = default_t.repeat(rows.numel(), 1)
                    full[:, inputs_t] = xt[rows]
                    return full

                o = sweep_steady_state(
                    k, k.input_coefficients_ext(xt), atol=atol, rtol=rtol, start=start,
                    fallback=newton,
                )  # fmt: skip
                # make_steady_state's physical(): inputs and the other constant species
                # were validated at the boundary, so only the dynamic columns can fail it
                floor = atol + rtol * o.y.abs()
                fine = torch.isfinite(o.y).all(1) & ~(o.y < -floor).any(1)
                _set_columns(y[sl], dyn, o.y.cpu().double().numpy())
                conv[sl] = (o.converged & fine).cpu().numpy()
                res[sl] = o.residual.cpu().double().numpy()
                time[sl] = o.time.cpu().double().numpy()
                steps[sl] = o.n_steps.cpu().numpy()
                n_rhs += o.n_rhs
        if _may_leave_zero(network, default, inputs, x):
            conv &= _keeps_absent_at_zero(network, _full_states(network, x), y[:, None, :],
                                          atol, rtol)  # fmt: skip
        return SteadyState(
            species=network.species_names, output_names=network.outputs, concentrations=y,
            outputs=network.read_outputs(y), converged=conv, residual=res, time=time,
            n_steps=steps, n_rhs=int(n_rhs), solver=repr(self),
        )  # fmt: skip

    def integrate(self, network: ReactionNetwork, y0: np.ndarray, t_eval: np.ndarray) -> Trajectory:
        from nncrn.simulate._rosenbrock import rosenbrock_integrate

        torch, k = self._setup(network)
        rtol, atol = self._tolerances
        y0 = np.asarray(y0, dtype=np.float64)
        t = np.asarray(t_eval, dtype=np.float64)
        out = np.repeat(y0[:, None, :], t.size, axis=1)
        conv = np.zeros(len(y0), dtype=bool)
        steps = np.zeros(len(y0), dtype=np.int64)
        n_rhs = 0
        dyn = k.dynamic.cpu().numpy()
        t_dev = torch.as_tensor(t, dtype=k.dtype, device=k.device)
        with self._threads(torch):
            for sl in self._chunks(k, len(y0)):
                yf = torch.as_tensor(y0[sl], dtype=k.dtype, device=k.device)
                o = rosenbrock_integrate(
                    k, yf, t_dev, rtol=rtol, atol=atol, max_steps=int(self.max_steps),
                    dense=self._dense, method=self.method,
                )  # fmt: skip
                yd = o.y.cpu().double().numpy()
                out[sl][:, :, dyn] = yd
                # unreached times (NaN): the whole state is unknown there, constants too
                out[sl][np.isnan(yd).any(-1)] = np.nan
                conv[sl] = o.converged.cpu().numpy()
                steps[sl] = o.n_steps.cpu().numpy()
                n_rhs += o.n_rhs
        conv &= _keeps_absent_at_zero(network, y0, out, atol, rtol)
        return make_trajectory(
            network, t, out, converged=conv, n_steps=steps, n_rhs=n_rhs, solver=self,
            atol=atol, rtol=rtol,
        )  # fmt: skip


def _full_states(network: ReactionNetwork, x: np.ndarray) -> np.ndarray:
    """``(batch, n_species)``: every species' ``initial``, the inputs at ``x`` (as
    :func:`nncrn.network.initial_state` with ``y0=None``; ``x`` already validated)."""
    state = np.tile(np.array([s.initial for s in network.species]), (len(x), 1))
    state[:, [network.index(n) for n in network.inputs]] = x
    return state


def _set_columns(y: np.ndarray, cols: np.ndarray, values: np.ndarray) -> None:
    """``y[:, cols] = values``, as a slice assignment when ``cols`` is a range."""
    if cols.size and (np.diff(cols) == 1).all():
        y[:, cols[0] : cols[-1] + 1] = values
    elif cols.size:
        y[:, cols] = values


def _may_leave_zero(network: ReactionNetwork, default: np.ndarray, inputs: np.ndarray,
                    x: np.ndarray) -> bool:  # fmt: skip
    """Whether :func:`_keeps_absent_at_zero` can refuse an item of the batch ``x`` (inputs
    at ``x``, other species at ``default``): its quick exit, from the common support alone."""
    from nncrn.simulate._settled import absent

    entry = _prepared(network)
    if "produced_from_constants" not in entry:
        # What a support can produce only grows with it: if the species present in every
        # state (the non-zero defaults, inputs left out) already produce every dynamic
        # species, no batch can leave one at 0 (a compiled network: each neuron has inflow)
        present = (default > 0) & ~np.isin(np.arange(default.size), inputs)
        dead = absent(network.stoichiometry, present.astype(np.float64))
        entry["produced_from_constants"] = not (dead & network.stoichiometry.dynamic).any()
    if entry["produced_from_constants"]:
        return False
    common = default > 0
    if inputs.size:
        common[inputs] = x.min(axis=0) > 0
    dead = absent(network.stoichiometry, common.astype(np.float64))
    return bool((dead & network.stoichiometry.dynamic).any())


def _keeps_absent_at_zero(network: ReactionNetwork, y0: np.ndarray, states: np.ndarray,
                          atol: float, rtol: float) -> np.ndarray:  # fmt: skip
    """``(batch,)`` False where a species no reaction sequence can produce from ``y0`` left 0.

    Such a species stays at exactly 0 in the chemistry (e.g. an autocatalytic ``S -> 2 S``
    that starts at 0), but Newton or a stiff step may move it onto another steady state
    (found: ``(0.366, 0.268)`` flagged converged where the chemistry goes to ``(0, 0)``).
    ``states`` is ``(batch, n_times, n_species)``; items sharing a support are checked
    together, so a compiled network's batch costs one closure. "Left 0" means beyond
    ``atol + (rtol + 1e-13) * max |y|`` of the item: roundoff of a sweep leaves ~1e-15.
    """
    from nncrn.simulate._settled import absent

    ok = np.ones(len(y0), dtype=bool)
    supports, which = _supports(y0 > 0)
    # What a support can produce only grows with it, so species absent from every item's
    # closure are among those absent from the common support's: if none of those can move
    # (every species the solver integrates is produced from it), no item needs a check.
    common = absent(network.stoichiometry, np.asarray(supports.all(axis=0), dtype=np.float64))
    if not (common & network.stoichiometry.dynamic).any():
        return ok
    for k, support in enumerate(supports):
        dead = absent(network.stoichiometry, support.astype(np.float64))
        if dead.any():
            items = np.flatnonzero(which.reshape(-1) == k)
            part = np.nan_to_num(states[items], nan=0.0)
            scale = np.abs(part).max(axis=(1, 2), keepdims=True)
            moved = np.abs(part[:, :, dead]) > atol + (rtol + 1e-13) * scale
            ok[items] = ~moved.any(axis=(1, 2))
    return ok


def _supports(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of ``mask (batch, n)`` and each item's row index among them.

    ``np.unique(mask, axis=0)`` compares rows element by element; packing each row into
    bytes and comparing them as one opaque value is ~10x faster for thousands of species
    (a training template network carries two rate species per term).
    """
    if mask.shape[1] == 0 or len(mask) == 0:  # one (empty) support for every item
        return mask[:1], np.zeros(len(mask), dtype=np.intp)
    packed = np.ascontiguousarray(np.packbits(mask, axis=1))
    rows = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]
    _, first, which = np.unique(rows, return_index=True, return_inverse=True)
    return mask[first], which.reshape(-1)


def _prepared(network: ReactionNetwork) -> dict:
    """The dict of structures kept for ``network`` (one of the 8 most recently used)."""
    with _PREPARED_LOCK:
        hit = _PREPARED.get(id(network))
        if hit is not None and hit[0]() is network:
            _PREPARED.move_to_end(id(network))
            return hit[1]
        entry: dict = {}
        _PREPARED[id(network)] = (weakref.ref(network), entry)
        while len(_PREPARED) > _PREPARED_MAX:
            _PREPARED.popitem(last=False)
        return entry


def _structure(network: ReactionNetwork) -> MassActionStructure:
    """The reduced structure of ``network``, built once while it is among the recent ones."""
    entry = _prepared(network)
    if "structure" not in entry:
        entry["structure"] = MassActionStructure.build(network)
    return entry["structure"]
