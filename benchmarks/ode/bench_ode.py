"""Deterministic simulation speed: nncrn's TorchODE against libRoadRunner, SciPy, torchdiffeq and the closed form.

Usage: python benchmarks/ode/bench_ode.py [--out DIR] [--record] [--quick] [--rounds 3]
       [--rtol 1e-6] [--atol 1e-12] [--rr-inputs 10] [--scipy-inputs 5] [--threads 1]

Writes results.json and table.md into ``--out`` (default benchmarks/ode/latest/, not
tracked); with ``--record``, into benchmarks/ode/ (the files the README quotes). Every
number comes from this one run; every timing is taken ``--rounds`` times (default 3) and
reported as min and median, and ratios are min/min and median/median of the same run.

Workloads (eps = 1e-3, smoothed-ReLU construction):

* digits 64-16-10 and 64-100-10 steady states: MLPs trained on scikit-learn digits (pixels
  / 16), all 1,797 inputs. libRoadRunner (first ``--rr-inputs``) and SciPy (first
  ``--scipy-inputs``) run one input at a time; their time *per input* is compared with
  nncrn's batch time / 1,797. Each row gives every method's max deviation from the closed
  form (:func:`nncrn.simulate.fixed_point`), so the work compared is visible: CVODE at rtol
  1e-12 / atol 1e-14 reaches nncrn's accuracy (~1e-14), at rtol 1e-8 / atol 1e-12 it stops
  at ~1e-10; SciPy (ScipyODE's steady state: BDF at rtol 1e-9, then Newton) at ~1e-15.
* the 64-100-10 steady state again with ``TorchODE(steady_method="newton")``.
* trajectories of 64-100-10 (see ``_trajectories.py``): all 1,797 inputs, 61 output times
  to t = 400, *every method at the same rtol/atol* (``--rtol``/``--atol``): TorchODE
  (Rodas4, and Rodas3), torchdiffeq dopri5 on the same batched right-hand side, SciPy BDF
  and LSODA with the analytic Jacobian, libRoadRunner CVODE. Accuracy is an error column
  (state at t = 400 against the closed-form steady state; all times against SciPy BDF at
  rtol 1e-10 on the first inputs), never the speed baseline.
* 784-100-10 (not with ``--quick``): digits upsampled to 28x28 (bilinear,
  ``scipy.ndimage.zoom``), 10,000 inputs made by drawing digits with replacement, shifting
  them by up to one pixel and adding N(0, 0.02) noise (clipped to [0, 1]); deviation of
  the outputs against the numpy forward pass. Again with ``TorchODE(device="cuda")`` when
  torch sees a CUDA device.
* random bimolecular (not with ``--quick``): 184 species, inflow and decay of each, 7,500
  random reactions ``A + B -> C + D`` (7,868 in all): a network whose Jacobian graph has
  cycles (Newton with dense LU), 256 random initial states.

nncrn steady states: the first call in a fresh process builds the solver's structures
(``nncrn_first_call_s``); then ``--rounds`` calls that reuse them. ``build_s``: compile +
structures, best of 3. libRoadRunner simulates from t = 0 to 1500 (the slowest mode decays
at >= 2 sqrt(eps) ~ 0.063); its SBML load/JIT time is reported separately. "closed form" is
the layer-by-layer forward pass ``sigma_eps(W x + b)`` in numpy. Peak memory: the peak
resident set (VmHWM) of the fresh process that solves (torch's import is a few hundred MiB
of it). Nothing here is asserted against a threshold.
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
from _trajectories import timed_rounds, trajectory_rows  # next to this script

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


def _child(conn, net, x, y0, threads, method="auto", device="cpu", rounds=3):
    """Fresh process: build structures, then solve steady states; report times and peak RSS.

    The first call (which builds the solver's structures) is timed on its own, then
    ``rounds`` further calls, which reuse the structures. Every call returns numpy arrays,
    so a CUDA solve is finished (synchronised) when its time is taken.
    """
    import torch

    from nncrn.network import ReactionNetwork
    from nncrn.simulate import TorchODE, steady_state

    torch.set_num_threads(threads)
    net = ReactionNetwork.from_json(net)
    warnings.simplefilter("ignore")
    solver = TorchODE(steady_method=method, device=device)
    t0 = time.perf_counter()
    r = steady_state(net, x, y0=y0, solver=solver, throw=False)
    first = time.perf_counter() - t0
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        r = steady_state(net, x, y0=y0, solver=solver, throw=False)
        times.append(time.perf_counter() - t0)
    gpu_mib = torch.cuda.max_memory_allocated() / 2**20 if device == "cuda" else None
    payload = (r.concentrations, r.converged, int(r.n_steps.max()), r.n_rhs, first, gpu_mib)
    peak = _peak_rss_mib()
    conn.send((times, peak, payload))
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


def _load_roadrunner(net):
    """libRoadRunner on nncrn's SBML export, and its load/JIT time."""
    import roadrunner

    from nncrn.export import to_sbml

    text = to_sbml(net)
    t0 = time.perf_counter()
    rr = roadrunner.RoadRunner(text)
    return rr, time.perf_counter() - t0


def _roadrunner(rr, net, x, n_inputs, rtol, atol, rounds):
    """libRoadRunner CVODE from t = 0 to 1500, per input (min and median of ``rounds``)."""
    from nncrn.network import input_concentrations

    rr.integrator.relative_tolerance = rtol
    rr.integrator.absolute_tolerance = atol
    sel = [f"[{n}]" for n in net.species_names]
    conc = input_concentrations(net, x[:n_inputs])

    def run():
        out = np.zeros((n_inputs, net.n_species))
        for row in range(n_inputs):
            rr.reset()
            for j, name in enumerate(net.inputs):
                rr.setValue(f"[{name}]", float(conc[row, j]))
            out[row] = np.asarray(rr.simulate(0, 1500, 2, sel))[-1]
        return out

    times, out = timed_rounds(run, rounds)
    return [s / n_inputs for s in times], out


def _scipy(net, x, y0, n_inputs, rounds):
    from nncrn.simulate import ScipyODE, steady_state

    sub_x = None if x is None else x[:n_inputs]
    sub_y0 = None if y0 is None else y0[:n_inputs]
    times, r = timed_rounds(
        lambda: steady_state(net, sub_x, y0=sub_y0, solver=ScipyODE(), throw=False), rounds
    )
    return [s / n_inputs for s in times], r.concentrations




# ----------------------------------------------------------------------------- main
def _structure_build(model, input_range=None):
    """Seconds to compile the model and build every structure TorchODE uses (best of 3).

    Each repetition compiles a new network object, so ``prepare`` builds from scratch.
    """
    from nncrn.compile import SmoothReLUScheme, compile_network
    from nncrn.simulate import TorchODE

    def build():
        net = compile_network(model, scheme=SmoothReLUScheme(eps=EPS), input_range=input_range)
        TorchODE(device="cpu").prepare(net)
        return net

    t, net = _best(build, 3)
    return t, net


def steady_workload(
    name, model, x, args, rr_inputs, scipy_inputs, full_oracle=True, method="auto", net=None,
    device="cpu", rr=None, build_s=None,
):  # fmt: skip
    """One steady-state row; ``rr``: a loaded libRoadRunner and its load time, or None."""
    from nncrn.simulate import TorchODE, fixed_point

    if net is None:
        build_s, net = _structure_build(model, input_range=(0.0, 1.0))
    forward = _closed_form_fn(model)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(args.threads):  # same thread count as the nncrn solves
        cf_s, cf_out = _best(lambda: forward(x), 20)
    times, peak, (conc, conv, steps, n_rhs, first_s, gpu_mib) = _in_child(
        net, x, None, args.threads, method, device, args.rounds
    )
    ours_s = min(times)
    cf = None
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
        "steady_method": method, "build_s": build_s, "nncrn_s": ours_s, "nncrn_times_s": times,
        "nncrn_median_s": float(np.median(times)),
        "nncrn_first_call_s": first_s, "nncrn_per_input_s": ours_s / len(x),
        "closed_form_s": cf_s, "nncrn_over_closed_form": ours_s / cf_s,
        "max_dev_vs_closed_form": dev,
        "dev_compares": "all species (fixed_point)" if full_oracle else "outputs (forward pass)",
        "all_converged": bool(conv.all()), "max_newton_steps": steps, "n_rhs": n_rhs,
        "peak_rss_mib": peak, "peak_gpu_mib": gpu_mib,
    }  # fmt: skip
    ours = row["nncrn_times_s"]
    if rr is not None:
        rr_inst, load = rr
        row.update(rr_inputs=rr_inputs, rr_load_s=load)
        for tag, rtol, atol in (("", 1e-12, 1e-14), ("_rtol1e8", 1e-8, 1e-12)):
            per, out = _roadrunner(rr_inst, net, x, rr_inputs, rtol, atol, args.rounds)
            row[f"rr{tag}_per_input_s"] = min(per)
            row[f"rr{tag}_per_input_median_s"] = float(np.median(per))
            row[f"rr{tag}_over_nncrn_per_input"] = min(per) / (min(ours) / len(x))
            row[f"rr{tag}_over_nncrn_per_input_median"] = float(
                np.median(per) / (np.median(ours) / len(x))
            )
            row[f"rr{tag}_max_dev_vs_closed_form"] = (
                float(np.abs(out - cf[:rr_inputs]).max()) if cf is not None else None
            )
            row[f"rr{tag}_max_dev_vs_nncrn"] = float(np.abs(out - conc[:rr_inputs]).max())
    if scipy_inputs:
        per, out = _scipy(net, x, None, scipy_inputs, args.rounds)
        row.update(scipy_inputs=scipy_inputs, scipy_per_input_s=min(per),
                   scipy_per_input_median_s=float(np.median(per)),
                   scipy_over_nncrn_per_input=min(per) / (min(ours) / len(x)),
                   scipy_over_nncrn_per_input_median=float(np.median(per) / (np.median(ours) / len(x))),
                   scipy_max_dev_vs_closed_form=(
                       float(np.abs(out - cf[:scipy_inputs]).max()) if cf is not None else None),
                   scipy_max_dev_vs_nncrn=float(np.abs(out - conc[:scipy_inputs]).max()))  # fmt: skip
    return row, net


def random_workload(args):
    from nncrn.simulate import TorchODE

    net = _random_bimolecular(n=184, m=7500)  # the species and reactions of 64-100-10
    rng = np.random.default_rng(1)
    y0 = rng.uniform(0.0, 2.0, (256, net.n_species))
    times, peak, (conc, conv, steps, *_) = _in_child(
        net, None, y0, args.threads, "auto", "cpu", args.rounds
    )
    k = args.scipy_inputs or 3
    per, out = _scipy(net, None, y0, k, 1)
    ours = min(times)
    return {
        "workload": "random bimolecular steady state", "inputs": len(y0),
        "reactions": net.n_reactions, "species": net.n_species,
        "linear_algebra": TorchODE().linear_algebra(net), "nncrn_s": ours,
        "nncrn_times_s": times, "nncrn_median_s": float(np.median(times)),
        "nncrn_per_input_s": ours / len(y0), "all_converged": bool(conv.all()),
        "max_newton_steps": steps, "scipy_inputs": k, "scipy_per_input_s": per[0],
        "scipy_over_nncrn_per_input": per[0] / (ours / len(y0)),
        "scipy_max_dev_vs_nncrn": float(np.abs(out - conc[:k]).max()), "peak_rss_mib": peak,
    }  # fmt: skip


def _fmt(v, unit=""):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3g}{unit}"
    return f"{v}{unit}"


def _table(rows, cols) -> str:
    table = [[h for _, h, _ in cols]]
    for r in rows:
        table.append([_fmt(r.get(k), u) if not callable(k) else k(r) for k, _, u in cols])
    lines = ["| " + " | ".join(line) + " |" for line in table]
    lines.insert(1, "|" + "|".join("---" for _ in cols) + "|")
    return "\n".join(lines)


def steady_table(rows) -> str:
    def ratio(key):
        def cell(r):
            if r.get(key) is None:
                return "-"
            med = r.get(key + "_median")
            return f"{r[key]:.3g}x" + ("" if med is None else f" / {med:.3g}x")

        return cell

    cols = [
        ("workload", "workload", ""), ("inputs", "inputs", ""),
        ("nncrn_s", "nncrn s (min)", ""), ("nncrn_per_input_s", "nncrn per input s", ""),
        ("max_dev_vs_closed_form", "nncrn max dev", ""),
        ("closed_form_s", "closed form s", ""), ("nncrn_over_closed_form", "nncrn / closed form", "x"),
        ("rr_per_input_s", "RR 1e-12 per input s", ""), ("rr_max_dev_vs_closed_form", "RR 1e-12 max dev", ""),
        (ratio("rr_over_nncrn_per_input"), "RR 1e-12 / nncrn (min / median)", ""),
        ("rr_rtol1e8_per_input_s", "RR 1e-8 per input s", ""),
        ("rr_rtol1e8_max_dev_vs_closed_form", "RR 1e-8 max dev", ""),
        (ratio("rr_rtol1e8_over_nncrn_per_input"), "RR 1e-8 / nncrn (min / median)", ""),
        ("scipy_per_input_s", "SciPy per input s", ""),
        ("scipy_max_dev_vs_closed_form", "SciPy max dev", ""),
        (ratio("scipy_over_nncrn_per_input"), "SciPy / nncrn (min / median)", ""),
        ("peak_rss_mib", "peak MiB", ""),
    ]  # fmt: skip
    return _table(rows, cols)


def trajectory_table(rows) -> str:
    cols = [
        ("method", "method", ""), ("inputs", "inputs", ""),
        ("rtol", "rtol", ""), ("atol", "atol", ""),
        ("per_input_min_s", "per input s (min)", ""),
        ("per_input_median_s", "per input s (median)", ""),
        (lambda r: f"{r['over_torchode_min']:.3g}x / {r['over_torchode_median']:.3g}x",
         "time / TorchODE (min / median)", ""),
        ("n_rhs_batched", "batched RHS", ""), ("n_rhs_per_item", "RHS per input", ""),
        ("final_max_abs_dev_vs_steady_state", "final max abs dev vs steady state", ""),
        ("max_rel_dev_vs_reference", "max rel dev vs SciPy 1e-10", ""),
        ("all_converged", "converged", ""), ("peak_rss_mib", "peak MiB", ""),
    ]  # fmt: skip
    return _table(rows, cols)


def main() -> None:
    import sys

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=HERE / "latest",
                   help="directory for results.json and table.md (default: benchmarks/ode/latest)")  # fmt: skip
    p.add_argument("--record", action="store_true",
                   help="write the tracked results next to this script (the README quotes them)")  # fmt: skip
    p.add_argument("--rr-inputs", type=int, default=10)
    p.add_argument("--scipy-inputs", type=int, default=5)
    p.add_argument("--rounds", type=int, default=3, help="timed rounds (min and median)")
    p.add_argument("--rtol", type=float, default=1e-6, help="trajectory rtol of every method")
    p.add_argument("--atol", type=float, default=1e-12, help="trajectory atol of every method")
    p.add_argument("--threads", type=int, default=1, help="torch threads of the nncrn solves")
    p.add_argument("--mnist-inputs", type=int, default=10_000)
    p.add_argument("--quick", action="store_true",
                   help="digits workloads only, no libRoadRunner on 64-100-10, 1 round (~3 min)")  # fmt: skip
    args = p.parse_args()
    out_dir = HERE if args.record else args.out
    if args.quick:
        args.rounds = 1
    warnings.simplefilter("ignore")
    import torch

    torch.set_num_threads(args.threads)
    x, y = _digits()
    rows, notes = [], {}
    for hidden in (16, 100):
        model = _train(x, y, [64, hidden, 10])
        build_s, net = _structure_build(model, input_range=(0.0, 1.0))
        rr = _load_roadrunner(net) if (hidden == 16 or not args.quick) else None
        row, net = steady_workload(f"digits 64-{hidden}-10", model, x, args, args.rr_inputs,
                                   args.scipy_inputs, net=net, rr=rr, build_s=build_s)  # fmt: skip
        rows.append(row)
        print(f"done: {row['workload']}", flush=True)
    row, _ = steady_workload("digits 64-100-10", model, x, args, 0, 0, method="newton", net=net)
    rows.append(row)
    print("done: Newton path", flush=True)
    traj = trajectory_rows(net, x, rtol=args.rtol, atol=args.atol, threads=args.threads,
                           rounds=args.rounds, n_single=args.scipy_inputs,
                           rr=None if rr is None else rr[0])  # fmt: skip
    notes["build_s_7.7k_reactions"] = rows[1]["build_s"]
    print("done: trajectories", flush=True)
    if not args.quick:
        big_train, y_train, big_test = _upsampled(args.mnist_inputs)
        model = _train(big_train, y_train, [784, 100, 10], epochs=100)
        row, net = steady_workload(
            "784-100-10 (upsampled digits)", model, big_test, args, 0, 3, full_oracle=False
        )
        rows.append(row)
        notes["build_s_784-100-10"] = row["build_s"]
        print("done: 784-100-10", flush=True)
        if torch.cuda.is_available():  # the same network and inputs on the GPU
            row, _ = steady_workload("784-100-10 (upsampled digits)", model, big_test, args, 0,
                                     0, full_oracle=False, net=net, device="cuda")  # fmt: skip
            row["cpu_over_cuda"] = rows[-1]["nncrn_s"] / row["nncrn_s"]
            rows.append(row)
            print("done: 784-100-10 on CUDA", flush=True)
        else:
            notes["cuda"] = "no CUDA device (torch.cuda.is_available() is False): no GPU row"
        rows.append(random_workload(args))
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"meta": {"command": "python benchmarks/ode/bench_ode.py " + " ".join(sys.argv[1:])},
              "notes": notes, "rows": rows, "trajectories": traj}  # fmt: skip
    (out_dir / "results.json").write_text(json.dumps(result, indent=1))  # before formatting
    tables = ("## Steady states\n\n" + steady_table(rows) + "\n\n## Trajectories (64-100-10, "
              f"all methods at rtol {args.rtol:g}, atol {args.atol:g})\n\n"
              + trajectory_table(traj) + "\n")  # fmt: skip
    print()
    print(tables)
    meta = {
        "command": "python benchmarks/ode/bench_ode.py " + " ".join(sys.argv[1:]),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "machine": platform.platform(), "python": platform.python_version(),
        "cpu_count": os.cpu_count(), "torch_threads": args.threads,
        "load_average_at_start": LOAD_AT_START, "load_average_at_end": os.getloadavg(),
        "torch": torch.__version__, "rounds": args.rounds,
        "cuda_device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }  # fmt: skip
    out_dir.mkdir(parents=True, exist_ok=True)
    result = {"meta": meta, "notes": notes, "rows": rows, "trajectories": traj}
    (out_dir / "results.json").write_text(json.dumps(result, indent=1))
    (out_dir / "table.md").write_text(tables)
    print(f"wrote {out_dir / 'results.json'} and {out_dir / 'table.md'}")


LOAD_AT_START = os.getloadavg()

if __name__ == "__main__":
    main()
