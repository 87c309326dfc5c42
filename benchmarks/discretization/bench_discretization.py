"""Accuracy of compiled networks versus bits: linear versus exponential discretization.

    python benchmarks/discretization/bench_discretization.py [--seeds 5] [--qat-seeds 3]

For each dataset (digits, breast_cancer, wine) and seed: a stratified 70/30 split, features
min-max scaled on the training part, a ``Linear - SmoothReLU(1e-3) - Linear`` MLP trained
with Adam in float64. Post-training, every ``Linear`` layer's weights and biases are
discretized to ``bits = 1..8`` (sign bit included) with ``nncrn.train.quantize_model``, the
model is compiled with ``nncrn.compile_network`` and the test accuracy is that of the
chemistry (``nncrn.simulate.fixed_point`` of the compiled network). Then, on digits,
quantization-aware training (``nncrn.train.qat_fit``) at 2 and 3 bits, and binary/ternary,
biases discretized afterwards with the same level set.

Writes ``results.json`` and ``accuracy_vs_bits.png`` into ``--out`` (default ``latest/``
next to this file; ``--record``: next to this file, the tracked results the README quotes).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch
from sklearn import datasets
from sklearn.model_selection import train_test_split

from nncrn.compile import compile_network
from nncrn.nn import SmoothReLU
from nncrn.simulate import fixed_point
from nncrn.train import qat_fit, quantize_model

HERE = Path(__file__).resolve().parent
DATASETS = {"digits": 32, "breast_cancer": 16, "wine": 16}  # name -> hidden width
BITS = range(1, 9)
METHODS = ("linear", "exponential")
EPS = 1e-3
EPOCHS = 40
TOLERANCES = (0.01, 0.02)  # "same accuracy": within 1 or 2 points of full precision


def load(name: str, seed: int):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    low, span = Xtr.min(0), np.ptp(Xtr, 0)
    span[span == 0] = 1.0
    # Test features outside the training range are clipped: concentrations must be >= 0.
    return (Xtr - low) / span, ytr, np.clip((Xte - low) / span, 0.0, None), yte


def train(Xtr, ytr, hidden: int, n_classes: int, seed: int) -> torch.nn.Sequential:
    torch.manual_seed(seed)
    model = torch.nn.Sequential(
        torch.nn.Linear(Xtr.shape[1], hidden), SmoothReLU(EPS), torch.nn.Linear(hidden, n_classes)
    ).double()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    gen = np.random.default_rng(seed)
    Xt, yt = torch.from_numpy(Xtr), torch.from_numpy(ytr)
    for _ in range(EPOCHS):
        for idx in np.array_split(gen.permutation(len(Xtr)), max(1, len(Xtr) // 32)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[idx]), yt[idx]).backward()
            opt.step()
    return model


def crn_accuracy(model, Xte, yte) -> float:
    """Test accuracy of the compiled network's steady state (the chemistry's answer)."""
    return float((fixed_point(compile_network(model), Xte).outputs.argmax(1) == yte).mean())


def bits_needed(curve: np.ndarray, full: float, tol: float) -> int | None:
    """Fewest bits whose mean accuracy is within ``tol`` of full precision (None: none)."""
    ok = np.flatnonzero(curve >= full - tol)
    return int(BITS[ok[0]]) if ok.size else None


def post_training(seeds: int) -> dict:
    out = {}
    for name, hidden in DATASETS.items():
        full, acc = [], {m: [] for m in METHODS}
        for seed in range(seeds):
            Xtr, ytr, Xte, yte = load(name, seed)
            model = train(Xtr, ytr, hidden, int(ytr.max()) + 1, seed)
            full.append(crn_accuracy(model, Xte, yte))
            for m in METHODS:
                acc[m].append([crn_accuracy(quantize_model(model, b, m), Xte, yte) for b in BITS])
        mean_full = float(np.mean(full))
        entry = {"full_precision": full, "full_precision_mean": mean_full, "bits": list(BITS)}
        for m in METHODS:
            a = np.array(acc[m])
            entry[m] = {
                "accuracy": a.tolist(),
                "mean": a.mean(0).tolist(),
                "std": a.std(0).tolist(),
            }
            entry[m]["bits_needed"] = {
                str(t): bits_needed(a.mean(0), mean_full, t) for t in TOLERANCES
            }
        out[name] = entry
        print(f"{name}: full {mean_full:.4f}")
        for m in METHODS:
            row = " ".join(f"{v:.3f}" for v in entry[m]["mean"])
            print(f"  {m:12s} {row}  bits needed {entry[m]['bits_needed']}")
    return out


def qat(seeds: int) -> dict:
    cases = [("linear", 2), ("linear", 3), ("exponential", 2), ("exponential", 3),
             ("ternary", 2), ("binary", 1)]  # fmt: skip
    res = {f"{m}-{b}": {"qat": [], "post": []} for m, b in cases}
    full = []
    for seed in range(seeds):
        Xtr, ytr, Xte, yte = load("digits", seed)
        model = train(Xtr, ytr, DATASETS["digits"], 10, seed)
        full.append(crn_accuracy(model, Xte, yte))
        for m, b in cases:
            q, _ = qat_fit(model, Xtr, ytr, bits=b, method=m, epochs=30, rng=seed)
            q = quantize_model(q, b, m)  # QAT keeps biases real: they are rate constants too
            res[f"{m}-{b}"]["qat"].append(crn_accuracy(q, Xte, yte))
            res[f"{m}-{b}"]["post"].append(crn_accuracy(quantize_model(model, b, m), Xte, yte))
    print(f"digits QAT (full precision {np.mean(full):.4f}):")
    for key, v in res.items():
        v["qat_mean"], v["post_mean"] = float(np.mean(v["qat"])), float(np.mean(v["post"]))
        print(f"  {key:14s} QAT {v['qat_mean']:.4f}  post-training {v['post_mean']:.4f}")
    return {"full_precision": full, "full_precision_mean": float(np.mean(full)), "cases": res}


def plot(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["post_training"])
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), sharey=False)
    for ax, name in zip(axes, names, strict=True):
        e = results["post_training"][name]
        for m, style in zip(METHODS, ("o-", "s-"), strict=True):
            ax.errorbar(e["bits"], e[m]["mean"], yerr=e[m]["std"], fmt=style, capsize=3, label=m)
        ax.axhline(e["full_precision_mean"], color="k", ls="--", lw=1, label="full precision")
        ax.set(title=name, xlabel="bits (incl. sign)", ylabel="CRN test accuracy")
        ax.grid(alpha=0.3)
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--qat-seeds", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None,
                    help="directory for the results (default: latest/ next to this script, git-ignored)")  # fmt: skip
    ap.add_argument("--record", action="store_true",
                    help="write the tracked results next to this script (the numbers its README quotes)")  # fmt: skip
    args = ap.parse_args()
    torch.set_num_threads(1)  # small batches: threads only add overhead
    start = time.perf_counter()
    results = {"post_training": post_training(args.seeds), "qat_digits": qat(args.qat_seeds)}
    results["settings"] = {"seeds": args.seeds, "qat_seeds": args.qat_seeds, "eps": EPS,
                           "epochs": EPOCHS, "hidden": DATASETS, "tolerances": TOLERANCES,
                           "seconds": round(time.perf_counter() - start, 1)}  # fmt: skip
    out = HERE if args.record else (args.out or HERE / "latest")
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1))
    plot(results, out / "accuracy_vs_bits.png")
    print(f"wrote {out / 'results.json'} and {out / 'accuracy_vs_bits.png'}")


if __name__ == "__main__":
    main()
