"""Koopman-operator accelerated training (Dogra & Redman, NeurIPS 2020), measured.

    python benchmarks/koopman/bench_koopman.py            # the configuration of the README
    python benchmarks/koopman/bench_koopman.py --quick    # a smoke run (minutes)
    python benchmarks/koopman/bench_koopman.py --plot-only  # figure and tables again

1. The paper's data-free experiment (``_hnn.py``): the Hamiltonian neural network of the
   harmonic oscillator (1 input, 10-10-2, sin, physics loss on 200 collocation points),
   trained by Adam, Adagrad and Adadelta (torch's default learning rates) for ``t2`` steps;
   node Koopman operators fitted on ``[t1, t2]`` (``t2 - t1 = 10000``) predict the weights
   at ``t2 + T`` (``T = 2500``); their loss is compared with the optimizer's at ``t2 + T``,
   per seed, and the wall-clock of building and applying the operators with that of the T
   steps. Two operators: the paper's ``U = F' F^+`` (``affine=False``) and the same with the
   constant observable (``affine=True``); both clip eigenvalues to ``|lambda| <= 1``.
2. A digits MLP (64-32-10, smoothed ReLU, full-batch Adam, lr 1e-2): ``koopman_train``
   against plain Adam at equal optimizer steps: gradient evaluations and wall-clock to
   reach plain Adam's final training loss, test accuracy.
3. Chemical-level ``nncrn.train.fit`` of the compiled (untrained) MLP on iris (4-8-3) and
   digits (64-16-10), full batch, Adam lr 1e-2: the same comparison with
   ``fit(accelerate=...)``; the accelerated fit is rerun for exactly the steps it needed
   and timed.

Every torch computation runs on one thread. Writes ``results.json`` and ``koopman.png``
into ``--out`` (default ``latest/`` next to this file; ``--record``: next to this file, the
tracked results the README quotes).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _hnn_bench  # noqa: E402
import _loops  # noqa: E402

from nncrn.train import KOOPMAN_PRESET, Koopman  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="a small configuration (smoke run)")
    ap.add_argument("--hnn-seeds", type=int, default=25)
    ap.add_argument("--hnn-t1", type=int, default=5000)
    ap.add_argument("--hnn-window", type=int, default=10000)
    ap.add_argument("--hnn-horizon", type=int, default=2500)
    ap.add_argument("--mlp-seeds", type=int, default=5)
    ap.add_argument("--mlp-steps", type=int, default=2000)
    ap.add_argument("--crn-seeds", type=int, default=5)
    ap.add_argument("--crn-epochs", type=int, default=600)
    ap.add_argument("--digits-crn-seeds", type=int, default=1)
    ap.add_argument("--digits-crn-epochs", type=int, default=300)
    ap.add_argument("--out", type=Path, default=None,
                    help="directory for the results (default: latest/ next to this script, git-ignored)")  # fmt: skip
    ap.add_argument("--record", action="store_true",
                    help="write the tracked results next to this script (the numbers its README quotes)")  # fmt: skip
    ap.add_argument("--plot-only", action="store_true",
                    help="redraw the figure and print the tables from --out/results.json")  # fmt: skip
    args = ap.parse_args()
    out = HERE if args.record else (args.out or HERE / "latest")
    if args.plot_only:
        results = json.loads((out / "results.json").read_text())
        plot(results, out / "koopman.png")
        print(table(results))
        return
    if args.quick:
        args.hnn_seeds, args.hnn_t1, args.hnn_window, args.hnn_horizon = 3, 500, 1000, 250
        args.mlp_seeds, args.mlp_steps, args.crn_seeds, args.crn_epochs = 1, 300, 1, 150
        args.digits_crn_seeds, args.digits_crn_epochs = 0, 0
    torch.set_num_threads(1)
    started = time.perf_counter()
    results: dict = {
        "command": " ".join(["python", "benchmarks/koopman/bench_koopman.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {platform.processor() or 'cpu'}, 1 torch thread, "
                   "shared 2-core machine (other jobs running)",
        "torch": torch.__version__,
    }  # fmt: skip
    results["hnn"] = _hnn_bench.run(args.hnn_seeds, args.hnn_t1, args.hnn_window, args.hnn_horizon)
    mlp_settings = {
        "preset": KOOPMAN_PRESET,
        "full-rank node (window 100, start 200)": Koopman(window=100, horizon=200, start=200),
    }
    results["digits_mlp"] = _loops.mlp(args.mlp_seeds, args.mlp_steps, mlp_settings)
    results["digits_mlp"]["settings"] = {k: repr(v) for k, v in mlp_settings.items()}
    crn_settings = {
        "preset": KOOPMAN_PRESET,
        "layer rank 2": Koopman(window=50, horizon=200, rank=2, partition="layer"),
    }
    results["crn_fit"] = {"iris": _loops.crn("iris", 8, args.crn_epochs, crn_settings, args.crn_seeds)}
    if args.digits_crn_seeds:
        results["crn_fit"]["digits"] = _loops.crn("digits", 16, args.digits_crn_epochs,
                                                  {"preset": KOOPMAN_PRESET}, args.digits_crn_seeds)  # fmt: skip
    results["seconds"] = time.perf_counter() - started
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    plot(results, out / "koopman.png")
    print(table(results))


def table(r: dict) -> str:
    """The README tables, in markdown."""
    h = r["hnn"]
    lines = [f"HNN oscillator, {h['seeds']} seeds, t1 = {h['t1']}, t2 = {h['t2']}, T = {h['horizon']}",
             "", "| optimizer | operator | Koopman loss <= optimizer at t2+T | < loss at t2 | "
             "median loss ratio Koopman / optimizer | max abs eig (median over seeds) | "
             "T steps / build+apply, all seeds batched | same, one seed |",
             "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, o in h["optimizers"].items():
        for vn, v in o["variants"].items():
            ratio = np.median(np.array(v["loss"]) / np.array(o["loss_t2_T"]))
            lines.append(f"| {name} (lr {o['lr']:g}) | {vn} | {v['wins']}/{h['seeds']} | "
                         f"{v['beats_w_t2']}/{h['seeds']} | {ratio:.3g} | "
                         f"{np.median(v['max_abs_eig_per_seed']):.5f} | "
                         f"{v['speedup_all_seeds']:.1f}x | {v['speedup_one_seed']:.1f}x |")  # fmt: skip
    lines += ["", "HNN, the same trajectories: windows [t2 - w, t2] (horizon T unchanged)", "",
              "| optimizer | operator | w | Koopman <= optimizer at t2+T | < loss at t2 | "
              "median loss ratio | median one-step residual | median max abs eig |",
              "|---|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, o in h["optimizers"].items():
        for v in o["window_sweep"].values():
            lines.append(f"| {name} | {v['operator']} | {v['window']} | {v['wins']}/{h['seeds']} | "
                         f"{v['beats_w_t2']}/{h['seeds']} | {v['median_ratio']:.3g} | "
                         f"{v['residual_median']:.3g} | {v['max_abs_eig_median']:.5f} |")  # fmt: skip
    m = r["digits_mlp"]
    lines += ["", f"digits MLP, full-batch Adam, {m['steps']} steps, {len(m['runs']['plain'])} seeds",
              "", "| setting | reached plain's final loss | evaluations ratio (median) | "
              "wall-clock ratio (median) | final loss / plain (median) | test accuracy gap "
              "(points, min..max) | jumps kept |", "|---|---|---|---|---|---|---|"]  # fmt: skip
    for name, rows in m["summary"].items():
        lines.append(_row(name, rows))
    for ds, c in r["crn_fit"].items():
        lines += ["", f"chemical-level fit, {ds} ({c['rows']} training rows, hidden {c['hidden']}), "
                  f"{c['epochs']} full-batch Adam steps, {len(c['runs'])} seeds", "",
                  "| setting | reached plain's final loss | evaluations ratio (median) | "
                  "wall-clock ratio (median) | final loss / plain (median) | test accuracy gap "
                  "(points, min..max) | jumps kept |", "|---|---|---|---|---|---|---|"]  # fmt: skip
        for name in c["settings"]:
            rows = []
            for run in c["runs"]:
                k = run["koopman"][name]
                rows.append({"reached": k["reached"], "eval_ratio": k.get("eval_ratio"),
                             "time_ratio": k.get("time_ratio"),
                             "final_loss_ratio": k["final_loss"] / run["plain_final_loss"],
                             "accuracy_gap": None if k["test_accuracy"] is None
                             else k["test_accuracy"] - run["plain_test_accuracy"],
                             "accepted": f"{k['accepted']}/{k['jumps']}"})  # fmt: skip
            lines.append(_row(name, rows))
    return "\n".join(lines)


def _row(name: str, rows: list[dict]) -> str:
    reached = [x for x in rows if x["reached"]]
    med = lambda key: f"{np.median([x[key] for x in reached]):.2f}x" if reached else "-"  # noqa: E731
    gaps = [100 * x["accuracy_gap"] for x in rows if x["accuracy_gap"] is not None]
    gap = f"{min(gaps):+.1f} .. {max(gaps):+.1f}" if gaps else "-"
    kept = ", ".join(x["accepted"] for x in rows)
    return (f"| {name} | {len(reached)}/{len(rows)} | {med('eval_ratio')} | {med('time_ratio')} | "
            f"{np.median([x['final_loss_ratio'] for x in rows]):.3g} | {gap} | {kept} |")  # fmt: skip


def plot(r: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(2, 2, figsize=(12, 9))
    h = r["hnn"]
    for (name, o), c in zip(h["optimizers"].items(), ("C0", "C1", "C2"), strict=False):
        opt = np.array(o["loss_t2_T"])
        curve = np.median(np.array(o["curve_loss"]), 0)
        ax[0, 1].plot(o["curve_iteration"], curve, c=c, label=f"{name} (median of seeds)")
        for vn, marker in (("linear", "x"), ("affine", "o"), ("affine, no clip", "^")):
            if vn not in o["variants"]:
                continue
            ax[0, 0].scatter(opt, o["variants"][vn]["loss"], c=c, marker=marker, s=18,
                             label=f"{name}, {vn}")  # fmt: skip
            ax[0, 1].scatter([h["t2"] + h["horizon"]], [np.median(o["variants"][vn]["loss"])],
                             c=c, marker=marker, zorder=3)  # fmt: skip
    ax[0, 0].plot([1e-8, 1], [1e-8, 1], "k--", lw=0.8)
    ax[0, 0].set(xscale="log", yscale="log", xlabel="optimizer loss at t2 + T",
                 ylabel="Koopman-predicted loss at t2 + T",
                 title="HNN oscillator: below the diagonal, Koopman wins")  # fmt: skip
    ax[0, 0].legend(fontsize=7)
    ax[0, 1].axvspan(h["t1"], h["t2"], color="0.9", label="window [t1, t2]")
    ax[0, 1].set(yscale="log", xlabel="iteration", ylabel="physics loss",
                 title="HNN: training curves; markers: Koopman at t2 + T (median)")  # fmt: skip
    ax[0, 1].legend(fontsize=7)
    m = r["digits_mlp"]
    for (name, runs), c in zip(m["runs"].items(), ("k", "C0", "C1"), strict=False):
        for i, run in enumerate(runs):
            ax[1, 0].plot(run["evals"], run["loss"], c=c, lw=0.8, alpha=0.7,
                          label=name if i == 0 else None)  # fmt: skip
    ax[1, 0].set(yscale="log", xlabel="gradient evaluations (jumps: 2 loss evaluations)",
                 ylabel="training loss", title="digits MLP: Adam vs Koopman")  # fmt: skip
    ax[1, 0].legend(fontsize=7)
    for (ds, cr), ls in zip(r["crn_fit"].items(), ("-", "--"), strict=False):
        for i, run in enumerate(cr["runs"]):
            ax[1, 1].plot(np.arange(1, len(run["plain_curve"]) + 1), run["plain_curve"], "k", ls=ls,
                          lw=0.8, label=f"{ds}: plain Adam" if i == 0 else None)  # fmt: skip
            for (name, k), c in zip(run["koopman"].items(), ("C0", "C1"), strict=False):
                steps = np.arange(1, len(k["curve"]) + 1)
                evals = steps + 2 * np.searchsorted(np.array(k["jump_steps"]), steps, "left")
                ax[1, 1].plot(evals, k["curve"], c=c, ls=ls, lw=0.8,
                              label=f"{ds}: {name}" if i == 0 else None)  # fmt: skip
    ax[1, 1].set(yscale="log", xlabel="steady-state evaluations", ylabel="training loss",
                 title="chemical-level fit (rate constants)")  # fmt: skip
    ax[1, 1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
