"""Events per second of nncrn's stochastic solvers against rebop, measured in one run.

Usage::

    python benchmarks/ssa/bench_ssa.py                 # writes benchmarks/ssa/latest/
    python benchmarks/ssa/bench_ssa.py --record        # also the tracked results.* here
    python benchmarks/ssa/bench_ssa.py --cases birth-death --rounds 5 --out /tmp/ssa

rebop (``pip install -e '.[bench]'``) runs at its best documented setting for networks with
many species, ``sparse=True`` (the main column), and with ``sparse=False`` (dense) as a
second column; its own default, ``sparse=None``, picks one of the two by a heuristic.

Equal work: every simulator gets the same model (rebop receives nncrn's scaled constants
``k * volume**(1-order)``; its mass-action rate for ``[A, A]`` is ``k A (A-1)``, ours too),
the same start counts, the same horizon ``t_end`` and records two samples (start and end).
Each round repeats the same seed, so every round of a simulator fires the same events;
rebop does not report its event count, so it is counted once, untimed, from the same seed
with every event recorded (``nb_steps=0``). Each row gives the min and median of
``--rounds`` rounds after an untimed warm-up (numba compiles on first use). Events per
second are computed from the min. Tau-leaping is approximate (epsilon = 0.03); its events
per second are the exact-SSA events it stands for, in parentheses in the table.

The ensemble section times ``gillespie(..., runs=1000)`` with ``n_jobs=1`` and ``n_jobs=2``
(local threads; the results are identical).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import DirectMethod, NextReactionMethod, TauLeaping, gillespie
from nncrn.simulate._ssa._model import build_model

HERE = Path(__file__).resolve().parent


def birth_death():
    """``0 -> X`` at propensity 100 and ``X -> 0`` at rate 1: X ~ Poisson(100)."""
    net = ReactionNetwork([Species("X", initial=1.0)],
                          [Reaction.parse("0 -> X", 1.0), Reaction.parse("X -> 0", 1.0)])  # fmt: skip
    return net, 100.0, 20000.0, None


def random_bimolecular(n: int = 100, m: int = 200, seed: int = 0):
    """100 species; birth and death of each, and 200 random ``A + B -> C + D``."""
    rng = np.random.default_rng(seed)
    species = [Species(f"S{i}", initial=1.0) for i in range(n)]
    reactions = [Reaction.parse(f"0 -> S{i}", 1.0) for i in range(n)]
    reactions += [Reaction.parse(f"S{i} -> 0", 1.0) for i in range(n)]
    seen: set[tuple[int, int]] = set()
    while len(seen) < m:
        a, b, c, d = rng.choice(n, 4, replace=False)
        if (a, b) in seen:
            continue
        seen.add((a, b))
        reactions.append(
            Reaction.parse(f"S{a} + S{b} -> S{c} + S{d}", float(rng.uniform(0.5, 2.0)))
        )
    return ReactionNetwork(species, reactions), 100.0, 20.0, None


def _classifier(X: np.ndarray, y: np.ndarray, hidden: int, lr: float, input_range=None):
    """A smoothed-ReLU (eps 0.01) classifier ``n_in-hidden-n_classes``, full-batch Adam, compiled."""
    import torch

    from nncrn.compile import compile_network
    from nncrn.nn import SmoothReLU

    torch.set_num_threads(1)
    torch.manual_seed(0)
    n_classes = int(y.max()) + 1
    model = torch.nn.Sequential(
        torch.nn.Linear(X.shape[1], hidden), SmoothReLU(0.01),
        torch.nn.Linear(hidden, n_classes), SmoothReLU(0.01),
    )  # fmt: skip
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    xt, yt = torch.tensor(X, dtype=torch.float32), torch.tensor(y)
    for _ in range(300):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()
    return compile_network(model, input_range=input_range)


def iris():
    from sklearn.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    net = _classifier(X, y, 8, 0.02, np.stack([X.min(0) - 0.5, X.max(0) + 0.5], 1))
    return net, 100.0, 2.0, X[75:76]


def digits():
    """A 64-16-10 classifier on scikit-learn's digits, pixel intensities / 16 as concentrations."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    return _classifier(X / 16.0, y, 16, 0.01), 100.0, 1.0, X[0:1] / 16.0


CASES = {"birth-death": birth_death, "random-100": random_bimolecular, "iris-4-8-3": iris,
         "digits-64-16-10": digits}  # fmt: skip


def _start(net: ReactionNetwork, volume: float, inputs) -> tuple[np.ndarray | None, np.ndarray]:
    """Compiled networks start at their fixed point (stationary event rates); (y0, counts)."""
    from nncrn.network import initial_state
    from nncrn.simulate import fixed_point

    y0 = fixed_point(net, inputs).concentrations if net.inputs else None
    counts = np.rint(initial_state(net, inputs, y0)[0] * volume).astype(np.int64)
    return y0, counts


def _rebop(net: ReactionNetwork, volume: float):
    import rebop

    model = build_model(net, volume)
    system = rebop.Gillespie()
    for j, r in enumerate(net.reactions):
        reactants = [s for s, c in r.reactants.items() for _ in range(c)]
        products = [s for s, c in r.products.items() for _ in range(c)]
        system.add_reaction(float(model.scaled[j]), reactants, products)
    return system


def _time(fn, rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of ``rounds`` calls (CPU time leaves out the time another
    process held the core: the fairer ratio on a loaded machine)."""
    wall, cpu = [], []
    for _ in range(rounds):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu


def bench_case(name: str, rounds: int, dense: bool) -> list[dict]:
    net, volume, t_end, inputs = CASES[name]()
    y0, counts = _start(net, volume, inputs)
    rows = []
    for solver in (DirectMethod(), NextReactionMethod(), TauLeaping()):
        kw = dict(volume=volume, solver=solver, rng=1, n_times=2, y0=y0)
        gillespie(net, inputs, t_end=t_end / 100, **kw)  # warm-up: compile
        res = gillespie(net, inputs, t_end=t_end, **kw)
        times, cpu = _time(lambda kw=kw: gillespie(net, inputs, t_end=t_end, **kw), rounds)
        rows.append({"solver": repr(solver), "exact": solver.exact, "times": times, "cpu": cpu,
                     "events": int(res.n_events[0, 0]), "steps": int(res.n_steps[0, 0])})  # fmt: skip
    system = _rebop(net, volume)
    init = {n: int(c) for n, c in zip(net.species_names, counts, strict=True)}
    for sparse in (True, False) if dense else (True,):
        system.run(init, t_end / 100, 2, rng=1, sparse=sparse)  # warm-up
        events = int(system.run(init, t_end, 0, rng=1, sparse=sparse).time.size - 1)
        times, cpu = _time(lambda s=sparse: system.run(init, t_end, 2, rng=1, sparse=s), rounds)
        rows.append({"solver": f"rebop sparse={sparse}", "exact": True, "times": times, "cpu": cpu,
                     "events": events, "steps": events})  # fmt: skip
    sparse_min, sparse_cpu = min(rows[3]["times"]), min(rows[3]["cpu"])
    dense_min = min(rows[4]["times"]) if dense else float("nan")
    for r in rows:
        r.update(case=name, n_species=net.n_species, n_reactions=net.n_reactions,
                 volume=volume, t_end=t_end, min_s=min(r["times"]),
                 median_s=statistics.median(r["times"]),
                 events_per_s=r["events"] / min(r["times"]),
                 vs_rebop_sparse=sparse_min / min(r["times"]),
                 vs_rebop_sparse_cpu=sparse_cpu / min(r["cpu"]),
                 vs_rebop_dense=dense_min / min(r["times"]))  # fmt: skip
    return rows


def bench_ensemble(rounds: int, runs: int) -> dict:
    """``runs`` birth-death runs (t_end 200, ~40,000 events each), n_jobs 1 against 2."""
    net, volume, _, _ = birth_death()
    kw = dict(volume=volume, t_end=200.0, runs=runs, rng=0, n_times=11)
    gillespie(net, **{**kw, "runs": 4})
    times: dict[int, list[float]] = {1: [], 2: []}
    results = {}
    for _ in range(rounds):  # alternate, so both see the same machine load
        for jobs in (1, 2):
            t0 = time.perf_counter()
            results[jobs] = gillespie(net, n_jobs=jobs, **kw)
            times[jobs].append(time.perf_counter() - t0)
    identical = bool(np.array_equal(results[1].counts, results[2].counts))
    return {"runs": runs, "events_per_run": float(results[1].n_events.mean()),
            "times_1": times[1], "times_2": times[2], "identical": identical,
            "speedup_min": min(times[1]) / min(times[2]),
            "speedup_median": statistics.median(times[1]) / statistics.median(times[2])}  # fmt: skip


def _ratio(value: float) -> str:
    return "n/a" if np.isnan(value) else f"{value:.3g}x"


def _table(rows: list[dict], ensemble: dict | None, meta: dict) -> str:
    head = ("| case | species/reactions | solver | events/run | min s | median s | "
            "Mevents/s | vs rebop sparse | (CPU time) | vs rebop dense |")  # fmt: skip
    lines = [head, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        rate = f"{r['events_per_s'] / 1e6:.3g}"
        rate = rate if r["exact"] else f"({rate})"
        solver = r["solver"].split("(")[0]
        lines.append(f"| {r['case']} | {r['n_species']}/{r['n_reactions']} | {solver} | "
                     f"{r['events']:.3g} | {r['min_s']:.4g} | {r['median_s']:.4g} | {rate} | "
                     f"{r['vs_rebop_sparse']:.3g}x | {r['vs_rebop_sparse_cpu']:.3g}x | "
                     f"{_ratio(r['vs_rebop_dense'])} |")  # fmt: skip
    text = "\n".join(lines) + "\n"
    if ensemble is not None:
        e = ensemble
        text += (f"\nEnsemble of {e['runs']} birth-death runs ({e['events_per_run']:.3g} events "
                 f"each): n_jobs=1 min {min(e['times_1']):.3f} s / median "
                 f"{statistics.median(e['times_1']):.3f} s; n_jobs=2 min "
                 f"{min(e['times_2']):.3f} s / median {statistics.median(e['times_2']):.3f} s; "
                 f"speed-up {e['speedup_min']:.2f}x (min), {e['speedup_median']:.2f}x (median);"
                 f" identical results: {e['identical']}\n")  # fmt: skip
    load = ", ".join(f"{v:.1f}" for v in meta["load_average"])
    return (f"{meta['date']}; {meta['machine']}, {meta['cpus']} CPUs (load average {load} at "
            f"the start), rebop {meta['rebop']}, {meta['rounds']} rounds\n\n" + text)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "latest",
                        help="directory for results.json and results.md (default latest/)")  # fmt: skip
    parser.add_argument("--record", action="store_true",
                        help="also write the tracked results.json and results.md next to this script")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cases", default=",".join(CASES), help=f"of {', '.join(CASES)}")
    parser.add_argument("--no-dense", action="store_true",
                        help="skip rebop's dense mode (minutes per run on the large networks)")  # fmt: skip
    parser.add_argument("--ensemble-runs", type=int, default=1000,
                        help="runs of the n_jobs comparison (0 skips it)")  # fmt: skip
    args = parser.parse_args()
    try:
        import rebop  # noqa: F401  (imported to check it is installed)
    except ImportError:
        print("bench_ssa.py compares against rebop, which is not installed; install the "
              "benchmark extra from the repository root:\n    pip install -e '.[bench]'",
              file=sys.stderr)  # fmt: skip
        return 2
    cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = [c for c in cases if c not in CASES]
    if unknown:
        print(f"unknown case {unknown[0]!r}; choose from {', '.join(CASES)}", file=sys.stderr)
        return 2
    import os
    from importlib.metadata import version

    meta = {"machine": platform.platform(), "processor": platform.processor(),
            "cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
            else os.cpu_count(), "load_average": os.getloadavg(),
            "rebop": version("rebop"), "rounds": args.rounds,
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}  # fmt: skip
    rows = []
    for case in cases:
        rows += bench_case(case, args.rounds, dense=not args.no_dense)
        print(f"{case}: done", file=sys.stderr, flush=True)
    ensemble = bench_ensemble(args.rounds, args.ensemble_runs) if args.ensemble_runs else None
    meta["load_average_end"] = os.getloadavg()
    table = _table(rows, ensemble, meta)
    print(table)
    targets = [args.out] + ([HERE] if args.record else [])
    for out in targets:
        out.mkdir(parents=True, exist_ok=True)
        (out / "results.json").write_text(
            json.dumps({**meta, "rows": rows, "ensemble": ensemble}, indent=2)
        )
        (out / "results.md").write_text(table)
        print(f"wrote {out / 'results.json'} and results.md", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
