"""The four RNCRN systems of Dack et al.: train, compile, verify the full network as mu shrinks.

    python benchmarks/rncrn/bench_rncrn.py [--targets bistable ...] [--seeds 0 1] [--jobs 4] [--record]

For each target (``nncrn.rncrn.TARGETS``: bistable sin x on [1, 12] with M = 3, tristable on
[1, 18] with M = 4, the Bessel oscillator on [0.1, 12]^2 with M = 6 and beta = 1, the
Hastings–Powell food chain on [0.01, 1]^3 with M = 5), :func:`nncrn.rncrn.train` fits the
reduced model with the rate-spread limit of 3 decades at the target's mu, and
:func:`nncrn.rncrn.verify` measures the *full* compiled network at mu = 0.1, 0.01 and
0.001 (and the target's own mu): reactions, rate spread, vector-field RMSE on the box,
the attractors reached from a grid of starts and their distance to the target's stable
fixed points, the limit-cycle period from (2, 4), and time averages over t in [200, 1000]
for the chaotic system. Training time is wall time on the machine named in the output.

Each target is trained once per seed (the seed draws the initialisations; results vary
with it, which the table shows). Writes ``results.json``, ``results.md`` (the table) and
``portrait_<target>_seed<seed>.png`` (at the target's mu) into ``latest/`` next to this file (git-ignored), or with ``--record`` next to
this file: the tracked results the README quotes.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

HERE = Path(__file__).resolve().parent
MUS = (0.1, 0.01, 0.001)


def designed_ellipse():
    """A designer limit cycle: the ellipse centred at (4, 4) with half-axes 2 and 1.5, drawn
    as 12 points, period 10, M = 6 (``nncrn.rncrn.design_cycle``; trained on its tube)."""
    import numpy as np

    from nncrn.rncrn import design_cycle

    th = np.linspace(0.0, 2.0 * np.pi, 12, endpoint=False)
    points = np.stack([4.0 + 2.0 * np.cos(th), 4.0 + 1.5 * np.sin(th)], axis=1)
    return design_cycle(points, 10.0, name="designed-ellipse", perceptrons=6)


def one(name: str, epochs: int, restarts: int, screen: int, seed: int, out: str) -> dict:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import matplotlib

    matplotlib.use("Agg")
    from nncrn.rncrn import get_target, train, verify
    from nncrn.rncrn._portrait import phase_portrait

    target = designed_ellipse() if name == "designed-ellipse" else get_target(name)
    t0 = time.perf_counter()
    result = train(target, epochs=epochs, restarts=restarts, screen=screen, rng=seed)
    seconds = time.perf_counter() - t0
    rows = []
    for mu in sorted({*MUS, target.mu}, reverse=True):
        t1 = time.perf_counter()
        v = verify(result.model, target, mu)
        row = {k: (float(x) if isinstance(x, float) else x) for k, x in v.summary().items()}
        row["verify_seconds"] = round(time.perf_counter() - t1, 1)
        if v.mean[1].size:
            row["mean_target"] = [round(float(a), 5) for a in v.mean[0]]
            row["mean_network"] = [round(float(a), 5) for a in v.mean[1]]
            row["min_network"] = [round(float(a), 5) for a in v.minimum[1]]
            row["max_network"] = [round(float(a), 5) for a in v.maximum[1]]
            row["min_target"] = [round(float(a), 5) for a in v.minimum[0]]
            row["max_target"] = [round(float(a), 5) for a in v.maximum[0]]
        if not math.isnan(v.period[0]):
            row["amplitude_target"] = [round(float(a), 4) for a in v.amplitude[0]]
            row["amplitude_network"] = [round(float(a), 4) for a in v.amplitude[1]]
        rows.append(row)
        if mu == target.mu:
            fig = phase_portrait(result.model, target, v)
            fig.savefig(Path(out) / f"portrait_{name}_seed{seed}.png", dpi=100)
    return {
        "target": name, "seed": seed, "perceptrons": result.model.n_perceptrons, "train_mu": target.mu,
        "train_seconds": round(seconds, 1), "train_rmse": result.rmse,
        "parameters": result.model.to_dict(), "verification": rows,
    }  # fmt: skip


def table(results: list[dict]) -> str:
    head = ("| target | seed | M | reactions | mu | rate spread (decades) | field RMSE | attractors (CRN) "
            "| fixed-point error | period (target / CRN) | time-average error | train s |")  # fmt: skip
    lines = [head, "|" + "---|" * 12]
    for r in results:
        for v in r["verification"]:
            fp = v.get("max_fixed_point_error")
            per = v.get("period_network")
            lines.append(
                f"| {r['target']} | {r['seed']} | {r['perceptrons']} | {v['reactions']} | {v['mu']:g} | "
                f"{v['spread_decades']:.2f} | {v['rmse']:.3g} | {v.get('attractors', '')} | "
                + ("" if fp is None else f"{100 * fp:.2f}%")
                + " | "
                + (
                    ""
                    if per is None
                    else f"{v['period_target']:.3f} / {per:.3f} ({100 * v['period_error']:.2f}%)"
                )
                + " | "
                + (f"{100 * v['max_mean_error']:.2f}%" if r["target"] == "hastings-powell" else "")
                + f" | {r['train_seconds']:.0f} |"
            )
    return "\n".join(lines)


def main() -> None:
    from nncrn.rncrn import TARGETS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", nargs="+", default=list(TARGETS),
                    choices=[*TARGETS, "designed-ellipse"])  # fmt: skip
    ap.add_argument("--epochs", type=int, default=2000)
    ap.add_argument("--restarts", type=int, default=3)
    ap.add_argument("--screen", type=int, default=8)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--jobs", type=int, default=4)
    ap.add_argument("--out", type=Path, help="folder (default latest/ or, with --record, this one)")
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    out = args.out or (HERE if args.record else HERE / "latest")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(one, n, args.epochs, args.restarts, args.screen, seed, str(out))
                   for seed in args.seeds for n in args.targets]  # fmt: skip
        results = [f.result() for f in futures]
    doc = {
        "command": "python benchmarks/rncrn/bench_rncrn.py " + " ".join(
            f"--{k.replace('_', '-')} {v}" for k, v in
            (("targets", " ".join(args.targets)), ("epochs", args.epochs), ("restarts", args.restarts),
             ("screen", args.screen), ("seeds", " ".join(map(str, args.seeds))),
             ("jobs", args.jobs))),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "total_seconds": round(time.perf_counter() - t0, 1),
        "results": results,
    }  # fmt: skip
    (out / "results.json").write_text(json.dumps(doc, indent=1))
    (out / "results.md").write_text(table(results) + "\n")
    print(table(results))
    print(f"wrote {out}/results.json, results.md and portraits ({doc['total_seconds']} s)")


if __name__ == "__main__":
    main()
