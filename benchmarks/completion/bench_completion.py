"""Steady states of dual-rail (completion) networks: firing to exhaustion against Newton.

    python benchmarks/completion/bench_completion.py [--rounds 3] [--items 450]

Networks: digits-shaped dual-rail ReLU networks compiled with ``DualRail()`` from integer
weights in ``{-2..2}`` (64-32-10, 64-100-10, and 64-32-32-10 with 75% of the weights zero,
as pruned searches produce), read on the first ``--items`` digits images (pixels 0-16,
integers: exact ties ``z = 0`` are common). Per network, in each round: ``steady_state``
with the default ``TorchODE()`` (the completion path) and with
``TorchODE(steady_method="newton")`` (pseudo-transient Newton, the path every dual-rail
network took before), both warm (structures built by an untimed first call), one torch
thread. Columns: min / median wall time of the rounds, the ratio per round, items
converged, and the largest deviation of the outputs from the exact ReLU network
(``DualRail().forward``) for each path: equal work is the same answer, and the Newton path
stops within its tolerance on the ``1 / t`` tails of ties.

Writes ``results.json`` into ``latest/`` (git-ignored), or next to this file with ``--record``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.datasets import load_digits

from nncrn.compile import DenseLayer, DualRail, LayerStack
from nncrn.simulate import TorchODE, steady_state

HERE = Path(__file__).resolve().parent


def stack(sizes: list[int], zero: float, seed: int) -> LayerStack:
    rng = np.random.default_rng(seed)
    layers = []
    for k in range(len(sizes) - 1):
        w = rng.integers(-2, 3, (sizes[k + 1], sizes[k])).astype(float)
        w[rng.random(w.shape) < zero] = 0.0
        act = "identity" if k == len(sizes) - 2 else "relu"
        layers.append(DenseLayer(w, rng.integers(-8, 9, sizes[k + 1]).astype(float), act))
    return LayerStack(tuple(layers), "-".join(map(str, sizes)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--items", type=int, default=450)
    ap.add_argument("--record", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(1)
    x = load_digits().data[: args.items].astype(float)
    cases = [([64, 32, 10], 0.0), ([64, 100, 10], 0.0), ([64, 32, 32, 10], 0.75)]
    fast, newton = TorchODE(), TorchODE(steady_method="newton")
    rows = []
    for sizes, zero in cases:
        s = stack(sizes, zero, seed=len(sizes) * 100 + sizes[1])
        scheme = DualRail()
        net = scheme.build(s)
        exact = scheme.forward(s, x)
        assert fast.steady_path(net) == "completion"
        for solver in (fast, newton):  # warm: structures built outside the timing
            steady_state(net, x[:2], solver=solver, throw=False)
        times: dict[str, list[float]] = {"completion": [], "newton": []}
        results = {}
        for _ in range(args.rounds):
            for name, solver in (("completion", fast), ("newton", newton)):
                t0 = time.perf_counter()
                ss = steady_state(net, x, solver=solver, throw=False)
                times[name].append(time.perf_counter() - t0)
                results[name] = ss
        ratio = np.array(times["newton"]) / np.array(times["completion"])
        row = {
            "network": f"{'-'.join(map(str, sizes))}" + (f" ({zero:.0%} zero)" if zero else ""),
            "reactions": net.n_reactions,
            "species": net.n_species,
            "items": len(x),
            "ties": int(sum((np.abs(h) < 1e-12).sum() for h in hidden(s, x))),
        }
        for name in times:
            ss = results[name]
            row[name] = {
                "min_s": min(times[name]),
                "median_s": float(np.median(times[name])),
                "converged": int(ss.converged.sum()),
                "newton_items": int((ss.n_steps > 0).sum()),
                "max_dev_vs_relu": float(np.abs(ss.outputs - exact).max()),
            }
        row["newton_over_completion_min"] = float(ratio.min())
        row["newton_over_completion_median"] = float(np.median(ratio))
        rows.append(row)
        c, n = row["completion"], row["newton"]
        print(f"{row['network']:24} {row['reactions']:5d} reactions, {row['ties']} ties | completion "
              f"{c['min_s'] * 1e3:8.1f} ms (dev {c['max_dev_vs_relu']:.1e}, {c['converged']}/{len(x)}) | "
              f"newton {n['min_s'] * 1e3:9.1f} ms (dev {n['max_dev_vs_relu']:.1e}, {n['converged']}/{len(x)}) | "
              f"ratio {row['newton_over_completion_min']:.0f}x / {row['newton_over_completion_median']:.0f}x",
              flush=True)  # fmt: skip
    doc = {
        "command": f"python benchmarks/completion/bench_completion.py --rounds {args.rounds} --items {args.items}",
        "machine": f"{platform.machine()}, torch {torch.__version__}, 1 thread",
        "rows": rows,
    }
    where = HERE if args.record else HERE / "latest"
    where.mkdir(exist_ok=True)
    (where / "results.json").write_text(json.dumps(doc, indent=1))
    print(f"wrote {where / 'results.json'}")


def hidden(s: LayerStack, x: np.ndarray) -> list[np.ndarray]:
    """Pre-activations of the hidden layers (where a tie ``z = 0`` makes the 1/t tail)."""
    out, h = [], x
    for layer in s.layers[:-1]:
        z = h @ np.asarray(layer.weight).T + np.asarray(layer.bias)
        out.append(z)
        h = np.maximum(z, 0.0)
    return out


if __name__ == "__main__":
    main()
