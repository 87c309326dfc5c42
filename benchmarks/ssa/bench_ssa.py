"""Events per second of nncrn's stochastic solvers against rebop, measured in one run.

Usage: python benchmarks/ssa/bench_ssa.py [--out benchmarks/ssa/results.json] [--repeat 3]

rebop is given the same propensities (its mass-action rate for ``[A, A]`` is ``k A (A-1)``,
so it receives our scaled constants ``k * volume**(1-order)``). rebop does not report event
counts, so its events/s uses nncrn's mean event count for the same model and horizon
(both sample the same master equation, so the expected counts are equal).
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

from nncrn.network import Reaction, ReactionNetwork, Species
from nncrn.simulate import DirectMethod, NextReactionMethod, TauLeaping, gillespie
from nncrn.simulate._ssa._model import build_model


def birth_death() -> tuple[ReactionNetwork, float, float, np.ndarray | None]:
    net = ReactionNetwork(
        [Species("X")], [Reaction.parse("0 -> X", 10.0), Reaction.parse("X -> 0", 1.0)]
    )
    return net, 100.0, 2000.0, None


def random_bimolecular(n: int = 100, m: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    species = [Species(f"S{i}", initial=1.0) for i in range(n)]
    reactions = [Reaction.parse(f"0 -> S{i}", 1.0) for i in range(n)]
    reactions += [Reaction.parse(f"S{i} -> 0", 1.0) for i in range(n)]
    seen = set()
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
    return net, 100.0, 2.0, X[75:76]  # starts at the fixed point: see bench()


def digits():
    """A 64-16-10 classifier on scikit-learn's digits, pixel intensities / 16 as concentrations."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return _classifier(X, y, 16, 0.01), 100.0, 1.0, X[0:1]


def rebop_system(net: ReactionNetwork, volume: float, inputs, y0=None):
    import rebop

    model = build_model(net, volume)
    s = rebop.Gillespie()
    names = net.species_names
    for j, r in enumerate(net.reactions):
        reactants = [s for s, c in r.reactants.items() for _ in range(c)]
        products = [s for s, c in r.products.items() for _ in range(c)]
        s.add_reaction(float(model.scaled[j]), reactants, products)
    from nncrn.network import initial_state

    init = np.rint(initial_state(net, inputs, y0)[0] * volume).astype(int)
    return s, {n: int(v) for n, v in zip(names, init, strict=True)}


def bench(name, maker, repeat: int) -> list[dict]:
    net, volume, t_end, inputs = maker()
    y0 = None
    if net.inputs:  # start compiled networks at their fixed point: stationary event rates
        from nncrn.simulate import fixed_point

        y0 = fixed_point(net, inputs).concentrations
    rows = []
    solvers = [DirectMethod(), NextReactionMethod(), TauLeaping()]
    events = None
    for solver in solvers:
        gillespie(
            net, inputs, volume=volume, t_end=t_end / 100, solver=solver, rng=0, n_times=2, y0=y0
        )
        t0 = time.perf_counter()
        res = gillespie(net, inputs, volume=volume, t_end=t_end, solver=solver, runs=repeat,
                        rng=1, n_times=2, y0=y0)  # fmt: skip
        dt = (time.perf_counter() - t0) / repeat
        ev = float(res.n_events.mean())
        events = ev if solver.exact and events is None else events
        rows.append({"case": name, "solver": repr(solver), "seconds_per_run": dt, "events": ev,
                     "events_per_s": ev / dt, "steps": float(res.n_steps.mean())})  # fmt: skip
    system, init = rebop_system(net, volume, inputs, y0)
    system.run(init, t_end / 100, 1, rng=0)
    t0 = time.perf_counter()
    for k in range(repeat):
        system.run(init, t_end, 1, rng=k)
    dt = (time.perf_counter() - t0) / repeat
    rows.append({"case": name, "solver": "rebop (direct, Rust)", "seconds_per_run": dt,
                 "events": events, "events_per_s": events / dt, "steps": events})  # fmt: skip
    ref = rows[-1]["seconds_per_run"]
    for r in rows:
        r["speed_vs_rebop"] = ref / r["seconds_per_run"]
        r["n_species"], r["n_reactions"], r["volume"], r["t_end"] = (
            net.n_species,
            net.n_reactions,
            volume,
            t_end,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/ssa/results.json")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rows = []
    for name, maker in (("birth-death", birth_death), ("random-100", random_bimolecular),
                        ("iris-4-8-3", iris), ("digits-64-16-10", digits)):  # fmt: skip
        rows += bench(name, maker, args.repeat)
    from rich.console import Console
    from rich.table import Table

    table = Table(title="SSA throughput (one core, warm numba cache)")
    for col in ("case", "species/reactions", "solver", "events/run", "steps/run", "s/run",
                "Mevents/s", "speed vs rebop"):  # fmt: skip
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(r["case"], f"{r['n_species']}/{r['n_reactions']}", r["solver"].split("(")[0]
                      if "rebop" not in r["solver"] else "rebop", f"{r['events']:.3g}",
                      f"{r['steps']:.3g}", f"{r['seconds_per_run']:.3f}",
                      f"{r['events_per_s'] / 1e6:.2f}", f"{r['speed_vs_rebop']:.2f}x")  # fmt: skip
    Console().print(table)
    with open(args.out, "w") as fh:
        json.dump({"machine": platform.platform(), "processor": platform.processor(), "rows": rows},
                  fh, indent=2)  # fmt: skip
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
