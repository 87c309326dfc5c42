"""Steady state of compiled smoothed-ReLU networks against a torch forward pass of the same MLP.

    python benchmarks/steady/bench_steady.py            # writes benchmarks/steady/latest/
    python benchmarks/steady/bench_steady.py --quick    # fewer items and rounds (a smoke run)
    python benchmarks/steady/bench_steady.py --record   # writes results.json, table.md here

Workloads (smoothed ReLU, eps 1e-3, float64, one torch thread): ``build_mlp`` 64-100-10
(torch's default initialisation, seed 0) on the 1,797 sklearn digits scaled to [0, 1]
(pixels / 16), and 784-100-10 on 10,000 uniform random inputs in [0, 1]; each compiled by
``compile_network(model, scheme=SmoothReLUScheme(1e-3))``.

Every round times, one after the other on the same inputs, the torch forward
``model(x)`` (``no_grad``, ``x`` already a tensor), ``steady_state(net, x)`` with a prepared,
warm ``TorchODE(num_threads=1)`` (the default ``steady_method="auto"``: the level sweep,
inputs given as a numpy array) and the same with ``TorchODE(steady_method="newton")``
(pseudo-transient Newton for every item, the cross-check path). A row gives the min and
median over rounds of the per-round ratio ``t(steady_state) / t(forward)``, and the largest
``|CRN output - torch forward|`` (the steady-state criterion is the default atol 1e-12,
rtol 1e-10). The phase breakdown is a cProfile of one further sweep call: the nncrn
functions with the largest cumulative time, as a share of the call (profiling adds
overhead to every Python call, so shares are indicative).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import platform
import pstats
import subprocess
import time
from pathlib import Path

import numpy as np
import torch

from nncrn.compile import SmoothReLUScheme, compile_network
from nncrn.data import build_mlp
from nncrn.simulate import TorchODE, steady_state

HERE = Path(__file__).resolve().parent
EPS = 1e-3


def workloads(quick: bool) -> list[tuple[str, list[int], np.ndarray]]:
    from sklearn.datasets import load_digits

    digits = load_digits().data / 16.0
    rand = np.random.default_rng(0).random((10_000, 784))
    if quick:
        digits, rand = digits[:400], rand[:1_000]
    return [("digits 64-100-10", [64, 100, 10], digits),
            ("random 784-100-10", [784, 100, 10], rand)]  # fmt: skip


def timed(fn) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def phases(net, x, solver, top: int = 10) -> list[tuple[str, float]]:
    """Share of one ``steady_state`` call per nncrn function (cumulative time, cProfile)."""
    prof = cProfile.Profile()
    prof.enable()
    steady_state(net, x, solver=solver)
    prof.disable()
    stats = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    total = max(v[3] for v in stats.values())
    rows = [
        (f"{Path(file).stem}.{name}", v[3] / total)
        for (file, _, name), v in stats.items()
        if "/nncrn/" in file and name != "steady_state"
    ]
    return sorted(rows, key=lambda r: -r[1])[:top]


def run_workload(name, sizes, x, rounds: int) -> dict:
    model = build_mlp(sizes, eps=EPS, seed=0)
    net = compile_network(model, scheme=SmoothReLUScheme(EPS))
    xt = torch.from_numpy(x)
    sweep = TorchODE(device="cpu", num_threads=1)
    newton = TorchODE(device="cpu", num_threads=1, steady_method="newton")
    for s in (sweep, newton):
        s.prepare(net)
    with torch.no_grad():
        ref = model(xt).numpy()
    steady_state(net, x, solver=sweep)  # warm
    ratio, ratio_newton, t_fwd, t_ss, t_nt = [], [], [], [], []
    err = err_newton = 0.0
    for _ in range(rounds):
        with torch.no_grad():
            tf, _ = timed(lambda: model(xt))
        ts, r = timed(lambda: steady_state(net, x, solver=sweep))
        with torch.no_grad():
            tf2, _ = timed(lambda: model(xt))
        tn, rn = timed(lambda: steady_state(net, x, solver=newton))
        ratio.append(ts / tf)
        ratio_newton.append(tn / tf2)
        t_fwd.append(tf)
        t_ss.append(ts)
        t_nt.append(tn)
        assert r.converged.all() and rn.converged.all(), "every item must converge"
        err = max(err, float(np.abs(r.outputs - ref).max()))
        err_newton = max(err_newton, float(np.abs(rn.outputs - ref).max()))
    return {
        "workload": name, "items": len(x), "rounds": rounds,
        "forward_s": {"min": min(t_fwd), "median": float(np.median(t_fwd))},
        "steady_s": {"min": min(t_ss), "median": float(np.median(t_ss))},
        "newton_s": {"min": min(t_nt), "median": float(np.median(t_nt))},
        "ratio": {"min": min(ratio), "median": float(np.median(ratio))},
        "ratio_newton": {"min": min(ratio_newton), "median": float(np.median(ratio_newton))},
        "max_abs_err": err, "max_abs_err_newton": err_newton,
        "phases": phases(net, x, sweep),
    }  # fmt: skip


def table(rows: list[dict]) -> str:
    lines = [
        "| workload | items | forward (min) | steady_state / forward (min / median) "
        "| Newton path / forward (min / median) | max abs err (sweep / Newton) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['workload']} | {r['items']:,} | {r['forward_s']['min'] * 1e3:.1f} ms "
            f"| {r['ratio']['min']:.2f}x / {r['ratio']['median']:.2f}x "
            f"| {r['ratio_newton']['min']:.1f}x / {r['ratio_newton']['median']:.1f}x "
            f"| {r['max_abs_err']:.1e} / {r['max_abs_err_newton']:.1e} |"
        )
    for r in rows:
        lines += ["", f"Phases of one sweep call, {r['workload']} (cProfile, cumulative):", ""]
        lines += [f"- `{n}`: {share:.0%}" for n, share in r["phases"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer items, 2 rounds")
    ap.add_argument("--rounds", type=int, default=None, help="rounds (default 3; 2 with --quick)")
    ap.add_argument("--record", action="store_true", help="write results.json, table.md here")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rounds = args.rounds or (2 if args.quick else 3)
    rows = [run_workload(n, s, x, rounds) for n, s, x in workloads(args.quick)]
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    out = {
        "commit": commit, "quick": args.quick,
        "machine": f"{platform.machine()}, 1 torch thread, float64, shared machine",
        "rows": rows,
    }  # fmt: skip
    text = table(rows)
    print(text)
    folder = HERE if args.record else HERE / "latest"
    folder.mkdir(exist_ok=True)
    (folder / "results.json").write_text(json.dumps(out, indent=1) + "\n")
    (folder / "table.md").write_text(text)


if __name__ == "__main__":
    main()
