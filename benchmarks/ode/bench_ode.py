"""Deterministic simulation speed: nncrn's TorchODE against libRoadRunner, SciPy and the closed form.

Usage: python benchmarks/ode/bench_ode.py [--out benchmarks/ode/results.json]
       [--rr-inputs 10] [--scipy-inputs 5] [--threads 1] [--quick]

Every number comes from this one run. Workloads (eps = 1e-3, smoothed-ReLU construction):

* digits 64-16-10 and 64-100-10: MLPs trained on scikit-learn digits (pixels / 16), all
  1,797 inputs. libRoadRunner and SciPy simulate only the first ``--rr-inputs`` /
  ``--scipy-inputs`` inputs; their time *per input* is scaled to compare with ours.
* 784-100-10: digits upsampled to 28x28 (bilinear, ``scipy.ndimage.zoom``), 10,000 inputs
  made by drawing digits with replacement, shifting them by up to one pixel and adding
  N(0, 0.02) noise (clipped to [0, 1]). No MNIST download is possible here.
* the 784-100-10 steady state again with ``TorchODE(device="cuda")`` when torch sees a
  CUDA device (GPU memory peak from ``torch.cuda.max_memory_allocated``); every other row
  runs on the CPU (``device="cpu"``) whatever the machine has.
* random bimolecular: 184 species (as many as 64-100-10), inflow and decay of each, 7,500
  random reactions ``A + B -> C + D`` (7,868 in all, like 64-100-10's 7,730): a general
  network whose Jacobian graph has cycles (Newton with dense LU), 256 random initial states.
* the 64-100-10 steady state again with ``TorchODE(steady_method="newton")``: the
  pseudo-transient Newton path that networks the level sweep cannot certify take.
* trajectories of 64-100-10 at 61 times up to t = 400 with TorchODE(rtol=1e-7) (global
  error ~1e-6) and rtol=1e-6, checked against SciPy BDF at rtol 1e-10 on a subset
  (deviation relative to each species' largest value); also the right-hand sides SciPy's
  BDF needs per item at the same tolerances.

nncrn steady-state times: the first call in a fresh process builds the solver's structures
(reported as ``nncrn_first_call_s``); "nncrn" is the best of 3 further calls, which reuse
them. The structure build alone (compile + structures, best of 3) is ``build_s``.

libRoadRunner runs CVODE (rtol 1e-12, atol 1e-14, the accuracy nncrn's steady states have;
also reported at rtol 1e-8, atol 1e-12) on nncrn's own SBML export from t = 0 to t = 1500 (the slowest mode decays at >= 2 sqrt(eps) ~ 0.063, so this is converged far below
1e-6); its SBML load/JIT time is reported separately. SciPy is ScipyODE (solve_ivp's BDF
with the analytic sparse Jacobian, rtol 1e-9). "closed form" is the layer-by-layer forward
pass ``sigma_eps(W x + b)`` in numpy. Peak memory is the peak resident set size (VmHWM) of
a fresh process that loads the network, builds the solver's structures and solves the batch
(torch's own import accounts for a few hundred MiB of it). Nothing here is asserted:
the numbers are reported, not checked against thresholds.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import platform
import resource
import time
import warnings
from pathlib import Path

import numpy as np

EPS = 1e-3
HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------------- workloads
def _digits():
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    return x / 16.0, y


def _upsampled(n_inputs: int, seed: int = 0):
    from scipy.ndimage import shift, zoom

    x, y = _digits()
    big = np.clip(zoom(x.reshape(-1, 8, 8), (1, 3.5, 3.5), order=1), 0.0, 1.0)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(big), n_inputs)
    out = np.empty((n_inputs, 28, 28))
    for i, j in enumerate(pick):
        out[i] = shift(big[j], rng.integers(-1, 2, 2), order=0)
    out = np.clip(out + rng.normal(0, 0.02, out.shape), 0.0, 1.0)
    return big.reshape(len(big), -1), y, out.reshape(n_inputs, -1)


def _train(x, y, widths, seed=0, epochs=200):
    import torch

    import nncrn.nn

    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(itertools.pairwise(widths)):
        layers.append(torch.nn.Linear(a, b))
        if i < len(widths) - 2:
            layers.append(nncrn.nn.SmoothReLU(eps=EPS))
    model = torch.nn.Sequential(*layers).double()
    opt = torch.optim.Adam(model.parameters(), 1e-2)
    xt, yt = torch.tensor(x), torch.tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return model


def _closed_form_fn(model):
    """numpy forward pass of the smoothed-ReLU MLP: the fixed point of the compiled network."""
    import torch

    lin = [m for m in model if isinstance(m, torch.nn.Linear)]
    ws = [m.weight.detach().numpy().T.copy() for m in lin]
    bs = [m.bias.detach().numpy().copy() for m in lin]

    def forward(x):
        h = x
        for i, (w, b) in enumerate(zip(ws, bs, strict=True)):
            z = h @ w + b
            if i < len(ws) - 1:
                h = (z + np.sqrt(z * z + 4 * EPS)) / 2
            else:
                h = z
        return h

    return forward


def _random_bimolecular(n=120, m=1500, seed=0):
    from nncrn.network import Reaction, ReactionNetwork, Species

    rng = np.random.default_rng(seed)
    species = [Species(f"S{i}", "output" if i < 10 else "hidden", 1.0) for i in range(n)]
    reactions = [Reaction({}, {f"S{i}": 1}, 1.0) for i in range(n)]
    reactions += [Reaction({f"S{i}": 1}, {}, 1.0) for i in range(n)]
    for _ in range(m):
        a, b, c, d = rng.choice(n, 4, replace=False)
        k = float(rng.uniform(0.05, 0.5))
        reactions.append(Reaction({f"S{a}": 1, f"S{b}": 1}, {f"S{c}": 1, f"S{d}": 1}, k))
    return ReactionNetwork(species, reactions)


# ----------------------------------------------------------------------------- timing
def _best(fn, repeat=3):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def _child(conn, net, x, y0, threads, kind, t_eval, rtol, method="auto", device="cpu"):
    """Fresh process: build structures, then solve; report times and peak RSS.

    Steady states: the first call (which builds the solver's structures) is timed on its
    own, then the best of 3 further calls, which reuse the structures. Every call returns
    numpy arrays, so a CUDA solve is finished (synchronised) when its time is taken.
    """
    import torch

    from nncrn.network import ReactionNetwork
    from nncrn.simulate import TorchODE, integrate, steady_state

    torch.set_num_threads(threads)
    net = ReactionNetwork.from_json(net)
    warnings.simplefilter("ignore")
    if kind == "steady":
        solver = TorchODE(steady_method=method, device=device)
        t0 = time.perf_counter()
        r = steady_state(net, x, y0=y0, solver=solver, throw=False)
        first = time.perf_counter() - t0
        elapsed, r = _best(lambda: steady_state(net, x, y0=y0, solver=solver, throw=False), 3)
    else:
        solver = TorchODE(rtol=rtol, atol=1e-12, device=device)
        solver.prepare(net)
        t0 = time.perf_counter()
        r = integrate(net, x, t_eval, y0=y0, solver=solver, throw=False)
        elapsed = first = time.perf_counter() - t0
    gpu_mib = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
    payload = (r.concentrations, r.converged, int(r.n_steps.max()), r.n_rhs, first, gpu_mib)
    peak = _peak_rss_mib()
    conn.send((elapsed, peak, payload))
    conn.close()


def _peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _in_child(*args):
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_child, args=(child, args[0].to_json(), *args[1:]))
    p.start()
    out = parent.recv()
    p.join()
    return out


def _roadrunner(net, x, n_inputs):
    """libRoadRunner CVODE time course per input, and its SBML load time."""
    import roadrunner

    from nncrn.export import to_sbml
    from nncrn.network import input_concentrations

    text = to_sbml(net)
    t0 = time.perf_counter()
    rr = roadrunner.RoadRunner(text)
    load = time.perf_counter() - t0
    rr.integrator.relative_tolerance = 1e-12
    rr.integrator.absolute_tolerance = 1e-14
    sel = [f"[{n}]" for n in net.species_names]
    conc = input_concentrations(net, x[:n_inputs])

    def run():
        out = np.zeros((n_inputs, net.n_species))
        t0 = time.perf_counter()
        for row in range(n_inputs):
            rr.reset()
            for j, name in enumerate(net.inputs):
                rr.setValue(f"[{name}]", float(conc[row, j]))
            out[row] = np.asarray(rr.simulate(0, 1500, 2, sel))[-1]
        return (time.perf_counter() - t0) / n_inputs, out

    per, out = run()
    # Also at CVODE's usual "accurate" setting, for a fairer speed comparison.
    rr.integrator.relative_tolerance = 1e-8
    rr.integrator.absolute_tolerance = 1e-12
    per_loose, out_loose = run()
    return per, load, out, per_loose, out_loose


def _scipy(net, x, y0, n_inputs):
    from nncrn.simulate import ScipyODE, steady_state

    sub_x = None if x is None else x[:n_inputs]
    sub_y0 = None if y0 is None else y0[:n_inputs]
    t0 = time.perf_counter()
    r = steady_state(net, sub_x, y0=sub_y0, solver=ScipyODE(), throw=False)
    return (time.perf_counter() - t0) / n_inputs, r.concentrations


# ----------------------------------------------------------------------------- main
def _structure_build(model, input_range=None):
    """Seconds to compile the model and build every structure TorchODE uses (best of 3).

    Each repetition compiles a new network object, so ``prepare`` builds from scratch.
    """
    from nncrn.compile import SmoothReLU, compile_network
    from nncrn.simulate import TorchODE

    def build():
        net = compile_network(model, scheme=SmoothReLU(eps=EPS), input_range=input_range)
        TorchODE(device="cpu").prepare(net)
        return net

    t, net = _best(build, 3)
    return t, net


def steady_workload(
    name, model, x, args, rr_inputs, scipy_inputs, full_oracle=True, method="auto", net=None,
    device="cpu",
):
    from nncrn.simulate import TorchODE, fixed_point

    if net is None:
        build_s, net = _structure_build(model, input_range=(0.0, 1.0))
    else:
        build_s = None
    forward = _closed_form_fn(model)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):  # same thread count as the nncrn solves
        cf_s, cf_out = _best(lambda: forward(x), 20)
    ours_s, peak, (conc, conv, steps, n_rhs, first_s, gpu_mib) = _in_child(
        net, x, None, args.threads, "steady", None, None, method, device
    )
    if full_oracle:  # every species against the library's closed form, on the digits networks
        cf = fixed_point(net, x).concentrations
        np.testing.assert_allclose(net.read_outputs(cf), cf_out, rtol=1e-8, atol=1e-10)
        dev = float(np.abs(conc - cf).max())
    else:  # outputs against the numpy forward pass
        dev = float(np.abs(net.read_outputs(conc) - cf_out).max())
    label = f"{name} steady state" + (", Newton path" if method == "newton" else "")
    label += ", CUDA" if device == "cuda" else ""
    row = {
        "workload": label, "device": device, "inputs": len(x), "reactions": net.n_reactions,
        "species": net.n_species, "linear_algebra": TorchODE().linear_algebra(net),
        "steady_method": method, "build_s": build_s, "nncrn_s": ours_s,
        "nncrn_first_call_s": first_s, "nncrn_per_input_s": ours_s / len(x),
        "closed_form_s": cf_s, "nncrn_over_closed_form": ours_s / cf_s,
        "max_dev_vs_closed_form": dev,
        "dev_compares": "all species (fixed_point)" if full_oracle else "outputs (forward pass)",
        "all_converged": bool(conv.all()), "max_newton_steps": steps, "n_rhs": n_rhs,
        "peak_rss_mib": peak, "peak_gpu_mib": gpu_mib,
    }  # fmt: skip
    if rr_inputs:
        per, load, out, per_loose, out_loose = _roadrunner(net, x, rr_inputs)
        row.update(rr_inputs=rr_inputs, rr_per_input_s=per, rr_load_s=load,
                   rr_over_nncrn_per_input=per / row["nncrn_per_input_s"],
                   rr_max_dev_vs_nncrn=float(np.abs(out - conc[:rr_inputs]).max()),
                   rr_rtol1e8_per_input_s=per_loose,
                   rr_rtol1e8_over_nncrn_per_input=per_loose / row["nncrn_per_input_s"],
                   rr_rtol1e8_max_dev_vs_nncrn=float(np.abs(out_loose - conc[:rr_inputs]).max()))  # fmt: skip
    if scipy_inputs:
        per, out = _scipy(net, x, None, scipy_inputs)
        row.update(scipy_inputs=scipy_inputs, scipy_per_input_s=per,
                   scipy_over_nncrn_per_input=per / row["nncrn_per_input_s"],
                   scipy_max_dev_vs_nncrn=float(np.abs(out - conc[:scipy_inputs]).max()))  # fmt: skip
    return row, net


def trajectory_workload(net, x, args, rtol):
    from nncrn.simulate import ScipyODE, integrate

    t = np.concatenate([[0.0], np.geomspace(1e-3, 400.0, 60)])
    ours_s, peak, (conc, conv, steps, n_rhs, *_) = _in_child(
        net, x, None, args.threads, "traj", t, rtol
    )
    k = args.scipy_inputs or 3
    t0 = time.perf_counter()
    ref = integrate(net, x[:k], t, solver=ScipyODE(rtol=1e-10, atol=1e-14)).concentrations
    per = (time.perf_counter() - t0) / k
    # SciPy's BDF at the same tolerances: right-hand sides it needs for one item.
    same = integrate(net, x[:k], t, solver=ScipyODE(rtol=rtol, atol=1e-12))
    scale = np.abs(ref).max(axis=1, keepdims=True)  # per item and species, over time
    rel = float((np.abs(conc[:k] - ref) / np.maximum(scale, 1e-12)).max())
    return {
        "workload": f"digits 64-100-10 trajectories (61 times to t=400, TorchODE rtol {rtol:g})",
        "inputs": len(x), "reactions": net.n_reactions, "rtol": rtol, "nncrn_s": ours_s,
        "nncrn_per_input_s": ours_s / len(x), "n_rhs_batched": n_rhs, "max_steps_per_item": steps,
        "scipy_bdf_same_rtol_n_rhs_per_item": same.n_rhs / k,
        "all_converged": bool(conv.all()), "scipy_inputs": k, "scipy_per_input_s": per,
        "scipy_over_nncrn_per_input": per / (ours_s / len(x)),
        "max_rel_dev_vs_scipy_rtol1e-10": rel, "peak_rss_mib": peak,
    }  # fmt: skip


def random_workload(args):
    from nncrn.simulate import TorchODE

    net = _random_bimolecular(n=184, m=7500)  # the species and reactions of 64-100-10
    rng = np.random.default_rng(1)
    y0 = rng.uniform(0.0, 2.0, (256, net.n_species))
    ours_s, peak, (conc, conv, steps, *_) = _in_child(
        net, None, y0, args.threads, "steady", None, None
    )
    k = args.scipy_inputs or 3
    per, out = _scipy(net, None, y0, k)
    return {
        "workload": "random bimolecular steady state", "inputs": len(y0),
        "reactions": net.n_reactions, "species": net.n_species,
        "linear_algebra": TorchODE().linear_algebra(net), "nncrn_s": ours_s,
        "nncrn_per_input_s": ours_s / len(y0), "all_converged": bool(conv.all()),
        "max_newton_steps": steps, "scipy_inputs": k, "scipy_per_input_s": per,
        "scipy_over_nncrn_per_input": per / (ours_s / len(y0)),
        "scipy_max_dev_vs_nncrn": float(np.abs(out - conc[:k]).max()), "peak_rss_mib": peak,
    }  # fmt: skip


def _fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}{unit}"
    return f"{v}{unit}"


def print_table(rows):
    cols = [
        ("workload", "workload", ""), ("inputs", "inputs", ""), ("nncrn_s", "nncrn s", ""),
        ("nncrn_per_input_s", "nncrn/input s", ""), ("rr_per_input_s", "RR/input s", ""),
        ("rr_load_s", "RR load s", ""), ("scipy_per_input_s", "SciPy/input s", ""),
        ("closed_form_s", "closed form s", ""), ("rr_over_nncrn_per_input", "RR/nncrn", "x"),
        ("scipy_over_nncrn_per_input", "SciPy/nncrn", "x"),
        ("nncrn_over_closed_form", "nncrn/closed", "x"),
        ("max_dev_vs_closed_form", "max dev", ""), ("peak_rss_mib", "peak MiB", ""),
    ]  # fmt: skip
    table = [[h for _, h, _ in cols]]
    for r in rows:
        table.append([_fmt(r.get(k), u) for k, _, u in cols])
    widths = [max(len(line[i]) for line in table) for i in range(len(cols))]
    for i, line in enumerate(table):
        print(" | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
        if i == 0:
            print("-+-".join("-" * w for w in widths))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=HERE / "results.json")
    p.add_argument("--rr-inputs", type=int, default=10)
    p.add_argument("--scipy-inputs", type=int, default=5)
    p.add_argument("--threads", type=int, default=1, help="torch threads of the nncrn solves")
    p.add_argument("--mnist-inputs", type=int, default=10_000)
    p.add_argument("--quick", action="store_true", help="skip libRoadRunner on 64-100-10")
    args = p.parse_args()
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(args.threads)
    x, y = _digits()
    rows, notes = [], {}
    for hidden in (16, 100):
        model = _train(x, y, [64, hidden, 10])
        rr = args.rr_inputs if (hidden == 16 or not args.quick) else 0
        row, net = steady_workload(f"digits 64-{hidden}-10", model, x, args, rr, args.scipy_inputs)
        rows.append(row)
        print(f"done: {row['workload']}", flush=True)
    row, _ = steady_workload("digits 64-100-10", model, x, args, 0, 0, method="newton", net=net)
    rows.append(row)
    print("done: Newton path", flush=True)
    rows.append(trajectory_workload(net, x, args, 1e-7))
    rows.append(trajectory_workload(net, x, args, 1e-6))
    notes["build_s_7.7k_reactions"] = rows[1]["build_s"]
    print("done: trajectories", flush=True)
    big_train, y_train, big_test = _upsampled(args.mnist_inputs)
    model = _train(big_train, y_train, [784, 100, 10], epochs=100)
    row, net = steady_workload(
        "784-100-10 (upsampled digits)", model, big_test, args, 0, 3, full_oracle=False
    )
    rows.append(row)
    notes["build_s_784-100-10"] = row["build_s"]
    print("done: 784-100-10", flush=True)
    if torch.cuda.is_available():  # the same network and inputs on the GPU
        row, _ = steady_workload("784-100-10 (upsampled digits)", model, big_test, args, 0, 0,
                                 full_oracle=False, net=net, device="cuda")  # fmt: skip
        row["cpu_over_cuda"] = rows[-1]["nncrn_s"] / row["nncrn_s"]
        rows.append(row)
        print("done: 784-100-10 on CUDA", flush=True)
    else:
        notes["cuda"] = "no CUDA device (torch.cuda.is_available() is False): no GPU row"
    rows.append(random_workload(args))
    print()
    print_table(rows)
    print()
    for r in rows:
        extra = {k: r[k] for k in ("reactions", "linear_algebra", "build_s",
                                   "nncrn_first_call_s", "n_rhs", "n_rhs_batched",
                                   "scipy_bdf_same_rtol_n_rhs_per_item",
                                   "max_newton_steps", "all_converged", "peak_gpu_mib",
                                   "cpu_over_cuda",
                                   "rr_max_dev_vs_nncrn", "rr_rtol1e8_per_input_s",
                                   "rr_rtol1e8_over_nncrn_per_input",
                                   "rr_rtol1e8_max_dev_vs_nncrn", "scipy_max_dev_vs_nncrn",
                                   "max_rel_dev_vs_scipy_rtol1e-10") if k in r}  # fmt: skip
        print(f"{r['workload']}: {extra}")
    if any(r.get("linear_algebra") == "dense" for r in rows):
        print("note: 'dense' networks (Jacobian graph with cycles) use batched dense LU, "
              "O(n^3) per item, not forward substitution")  # fmt: skip
    meta = {
        "machine": platform.platform(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "torch_threads": args.threads,
        "load_average_at_start": os.getloadavg(), "torch": torch.__version__,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }  # fmt: skip
    args.out.write_text(json.dumps({"meta": meta, "notes": notes, "rows": rows}, indent=1))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
