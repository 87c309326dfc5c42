"""Trajectory rows of bench_ode.py: every method at the same rtol/atol, inputs and output times.

Methods (all integrate the same network from the same initial states to the same 61 output
times, at the same ``rtol``/``atol``):

* ``TorchODE`` (Rodas4, and Rodas3 with ``method="rodas3"``): the whole batch at once, per-item
  step sizes and per-item error control;
* torchdiffeq's ``dopri5`` on the same batched right-hand side (TorchODE's kernels), with the
  error norm made per item (RMS over each item's species, then the maximum over items), so
  that its error control is TorchODE's; one step size for the whole batch (its design);
* SciPy ``solve_ivp`` with ``BDF`` and ``LSODA``, one input at a time, with the analytic
  Jacobian (sparse for BDF, dense for LSODA), and nncrn's own wrapper
  :class:`nncrn.simulate.ScipyODE` (BDF), which adds safeguards that cost time;
* libRoadRunner's CVODE (BDF, its finite-difference Jacobian) on nncrn's SBML export, one
  input at a time.

Accuracy, in error columns only: the state at t = 400 against the closed-form steady state
(:func:`nncrn.simulate.fixed_point`; the slowest mode decays at >= 2 sqrt(eps) = 0.063, so
at t = 400 the exact trajectory is within ~1e-11 of it), and every output time against
SciPy BDF at rtol 1e-10 / atol 1e-14 on the first inputs (deviation relative to each
species' largest value over time). The reference's time is never a speed baseline.

Timing: each method runs ``rounds`` times on the same inputs; rows give min and median.
nncrn and torchdiffeq run in a fresh process each (so the peak resident set is theirs),
after a first, untimed call that builds TorchODE's structures.
"""

from __future__ import annotations

import multiprocessing as mp
import time
import warnings

import numpy as np

T_END = 400.0


def output_times() -> np.ndarray:
    return np.concatenate([[0.0], np.geomspace(1e-3, T_END, 60)])


def timed_rounds(fn, rounds):
    """``(wall seconds of each round, the last round's result)`` of ``fn()`` (also bench_ode's)."""
    times, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def _peak_rss_mib() -> float:
    from pathlib import Path

    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _torch_child(conn, net_json, x, t, rtol, atol, threads, rounds, method):
    import torch

    from nncrn.network import ReactionNetwork
    from nncrn.simulate import TorchODE, integrate

    warnings.simplefilter("ignore")
    torch.set_num_threads(threads)
    net = ReactionNetwork.from_json(net_json)
    kwargs = {} if method == "rodas4" else {"method": method}
    solver = TorchODE(rtol=rtol, atol=atol, device="cpu", **kwargs)
    solver.prepare(net)
    times, r = timed_rounds(lambda: integrate(net, x, t, solver=solver, throw=False), rounds)
    info = {"n_rhs_batched": r.n_rhs, "max_steps_per_item": int(r.n_steps.max()),
            "mean_steps_per_item": float(r.n_steps.mean()),
            "all_converged": bool(r.converged.all())}  # fmt: skip
    conn.send((times, r.concentrations, info, _peak_rss_mib()))
    conn.close()


def _dopri5_child(conn, net_json, x, t, rtol, atol, threads, rounds):
    import torch
    import torchdiffeq

    from nncrn.network import ReactionNetwork, initial_state
    from nncrn.simulate import TorchODE

    warnings.simplefilter("ignore")
    torch.set_num_threads(threads)
    net = ReactionNetwork.from_json(net_json)
    # The batched right-hand side TorchODE integrates (its kernels are private API), on
    # species-major (n_dynamic, batch) states: contiguous, so every one of dopri5's
    # elementwise stage combinations runs at full speed.
    from nncrn.simulate._torch_kernels import Workspace

    _, k = TorchODE(device="cpu")._setup(net)
    y_full = torch.as_tensor(initial_state(net, x, None), dtype=torch.float64)
    g = k.coefficients(y_full)
    y0 = y_full[:, k.dynamic].T.contiguous()
    nd, b = y0.shape
    ws = Workspace(y0.device, y0.dtype)
    calls = [0]

    def rhs(_t, y):
        calls[0] += 1
        base = ws.get("base", nd + 1, b)
        base[:nd].copy_(y)
        base[nd].fill_(1.0)
        return k.rhs_into(g, base, torch.empty_like(y), ws)

    def per_item(ratio):  # the error ratio's RMS per item, worst item: TorchODE's criterion
        return ratio.reshape(nd, b).square().mean(0).sqrt().max()

    t_dev = torch.as_tensor(t, dtype=torch.float64)

    def solve():
        calls[0] = 0
        with torch.no_grad():
            return torchdiffeq.odeint(rhs, y0, t_dev, rtol=rtol, atol=atol, method="dopri5",
                                      options={"norm": per_item})  # fmt: skip

    times, ys = timed_rounds(solve, rounds)
    out = np.repeat(y_full.numpy()[None], len(t), axis=0)
    out[:, :, k.dynamic.numpy()] = ys.transpose(1, 2).numpy()
    info = {"n_rhs_batched": calls[0], "all_converged": bool(np.isfinite(out).all())}
    conn.send((times, out.transpose(1, 0, 2), info, _peak_rss_mib()))
    conn.close()


def _in_child(target, *args):
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=target, args=(child, *args))
    p.start()
    out = parent.recv()
    p.join()
    return out


def _scipy(net, x, t, rtol, atol, method, rounds):
    from nncrn.simulate import ScipyODE, integrate

    solver = ScipyODE(method=method, rtol=rtol, atol=atol)
    times, r = timed_rounds(lambda: integrate(net, x, t, solver=solver, throw=False), rounds)
    info = {"n_rhs_per_item": r.n_rhs / len(x), "all_converged": bool(r.converged.all()),
            "mean_steps_per_item": float(r.n_steps.mean())}  # fmt: skip
    return [s / len(x) for s in times], r.concentrations, info


def _solve_ivp(net, x, t, rtol, atol, method, rounds):
    """SciPy's ``solve_ivp`` as documented: one call per input, analytic Jacobian, ``t_eval``.

    The right-hand side and Jacobian are nncrn's (``MassActionStructure``: numpy, sparse
    Jacobian for BDF, dense for LSODA, which wants one). Unlike :class:`ScipyODE` this does
    not step by hand (ScipyODE caps each step below a growing mode's time scale, which
    costs a Jacobian diagonal per step, and checks for species that must stay at zero).
    """
    from scipy.integrate import solve_ivp

    from nncrn.network import initial_state
    from nncrn.simulate._structure import MassActionStructure

    s = MassActionStructure.build(net)
    y_full = initial_state(net, x, None)
    dyn = s.dynamic

    def one(y):
        g = s.coefficients(y)
        jac = (lambda _t, yd: s.jacobian(g, yd).toarray()) if method == "LSODA" else (
            lambda _t, yd: s.jacobian(g, yd))  # fmt: skip
        r = solve_ivp(lambda _t, yd: s.rhs(g, yd), (0.0, float(t[-1])), y[dyn], method=method,
                      t_eval=t, rtol=rtol, atol=atol, jac=jac)  # fmt: skip
        out = np.repeat(y[None], len(t), axis=0)
        out[:, dyn] = r.y.T if r.success else np.nan
        return out, r.nfev + r.njev, r.success

    def run():
        return [one(y) for y in y_full]

    times, res = timed_rounds(run, rounds)
    conc = np.stack([r[0] for r in res])
    info = {"n_rhs_per_item": float(np.mean([r[1] for r in res])),
            "all_converged": all(r[2] for r in res)}  # fmt: skip
    return [s_ / len(x) for s_ in times], conc, info


def _roadrunner(rr, net, x, t, rtol, atol, rounds):
    from nncrn.network import input_concentrations

    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    sel = [f"[{n}]" for n in net.species_names]
    conc = input_concentrations(net, x)

    def run():
        out = np.zeros((len(x), len(t), net.n_species))
        for row in range(len(x)):
            rr.reset()
            for j, name in enumerate(net.inputs):
                rr.setValue(f"[{name}]", float(conc[row, j]))
            out[row] = np.asarray(rr.simulate(times=list(t), selections=sel))
        return out

    times, out = timed_rounds(run, rounds)
    info = {"integrator": rr.integrator.getName(), "stiff": bool(rr.integrator.stiff)}
    return [s / len(x) for s in times], out, info


def trajectory_rows(net, x, *, rtol, atol, threads, rounds, n_single, rr=None,
                    dopri5=True, methods=("rodas4", "rodas3")):  # fmt: skip
    """Rows (dicts) comparing every method at ``rtol``/``atol`` on ``net`` with inputs ``x``."""
    from nncrn.simulate import ScipyODE, fixed_point, integrate

    t = output_times()
    steady = fixed_point(net, x).concentrations
    ref = integrate(net, x[:n_single], t, solver=ScipyODE(rtol=1e-10, atol=1e-14)).concentrations
    scale = np.maximum(np.abs(ref).max(axis=1, keepdims=True), 1e-12)

    def accuracy(conc):
        k = min(n_single, len(conc))
        return {
            "final_max_abs_dev_vs_steady_state": float(np.abs(conc[:, -1] - steady[: len(conc)]).max()),
            "max_rel_dev_vs_reference": float((np.abs(conc[:k] - ref[:k]) / scale[:k]).max()),
        }  # fmt: skip

    rows = []
    base = {"rtol": rtol, "atol": atol, "output_times": len(t), "t_end": T_END}
    for method in methods:
        times, conc, info, peak = _in_child(
            _torch_child, net.to_json(), x, t, rtol, atol, threads, rounds, method
        )
        rows.append({"method": f"TorchODE ({method}), batched", "inputs": len(x),
                     "batched": True, "times_s": times,
                     "per_input_s": [s / len(x) for s in times], "peak_rss_mib": peak,
                     **base, **info, **accuracy(conc)})  # fmt: skip
        print(f"  done: TorchODE {method} {min(times):.2f} s", flush=True)
    if dopri5:
        times, conc, info, peak = _in_child(
            _dopri5_child, net.to_json(), x, t, rtol, atol, threads, rounds
        )
        rows.append({"method": "torchdiffeq dopri5, batched (per-item error norm)",
                     "inputs": len(x), "batched": True, "times_s": times,
                     "per_input_s": [s / len(x) for s in times], "peak_rss_mib": peak,
                     **base, **info, **accuracy(conc)})  # fmt: skip
        print(f"  done: dopri5 {min(times):.2f} s", flush=True)
    sub = x[:n_single]
    for method in ("BDF", "LSODA"):
        per, conc, info = _solve_ivp(net, sub, t, rtol, atol, method, rounds)
        rows.append({"method": f"SciPy solve_ivp {method} (analytic Jacobian), one input at a time",
                     "inputs": n_single, "batched": False, "per_input_s": per, **base, **info,
                     **accuracy(conc)})  # fmt: skip
        print(f"  done: SciPy {method}", flush=True)
    per, conc, info = _scipy(net, sub, t, rtol, atol, "BDF", rounds)
    rows.append({"method": "nncrn ScipyODE (BDF, analytic Jacobian), one input at a time",
                 "inputs": n_single, "batched": False, "per_input_s": per, **base, **info,
                 **accuracy(conc)})  # fmt: skip
    print("  done: ScipyODE", flush=True)
    if rr is not None:
        per, conc, info = _roadrunner(rr, net, sub, t, rtol, atol, rounds)
        rows.append({"method": "libRoadRunner CVODE, one input at a time", "inputs": n_single,
                     "batched": False, "per_input_s": per, **base, **info, **accuracy(conc)})  # fmt: skip
        print("  done: libRoadRunner", flush=True)
    ours = rows[0]["per_input_s"]
    for row in rows:
        p = row["per_input_s"]
        row["per_input_min_s"], row["per_input_median_s"] = min(p), float(np.median(p))
        row["over_torchode_min"] = min(p) / min(ours)
        row["over_torchode_median"] = float(np.median(p) / np.median(ours))
    return rows
